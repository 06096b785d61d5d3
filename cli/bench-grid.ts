/**
 * `upflow bench --only grid`: the figures of issue 18 ("Watch from anywhere"), on a generated
 * 640×360 24 fps clip with audio (10 minutes unless `--grid-seconds`), made once per run:
 *
 * 1. trigger: a viewer at 50 % → seconds until their first segment exists in the title's HLS
 *    folder (polled every 10 ms): the one there, or a lead after it once the stack knows how fast
 *    it makes this plan (docs/architecture.md); ffmpeg-only and Anime4K S, each on a freshly
 *    started stack so the first trigger after start-up is measured, then a second title (a hard
 *    link of the clip) on the same stack;
 * 2. seeks: while the first title is made, the same viewer moves (75 %, 25 %, 90 %) as the API
 *    tells the workflow when a player asks for a segment not made yet → seconds until it exists;
 * 3. slots: a whole title with nobody watching, ffmpeg-only with one x264 thread per chunk, two
 *    slots against one → content seconds ÷ wall seconds from the first chunk's start to the last
 *    segment made, and their ratio;
 * 4. start cost: a chunk started mid-title with the adapters alone (no Temporal), time to its
 *    first closed segment against the steady time per segment after it;
 * 5. scaling: what K slots give Real-ESRGAN and Anime4K M, from each model's per-frame cost
 *    alone on this machine, the chunk start cost and the chunk length (bench-grid-figures.ts).
 *
 * Figures go to the terminal and, with the machine, the commit and the settings, to one JSON
 * file (docs/bench/grid.json), from which the docs' tables are generated (scripts/docs-tables.ts).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { createServices, type Services } from '../services';
import { loadConfig, type Config } from '../core/config';
import { TERMINAL_JOB_STATES, type SourceInfo, type StreamPlan } from '../core/domain';
import { UpflowError } from '../core/errors';
import { titleFiles } from '../core/media-paths';
import { MODELS, stepDownLadder, streamFrameFormat, type FrameFormat, type ModelId } from '../core/models';
import { MAX_CHUNK_SECONDS } from '../core/chunk-scheduler';
import { median } from '../core/statistics';
import { segmentDurationSeconds, segmentIndexAt, segmentIndexOfFilename, segmentStartFrame, type Grid } from '../core/grid';
import { gridOf, planStream } from '../core/plan';
import { encodeLanczosChunk, makeTestClip, probeSource } from '../adapters/ffmpeg';
import { HlsFolder } from '../adapters/hls-folder';
import type { Logger } from '../adapters/logger';
import type { UpflowStore } from '../adapters/postgres';
import { makeTempDataDir } from '../adapters/postgres-cluster';
import { upscaleSettings } from '../services/title-workflows';
import { encodeChunkWithModels, ModelSessions } from '../activities/onnx-stream';
import { claimChunkUpdate } from '../workflows/definitions';
import { FFMPEG_ONLY } from './bench';
import {
  chunkContentSeconds,
  chunkStartCost,
  maxOverlap,
  rateWithSlots,
  SLOT_MODEL_FORMULA,
  slotsForRealTime,
  spread,
  type SlotModelInputs,
  type Spread,
} from './bench-grid-figures';
import { startBenchStack, type BenchStack } from './bench-stack';
import { cliCommand, figuresFile, figuresHeader, readableNumbers, writeFiguresFile, type FiguresHeader } from './figures-file';
import { inferenceOptionsOf, loadModel, measureInference, sampleFrames } from './bench-stages';
import { formatTable } from './format';

export const GRID_BENCH_PARTS = ['trigger', 'slots', 'start-cost', 'scaling'] as const;
export type GridBenchPart = (typeof GRID_BENCH_PARTS)[number];

export function isGridBenchPart(value: string): value is GridBenchPart {
  return (GRID_BENCH_PARTS as readonly string[]).includes(value);
}

export interface GridBenchOptions {
  /** Length of the generated clip. */
  clipSeconds: number;
  /** Fresh stacks per upscaler (trigger, seeks), runs per slot count, chunk starts per upscaler. */
  repeats: number;
  parts: GridBenchPart[];
  jsonFile: string;
  /** Print the JSON document on stdout instead of the tables. */
  json: boolean;
}

export const DEFAULT_GRID_JSON = figuresFile('grid');

const CLIP = { width: 640, height: 360, fps: 24 } as const;
/** Where the viewer starts, as a fraction of the title. */
const TRIGGER_FRACTION = 0.5;
/** Where the same viewer seeks to while the title is made, in turn (forward, back, far forward). */
const SEEK_FRACTIONS = [0.75, 0.25, 0.9];
/** The viewer watches this long before seeking again: the chunk for the last position is running. */
const SEEK_PAUSE_MS = 3000;
/** How often the bench looks for a segment file: the resolution of the trigger and seek figures. */
const POLL_MS = 10;
/** How often it counts a title's segments while a whole title is made (minutes: 0.1 s is plenty). */
const COUNT_POLL_MS = 100;
/** A segment not there by then is reported as not made (null). */
const PLAYABLE_TIMEOUT_MS = 120_000;
/** Segments a measured chunk start runs to: the first, and intervals after it for the steady figure. */
const START_COST_SEGMENTS = 6;
/** The viewer id of the trigger and its seeks (the API uses the webhook's device or `player:…`). */
const VIEWER = 'bench-viewer';
const S_MODEL = 'anime4k-s-rl' satisfies ModelId;
const UPSCALERS = [FFMPEG_ONLY, S_MODEL] as const;
type Upscaler = (typeof UPSCALERS)[number];
const SLOT_COUNTS = [1, 2] as const;
/** The models the K-slot model is worked out for (the issue: Real-ESRGAN and M). */
const SCALING_MODELS: ModelId[] = ['realesrgan-x2', 'anime4k-m-rl'];
/** The issue's target for two slots against one. */
const SLOT_RATIO_TARGET = 1.7;

