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
import type { ChunkClaim, ChunkOrders, SegmentReport, SourceInfo, StreamPlan } from '../common/domain';
import type { ModelId } from '../common/models';
import { FailureType } from '../common/errors';
import { titleFiles } from '../common/media-paths';
import { segmentDurationSeconds, segmentStartFrame, segmentStartSeconds } from '../core/grid';
import { ModelSchedule } from '../core/model-schedule';
import { gridOf } from '../core/plan';
import { findLowDisk, type LowDisk } from '../adapters/disk';
import { encodeLanczosChunk, type EncodeProgress } from '../adapters/ffmpeg';
import { HlsFolder, type ClosedSegment } from '../adapters/hls-folder';
import { claimChunkUpdate, segmentMadeUpdate } from '../workflows/definitions';
import type { ActivityDeps } from './deps';
import { currentJob, jobLogger } from './context';
import { sourceChangedFailure } from './failures';
import { encodeChunkWithModels, type ModelSessions } from './onnx-stream';
import { openProbedSource } from './source';

/** How often the chunk's folder is looked at for closed segments (and a heartbeat sent). */
const SEGMENT_POLL_MS = 100;
/** How often free space is checked while a chunk runs. */
const DISK_CHECK_INTERVAL_MS = 2000;
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

function withTimeout<T>(promise: Promise<T>, what: string): Promise<T> {
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`${what}: no answer in ${WORKFLOW_ANSWER_TIMEOUT_MS} ms`)), WORKFLOW_ANSWER_TIMEOUT_MS).unref()),
  ]);
}

