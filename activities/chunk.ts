/**
 * The gpu-queue activity: one chunk of a title, made by one worker slot. A ticket waits in the
 * task queue until a slot is free; once started it asks the workflow what to make (the
 * scheduler's claim at that moment), then runs ffmpeg alone (lanczos) or decoder → ONNX model →
 * encoder from the claim's first segment. Each segment ffmpeg closes is moved into the title's
 * folder, recorded (Postgres) and reported to the workflow, whose answer says where to stop and
 * which model to use from the next boundary. A cancel (the title cancelled, or the slot wanted
 * nearer a viewer) stops it at once; what it made stays made.
 *
 * A retried ticket (its worker died) simply claims again: what the dead attempt finished is in
 * the folder and known to the workflow, so the claim starts at the first segment still missing.
 */
import { ApplicationFailure, CancelledFailure, Context } from '@temporalio/activity';
import type { WorkflowHandle } from '@temporalio/client';
import type { ChunkClaim, ChunkOrders, SegmentReport, SourceInfo, StreamPlan } from '../core/domain';
import type { FrameFormat, ModelId } from '../core/models';
import { FailureType } from '../core/errors';
import { titleFiles } from '../core/media-paths';
import { segmentDurationSeconds, segmentStartFrame, segmentStartSeconds, type Grid } from '../core/grid';
import { ModelSchedule } from '../core/model-schedule';
import { gridOf } from '../core/plan';
import { findLowDisk, type LowDisk } from '../adapters/disk';
import { encodeLanczosChunk, type EncodeProgress, type SourceInput } from '../adapters/ffmpeg';
import { HlsFolder, type ChunkFolder, type ClosedSegment } from '../adapters/hls-folder';
import type { Logger } from '../adapters/logger';
import { runTakesNoMoreUpdates, withTemporalDeadline } from '../adapters/temporal';
import { claimChunkUpdate, segmentMadeUpdate } from '../workflows/definitions';
import type { ActivityDeps } from './deps';
import { currentJob, jobLogger } from './context';
import { sourceChangedFailure } from './failures';
import { encodeChunkWithModels, type ModelSessions } from './onnx-stream';
import { openProbedSource } from './source';

/** How often the chunk's folder is looked at for closed segments. */
const SEGMENT_POLL_MS = 100;
/**
 * How often a chunk heartbeats, whatever it is doing (claiming, encoding, delivering its last
 * segments): the SDK sends at most one per throttle interval, and a cancel comes back with its answer.
 */
const CHUNK_HEARTBEAT_MS = 100;
/** A chunk whose encoder takes no new frame for this long is stopped and retried. */
const CHUNK_STALL_MS = 120_000;
/** How often free space is checked while a chunk runs. */
const DISK_CHECK_INTERVAL_MS = 2000;
/** A claim not answered in this long fails the attempt, and the ticket is retried. */
const CLAIM_ANSWER_TIMEOUT_MS = 60_000;
/** A workflow answer slower than this leaves the chunk going as it was. */
const WORKFLOW_ANSWER_TIMEOUT_MS = 5000;
/** How long a segment waits for Postgres or Temporal to come back before the chunk fails (and is retried). */
const OUTAGE_PATIENCE_MS = 60_000;

export interface ChunkInput {
  titleKey: string;
  sourcePath: string;
  plan: StreamPlan;
  /** What the probe found: the container, and the version of the file a chunk may read. */
  source?: SourceInfo;
  /** Names this ticket in the workflow's bookkeeping; the same on every attempt. */
  ticket: string;
}

export interface ChunkResult {
  ticket: string;
  /** Undefined when nothing was left to claim. */
  claim?: ChunkClaim;
  /** The segments it delivered, in order (the workflow may have missed a report in an outage). */
  made: number[];
  /** The encode ran out of source here, before the range's end: the title is shorter than it said. */
  sourceEndsAt?: number;
  segments: number;
  contentSeconds: number;
  wallSeconds: number;
}