/** Seconds since `fromMs` (epoch ms), to the millisecond. */
const secondsSince = (fromMs: number, atMs = Date.now()) => Math.round(atMs - fromMs) / 1000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// ---------------------------------------------------------------- the report

/** Trigger → each step of the title's first chunk, from the workflow's history (seconds). */
export interface TemporalSteps {
  workflowStarted: number | null;
  /** The job recorded in Postgres (the workflow's first activity). */
  jobRegistered: number | null;
  probed: number | null;
  playlistPublished: number | null;
  chunkScheduled: number | null;
  /** The chunk activity started on a worker slot. */
  chunkStarted: number | null;
  /** The chunk asked the workflow for its range and got it. */
  chunkClaimed: number | null;
}

export interface TriggerFigures {
  positionSeconds: number;
  /** The viewer's first segment: the one at their position, or a lead after it. */
  segment: number;
  /** Trigger → the viewer's first segment exists; null: not within PLAYABLE_TIMEOUT_MS. */
  playableSeconds: number | null;
  /** Trigger → the whole title's playlist exists. */
  playlistSeconds: number | null;
  steps: TemporalSteps | null;
}

/** Seek → each step of the slot's hand-over, from the workflow's history (seconds). */
export interface SeekSteps {
  /** The workflow asked a chunk far from the viewer to stop (null: a slot was free, or it stops at a boundary). */
  victimCancelRequested: number | null;
  /** That chunk stopped: its slot is free. */
  victimStopped: number | null;
  /** A chunk claimed the viewer's new position. */
  chunkClaimed: number | null;
}

export interface SeekFigures {
  fromSeconds: number;
  toSeconds: number;
  segment: number;
  /** Seek → the segment exists; 0 when it was made already (alreadyMade). */
  playableSeconds: number | null;
  alreadyMade: boolean;
  /** Epoch ms of the seek, to find its steps in the history. */
  seekedAtMs: number;
  steps: SeekSteps | null;
}

export interface TriggerRun {
  upscaler: Upscaler;
  repeat: number;
  /** Starting the stack until the worker polls ("Upflow is up"). */
  stackStartSeconds: number;
  first: TriggerFigures;
  seeks: SeekFigures[];
  /** Another title on the same stack, after the first was cancelled (its slot free again). */
  second: TriggerFigures;
  /** Bytes a player fetches per content second: the first title's full-length segments made by the end of its seeks. */
  segmentBytesPerSecond: number | null;
}

export interface TriggerSummary {
  firstTriggerSeconds: Spread;
  secondTriggerSeconds: Spread;
  seekSeconds: Spread;
  firstTriggerToChunkStartSeconds: Spread;
  secondTriggerToChunkStartSeconds: Spread;
  /** Seek → the chunk far from the viewer stopped (its slot handed over). */
  seekToVictimStoppedSeconds: Spread;
  /** Seek → a chunk claimed the new position. */
  seekToChunkClaimedSeconds: Spread;
  segmentBytesPerSecond: Spread;
}

export interface SlotRun {
  slots: number;
  repeat: number;
  contentSeconds: number;
  /** From the first chunk's start (Postgres: the job's stream start) to the last segment seen. */
  wallSeconds: number;
  rate: number;
  triggerToLastSegmentSeconds: number;
  /** Chunk activities the title's workflow ran (tickets that found nothing left count too). */
  chunkActivities: number;
  /** Each chunk activity's [start, end] in seconds from the first chunk's start (Temporal's clock). */
  chunks: [number, number][];
  /** The most chunks that ran at once: the slots were used. */
  maxConcurrentChunks: number;
}

export interface StartCostRun {
  upscaler: Upscaler;
  repeat: number;
  fromSegment: number;
  /** Seconds from the chunk's start to each segment closing. */
  closedAt: number[];
  firstSeconds: number;
  steadySeconds: number;
  startCostSeconds: number;
}

export interface ScalingModel {
  model: ModelId;
  inferenceFps: number;
  perFrameSeconds: number;
  singleSlotRate: number;
  slotsForRealTime: number;
  rates: { slots: number; rate: number }[];
}

export interface GridBenchReport extends FiguresHeader {
  settings: Record<string, unknown>;
  benchSeconds?: number;
  trigger: { runs: TriggerRun[]; summary: Partial<Record<Upscaler, TriggerSummary>> } | null;
  slots: { encoderThreads: number; runs: SlotRun[]; rateBySlots: Record<string, Spread>; ratio: number; target: number } | null;
  startCost: { segmentsPerRun: number; modelLoadSeconds: number | null; runs: StartCostRun[]; summary: Partial<Record<Upscaler, { firstSeconds: Spread; steadySeconds: Spread; startCostSeconds: Spread }>> } | null;
  scaling: {
    formula: string;
    clipFps: number;
    maxChunkSeconds: number;
    segmentSeconds: number;
    chunkContentSeconds: number;
    /** s as the model takes it: the measured one, at least 0. */
    startCostSeconds: number;
    measuredStartCostSeconds: number;
    startCostFrom: string;
    inferenceThreads: number;
    /** The lanes those threads run in (absent in files from before lanes). */
    inferenceLanes?: number;
    models: ScalingModel[];
  } | null;
}