/** `sessions`: the worker's loaded models (one per model, shared by its slots). */
export function createChunkActivities({ config, store, client, logger }: ActivityDeps, sessions: ModelSessions) {
  return {
    async makeChunk(input: ChunkInput): Promise<ChunkResult> {
      const context = Context.current();
      const { jobId, workflowId } = currentJob();
      const log = jobLogger(logger).child({ ticket: input.ticket });
      const files = titleFiles(config, input.titleKey);
      const folder = new HlsFolder(files.hlsDir);
      const workflow = client.workflow.getHandle(workflowId, jobId);
      const plan = input.plan;
      const grid = gridOf(plan);
      const startedAt = Date.now();

      const diskFolders = [config.hlsDir, config.outputDir];
      const lowAtStart = await findLowDisk(diskFolders, config.minFreeBytes);
      if (lowAtStart) throw ApplicationFailure.nonRetryable(lowAtStart.message, FailureType.DiskFull);

      // Checked and opened again on every attempt, before anything is claimed; closed after the encode.
      const opened = await openProbedSource(config.mediaRoots, input, log);
      const claim = await workflow.executeUpdate(claimChunkUpdate, { args: [input.ticket] }).catch((err: unknown) => {
        opened.opened.close();
        throw err;
      });
      if (!claim) {
        opened.opened.close();
        return { ticket: input.ticket, made: [], segments: 0, contentSeconds: 0, wallSeconds: 0 };
      }
      const startMessage = `${input.ticket} makes segments ${claim.fromSegment}–${claim.endSegment - 1} from ${segmentStartSeconds(grid, claim.fromSegment).toFixed(1)} s${claim.model ? ` with ${claim.model}` : ''} (attempt ${context.info.attempt})`;
      log.info({ fromSegment: claim.fromSegment, endSegment: claim.endSegment, model: claim.model, attempt: context.info.attempt }, startMessage);
      await store.updateJob(jobId, { state: 'streaming', streamStarted: true }, {
        kind: 'chunk-started',
        message: startMessage,
        data: { ticket: input.ticket, fromSegment: claim.fromSegment, endSegment: claim.endSegment, model: claim.model, attempt: context.info.attempt },
      });

      const chunk = await folder.openChunk(input.ticket);
      let endSegment = claim.endSegment;
      let nextSegment = claim.fromSegment;
      let segmentsMade = 0;
      let contentSeconds = 0;
      let encodedFrames = 0;
      let lastSegmentAt = startedAt;
      const schedule = claim.model ? new ModelSchedule(claim.model, grid, claim.fromSegment) : undefined;
      /** Frames from the chunk's first to where segment `endSegment` starts. */
      const frameLimit = () => (endSegment >= grid.segmentCount ? Infinity : segmentStartFrame(grid, endSegment) - segmentStartFrame(grid, claim.fromSegment));
      // Stops the encode (cancel, a full disk, or the end reached by a path that cannot close
      // its last segment by itself): complete segments stay, the one in progress goes.
      const stop = new AbortController();
      const heartbeat = (): ChunkHeartbeat => ({ ticket: input.ticket, fromSegment: claim.fromSegment, nextSegment, endSegment, frames: encodedFrames });

      /** Applies the workflow's orders: a lower end, a model for the next boundary. */
      const follow = async (orders: ChunkOrders) => {
        endSegment = Math.min(endSegment, orders.endSegment);
        if (schedule && orders.model && orders.model !== schedule.current) await switchModel(schedule, orders.model);
        // Every wanted segment is delivered. The ONNX path closes its last one by itself at
        // `frameLimit` (a segment it made past a lowered end is not delivered); ffmpeg-only
        // mode runs towards the end of the source and is stopped here.
        if (nextSegment >= endSegment) stop.abort('end');
      };

      const switchModel = async (s: ModelSchedule, model: ModelId) => {
        try {
          // Loaded now, not at the boundary frame, so the switch does not stall the frames.
          await sessions.get(model);
        } catch (err) {
          log.warn({ err, model }, 'rate control asked for a model this worker cannot load; keeping the current one');
          return;
        }
        const switched = s.request(model);
        if (!switched) return;
        log.info({ model, ...switched }, 'switching model at a segment boundary');
        await store.addEvent(jobId, 'model-switch', `${model} upscales from segment ${switched.fromSegment} on`, { model, ...switched });
      };

      /**
       * Waits out a short outage (Postgres or Temporal restarting) while the encode goes on:
       * segments queue up behind this one and are delivered once it is back.
       */
      const patiently = async <T>(what: string, attempt: () => Promise<T>): Promise<T> => {
        const deadline = Date.now() + OUTAGE_PATIENCE_MS;
        for (let tries = 1; ; tries++) {
          try {
            return await attempt();
          } catch (err) {
            if (Date.now() > deadline) throw err;
            if (tries === 1) log.warn({ err }, `${what} failed; trying again every second (the encode goes on)`);
            context.heartbeat(heartbeat());
            await new Promise((resolve) => setTimeout(resolve, 1000));
          }
        }
      };

      const delivered: number[] = [];
      /**
       * Reports go to the workflow in order, on their own chain: while Temporal is away they
       * wait, and segments go on being moved into place and recorded (players and Postgres
       * have them). The workflow also learns every delivered segment from the chunk's result;
       * a report lost to a long outage only costs the orders it would have answered.
       */
      let reporting: Promise<void> = Promise.resolve();
      const report = (segmentReport: SegmentReport) => {
        reporting = reporting.then(async () => {
          const orders = await patiently('reporting a segment', () => withTimeout(workflow.executeUpdate(segmentMadeUpdate, { args: [segmentReport] }), 'segment report'))
            .catch((err: unknown) => log.warn({ err, segment: segmentReport.index }, 'the workflow did not take the segment report; going on'));
          if (orders) await follow(orders);
        });
      };
      /** One closed segment: into place, recorded, then reported. Serialised by `collect`. */
      const deliver = async (segment: ClosedSegment) => {
        if (segment.index >= endSegment) return; // made past a lowered end: the other chunk makes it
        const { bytes, replaced } = await chunk.adopt(segment);
        if (replaced) {
          // The scheduler means each segment to be made once; say so when it was not.
          log.warn({ segment: segment.index }, 'segment made a second time');
          await patiently('recording an event', () => store.addEvent(jobId, 'segment-remade', `segment ${segment.index} was made again by ${input.ticket}`, { ticket: input.ticket, index: segment.index }));
        }
        const now = Date.now();
        const wallSeconds = Math.max(0.001, (now - lastSegmentAt) / 1000);
        lastSegmentAt = now;
        const durationSeconds = segmentDurationSeconds(grid, segment.index);
        const model = schedule?.modelOfSegment(segment.index) ?? null;
        segmentsMade += 1;
        contentSeconds += durationSeconds;
        nextSegment = segment.index + 1;
        delivered.push(segment.index);
        const record = {
          index: segment.index,
          filename: segment.filename,
          startSeconds: segmentStartSeconds(grid, segment.index),
          durationSeconds,
          bytes,
          model,
          wallSeconds,
        };
        await patiently('recording a segment', () => store.recordSegment(jobId, record, contentSeconds / Math.max(0.001, (now - startedAt) / 1000)));
        report({ ticket: input.ticket, index: segment.index, durationSeconds, wallSeconds, rate: durationSeconds / wallSeconds, model });
        context.heartbeat(heartbeat());
      };

      let listed = 0;
      let collecting: Promise<void> = Promise.resolve();
      const collect = (): Promise<void> => {
        collecting = collecting.then(async () => {
          const closed = await chunk.closedSegments();
          for (const segment of closed.slice(listed)) {
            listed += 1;
            await deliver(segment);
          }
        });
        return collecting;
      };

      const diskGuard = new AbortController();
      let lastDiskCheckAt = Date.now();
      const checkDisk = async () => {
        lastDiskCheckAt = Date.now();
        const low = await findLowDisk(diskFolders, config.minFreeBytes);
        if (low && !diskGuard.signal.aborted) {
          log.error({ folder: low.folder, freeBytes: low.freeBytes }, 'stopping the chunk: the disk is nearly full');
          diskGuard.abort(low);
        }
      };

      let collectFailed: unknown;
      let collectBusy = false;
      const poller = setInterval(() => {
        context.heartbeat(heartbeat());
        // One collect at a time: a slow one (an outage) is not queued behind again and again.
        if (collectBusy) return;
        collectBusy = true;
        collect().then(
          () => {
            collectBusy = false;
          },
          (err: unknown) => {
            collectFailed ??= err;
            stop.abort(err);
          },
        );
        if (Date.now() - lastDiskCheckAt > DISK_CHECK_INTERVAL_MS) checkDisk().catch((err: Error) => log.warn({ err }, 'free space check failed'));
      }, SEGMENT_POLL_MS);

      const outputs = { source: opened.source, plan, fromSegment: claim.fromSegment, segmentPattern: chunk.segmentPattern, segmentList: chunk.segmentList };
      const run = {
        cwd: chunk.dir,
        signal: AbortSignal.any([context.cancellationSignal, diskGuard.signal, stop.signal]),
        onProgress: (update: EncodeProgress) => {
          encodedFrames = update.frame;
        },
      };
      let endedBySource = true;
      try {
        if (!schedule) {
          await encodeLanczosChunk(outputs, run);
        } else {
          await encodeChunkWithModels({ ...outputs, sessions, modelFor: (index) => schedule.modelFor(index), frameLimit }, run);
        }
      } catch (err) {
        if (stop.signal.aborted && !collectFailed && !diskGuard.signal.aborted && !context.cancellationSignal.aborted) {
          endedBySource = false; // stopped at its end: the segments closed so far are delivered below
        } else {
          clearInterval(poller);
          opened.opened.close();
          await settle();
          if (diskGuard.signal.aborted) throw ApplicationFailure.nonRetryable((diskGuard.signal.reason as LowDisk).message, FailureType.DiskFull);
          if (context.cancellationSignal.aborted) {
            await store.addEvent(jobId, 'chunk-stopped', `${input.ticket} stopped after ${segmentsMade} segments (a slot wanted nearer a viewer, or the title stopped)`, { ticket: input.ticket, fromSegment: claim.fromSegment, segments: segmentsMade })
              .catch((e: Error) => log.warn({ err: e }, 'could not record the stop'));
            throw context.cancellationSignal.reason instanceof CancelledFailure ? context.cancellationSignal.reason : new CancelledFailure('chunk cancelled');
          }
          throw collectFailed ?? err;
        }
      }
      clearInterval(poller);
      // Written to in place while it was read: the segments may mix two versions.
      const change = opened.opened.changeSinceOpened();
      opened.opened.close();
      if (change) {
        await settle();
        throw sourceChangedFailure(change, 'while it was being upscaled');
      }
      await collect();
      await reporting;
      await chunk.close();
      const wallSeconds = (Date.now() - startedAt) / 1000;
      const doneMessage = `${input.ticket} made ${segmentsMade} segments (${claim.fromSegment}–${nextSegment - 1}) at ${(contentSeconds / wallSeconds).toFixed(2)}x real time`;
      log.info({ segments: segmentsMade, contentSeconds, wallSeconds }, doneMessage);
      await patiently('recording the chunk', () => store.addEvent(jobId, 'chunk-done', doneMessage, { ticket: input.ticket, fromSegment: claim.fromSegment, segments: segmentsMade, contentSeconds, wallSeconds }));
      // The encode ran out of source before its range's end: nothing more can be made there.
      const sourceEndsAt = endedBySource && nextSegment < Math.min(endSegment, grid.segmentCount) ? nextSegment : undefined;
      return { ticket: input.ticket, claim, made: delivered, segments: segmentsMade, contentSeconds, wallSeconds, ...(sourceEndsAt !== undefined ? { sourceEndsAt } : {}) };

      /** Lets a delivery in progress finish (its file moved, recorded), then removes the chunk's folder. */
      async function settle(): Promise<void> {
        await collecting.catch(() => undefined);
        await chunk.close();
      }
    },
  };
}