/** What a chunk heartbeats: where it is (the Temporal UI shows it). */
interface ChunkHeartbeat {
  ticket: string;
  fromSegment?: number;
  nextSegment?: number;
  endSegment?: number;
  frames: number;
}

/** `sessions`: the worker's loaded models (one per model, shared by its slots). */
export function createChunkActivities(deps: ActivityDeps, sessions: ModelSessions) {
  const { config, store, client, logger } = deps;
  /** Claims the ticket's range, records the start, and makes the chunk; `started` learns of the run once it exists. */
  async function startAndMake(input: ChunkInput, context: Context, started: (run: ChunkRun) => void): Promise<ChunkResult> {
    const { jobId, workflowId, runId } = currentJob();
    const log = jobLogger(logger).child({ ticket: input.ticket });
    // Claims and reports go to the run that scheduled this chunk: a later run of the title has its own chunks.
    const workflow = client.workflow.getHandle(workflowId, runId);
    const grid = gridOf(input.plan);

    const lowAtStart = await findLowDisk([config.hlsDir, config.outputDir], config.minFreeBytes);
    if (lowAtStart) throw ApplicationFailure.nonRetryable(lowAtStart.message, FailureType.DiskFull);

    // Checked and opened again on every attempt, before anything is claimed; closed after the encode.
    const opened = await openProbedSource(config.mediaRoots, input, log);
    let claim: ChunkClaim | null;
    try {
      // One id per attempt: a claim sent twice is taken once, and a retried ticket claims anew.
      // Bounded: the heartbeats keep this attempt alive, so a claim never answered would hold the slot.
      claim = await withTemporalDeadline(client, () => workflow.executeUpdate(claimChunkUpdate, { args: [input.ticket], updateId: `${input.ticket}-${context.info.attempt}-claim` }), CLAIM_ANSWER_TIMEOUT_MS);
    } catch (err) {
      // A run about to continue as new hands out nothing more: the next run has its own tickets.
      if (runTakesNoMoreUpdates(err)) claim = null;
      else {
        opened.opened.close();
        throw err;
      }
    }
    if (!claim) {
      opened.opened.close();
      return { ticket: input.ticket, made: [], segments: 0, contentSeconds: 0, wallSeconds: 0 };
    }
    const startMessage = `${input.ticket} makes segments ${claim.fromSegment}–${claim.endSegment - 1} from ${segmentStartSeconds(grid, claim.fromSegment).toFixed(1)} s${claim.model ? ` with ${claim.model}` : ''} (attempt ${context.info.attempt})`;
    log.info({ fromSegment: claim.fromSegment, endSegment: claim.endSegment, model: claim.model, attempt: context.info.attempt }, startMessage);
    let folder: ChunkFolder;
    try {
      await store.updateJob(jobId, { state: 'streaming', streamStarted: true }, {
        kind: 'chunk-started',
        message: startMessage,
        data: { ticket: input.ticket, fromSegment: claim.fromSegment, endSegment: claim.endSegment, model: claim.model, attempt: context.info.attempt },
      });
      folder = await new HlsFolder(titleFiles(config, input.titleKey).hlsDir).openChunk(input.ticket);
    } catch (err) {
      opened.opened.close();
      throw err;
    }
    const run = new ChunkRun({ deps, sessions, log, jobId, context, workflow }, input, claim, grid, folder);
    started(run);
    return run.make(opened);
  }

  return {
    async makeChunk(input: ChunkInput): Promise<ChunkResult> {
      const context = Context.current();
      // Beats from the start to the end: a claim the workflow answers slowly, the records, a model
      // load or an outage while the last segments are delivered must not let the heartbeat timeout
      // retry a ticket whose attempt is alive. Once the run exists, each beat says where it is.
      let run: ChunkRun | undefined;
      const beats = setInterval(() => context.heartbeat(run?.progress() ?? { ticket: input.ticket, frames: 0 }), CHUNK_HEARTBEAT_MS);
      try {
        return await startAndMake(input, context, (started) => {
          run = started;
        });
      } finally {
        clearInterval(beats);
      }
    },
  };
}

