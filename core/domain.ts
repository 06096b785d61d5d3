/**
 * Domain types shared by workflows, activities, the API and the CLI. Pure types and pure
 * functions only: workflow code imports this module, so nothing here may touch Node.
 */
import type { MakingSpeed } from './switch-lead';
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
  /** x264's threads; 0: its own choice. */
  encoderThreads: number;
  /** The grid's nominal segment length (core/grid.ts cuts the title on frames from it). */
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
  /**
   * Rate control: a chunk's current model making its latest this many content seconds below
   * `stepDownBelowRate` steps the model down (0: off). Absent in runs begun before, which
   * counted `slowSegmentsBeforeStepDown` segments in a row instead (core/rate-control.ts).
   */
  stepDownWindowSeconds?: number;
  slowSegmentsBeforeStepDown?: number;
  stepDownBelowRate: number;
  scaleFactor: number;
  preset: string;
  crf: number;
  encoderThreads: number;
  segmentSeconds: number;
  hlsRetentionMs: number;
  /** Segments made ahead of the newest viewer before the rest of the title (0: no limit; HLS_LIST_SIZE). */
  lookAheadSegments: number;
}

/**
 * The header that carries a job's id to each activity of its title's runs: the first run's id.
 * A long title continues as new (a run's history stays short), and its job goes on under that id.
 */
export const JOB_ID_HEADER = 'upflow-job-id';

export interface UpscaleTitleInput {
  titleKey: string;
  sourcePath: string;
  name: string;
  settings: UpscaleSettings;
  /** Where the trigger's viewer is: made first. */
  viewer?: ViewerPosition;
  /** Upscale again from nothing (a forced trigger): segments an earlier run left are not reused. */
  fresh?: boolean;
}

/**
 * Where someone watches: the trigger's position (Jellyfin's `PlaybackPositionTicks`,
 * `position_seconds`), a segment a player asks for, a position a client reports.
 */
export interface ViewerPosition {
  /** Who: Jellyfin's device or user, a player's address, or `trigger`. */
  viewer: string;
  /** Content time in seconds (clamped to the title), or a segment index of the grid. */
  seconds?: number;
  segment?: number;
  /**
   * When `seconds` was read (ms since the epoch, the API's clock, as the request came): a viewer
   * on the original plays on meanwhile (Jellyfin's item asked, the title probed), so the title's
   * workflow places them that much further on. Absent: where they are when it hears.
   */
  readAt?: number;
  /** Someone waits for the picture there now (a trigger, a seek, a request for a missing segment). */
  waiting: boolean;
  /** A viewer on the original who is not playing on (paused): their part is made where they are, no lead. */
  paused?: boolean;
  /** The viewer stopped watching (Jellyfin's PlaybackStop): their play head goes away. */
  left?: boolean;
}

/** The title's progress, kept by the workflow from its chunks' reports (and in Postgres). */
export interface StreamProgress {
  frames: number;
  segments: number;
  contentSeconds: number;
  durationSeconds: number;
  /** Content seconds made per wall-clock second, by every chunk together, lately. */
  rate: number;
  fps: number;
  /** Seconds from the first chunk's start to its first segment, once there is one. */
  firstSegmentSeconds?: number;
}

/** A chunk's report of one segment it made (and moved into place), to the workflow. */
export interface SegmentReport {
  /** The chunk's ticket. */
  ticket: string;
  /** The grid's index, as in the playlist. */
  index: number;
  durationSeconds: number;
  /** Wall-clock seconds between the chunk's previous segment (or its start) and this one. */
  wallSeconds: number;
  /** durationSeconds ÷ wallSeconds: content seconds per wall second. */
  rate: number;
  /** The model that upscaled this segment's frames; null in ffmpeg-only mode. */
  model: ModelId | null;
}

