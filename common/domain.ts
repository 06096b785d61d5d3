/**
 * Domain types shared by workflows, activities, the API and the CLI. Pure types and pure
 * functions only: workflow code imports this module, so nothing here may touch Node.
 */
import type { ModelId } from './models';

export const TASK_QUEUES = {
  /** probe, finalize, cleanup, job records: cheap work any machine can do. */
  media: 'media',
  /** the long upscale-and-encode activity: where the GPU (or the CPU doing its job) is. */
  gpu: 'gpu',
} as const;

/** Every state a job passes through, in order (the jobs table's CHECK lists the same). */
export const JOB_STATES = ['queued', 'probing', 'streaming', 'finalizing', 'complete', 'failed', 'cancelled'] as const;
export type JobState = (typeof JOB_STATES)[number];
export const TERMINAL_JOB_STATES: readonly JobState[] = ['complete', 'failed', 'cancelled'];

/**
 * Which version of a file: its size, last modification (nanoseconds since the epoch), and the
 * device and inode numbers that say which file on which file system. Numbers beyond what a
 * double holds exactly are decimal strings.
 */
export interface SourceFingerprint {
  size: number;
  mtimeNs: string;
  dev: string;
  ino: string;
}

/** What the probe found: ffprobe's summary of a source, and which file it read. */
export interface SourceInfo {
  durationSeconds: number;
  fps: number;
  width: number;
  height: number;
  videoCodec: string;
  hasAudio: boolean;
  audioCodec?: string;
  /** High dynamic range: PQ (HDR10) or HLG transfer. Unset for SDR. */
  hdr?: 'pq' | 'hlg';
  /**
   * The demuxer that read it (one of the allowed containers, adapters/ffmpeg.ts): every later
   * read forces it. Unset in jobs probed before Upflow recorded it.
   */
  container?: string;
  /**
   * The version of the file that was probed: the stream reads that one or none, and a trigger
   * compares the file as it is then with the one the final file was made from. Unset in jobs
   * probed before Upflow recorded it.
   */
  fingerprint?: SourceFingerprint;
}

/** How one title is processed; computed by the workflow from the source and the settings. */
export interface StreamPlan {
  /** 'lanczos': ffmpeg-only scaling (SRGAN_ENABLE=0); otherwise the model the stream starts with. */
  upscaler: 'lanczos' | ModelId;
  /**
   * The ONNX path's models, fastest last: rate control steps down along it. All share one
   * scale, so the encoder's input size never changes mid-stream. Empty in ffmpeg-only mode.
   */
  ladder: ModelId[];
  /** The models' own scale (SRGAN_SCALE_FACTOR may differ: the encoder then resizes). */
  modelScale: number | null;
  scaleFactor: number;
  /** The decoded frames' size: the source's. */
  inputWidth: number;
  inputHeight: number;
  outputWidth: number;
  outputHeight: number;
  encoder: 'libx264';
  preset: string;
  crf: number;
  firstSegmentSeconds: number;
  segmentSeconds: number;
  durationSeconds: number;
  fps: number;
  keepAudio: boolean;
  /** An HDR source is tone-mapped to SDR BT.709 first: the models and the 8-bit output are SDR. */
  toneMap: boolean;
}

/** Settings the starter passes in, so the workflow's plan is a pure function of its input. */
export interface UpscaleSettings {
  /** SRGAN_ENABLE: the ONNX path with `model`; off, ffmpeg's lanczos. */
  aiEnabled: boolean;
  model: ModelId;
  /** Rate control: this many segments in a row below `stepDownBelowRate` step the model down. */
  slowSegmentsBeforeStepDown: number;
  stepDownBelowRate: number;
  scaleFactor: number;
  preset: string;
  crf: number;
  segmentSeconds: number;
  firstSegmentSeconds: number;
  hlsRetentionMs: number;
}

export interface UpscaleTitleInput {
  titleKey: string;
  sourcePath: string;
  name: string;
  settings: UpscaleSettings;
}

/** Heartbeated by the stream activity and kept by the workflow as its queryable state. */
export interface StreamProgress {
  frames: number;
  segments: number;
  contentSeconds: number;
  durationSeconds: number;
  /** Content seconds produced per wall-clock second; below 1.0 a viewer catches up and stalls. */
  rate: number;
  fps: number;
  /** Seconds from the activity's start to the first playable segment, once there is one. */
  firstSegmentSeconds?: number;
}