interface ChunkRunEnv {
  deps: ActivityDeps;
  sessions: ModelSessions;
  log: Logger;
  jobId: string;
  context: Context;
  workflow: WorkflowHandle;
}

/**
 * One claimed chunk being made: where it is, and the steps that deliver its segments (into
 * place, recorded, reported) while ffmpeg makes them, follow the workflow's orders, guard the
 * disk and end it.
 */
class ChunkRun {
  private endSegment: number;
  private nextSegment: number;
  private segmentsMade = 0;
  private contentSeconds = 0;
  private encodedFrames = 0;
  private readonly startedAt = Date.now();
  private lastSegmentAt = this.startedAt;
  /** When the encoder last took a new frame: a chunk that stops taking them is stuck. */
  private lastFrameAt = this.startedAt;
  /** When the first segment closed, and its content: the chunk runs at its rate from there. */
  private firstSegment?: { at: number; seconds: number };
  private readonly delivered: number[] = [];
  private readonly schedule?: ModelSchedule;
  /** The frames between ffmpeg and the models, decided once: every model the chunk switches to is loaded for them. */
  private readonly frames: FrameFormat;
  /** Stops the encode at the chunk's end when the encode cannot close its last segment by itself. */
  private readonly stop = new AbortController();
  private readonly diskGuard = new AbortController();
  private lastDiskCheckAt = Date.now();
  private listed = 0;
  private collecting: Promise<void> = Promise.resolve();
  private collectBusy = false;
  private failedWhileRunning: unknown;
  private reporting: Promise<void> = Promise.resolve();
  /** The workflow run has said it takes no more reports: it continues as new, or has ended. */
  private runTakesNoReports = false;

  constructor(
    private readonly env: ChunkRunEnv,
    private readonly input: ChunkInput,
    private readonly claim: ChunkClaim,
    private readonly grid: Grid,
    private readonly chunk: ChunkFolder,
  ) {
    this.endSegment = claim.endSegment;
    this.nextSegment = claim.fromSegment;
    if (claim.model) this.schedule = new ModelSchedule(claim.model, grid, claim.fromSegment);
    this.frames = env.sessions.framesFor(input.plan);
  }

  /** Runs the encode to the chunk's end (or the source's), delivering each segment as ffmpeg closes it. */
  async make({ opened, source }: Awaited<ReturnType<typeof openProbedSource>>): Promise<ChunkResult> {
    const { context } = this.env;
    const poller = setInterval(() => this.poll(), SEGMENT_POLL_MS);
    let endedBySource = true;
    try {
      await this.encode(source);
    } catch (err) {
      const stoppedAtItsEnd = this.stop.signal.aborted && !this.failedWhileRunning && !this.diskGuard.signal.aborted && !context.cancellationSignal.aborted;
      if (!stoppedAtItsEnd) {
        clearInterval(poller);
        opened.close();
        await this.settle();
        throw await this.failure(err);
      }
      endedBySource = false; // the segments closed so far are delivered below
    }
    clearInterval(poller);
    // Written to in place while it was read: the segments may mix two versions.
    const change = opened.changeSinceOpened();
    opened.close();
    if (change) {
      await this.settle();
      throw sourceChangedFailure(change, 'while it was being upscaled');
    }
    try {
      await this.collect();
      await this.reporting;
    } catch (err) {
      await this.settle();
      throw await this.failure(err);
    }
    await this.chunk.close();
    return this.finish(endedBySource);
  }

  private encode(source: SourceInput): Promise<void> {
    const { plan } = this.input;
    const outputs = { source, plan, fromSegment: this.claim.fromSegment, segmentPattern: this.chunk.segmentPattern, segmentList: this.chunk.segmentList };
    const run = {
      cwd: this.chunk.dir,
      signal: AbortSignal.any([this.env.context.cancellationSignal, this.diskGuard.signal, this.stop.signal]),
      onProgress: (update: EncodeProgress) => {
        if (update.frame > this.encodedFrames) this.lastFrameAt = Date.now();
        this.encodedFrames = update.frame;
      },
    };
    const schedule = this.schedule;
    if (!schedule) return encodeLanczosChunk(outputs, run);
    return encodeChunkWithModels({ ...outputs, sessions: this.env.sessions, frames: this.frames, modelFor: (index) => schedule.modelFor(index), frameLimit: () => this.frameLimit() }, run);
  }