// ---------------------------------------------------------------- the clip and its titles

/** The run's clip and hard links of it: each link is a new title (its key hashes the path). */
class Clips {
  readonly file: string;

  constructor(readonly dir: string) {
    this.file = path.join(dir, 'grid-clip.mp4');
  }

  link(name: string): string {
    const file = path.join(this.dir, `${name}.mp4`);
    fs.linkSync(this.file, file);
    return file;
  }
}

/** The settings a trigger with `config` plans with: the grid the workflow cuts. */
function planFor(source: SourceInfo, config: Config, upscaler: Upscaler): StreamPlan {
  const settings = upscaleSettings(config);
  return planStream(source, upscaler === FFMPEG_ONLY
    ? { ...settings, aiEnabled: false, scaleFactor: 2 }
    : { ...settings, aiEnabled: true, model: upscaler, scaleFactor: MODELS[upscaler].scale });
}

/** The worker's settings for an upscaler; rate control off, so each is measured as itself. */
function upscalerEnv(upscaler: Upscaler): NodeJS.ProcessEnv {
  return upscaler === FFMPEG_ONLY
    ? { SRGAN_ENABLE: '0', SRGAN_SCALE_FACTOR: '2' }
    : { SRGAN_ENABLE: '1', UPFLOW_MODEL: upscaler, SRGAN_SCALE_FACTOR: String(MODELS[upscaler].scale), UPFLOW_RATE_STEPDOWN_SECONDS: '0' };
}

/** When the first segment of a title nothing has made yet appears, and which it is. */
async function whenFirstSegment(folder: HlsFolder, timeoutMs = PLAYABLE_TIMEOUT_MS): Promise<{ at: number; segment: number } | null> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const names = fs.existsSync(folder.dir) ? fs.readdirSync(folder.dir) : [];
    const made = names.map((name) => segmentIndexOfFilename(name)).filter((index) => index !== undefined);
    if (made.length > 0) return { at: Date.now(), segment: Math.min(...made) };
    if (Date.now() > deadline) return null;
    await sleep(POLL_MS);
  }
}

/** Resolves with the epoch ms at which `file` was first seen, or null after `timeoutMs`. */
async function whenFileExists(file: string, timeoutMs = PLAYABLE_TIMEOUT_MS): Promise<number | null> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (fs.existsSync(file)) return Date.now();
    if (Date.now() > deadline) return null;
    await sleep(POLL_MS);
  }
}

async function waitForJobEnd(store: UpflowStore, jobId: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const job = await store.getJob(jobId);
    if (job && TERMINAL_JOB_STATES.includes(job.state)) return;
    if (Date.now() > deadline) throw new Error(`job ${jobId} did not end in ${timeoutMs / 1000} s (state ${job?.state})`);
    await sleep(COUNT_POLL_MS);
  }
}

/** Stops a title still being made and waits until it has stopped, so its slot is free. */
async function cancelTitle(services: Services, store: UpflowStore, jobId: string): Promise<void> {
  try {
    await services.jobs.cancel(jobId, 'bench: next measurement');
  } catch (err) {
    // Made already (a short clip): nothing to stop.
    if (!(err instanceof UpflowError && err.kind === 'Conflict')) throw err;
  }
  await waitForJobEnd(store, jobId, 60_000);
}

// ---------------------------------------------------------------- the workflow's history

type HistoryEvent = NonNullable<Awaited<ReturnType<ReturnType<Client['workflow']['getHandle']>['fetchHistory']>>['events']>[number];

function eventMs(event: HistoryEvent): number | null {
  const time = event.eventTime;
  if (!time) return null;
  return Number(time.seconds?.toString() ?? 0) * 1000 + (time.nanos ?? 0) / 1e6;
}

interface ActivityTimes {
  type: string;
  scheduledMs: number | null;
  startedMs: number | null;
  completedMs: number | null;
  cancelRequestedMs: number | null;
  canceledMs: number | null;
}

/** Each activity of a run (in the order scheduled), and when each claim of a chunk was accepted. */
async function runHistory(client: Client, workflowId: string, runId: string): Promise<{ startedMs: number | null; activities: ActivityTimes[]; claimsMs: number[] }> {
  const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
  const activities = new Map<string, ActivityTimes>();
  const claimsMs: number[] = [];
  let startedMs: number | null = null;
  for (const event of history.events ?? []) {
    const at = eventMs(event);
    const id = event.eventId?.toString() ?? '';
    if (event.workflowExecutionStartedEventAttributes) startedMs = at;
    const scheduled = event.activityTaskScheduledEventAttributes;
    if (scheduled) activities.set(id, { type: scheduled.activityType?.name ?? '', scheduledMs: at, startedMs: null, completedMs: null, cancelRequestedMs: null, canceledMs: null });
    // An activity's events name it by its scheduled event's id. (A retried activity's started
    // event is written when it ends, with the time it started.)
    const mark = (attributes: { scheduledEventId?: { toString(): string } | null } | null | undefined, step: Exclude<keyof ActivityTimes, 'type' | 'scheduledMs'>) => {
      const activity = attributes ? activities.get(attributes.scheduledEventId?.toString() ?? '') : undefined;
      if (activity) activity[step] = at;
    };
    mark(event.activityTaskStartedEventAttributes, 'startedMs');
    mark(event.activityTaskCompletedEventAttributes, 'completedMs');
    mark(event.activityTaskCancelRequestedEventAttributes, 'cancelRequestedMs');
    mark(event.activityTaskCanceledEventAttributes, 'canceledMs');
    if (event.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.input?.name === claimChunkUpdate.name && at !== null) claimsMs.push(at);
  }
  return { startedMs, activities: [...activities.values()], claimsMs };
}

