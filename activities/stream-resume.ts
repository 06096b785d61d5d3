/**
 * Where a retried stream starts. An attempt heartbeats how many segments it has completed
 * (recorded in Postgres and listed in the playlist); when a worker dies, the next attempt reads
 * the last heartbeat the server kept and, if those segments are still on disk as recorded,
 * encodes only from the boundary after them. Otherwise it starts the title again.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import type { StreamPlan, StreamProgress } from '../common/domain';
import type { ModelId } from '../common/models';
import { probeSegmentTiming, type SegmentTiming, type StreamStart } from '../adapters/ffmpeg';
import type { ListedSegment } from '../adapters/hls-playlist';
import type { SegmentRecord } from '../adapters/postgres';
import { segmentBoundaries } from '../workflows/plan';

/** What the stream activity heartbeats: its progress, and what a retry may keep. */
export interface StreamHeartbeat extends StreamProgress {
  /** Segments 0 … completeSegments − 1 are complete, recorded and listed. */
  completeSegments: number;
  /** ONNX path: the model rate control has the stream on, for a retry to go on with. */
  model?: ModelId;
}

export type ResumeDecision =
  | { resume: true; from: StreamStart; kept: SegmentRecord[]; previous: StreamHeartbeat }
  | { resume: false; why: string };

/**
 * Pure: resume after the heartbeat's complete segments when each is recorded with the same
 * index and its file has the recorded size. The last segment is always made again, so a
 * resumed encode has at least one segment to write.
 */
export function decideResume(
  plan: Pick<StreamPlan, 'firstSegmentSeconds' | 'segmentSeconds' | 'durationSeconds'>,
  previous: StreamHeartbeat | undefined,
  recorded: readonly SegmentRecord[],
  sizeOnDisk: (filename: string) => number | undefined,
): ResumeDecision {
  if (!previous || !(previous.completeSegments > 0)) return { resume: false, why: 'no complete segment was reported' };
  const boundaries = segmentBoundaries(plan);
  const count = Math.min(previous.completeSegments, boundaries.length);
  if (count === 0) return { resume: false, why: 'the title is a single segment' };
  const kept = recorded.filter((s) => s.index < count);
  for (let index = 0; index < count; index += 1) {
    const segment = kept[index];
    if (!segment || segment.index !== index) return { resume: false, why: `segment ${index} is not recorded` };
    const size = sizeOnDisk(segment.filename);
    if (size !== segment.bytes) {
      return { resume: false, why: size === undefined ? `${segment.filename} is missing` : `${segment.filename} has ${size} bytes, ${segment.bytes} were recorded` };
    }
  }
  return { resume: true, from: { seconds: boundaries[count - 1]!, segment: count }, kept, previous };
}

/**
 * This attempt's segment list as title segments: numbered on from where it started, and its
 * first segment starting at that boundary (ffmpeg lists the first one of any encode from 0).
 */
export function resumedList(produced: ListedSegment[], from: StreamStart): ListedSegment[] {
  return produced.map((segment, i) => {
    if (i > 0) return { ...segment, index: from.segment + i };
    const end = segment.startSeconds + segment.durationSeconds;
    return { ...segment, index: from.segment, startSeconds: from.seconds, durationSeconds: Math.max(0, end - from.seconds) };
  });
}

/**
 * Where the resumed audio starts (see `StreamStart.audioSeconds`): one audio frame after the
 * last kept segment's audio ends. Segment files carry the content's time plus the muxer's
 * delay, which segment 0 shows (its first picture is the content's start). Anything odd leaves
 * the audio starting at the boundary, which stays in sync, only with a short gap.
 */
export async function withAudioResume(from: StreamStart, kept: readonly ListedSegment[], hlsDir: string): Promise<StreamStart> {
  const first = kept[0];
  const last = kept[kept.length - 1];
  if (!first || !last) return from;
  let zero: SegmentTiming;
  let end: SegmentTiming;
  try {
    zero = await probeSegmentTiming(path.join(hlsDir, first.filename));
    end = await probeSegmentTiming(path.join(hlsDir, last.filename));
  } catch {
    return from;
  }
  if (end.audioEndSeconds === undefined || end.audioFrameSeconds === undefined) return from;
  const audioSeconds = end.audioEndSeconds - zero.firstVideoSeconds + end.audioFrameSeconds;
  return Math.abs(audioSeconds - from.seconds) < 0.5 ? { ...from, audioSeconds } : from;
}

/** Sizes of the files in the HLS folder (a missing folder has none). */
export async function filesIn(dir: string): Promise<Map<string, number>> {
  const names = await fs.readdir(dir).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return [];
    throw err;
  });
  const sizes = new Map<string, number>();
  for (const name of names) {
    const stat = await fs.lstat(path.join(dir, name));
    if (stat.isFile()) sizes.set(name, stat.size);
  }
  return sizes;
}

/** Removes everything in the HLS folder but the kept segments and the playlist (which is rewritten next). */
export async function removeAllBut(dir: string, keep: ReadonlySet<string>): Promise<void> {
  for (const name of await fs.readdir(dir)) {
    if (!keep.has(name)) await fs.rm(path.join(dir, name), { recursive: true, force: true });
  }
}