  /** Frames from the chunk's first to where segment `endSegment` starts. */
  private frameLimit(): number {
    if (this.endSegment >= this.grid.segmentCount) return Infinity;
    return segmentStartFrame(this.grid, this.endSegment) - segmentStartFrame(this.grid, this.claim.fromSegment);
  }

  /** Where the chunk is, for its heartbeats. */
  progress(): ChunkHeartbeat {
    return { ticket: this.input.ticket, fromSegment: this.claim.fromSegment, nextSegment: this.nextSegment, endSegment: this.endSegment, frames: this.encodedFrames };
  }

  /** Every 100 ms: a stuck encode stopped, new closed segments delivered (one collect at a time), the disk now and then. */
  private poll(): void {
    if (Date.now() - this.lastFrameAt > CHUNK_STALL_MS && !this.stop.signal.aborted) {
      // Heartbeats alone would keep a stuck decoder, model or encoder holding its slot for hours.
      const stuck = new Error(`${this.input.ticket} took no new frame for ${CHUNK_STALL_MS / 1000} s (ffmpeg or the model is stuck): the chunk is retried`);
      this.failedWhileRunning ??= stuck;
      this.stop.abort(stuck);
    }
    if (!this.collectBusy) {
      this.collectBusy = true;
      this.collect().then(
        () => {
          this.collectBusy = false;
        },
        (err: unknown) => {
          this.failedWhileRunning ??= err;
          this.stop.abort(err);
        },
      );
    }
    if (Date.now() - this.lastDiskCheckAt > DISK_CHECK_INTERVAL_MS) this.checkDisk().catch((err: Error) => this.env.log.warn({ err }, 'free space check failed'));
  }

  private collect(): Promise<void> {
    this.collecting = this.collecting.then(async () => {
      const closed = await this.chunk.closedSegments();
      for (const segment of closed.slice(this.listed)) {
        this.listed += 1;
        await this.deliver(segment);
      }
    });
    return this.collecting;
  }

  /** One closed segment: into place, recorded, then reported. Serialised by `collect`. */
  private async deliver(segment: ClosedSegment): Promise<void> {
    // Made past a lowered end: the other chunk makes it. ffmpeg alone runs on to the source's end
    // unless stopped, here as well as by the orders (whose answer may not come).
    if (segment.index >= this.endSegment) {
      this.stop.abort('end');
      return;
    }
    const { deps: { store }, jobId, log } = this.env;
    const { bytes, replaced } = await this.chunk.adopt(segment);
    if (replaced) {
      // The scheduler means each segment to be made once; say so when it was not.
      log.warn({ segment: segment.index }, 'segment made a second time');
      await this.patiently('recording an event', () => store.addEvent(jobId, 'segment-remade', `segment ${segment.index} was made again by ${this.input.ticket}`, { ticket: this.input.ticket, index: segment.index }));
    }
    const now = Date.now();
    const wallSeconds = Math.max(0.001, (now - this.lastSegmentAt) / 1000);
    this.lastSegmentAt = now;
    const durationSeconds = segmentDurationSeconds(this.grid, segment.index);
    const model = this.schedule?.modelOfSegment(segment.index) ?? null;
    this.segmentsMade += 1;
    this.contentSeconds += durationSeconds;
    this.nextSegment = segment.index + 1;
    this.delivered.push(segment.index);
    const precision = model ? this.env.sessions.precisionOf(model) : null;
    const record = { index: segment.index, filename: segment.filename, startSeconds: segmentStartSeconds(this.grid, segment.index), durationSeconds, bytes, model, precision, wallSeconds };
    // The title's rate is the chunk's once it runs: its start-up (ffmpeg, a model's first frames)
    // is in the first segment alone, and the web script sizes from the rate what it waits for
    // (core/switch-lead.ts). So the first segment sets none (Postgres keeps what it has): its own,
    // 0.7–0.8x with Anime4K S beside a browser for 1.2x after, made the script wait a segment more.
    this.firstSegment ??= { at: now, seconds: durationSeconds };
    const rate = this.segmentsMade > 1
      ? (this.contentSeconds - this.firstSegment.seconds) / Math.max(0.001, (now - this.firstSegment.at) / 1000)
      : null;
    await this.patiently('recording a segment', () => store.recordSegment(jobId, record, rate));
    this.report({ ticket: this.input.ticket, index: segment.index, durationSeconds, wallSeconds, rate: durationSeconds / wallSeconds, model });
  }