type RunHistory = Awaited<ReturnType<typeof runHistory>>;

/** Trigger → each step to the first chunk's claim. From a history read once the title has stopped (started events are written at the end). */
function temporalSteps(run: RunHistory, triggeredAtMs: number): TemporalSteps {
  const first = (type: string) => run.activities.find((a) => a.type === type);
  const since = (ms: number | null | undefined) => (ms === null || ms === undefined ? null : secondsSince(triggeredAtMs, ms));
  const chunk = first('makeChunk');
  return {
    workflowStarted: since(run.startedMs),
    jobRegistered: since(first('registerJob')?.completedMs),
    probed: since(first('probeSource')?.completedMs),
    playlistPublished: since(first('publishPlaylist')?.completedMs),
    chunkScheduled: since(chunk?.scheduledMs),
    chunkStarted: since(chunk?.startedMs),
    chunkClaimed: since(run.claimsMs[0]),
  };
}

/** Seek → the first cancel of a running chunk after it (before the segment was there), that chunk's stop, and the next claim. */
function seekSteps(run: RunHistory, seek: SeekFigures): SeekSteps {
  const { seekedAtMs } = seek;
  const untilMs = seek.playableSeconds === null ? Infinity : seekedAtMs + seek.playableSeconds * 1000;
  const since = (ms: number | null | undefined) => (ms === null || ms === undefined ? null : secondsSince(seekedAtMs, ms));
  const victim = run.activities
    .filter((a) => a.type === 'makeChunk' && a.startedMs !== null && a.cancelRequestedMs !== null && a.cancelRequestedMs >= seekedAtMs && a.cancelRequestedMs <= untilMs)
    .sort((a, b) => a.cancelRequestedMs! - b.cancelRequestedMs!)[0];
  return {
    victimCancelRequested: since(victim?.cancelRequestedMs),
    victimStopped: since(victim?.canceledMs),
    chunkClaimed: since(run.claimsMs.find((ms) => ms >= seekedAtMs)),
  };
}

// ---------------------------------------------------------------- 1 and 2: trigger and seeks

interface Title {
  titleKey: string;
  jobId: string;
  workflowId: string;
  folder: HlsFolder;
}

async function triggerViewer(bench: BenchStack, services: Services, clip: string, grid: Grid): Promise<{ title: Title; figures: TriggerFigures; triggeredAtMs: number }> {
  const positionSeconds = grid.durationSeconds * TRIGGER_FRACTION;
  const triggeredAtMs = Date.now();
  const triggered = await services.triggers.trigger(clip, { viewer: { viewer: VIEWER, seconds: positionSeconds, waiting: true } });
  if (triggered.status !== 'started' || !triggered.jobId) throw new Error(`${path.basename(clip)}: expected a new title, got ${triggered.status}`);
  const folder = new HlsFolder(titleFiles(bench.config, triggered.titleKey).hlsDir);
  const playlistAt = whenFileExists(folder.playlist);
  const first = await whenFirstSegment(folder);
  const playlistSeen = await playlistAt;
  return {
    title: { titleKey: triggered.titleKey, jobId: triggered.jobId, workflowId: triggered.workflowId, folder },
    triggeredAtMs,
    figures: {
      positionSeconds,
      segment: first?.segment ?? segmentIndexAt(grid, positionSeconds),
      playableSeconds: first === null ? null : secondsSince(triggeredAtMs, first.at),
      playlistSeconds: playlistSeen === null ? null : secondsSince(triggeredAtMs, playlistSeen),
      steps: null,
    },
  };
}

async function seekViewer(services: Services, title: Title, grid: Grid, fromSeconds: number, toSeconds: number): Promise<SeekFigures> {
  const segment = segmentIndexAt(grid, toSeconds);
  const file = title.folder.segmentPath(segment);
  const seekedAtMs = Date.now();
  if (fs.existsSync(file)) return { fromSeconds, toSeconds, segment, playableSeconds: 0, alreadyMade: true, seekedAtMs, steps: null };
  // What the API does when a player asks for a segment not made yet (api/hls-waiting.ts): that one, no lead.
  await services.triggers.tellViewer(title.titleKey, { viewer: VIEWER, segment, waiting: true });
  const playableAt = await whenFileExists(file);
  return { fromSeconds, toSeconds, segment, playableSeconds: playableAt === null ? null : secondsSince(seekedAtMs, playableAt), alreadyMade: false, seekedAtMs, steps: null };
}

