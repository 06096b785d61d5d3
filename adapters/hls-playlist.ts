/**
 * The title's HLS playlist, written by Upflow from the segment list ffmpeg keeps (one CSV line
 * per completed segment). A segment is listed only once ffmpeg has closed it, and the playlist
 * is replaced atomically (write + rename), so a player never sees a half-written segment.
 */
import fs from 'node:fs/promises';

export interface ListedSegment {
  index: number;
  filename: string;
  startSeconds: number;
  durationSeconds: number;
}

/** Parses ffmpeg's `segment_list_type=csv` lines: `name,start,end`. */
export function parseSegmentList(csv: string): ListedSegment[] {
  return csv
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line.length > 0)
    .map((line, index) => {
      const [filename = '', start = '0', end = '0'] = line.split(',');
      const startSeconds = Number(start);
      return { index, filename, startSeconds, durationSeconds: Math.max(0, Number(end) - startSeconds) };
    });
}

export interface PlaylistOptions {
  /** Constant for the life of an EVENT playlist: the longest a segment may be, rounded up. */
  targetDurationSeconds: number;
  /** 0 keeps every segment (an EVENT playlist); N > 0 keeps a live window of the last N. */
  listSize: number;
  ended: boolean;
}

export function renderPlaylist(segments: ListedSegment[], options: PlaylistOptions): string {
  const window = options.listSize > 0 ? segments.slice(-options.listSize) : segments;
  const longest = Math.max(0, ...window.map((s) => Math.round(s.durationSeconds)));
  const lines = [
    '#EXTM3U',
    '#EXT-X-VERSION:6',
    `#EXT-X-TARGETDURATION:${Math.max(options.targetDurationSeconds, longest)}`,
    `#EXT-X-MEDIA-SEQUENCE:${window[0]?.index ?? 0}`,
    ...(options.listSize === 0 ? ['#EXT-X-PLAYLIST-TYPE:EVENT'] : []),
    '#EXT-X-INDEPENDENT-SEGMENTS',
  ];
  for (const segment of window) {
    lines.push(`#EXTINF:${segment.durationSeconds.toFixed(6)},`, segment.filename);
  }
  if (options.ended) lines.push('#EXT-X-ENDLIST');
  return `${lines.join('\n')}\n`;
}

export async function writeFileAtomic(file: string, content: string): Promise<void> {
  const temp = `${file}.tmp`;
  await fs.writeFile(temp, content);
  await fs.rename(temp, file);
}

export async function readSegmentList(file: string): Promise<ListedSegment[]> {
  try {
    return parseSegmentList(await fs.readFile(file, 'utf8'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}