  /**
   * Reports go to the workflow in order, on their own chain: while Temporal is away they wait,
   * and segments go on being moved into place and recorded (players and Postgres have them).
   * The workflow also learns every delivered segment from the chunk's result; a report lost to
   * a long outage only costs the orders it would have answered.
   */
  private report(segmentReport: SegmentReport): void {
    const { workflow, log } = this.env;
    // One id per report: one sent again after no answer came is taken once.
    const updateId = `${segmentReport.ticket}-${this.env.context.info.attempt}-${segmentReport.index}`;
    this.reporting = this.reporting.then(async () => {
      if (this.runTakesNoReports) return;
      const orders = await this.patiently('reporting a segment', () => withTemporalDeadline(this.env.deps.client, () => workflow.executeUpdate(segmentMadeUpdate, { args: [segmentReport], updateId }), WORKFLOW_ANSWER_TIMEOUT_MS), runTakesNoMoreUpdates)
        .catch((err: unknown) => {
          if (!runTakesNoMoreUpdates(err)) return log.warn({ err, segment: segmentReport.index }, 'the workflow did not take the segment report; going on');
          // The run continues as new (or has ended): this chunk ends here, and the next run reads
          // from Postgres what it made.
          log.info({ segment: segmentReport.index }, 'the workflow run takes no more reports; the chunk ends');
          this.runTakesNoReports = true;
          this.stop.abort('end');
        });
      // Nothing may reject on this chain: no one awaits it until the chunk ends well.
      if (orders) await this.follow(orders).catch((err: unknown) => log.warn({ err, segment: segmentReport.index }, 'could not follow the workflow\'s orders; going on'));
    });
  }

  /** Applies the workflow's orders: a lower end, a model for the next boundary. */
  private async follow(orders: ChunkOrders): Promise<void> {
    this.endSegment = Math.min(this.endSegment, orders.endSegment);
    if (this.schedule && orders.model && orders.model !== this.schedule.current) await this.switchModel(this.schedule, orders.model);
    // Every wanted segment is delivered. The ONNX path closes its last one by itself at
    // `frameLimit` (a segment it made past a lowered end is not delivered); ffmpeg-only mode
    // runs towards the end of the source and is stopped here.
    if (this.nextSegment >= this.endSegment) this.stop.abort('end');
  }

  private async switchModel(schedule: ModelSchedule, model: ModelId): Promise<void> {
    const { deps: { store }, jobId, log, sessions } = this.env;
    try {
      // Loaded now, not at the boundary frame, so the switch does not stall the frames.
      await sessions.get(model, this.frames);
    } catch (err) {
      log.warn({ err, model }, 'rate control asked for a model this worker cannot load; keeping the current one');
      return;
    }
    const switched = schedule.request(model);
    if (!switched) return;
    log.info({ model, ...switched }, 'switching model at a segment boundary');
    // A switch that only calls off one not begun is said too: the events tell what made each segment.
    const instead = switched.replaced ? ` (instead of ${switched.replaced}, which was to start there)` : '';
    await store.addEvent(jobId, 'model-switch', `${model} upscales from segment ${switched.fromSegment} on${instead}`, { model, ...switched });
  }