async function measureTriggers(upscaler: Upscaler, repeat: number, clips: Clips, source: SourceInfo, logger: Logger, progress: (text: string) => void): Promise<TriggerRun> {
  progress(`trigger ${upscaler} #${repeat + 1}: starting a fresh stack`);
  const stackStartedAt = Date.now();
  const bench = await startBenchStack(logger, { mediaRoot: clips.dir, env: upscalerEnv(upscaler) });
  const stackStartSeconds = secondsSince(stackStartedAt);
  try {
    const { store, client } = bench.stack;
    const services = createServices({ config: bench.config, store, client });
    const grid = gridOf(planFor(source, bench.config, upscaler));

    progress(`trigger ${upscaler} #${repeat + 1}: first title, viewer at ${Math.round(grid.durationSeconds * TRIGGER_FRACTION)} s`);
    const first = await triggerViewer(bench, services, clips.link(`${upscaler}-${repeat}-first`), grid);
    const seeks: SeekFigures[] = [];
    let at = first.figures.positionSeconds;
    for (const fraction of SEEK_FRACTIONS) {
      await sleep(SEEK_PAUSE_MS);
      const to = grid.durationSeconds * fraction;
      progress(`trigger ${upscaler} #${repeat + 1}: seek ${Math.round(at)} s → ${Math.round(to)} s`);
      seeks.push(await seekViewer(services, first.title, grid, at, to));
      at = to;
    }
    const segmentBytesPerSecond = madeBytesPerSecond(first.title.folder, grid);
    await cancelTitle(services, store, first.title.jobId);
    const firstHistory = await runHistory(client, first.title.workflowId, first.title.jobId);
    first.figures.steps = temporalSteps(firstHistory, first.triggeredAtMs);
    for (const seek of seeks) if (!seek.alreadyMade) seek.steps = seekSteps(firstHistory, seek);

    progress(`trigger ${upscaler} #${repeat + 1}: second title on the same stack`);
    const second = await triggerViewer(bench, services, clips.link(`${upscaler}-${repeat}-second`), grid);
    await cancelTitle(services, store, second.title.jobId);
    second.figures.steps = temporalSteps(await runHistory(client, second.title.workflowId, second.title.jobId), second.triggeredAtMs);
    return { upscaler, repeat, stackStartSeconds, first: first.figures, seeks, second: second.figures, segmentBytesPerSecond };
  } finally {
    await bench.stop();
  }
}

/** Bytes per content second of the made segments but the title's last (shorter) one; null when none is made. */
function madeBytesPerSecond(folder: HlsFolder, grid: Grid): number | null {
  let bytes = 0;
  let contentSeconds = 0;
  for (let index = 0; index < grid.segmentCount - 1; index++) {
    const file = folder.segmentPath(index);
    if (!fs.existsSync(file)) continue;
    bytes += fs.statSync(file).size;
    contentSeconds += segmentDurationSeconds(grid, index);
  }
  return contentSeconds > 0 ? Math.round(bytes / contentSeconds) : null;
}

function summarizeTriggers(runs: TriggerRun[]): Partial<Record<Upscaler, TriggerSummary>> {
  const summary: Partial<Record<Upscaler, TriggerSummary>> = {};
  for (const upscaler of UPSCALERS) {
    const mine = runs.filter((r) => r.upscaler === upscaler);
    if (mine.length === 0) continue;
    const value = (n: number | null | undefined) => n ?? NaN;
    const seeks = mine.flatMap((r) => r.seeks.filter((s) => !s.alreadyMade));
    summary[upscaler] = {
      firstTriggerSeconds: spread(mine.map((r) => value(r.first.playableSeconds))),
      secondTriggerSeconds: spread(mine.map((r) => value(r.second.playableSeconds))),
      seekSeconds: spread(seeks.map((s) => value(s.playableSeconds))),
      firstTriggerToChunkStartSeconds: spread(mine.map((r) => value(r.first.steps?.chunkStarted))),
      secondTriggerToChunkStartSeconds: spread(mine.map((r) => value(r.second.steps?.chunkStarted))),
      seekToVictimStoppedSeconds: spread(seeks.map((s) => value(s.steps?.victimStopped))),
      seekToChunkClaimedSeconds: spread(seeks.map((s) => value(s.steps?.chunkClaimed))),
      segmentBytesPerSecond: spread(mine.map((r) => value(r.segmentBytesPerSecond))),
    };
  }
  return summary;
}

// ---------------------------------------------------------------- 3: slots

function countSegments(dir: string): number {
  try {
    return fs.readdirSync(dir).filter((name) => segmentIndexOfFilename(name) !== undefined).length;
  } catch {
    return 0; // not created yet
  }
}