/** What a free worker slot makes: the workflow's answer when a chunk's ticket starts. */
export interface ChunkClaim {
  fromSegment: number;
  /** Exclusive; the workflow may lower it later (ChunkOrders). */
  endSegment: number;
  /** ONNX path: the model to start with; null in ffmpeg-only mode. */
  model: ModelId | null;
}

/** The workflow's answer to each segment a chunk reports: where to stop, and the model from the next boundary. */
export interface ChunkOrders {
  endSegment: number;
  model: ModelId | null;
}

/** A chunk being made, as the status shows it. */
export interface ChunkView {
  ticket: string;
  fromSegment: number;
  nextSegment: number;
  endSegment: number;
  model: ModelId | null;
}

/** A step down the ladder, decided by the workflow after a run of slow segments. */
export interface ModelChange {
  fromModel: ModelId;
  toModel: ModelId;
  /** The segment whose report tipped the decision; the activity switches at a later boundary. */
  afterSegment: number;
  /** The rates of the segments it judged: the window's (or, in runs begun before, the slow ones in a row). */
  rates: number[];
  belowRate: number;
  /** The window's content seconds and its rate (content ÷ wall seconds); absent in runs begun before. */
  window?: { seconds: number; rate: number };
  /** A tried model given up before its window was full: the viewer's lead at the try and now, and what a try may cost. */
  gaveUpTry?: { triedAtLeadSeconds: number; leadSeconds: number; costSeconds: number };
}

/**
 * A stepped-down title tries its better model again (one step up the ladder) once a viewer has
 * enough made ahead of them to leave room should the try fail (core/rate-control.ts).
 */
export interface ModelStepUp {
  ticket: string;
  fromModel: ModelId;
  toModel: ModelId;
  /** The segment whose report decided it; the activity switches at a later boundary. */
  afterSegment: number;
  /** Content seconds made ahead of the nearest viewer playing into the chunk, where they are by then. */
  leadSeconds: number;
  /** The lead this try needed: doubled after each try that stepped down again. */
  neededSeconds: number;
}

/**
 * A chunk's model set by who watches what it makes next: rate control's step-downs are for the
 * segments a viewer plays into as they are made; the rest gets the title's own model.
 */
export interface ChunkModelChange {
  ticket: string;
  fromModel: ModelId;
  toModel: ModelId;
  /** The segment whose report decided it; the activity switches at a later boundary. */
  afterSegment: number;
  /** A viewer plays into the chunk's next segment (it gets the viewers' model), or none does (the title's own). */
  watched: boolean;
}

export interface UpscaleStatus {
  state: JobState;
  titleKey: string;
  plan?: StreamPlan;
  source?: SourceInfo;
  progress?: StreamProgress;
  /** The grid: how many segments, and which content is made, e.g. `[[0, 120], [2700, 2760]]` (seconds). */
  segmentCount?: number;
  ready?: [number, number][];
  /**
   * Where the making for each viewer starts (the segments made first: where they are, or a lead
   * after a viewer on the original), and what each worker slot makes now.
   */
  viewers?: {
    viewer: string; segment: number; waiting: boolean; leadSeconds: number;
    /** A viewer on the original placed from a known speed: seconds from then to their predicted switch. */
    switchSeconds?: number;
  }[];
  /** One slot's speed the leads are judged from (core/switch-lead.ts); absent before any is known. */
  makingSpeed?: MakingSpeed & { measuredOn: 'this title' | 'earlier titles' };
  chunks?: ChunkView[];
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

/**
 * Seconds from a job's stream start (its first chunk claimed) to its first segment, the chunk's
 * start-up as Postgres's makingSpeed counts it; null before both.
 */
export function firstSegmentAfterStreamStart(job: { streamStartedAt: string | null; firstSegmentAt: string | null }): number | null {
  return job.streamStartedAt && job.firstSegmentAt ? (Date.parse(job.firstSegmentAt) - Date.parse(job.streamStartedAt)) / 1000 : null;
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
