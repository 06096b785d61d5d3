/** Free space on the filesystems Upflow writes to. */
import fs from 'node:fs/promises';
import formatBytes from 'bytes';

export interface LowDisk {
  folder: string;
  freeBytes: number;
  message: string;
}

export async function freeBytes(folder: string): Promise<number> {
  const stats = await fs.statfs(folder);
  return stats.bavail * stats.bsize;
}

/**
 * The first folder with less than `minFreeBytes` free (for an unprivileged process), with a
 * message saying what to do; undefined when all have enough, or when the check is off (0).
 */
export async function findLowDisk(folders: string[], minFreeBytes: number): Promise<LowDisk | undefined> {
  if (minFreeBytes <= 0) return undefined;
  for (const folder of folders) {
    const free = await freeBytes(folder);
    if (free < minFreeBytes) {
      const size = (n: number) => formatBytes(n, { unitSeparator: ' ' }) ?? `${n} B`;
      return {
        folder,
        freeBytes: free,
        message: `only ${size(free)} free under ${folder}, less than UPFLOW_MIN_FREE_GB (${size(minFreeBytes)}): free some space (\`npx upflow cleanup\` removes old HLS folders) and start the title again`,
      };
    }
  }
  return undefined;
}