async function measureSlots(slots: number, repeat: number, clips: Clips, source: SourceInfo, logger: Logger, progress: (text: string) => void): Promise<SlotRun> {
  progress(`slots ${slots} #${repeat + 1}: starting a fresh stack (ffmpeg-only, 1 encoder thread)`);
  const env = { ...upscalerEnv(FFMPEG_ONLY), UPFLOW_GPU_CONCURRENCY: String(slots), UPFLOW_ENCODER_THREADS: '1' };
  const bench = await startBenchStack(logger, { mediaRoot: clips.dir, env });
  try {
    const { store, client } = bench.stack;
    const services = createServices({ config: bench.config, store, client });
    const grid = gridOf(planFor(source, bench.config, FFMPEG_ONLY));
    progress(`slots ${slots} #${repeat + 1}: making the whole title (${grid.segmentCount} segments), nobody watching`);
    const triggeredAtMs = Date.now();
    const triggered = await services.triggers.trigger(clips.link(`slots-${slots}-${repeat}`));
    if (!triggered.jobId) throw new Error('the slots title did not start');
    const dir = titleFiles(bench.config, triggered.titleKey).hlsDir;
    const deadline = Date.now() + grid.durationSeconds * 10_000 + 300_000;
    while (countSegments(dir) < grid.segmentCount) {
      if (Date.now() > deadline) throw new Error(`slots ${slots}: the title was not made in time (${countSegments(dir)} of ${grid.segmentCount} segments)`);
      await sleep(COUNT_POLL_MS);
    }
    const lastAtMs = Date.now();
    await waitForJobEnd(store, triggered.jobId, 300_000);
    const job = await store.getJob(triggered.jobId);
    if (job?.state !== 'complete') throw new Error(`slots ${slots}: the title ended ${job?.state}: ${job?.failureReason}`);
    if (!job.streamStartedAt) throw new Error(`slots ${slots}: the job has no stream start time`);
    const wallSeconds = secondsSince(Date.parse(job.streamStartedAt), lastAtMs);
    const history = await runHistory(client, triggered.workflowId, triggered.jobId);
    const firstChunkMs = Date.parse(job.streamStartedAt);
    const chunks = history.activities
      .filter((a) => a.type === 'makeChunk' && a.startedMs !== null)
      .map((a): [number, number] => [secondsSince(firstChunkMs, a.startedMs!), secondsSince(firstChunkMs, a.completedMs ?? a.canceledMs ?? lastAtMs)]);
    return {
      slots,
      repeat,
      contentSeconds: grid.durationSeconds,
      wallSeconds,
      rate: grid.durationSeconds / wallSeconds,
      triggerToLastSegmentSeconds: secondsSince(triggeredAtMs, lastAtMs),
      chunkActivities: chunks.length,
      chunks,
      maxConcurrentChunks: maxOverlap(chunks),
    };
  } finally {
    await bench.stop();
  }
}

// ---------------------------------------------------------------- 4: chunk start cost

async function measureChunkStart(
  upscaler: Upscaler,
  repeat: number,
  o: { clip: string; source: SourceInfo; config: Config; sessions: ModelSessions; workDir: string },
): Promise<StartCostRun> {
  const plan = planFor(o.source, o.config, upscaler);
  const grid = gridOf(plan);
  const fromSegment = segmentIndexAt(grid, grid.durationSeconds * TRIGGER_FRACTION);
  const lastSegment = Math.min(grid.segmentCount, fromSegment + START_COST_SEGMENTS + 1);
  const frames = segmentStartFrame(grid, lastSegment) - segmentStartFrame(grid, fromSegment);
  const folder = new HlsFolder(path.join(o.workDir, 'start-cost'));
  const chunk = await folder.openChunk(`${upscaler}-${repeat}`);
  const stop = new AbortController();
  const outputs = { source: { path: o.clip }, plan, fromSegment, segmentPattern: chunk.segmentPattern, segmentList: chunk.segmentList };
  const run = { cwd: chunk.dir, signal: stop.signal };
  const startedAt = performance.now();
  const encoding = upscaler === FFMPEG_ONLY
    ? encodeLanczosChunk(outputs, run)
    : encodeChunkWithModels({ ...outputs, sessions: o.sessions, frames: o.sessions.framesFor(plan), modelFor: () => upscaler, frameLimit: () => frames }, run);
  let ended = false;
  const settled = encoding.then(
    () => { ended = true; },
    (err: unknown) => {
      ended = true;
      if (!stop.signal.aborted) throw err;
    },
  );
  const closedAt: number[] = [];
  try {
    while (closedAt.length < START_COST_SEGMENTS && !ended) {
      await sleep(POLL_MS);
      const now = performance.now();
      const closed = await chunk.closedSegments();
      for (let i = closedAt.length; i < closed.length; i++) closedAt.push(Math.round(now - startedAt) / 1000);
    }
  } finally {
    stop.abort();
    await settled.finally(() => fs.promises.rm(folder.dir, { recursive: true, force: true }));
  }
  const cost = chunkStartCost(closedAt.slice(0, START_COST_SEGMENTS));
  return { upscaler, repeat, fromSegment, closedAt, ...cost };
}

// ---------------------------------------------------------------- 5: K slots

/** Powers of two up to the first that reaches real time, and that K itself. */
function slotCounts(realTime: number): number[] {
  const counts = new Set<number>();
  const until = Number.isFinite(realTime) ? realTime : 64;
  for (let k = 1; k < until * 2 && k <= 1024; k *= 2) counts.add(k);
  if (Number.isFinite(realTime)) counts.add(realTime);
  return [...counts].sort((a, b) => a - b);
}

// ---------------------------------------------------------------- printing

const seconds = (n: number | null | undefined) => (n === null || n === undefined || !Number.isFinite(n) ? '-' : `${n.toFixed(2)} s`);
const range = (s: Spread) => (s.values.length > 1 && Number.isFinite(s.min) ? `${seconds(s.median)} (${s.min.toFixed(2)}–${s.max.toFixed(2)})` : seconds(s.median));

