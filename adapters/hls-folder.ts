/**
 * The one owner of a title's HLS folder: the playlist, which segments exist, adding a segment a
 * chunk made, and joining them into the final file. Nothing else writes there.
 *
 * The playlist lists the whole grid at once (VOD, as Jellyfin's own transcoder does), written as
 * soon as the probe is done; segments appear under their grid names (`seg00042.ts`) as chunks
 * make them, in any order. A chunk encodes into its own hidden folder and a segment is moved
 * into place (a rename, atomic) only once ffmpeg has closed it, so a player or the join never
 * sees half a segment, and two chunks never write the same file.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { SEGMENT_FILENAME_PATTERN, segmentDurationSeconds, segmentFilename, segmentIndexOfFilename, type Grid } from '../core/grid';
import { joinSegments, type RunOptions, type SourceInput } from './ffmpeg';

export const PLAYLIST_NAME = 'stream.m3u8';
/** The source version and plan the segments here were made from (hidden: never served). */
const PLAN_NAME = '.plan.json';
/** ffmpeg's segment muxer appends a line here (name, start, end) as each segment of a chunk completes. */
const CHUNK_SEGMENT_LIST = 'segments.csv';
const CHUNK_FOLDER_PREFIX = '.chunk-';

/** The whole title as an HLS VOD playlist: every segment of the grid, made or not. */
export function renderVodPlaylist(grid: Grid): string {
  const durations = Array.from({ length: grid.segmentCount }, (_, i) => segmentDurationSeconds(grid, i));
  // Every EXTINF, rounded, must be at most the target duration (RFC 8216 4.3.3.1).
  const target = Math.max(1, ...durations.map((d) => Math.round(d)));
  const lines = [
    '#EXTM3U',
    '#EXT-X-VERSION:6',
    `#EXT-X-TARGETDURATION:${target}`,
    '#EXT-X-MEDIA-SEQUENCE:0',
    '#EXT-X-PLAYLIST-TYPE:VOD',
    '#EXT-X-INDEPENDENT-SEGMENTS',
  ];
  durations.forEach((duration, i) => lines.push(`#EXTINF:${duration.toFixed(6)},`, segmentFilename(i)));
  lines.push('#EXT-X-ENDLIST');
  return `${lines.join('\n')}\n`;
}

/** One line of a chunk's segment list: a segment ffmpeg has closed. */
export interface ClosedSegment {
  index: number;
  filename: string;
}

/** Parses ffmpeg's `segment_list_type=csv` lines (`name,start,end`) into the segments it names. */
export function parseChunkSegmentList(csv: string): ClosedSegment[] {
  const closed: ClosedSegment[] = [];
  for (const line of csv.split('\n')) {
    const filename = line.split(',')[0]?.trim() ?? '';
    const index = segmentIndexOfFilename(filename);
    if (index !== undefined) closed.push({ index, filename });
  }
  return closed;
}

export async function writeFileAtomic(file: string, content: string): Promise<void> {
  const temp = `${file}.tmp`;
  await fs.writeFile(temp, content);
  await fs.rename(temp, file);
}

export class HlsFolder {
  readonly playlist: string;

  constructor(readonly dir: string) {
    this.playlist = path.join(dir, PLAYLIST_NAME);
  }

  segmentPath(index: number): string {
    return path.join(this.dir, segmentFilename(index));
  }

  /**
   * Makes the folder ready for a run and writes the whole title's playlist. Segments an earlier
   * run made from the very same source with the very same plan (`madeFrom`) stay, unless
   * `fresh` (a title cancelled or failed half-way and triggered again goes on where it stopped);
   * otherwise the folder starts empty. Returns which segments are there.
   */
  async prepare(madeFrom: object, grid: Grid, fresh = false): Promise<boolean[]> {
    const planFile = path.join(this.dir, PLAN_NAME);
    const wanted = JSON.stringify(madeFrom);
    const previous = await fs.readFile(planFile, 'utf8').catch(() => undefined);
    if (fresh || previous !== wanted) {
      await fs.rm(this.dir, { recursive: true, force: true });
      await fs.mkdir(this.dir, { recursive: true });
      await writeFileAtomic(planFile, wanted);
    }
    await writeFileAtomic(this.playlist, renderVodPlaylist(grid));
    return this.madeSegments(grid);
  }

  /** Which of the grid's segments are here (a regular, non-empty file under the segment's name). */
  async madeSegments(grid: Grid): Promise<boolean[]> {
    const made = new Array<boolean>(grid.segmentCount).fill(false);
    const entries = await fs.readdir(this.dir, { withFileTypes: true }).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return [];
      throw err;
    });
    for (const entry of entries) {
      const index = segmentIndexOfFilename(entry.name);
      if (index === undefined || index >= grid.segmentCount || !entry.isFile()) continue;
      const { size } = await fs.stat(path.join(this.dir, entry.name));
      made[index] = size > 0;
    }
    return made;
  }

  /** A chunk's own working folder (hidden: never served), empty. */
  async openChunk(ticket: string): Promise<ChunkFolder> {
    if (!/^[a-z0-9-]+$/.test(ticket)) throw new Error(`invalid chunk ticket: ${ticket}`);
    const dir = path.join(this.dir, `${CHUNK_FOLDER_PREFIX}${ticket}`);
    await fs.rm(dir, { recursive: true, force: true });
    await fs.mkdir(dir, { recursive: true });
    return new ChunkFolder(dir, this);
  }

  /** Removes the folder and everything in it (retention is over, or cleanup's rules say so); whether it was there. */
  async remove(): Promise<boolean> {
    const existed = await fs.lstat(this.dir).then(() => true, () => false);
    await fs.rm(this.dir, { recursive: true, force: true });
    return existed;
  }

  /** Joins every segment, in order, with the source's audio into `output` (see `joinSegments`). */
  async join(o: { grid: Grid; source: SourceInput; withAudio: boolean; output: string }, run: RunOptions = {}): Promise<void> {
    await joinSegments({
      segmentFiles: Array.from({ length: o.grid.segmentCount }, (_, i) => this.segmentPath(i)),
      listFile: path.join(this.dir, '.final-segments.txt'),
      source: o.source,
      withAudio: o.withAudio,
      output: o.output,
    }, run);
  }
}

/** Where one chunk's ffmpeg writes; its closed segments move into the title's folder. */
export class ChunkFolder {
  readonly segmentPattern = SEGMENT_FILENAME_PATTERN;
  readonly segmentList = CHUNK_SEGMENT_LIST;

  constructor(
    readonly dir: string,
    private readonly title: HlsFolder,
  ) {}

  /** Segments ffmpeg has closed so far, in the order it closed them. */
  async closedSegments(): Promise<ClosedSegment[]> {
    try {
      return parseChunkSegmentList(await fs.readFile(path.join(this.dir, CHUNK_SEGMENT_LIST), 'utf8'));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
  }

  /** Moves a closed segment into the title's folder: its size, and whether one was there already (made twice). */
  async adopt(segment: ClosedSegment): Promise<{ bytes: number; replaced: boolean }> {
    const target = this.title.segmentPath(segment.index);
    const replaced = await fs.stat(target).then(() => true, () => false);
    await fs.rename(path.join(this.dir, segment.filename), target);
    return { bytes: (await fs.stat(target)).size, replaced };
  }

  /** What the chunk leaves (a segment it was making when stopped) goes. */
  async close(): Promise<void> {
    await fs.rm(this.dir, { recursive: true, force: true });
  }
}