/** The stream activity's report of one finished segment, sent to the workflow's rate control. */
export interface SegmentReport {
  /** 0-based, as in the playlist. */
  index: number;
  durationSeconds: number;
  /** Wall-clock seconds between the previous segment (or the stream's start) and this one. */
  wallSeconds: number;
  /** durationSeconds ÷ wallSeconds: content seconds per wall second. */
  rate: number;
  /** The model that upscaled this segment's frames. */
  model: ModelId;
}

/** A step down the ladder, decided by the workflow after a run of slow segments. */
export interface ModelChange {
  fromModel: ModelId;
  toModel: ModelId;
  /** The segment whose report tipped the decision; the activity switches at a later boundary. */
  afterSegment: number;
  /** The rates of the slow segments in a row that led to it. */
  slowRates: number[];
  belowRate: number;
}

export interface UpscaleStatus {
  state: JobState;
  titleKey: string;
  plan?: StreamPlan;
  source?: SourceInfo;
  progress?: StreamProgress;
  /** The model the stream should use now (ONNX path only): the plan's, or where rate control stepped down to. */
  model?: ModelId;
  modelChanges: ModelChange[];
  failureReason?: string;
  hlsRemoved: boolean;
}

/** Percent done and seconds left, from the latest progress. */
export function progressFigures(progress: StreamProgress): { percent: number; etaSeconds: number | null } {
  const percent = progress.durationSeconds > 0
    ? Math.min(100, (100 * progress.contentSeconds) / progress.durationSeconds)
    : 0;
  const remaining = Math.max(0, progress.durationSeconds - progress.contentSeconds);
  const etaSeconds = progress.rate > 0 ? remaining / progress.rate : null;
  return { percent, etaSeconds };
}

/** A waiting job's queue position as people say it: `1` → `1st in line`, `12` → `12th in line`, `22` → `22nd in line`. */
export function placeInLine(position: number): string {
  const lastTwo = position % 100;
  const last = position % 10;
  const suffix = lastTwo >= 11 && lastTwo <= 13 ? 'th' : last === 1 ? 'st' : last === 2 ? 'nd' : last === 3 ? 'rd' : 'th';
  return `${position}${suffix} in line`;
}

const TITLE_WORKFLOW_PREFIX = 'upscale-';

export function workflowIdForTitle(titleKey: string): string {
  return `${TITLE_WORKFLOW_PREFIX}${titleKey}`;
}

export function titleKeyOfWorkflow(workflowId: string): string {
  return workflowId.startsWith(TITLE_WORKFLOW_PREFIX) ? workflowId.slice(TITLE_WORKFLOW_PREFIX.length) : workflowId;
}

/** The Schedule `upflow up` keeps, and the id of the workflow each of its runs starts. */
export const HLS_CLEANUP_SCHEDULE_ID = 'upflow-hls-cleanup';

/** What one HLS cleanup run is asked to do: the Schedule's arguments, or `upflow cleanup`'s flags. */
export interface HlsCleanupOptions {
  /** List what would go, with sizes; remove nothing. */
  dryRun: boolean;
  /** A complete stream's HLS folder goes once its job finished longer ago than this. */
  maxAgeMs: number;
  /** Leave abandoned and orphaned folders alone. */
  completedOnly: boolean;
  /** A stopped stream (no new segment for this long, its workflow gone) counts as abandoned. */
  abandonedAfterMs: number;
}

/**
 * Why a folder goes: its stream is complete and old; it stopped without completing (failed,
 * cancelled, its workflow gone); or no job on record made it.
 */
export type HlsCleanupReason = 'complete' | 'abandoned' | 'orphaned';

export interface HlsFolderRemoval {
  titleKey: string;
  name: string | null;
  jobId: string | null;
  jobState: JobState | null;
  reason: HlsCleanupReason;
  folder: string;
  files: number;
  bytes: number;
  /** Since the job finished (complete) or since anything last happened in it (the others). */
  ageHours: number;
}

export interface HlsFolderKept {
  titleKey: string;
  why: string;
}

export interface HlsCleanupReport {
  dryRun: boolean;
  options: HlsCleanupOptions;
  /** Removed, or for a dry run what would be. */
  removed: HlsFolderRemoval[];
  kept: HlsFolderKept[];
  bytes: number;
}