function printReport(report: GridBenchReport): void {
  const out = (text: string) => process.stdout.write(text);
  out(`\nGrid bench: ${report.settings.clipSeconds} s clip, ${CLIP.width}x${CLIP.height} ${CLIP.fps} fps → x2, segments of ${report.settings.segmentSeconds} s; ${report.machine.cpuModel}, ${report.machine.cores} cores; median (min–max) of ${report.settings.repeats} run(s).\n`);
  if (report.trigger) {
    const rows = UPSCALERS.flatMap((u) => {
      const s = report.trigger!.summary[u];
      return s ? [[
        u, range(s.firstTriggerSeconds), range(s.secondTriggerSeconds), range(s.seekSeconds),
        `${seconds(s.firstTriggerToChunkStartSeconds.median)} / ${seconds(s.secondTriggerToChunkStartSeconds.median)}`,
        `${seconds(s.seekToVictimStoppedSeconds.median)} / ${seconds(s.seekToChunkClaimedSeconds.median)}`,
        `${Math.round(s.segmentBytesPerSecond.median / 1000)} kB`,
      ]] : [];
    });
    out(`\n1–2. A viewer at ${TRIGGER_FRACTION * 100} %, then seeks (${SEEK_FRACTIONS.map((f) => `${f * 100} %`).join(', ')}): seconds until the viewer's first segment exists (a lead after them once the speed is known), and the segment sought\n`);
    out(formatTable(['upscaler', 'first trigger after start', 'second trigger', 'seek', 'trigger → chunk start (first / second)', 'seek → slot freed / claimed', 'bytes per content second'], rows));
  }
  if (report.slots) {
    const rows = Object.entries(report.slots.rateBySlots).map(([slots, s]) => {
      const runs = report.slots!.runs.filter((r) => String(r.slots) === slots);
      return [slots, `${s.median.toFixed(2)}x`, s.values.map((v) => v.toFixed(2)).join(', '), runs.map((r) => r.maxConcurrentChunks).join(', ')];
    });
    out(`\n3. A whole title, nobody watching, ffmpeg-only, ${report.slots.encoderThreads} encoder thread per chunk: content seconds per wall second\n`);
    out(formatTable(['slots', 'rate', 'runs', 'chunks at once'], rows));
    out(`2 slots ÷ 1 slot: ${report.slots.ratio.toFixed(2)} (target ≥ ${report.slots.target})\n`);
  }
  if (report.startCost) {
    const rows = UPSCALERS.flatMap((u) => {
      const s = report.startCost!.summary[u];
      return s ? [[u, range(s.firstSeconds), range(s.steadySeconds), range(s.startCostSeconds)]] : [];
    });
    out(`\n4. A chunk started at ${TRIGGER_FRACTION * 100} % with the adapters alone (model loaded): start cost = first segment − steady segment\n`);
    out(formatTable(['upscaler', 'first segment', 'steady segment', 'start cost'], rows));
    if (report.startCost.modelLoadSeconds !== null) out(`Loading ${S_MODEL} (not loaded yet): ${seconds(report.startCost.modelLoadSeconds)}\n`);
  }
  if (report.scaling) {
    const sc = report.scaling;
    out(`\n5. K slots for one title: ${sc.formula}\n   C = ${sc.chunkContentSeconds} s (MAX_CHUNK_SECONDS ${sc.maxChunkSeconds} s in ${sc.segmentSeconds} s segments), s = ${seconds(sc.startCostSeconds)} (${sc.startCostFrom}), r₁ = inference fps ÷ ${sc.clipFps}\n`);
    const rows = sc.models.map((m) => [m.model, m.inferenceFps.toFixed(2), `${m.singleSlotRate.toFixed(3)}x`, m.rates.map((r) => `${r.slots}: ${r.rate.toFixed(2)}x`).join(', '), String(m.slotsForRealTime)]);
    out(formatTable(['model', 'infer fps', 'r₁', 'rate with K slots', 'K for real time'], rows));
  }
  out('\n');
}

// ---------------------------------------------------------------- the command

