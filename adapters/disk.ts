/** Free space on the filesystems Upflow writes to. */
import fs from 'node:fs/promises';
import path from 'node:path';
import formatBytes from 'bytes';

export interface LowDisk {
  folder: string;
  freeBytes: number;
  message: string;
}

/**
 * Free bytes on the file system that holds `folder`; a folder not made yet (the output folder
 * before the first title is finished) is measured on its nearest existing parent, where it will be.
 */
export async function freeBytes(folder: string): Promise<number> {
  for (let dir = path.resolve(folder); ; dir = path.dirname(dir)) {
    try {
      const stats = await fs.statfs(dir);
      return stats.bavail * stats.bsize;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || dir === path.dirname(dir)) throw err;
    }
  }
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