  /**
   * Waits out a short outage (Postgres or Temporal restarting) while the encode goes on:
   * segments queue up behind this one and are delivered once it is back.
   */
  private async patiently<T>(what: string, attempt: () => Promise<T>, final: (err: unknown) => boolean = () => false): Promise<T> {
    const deadline = Date.now() + OUTAGE_PATIENCE_MS;
    for (let tries = 1; ; tries++) {
      try {
        return await attempt();
      } catch (err) {
        if (Date.now() > deadline || final(err)) throw err;
        if (tries === 1) this.env.log.warn({ err }, `${what} failed; trying again every second (the encode goes on)`);
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
    }
  }

  /** Stops the encode, as a cancel would but as a failure with the reason, when the disk runs low. */
  private async checkDisk(): Promise<void> {
    const { deps: { config }, log } = this.env;
    this.lastDiskCheckAt = Date.now();
    const low = await findLowDisk([config.hlsDir, config.outputDir], config.minFreeBytes);
    if (low && !this.diskGuard.signal.aborted) {
      log.error({ folder: low.folder, freeBytes: low.freeBytes }, 'stopping the chunk: the disk is nearly full');
      this.diskGuard.abort(low);
    }
  }

  /** What to throw for an encode that did not end well: a full disk, a cancel (what was made is kept), a failed delivery, or ffmpeg's error. */
  private async failure(err: unknown): Promise<unknown> {
    const { deps: { store }, jobId, log, context } = this.env;
    if (this.diskGuard.signal.aborted) return ApplicationFailure.nonRetryable((this.diskGuard.signal.reason as LowDisk).message, FailureType.DiskFull);
    if (context.cancellationSignal.aborted) {
      await store.addEvent(jobId, 'chunk-stopped', `${this.input.ticket} stopped after ${this.segmentsMade} segments (a slot wanted nearer a viewer, or the title stopped)`, { ticket: this.input.ticket, fromSegment: this.claim.fromSegment, segments: this.segmentsMade })
        .catch((e: Error) => log.warn({ err: e }, 'could not record the stop'));
      return context.cancellationSignal.reason instanceof CancelledFailure ? context.cancellationSignal.reason : new CancelledFailure('chunk cancelled');
    }
    return this.failedWhileRunning ?? err;
  }

  /** Lets a delivery in progress finish (its file moved, recorded), then removes the chunk's folder. */
  private async settle(): Promise<void> {
    await this.collecting.catch(() => undefined);
    await this.chunk.close();
  }

  private async finish(endedBySource: boolean): Promise<ChunkResult> {
    const { deps: { store }, jobId, log } = this.env;
    const { ticket } = this.input;
    const wallSeconds = (Date.now() - this.startedAt) / 1000;
    // As the job's rate: the start-up (to the first segment) apart from the rate once running.
    const first = this.firstSegment;
    const running = first && this.segmentsMade > 1 ? `, then ${((this.contentSeconds - first.seconds) / Math.max(0.001, (Date.now() - first.at) / 1000)).toFixed(2)}x real time` : '';
    const doneMessage = `${ticket} made ${this.segmentsMade} segments (${this.claim.fromSegment}–${this.nextSegment - 1}) in ${wallSeconds.toFixed(1)} s${first ? `: the first after ${((first.at - this.startedAt) / 1000).toFixed(1)} s${running}` : ''}`;
    log.info({ segments: this.segmentsMade, contentSeconds: this.contentSeconds, wallSeconds }, doneMessage);
    await this.patiently('recording the chunk', () => store.addEvent(jobId, 'chunk-done', doneMessage, { ticket, fromSegment: this.claim.fromSegment, segments: this.segmentsMade, contentSeconds: this.contentSeconds, wallSeconds }));
    // The encode ran out of source before its range's end: nothing more can be made there.
    const sourceEndsAt = endedBySource && this.nextSegment < Math.min(this.endSegment, this.grid.segmentCount) ? this.nextSegment : undefined;
    return {
      ticket,
      claim: this.claim,
      made: this.delivered,
      segments: this.segmentsMade,
      contentSeconds: this.contentSeconds,
      wallSeconds,
      ...(sourceEndsAt !== undefined ? { sourceEndsAt } : {}),
    };
  }
}