export async function gridBenchCommand(options: GridBenchOptions, logger: Logger): Promise<GridBenchReport> {
  const progress = (text: string) => process.stderr.write(`bench grid: ${text}\n`);
  const benchStartedAt = Date.now();
  const parts = new Set(options.parts);
  // The K-slot model needs the chunk start cost.
  if (parts.has('scaling')) parts.add('start-cost');
  const baseConfig = loadConfig(process.env);
  const report: GridBenchReport = {
    ...(await figuresHeader(cliCommand())),
    settings: {
      clipSeconds: options.clipSeconds,
      clip: { ...CLIP, audio: true },
      repeats: options.repeats,
      parts: [...parts],
      segmentSeconds: baseConfig.hls.segmentSeconds,
      preset: baseConfig.upscale.preset,
      crf: baseConfig.upscale.crf,
      encoderThreads: baseConfig.upscale.encoderThreads,
      slotsPerWorker: baseConfig.streamsPerWorker,
      inferenceThreads: baseConfig.inference.threads,
      executionProvider: baseConfig.inference.executionProvider,
      triggerFraction: TRIGGER_FRACTION,
      seekFractions: SEEK_FRACTIONS,
      seekPauseSeconds: SEEK_PAUSE_MS / 1000,
      secondTitle: 'triggered on the same stack once the first is cancelled (its slot free)',
      pollMs: POLL_MS,
      startCostSegments: START_COST_SEGMENTS,
      maxChunkSeconds: MAX_CHUNK_SECONDS,
      rateControl: 'off (UPFLOW_RATE_STEPDOWN_SECONDS=0)',
    },
    trigger: null,
    slots: null,
    startCost: null,
    scaling: null,
  };

  const runDir = makeTempDataDir('upflow-gridbench-');
  const clips = new Clips(path.join(runDir, 'media'));
  fs.mkdirSync(clips.dir, { recursive: true });
  try {
    progress(`generating the ${options.clipSeconds} s ${CLIP.width}x${CLIP.height} clip`);
    await makeTestClip({ file: clips.file, seconds: options.clipSeconds, ...CLIP, audio: true });
    const source = await probeSource({ path: clips.file });

    if (parts.has('start-cost')) {
      const config = loadConfig({ ...process.env, UPFLOW_DATA_DIR: path.join(runDir, 'data'), UPFLOW_MEDIA_ROOTS: clips.dir });
      const sessions = new ModelSessions(config, logger);
      try {
        progress(`start cost: loading ${S_MODEL}`);
        const loadStartedAt = performance.now();
        await sessions.preload(S_MODEL);
        const modelLoadSeconds = Math.round(performance.now() - loadStartedAt) / 1000;
        const runs: StartCostRun[] = [];
        for (let repeat = 0; repeat < options.repeats; repeat++) {
          for (const upscaler of UPSCALERS) {
            progress(`start cost: ${upscaler} chunk #${repeat + 1}`);
            runs.push(await measureChunkStart(upscaler, repeat, { clip: clips.file, source, config, sessions, workDir: runDir }));
          }
        }
        const summary: NonNullable<GridBenchReport['startCost']>['summary'] = {};
        for (const upscaler of UPSCALERS) {
          const mine = runs.filter((r) => r.upscaler === upscaler);
          summary[upscaler] = { firstSeconds: spread(mine.map((r) => r.firstSeconds)), steadySeconds: spread(mine.map((r) => r.steadySeconds)), startCostSeconds: spread(mine.map((r) => r.startCostSeconds)) };
        }
        report.startCost = { segmentsPerRun: START_COST_SEGMENTS, modelLoadSeconds, runs, summary };
      } finally {
        await sessions.releaseAll();
      }
    }

    if (parts.has('scaling') && report.startCost) {
      const config = loadConfig(process.env);
      const plan = planFor(source, config, S_MODEL);
      const grid = gridOf(plan);
      const samples = new Map<FrameFormat, Buffer[]>();
      const sampleIn = async (format: FrameFormat) => {
        if (!samples.has(format)) samples.set(format, await sampleFrames(clips.file, plan, segmentIndexAt(grid, grid.durationSeconds * TRIGGER_FRACTION), format));
        return samples.get(format)!;
      };
      const measuredStartCostSeconds = median(report.startCost.runs.filter((r) => r.upscaler === S_MODEL).map((r) => r.startCostSeconds));
      // Below zero only on a machine busy with other work (a steady segment slower than the first): counted as free.
      const startCostSeconds = Math.max(0, measuredStartCostSeconds);
      const contentSeconds = chunkContentSeconds(MAX_CHUNK_SECONDS, plan.segmentSeconds);
      const models: ScalingModel[] = [];
      const inference = inferenceOptionsOf(config, logger);
      for (const model of SCALING_MODELS) {
        progress(`scaling: ${model} inference alone`);
        // In the frames a stream of it would use (core/models.ts streamFrameFormat).
        const frames = streamFrameFormat(stepDownLadder(model), plan.inputWidth, plan.inputHeight, () => 'fp32');
        const upscaler = await loadModel(model, { ...inference, frames });
        const { fps: inferenceFps } = await measureInference(upscaler, await sampleIn(frames), plan).finally(() => upscaler.release());
        const inputs: SlotModelInputs = { chunkContentSeconds: contentSeconds, singleSlotRate: inferenceFps / source.fps, startCostSeconds };
        const realTime = slotsForRealTime(inputs);
        models.push({
          model,
          inferenceFps,
          perFrameSeconds: 1 / inferenceFps,
          singleSlotRate: inputs.singleSlotRate,
          slotsForRealTime: realTime,
          rates: slotCounts(realTime).map((slots) => ({ slots, rate: rateWithSlots(inputs, slots) })),
        });
      }
      report.scaling = {
        formula: SLOT_MODEL_FORMULA,
        clipFps: source.fps,
        maxChunkSeconds: MAX_CHUNK_SECONDS,
        segmentSeconds: plan.segmentSeconds,
        chunkContentSeconds: contentSeconds,
        startCostSeconds,
        measuredStartCostSeconds,
        startCostFrom: `${S_MODEL} chunk started mid-title, model loaded (part 4, median)`,
        inferenceThreads: config.inference.threads,
        inferenceLanes: inference.lanes ?? 1,
        models,
      };
    }

    if (parts.has('trigger')) {
      const runs: TriggerRun[] = [];
      for (let repeat = 0; repeat < options.repeats; repeat++) {
        for (const upscaler of UPSCALERS) runs.push(await measureTriggers(upscaler, repeat, clips, source, logger, progress));
      }
      report.trigger = { runs, summary: summarizeTriggers(runs) };
    }

    if (parts.has('slots')) {
      const runs: SlotRun[] = [];
      // Alternated, so a change in the machine's load falls on both.
      for (let repeat = 0; repeat < options.repeats; repeat++) {
        for (const slots of SLOT_COUNTS) runs.push(await measureSlots(slots, repeat, clips, source, logger, progress));
      }
      const rateBySlots = Object.fromEntries(SLOT_COUNTS.map((slots) => [String(slots), spread(runs.filter((r) => r.slots === slots).map((r) => r.rate))]));
      report.slots = { encoderThreads: 1, runs, rateBySlots, ratio: rateBySlots['2']!.median / rateBySlots['1']!.median, target: SLOT_RATIO_TARGET };
    }
  } finally {
    fs.rmSync(runDir, { recursive: true, force: true });
  }

  report.benchSeconds = secondsSince(benchStartedAt);
  writeFiguresFile(options.jsonFile, report);
  progress(`figures written to ${options.jsonFile}`);
  if (options.json) process.stdout.write(`${JSON.stringify(report, readableNumbers)}\n`);
  else printReport(report);
  return report;
}
