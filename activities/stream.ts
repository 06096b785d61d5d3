/**
 * The long activity: one encode writes the HLS segments and the final file — ffmpeg alone
 * (lanczos) or decoder → ONNX model → encoder (SRGAN_ENABLE=1). While it
 * runs, each completed segment is recorded (Postgres), listed (playlist), heartbeated and
 * signalled to the workflow, which keeps the latest progress as its queryable state. On the
 * ONNX path each segment's rate also goes to the workflow's rate control (an update), whose
 * answer is the model for the next segment boundary.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { ApplicationFailure, CancelledFailure, Context } from '@temporalio/activity';
import type { SegmentReport, StreamPlan, StreamProgress } from '../common/domain';
import type { ModelId } from '../common/models';
import { FailureType } from '../common/errors';
import { titleFiles } from '../common/media-paths';
import { findLowDisk, type LowDisk } from '../adapters/disk';
import { encodeStream, type EncodeProgress } from '../adapters/ffmpeg';
import { readSegmentList, renderPlaylist, writeFileAtomic, type ListedSegment } from '../adapters/hls-playlist';
import { progressSignal, segmentDoneUpdate } from '../workflows/definitions';
import { segmentBoundaries } from '../workflows/plan';
import type { ActivityDeps } from './index';
import { encodeWithModels, ModelSessions } from './onnx-stream';
import { currentJob } from './context';
import { ModelSchedule } from './model-schedule';

const SEGMENT_POLL_MS = 200;
/** Progress reaches the workflow at least this often between segments. */
const PROGRESS_SIGNAL_INTERVAL_MS = 5000;
/** How often free space is checked while a stream runs. */
const DISK_CHECK_INTERVAL_MS = 2000;
/** A rate-control answer slower than this is left for the next segment's: the stream goes on. */
const RATE_CONTROL_TIMEOUT_MS = 5000;

export interface StreamInput {
  titleKey: string;
  sourcePath: string;
  plan: StreamPlan;
}

export interface StreamResult extends StreamProgress {
  wallSeconds: number;
}

export function createStreamActivities({ config, store, client, logger }: ActivityDeps) {
  const sessions = new ModelSessions(config, logger);
  return {
    async streamTitle(input: StreamInput): Promise<StreamResult> {
      const context = Context.current();
      const { jobId, workflowId } = currentJob();
      const files = titleFiles(config, input.titleKey);
      const log = logger.child({ jobId, title: input.titleKey });
      const workflow = client.workflow.getHandle(workflowId);

      // A fresh start (a retry too) begins from an empty folder; resuming from the last complete
      // segment is a later step. The final file is written under a partial name until verified.
      await fs.rm(files.hlsDir, { recursive: true, force: true });
      await fs.mkdir(files.hlsDir, { recursive: true });
      await fs.mkdir(path.dirname(files.partialFinal), { recursive: true });
      const diskFolders = [files.hlsDir, path.dirname(files.partialFinal)];
      const lowAtStart = await findLowDisk(diskFolders, config.minFreeBytes);
      if (lowAtStart) throw ApplicationFailure.nonRetryable(lowAtStart.message, FailureType.DiskFull);
      await store.updateJob(jobId, { state: 'streaming', streamStarted: true }, {
        kind: 'stream-started',
        message: `encoding ${input.plan.outputWidth}x${input.plan.outputHeight} with ${input.plan.upscaler} (attempt ${context.info.attempt})`,
      });

      const startedAt = Date.now();
      let encoded: EncodeProgress = { frame: 0, outTimeSeconds: 0, done: false };
      let listed: ListedSegment[] = [];
      let firstSegmentSeconds: number | undefined;
      let lastSignalAt = 0;
      let lastSegmentAt = startedAt;
      const plan = input.plan;
      const schedule = plan.upscaler === 'lanczos' ? undefined : new ModelSchedule(plan.upscaler, segmentBoundaries(plan), plan.fps);

      const progress = (): StreamProgress => {
        const wallSeconds = Math.max(0.001, (Date.now() - startedAt) / 1000);
        const contentSeconds = Math.min(input.plan.durationSeconds, encoded.outTimeSeconds);
        return {
          frames: encoded.frame,
          segments: listed.length,
          contentSeconds,
          durationSeconds: input.plan.durationSeconds,
          rate: contentSeconds / wallSeconds,
          fps: encoded.frame / wallSeconds,
          ...(firstSegmentSeconds !== undefined ? { firstSegmentSeconds } : {}),
        };
      };

      const signalProgress = async (current: StreamProgress) => {
        lastSignalAt = Date.now();
        // Progress is informative: a failed signal must not fail the encode.
        await workflow.signal(progressSignal, current).catch((err: Error) => log.warn({ err }, 'progress signal failed'));
      };

      // Serialised so that segments are recorded and listed in order, once each.
      let collecting: Promise<void> = Promise.resolve();
      const collectSegments = (): Promise<void> => {
        collecting = collecting.then(async () => {
          const all = await readSegmentList(files.segmentList);
          if (all.length <= listed.length) return;
          for (const segment of all.slice(listed.length)) {
            const { size } = await fs.stat(path.join(files.hlsDir, segment.filename));
            const now = Date.now();
            const wallSeconds = Math.max(0.001, (now - lastSegmentAt) / 1000);
            lastSegmentAt = now;
            listed = [...listed, segment];
            firstSegmentSeconds ??= (now - startedAt) / 1000;
            const model = schedule?.modelOfSegment(segment.index) ?? null;
            await store.recordSegment(jobId, { ...segment, bytes: size, model, wallSeconds }, progress());
            if (schedule && model) {
              await controlRate(schedule, { index: segment.index, durationSeconds: segment.durationSeconds, wallSeconds, rate: segment.durationSeconds / wallSeconds, model });
            }
          }
          await writeFileAtomic(files.playlist, renderPlaylist(listed, {
            targetDurationSeconds: Math.ceil(input.plan.segmentSeconds),
            listSize: config.hls.listSize,
            ended: false,
          }));
          const current = progress();
          context.heartbeat(current);
          await signalProgress(current);
        });
        return collecting;
      };

      /** Reports a segment to the workflow's rate control and schedules the model it answers with. */
      const controlRate = async (schedule: ModelSchedule, report: SegmentReport) => {
        let desired: ModelId;
        try {
          desired = await Promise.race([
            client.workflow.getHandle(workflowId, jobId).executeUpdate(segmentDoneUpdate, { args: [report] }),
            new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`no answer in ${RATE_CONTROL_TIMEOUT_MS} ms`)), RATE_CONTROL_TIMEOUT_MS).unref()),
          ]);
        } catch (err) {
          log.warn({ err, segment: report.index }, 'rate control did not answer; keeping the current model');
          return;
        }
        if (desired === schedule.current) return;
        try {
          // Loaded now, not at the boundary frame, so the switch does not stall the frames.
          await sessions.get(desired);
        } catch (err) {
          log.warn({ err, model: desired }, 'rate control asked for a model this worker cannot load; keeping the current one');
          return;
        }
        const switched = schedule.request(desired);
        if (!switched) return;
        log.info({ model: desired, ...switched }, 'switching model at a segment boundary');
        await store.addEvent(jobId, 'model-switch', `${desired} upscales from segment ${switched.fromSegment} (frame ${switched.fromFrame}) on`, { model: desired, ...switched });
      };

      // Stops the encode when the disk runs low, as a cancel would, but as a failure with the reason.
      const diskGuard = new AbortController();
      let lastDiskCheckAt = Date.now();
      const checkDisk = async () => {
        lastDiskCheckAt = Date.now();
        const low = await findLowDisk(diskFolders, config.minFreeBytes);
        if (low && !diskGuard.signal.aborted) {
          log.error({ folder: low.folder, freeBytes: low.freeBytes }, 'stopping the stream: the disk is nearly full');
          diskGuard.abort(low);
        }
      };

      const poller = setInterval(() => {
        collectSegments().catch((err: Error) => log.error({ err }, 'recording a segment failed'));
        if (Date.now() - lastSignalAt > PROGRESS_SIGNAL_INTERVAL_MS) void signalProgress(progress());
        if (Date.now() - lastDiskCheckAt > DISK_CHECK_INTERVAL_MS) checkDisk().catch((err: Error) => log.warn({ err }, 'free space check failed'));
      }, SEGMENT_POLL_MS);

      const outputs = {
        sourcePath: input.sourcePath,
        plan: input.plan,
        segmentPattern: 'seg%05d.ts',
        segmentList: path.basename(files.segmentList),
        partialFinal: files.partialFinal,
      };
      const run = {
        cwd: files.hlsDir,
        signal: AbortSignal.any([context.cancellationSignal, diskGuard.signal]),
        onProgress: (update: EncodeProgress) => {
          encoded = update;
          context.heartbeat(progress());
        },
      };
      try {
        if (input.plan.upscaler === 'lanczos') {
          await encodeStream(outputs, run);
        } else {
          await encodeWithModels({ ...outputs, sessions, modelFor: (index) => schedule!.modelFor(index) }, run);
        }
      } catch (err) {
        if (diskGuard.signal.aborted) {
          throw ApplicationFailure.nonRetryable((diskGuard.signal.reason as LowDisk).message, FailureType.DiskFull);
        }
        if (context.cancellationSignal.aborted) {
          throw context.cancellationSignal.reason instanceof CancelledFailure
            ? context.cancellationSignal.reason
            : new CancelledFailure('stream cancelled');
        }
        throw err;
      } finally {
        clearInterval(poller);
      }
      await collectSegments();
      const result = progress();
      await store.updateJob(jobId, { progress: result }, {
        kind: 'stream-done',
        message: `encoded ${result.frames} frames in ${result.segments} segments at ${result.rate.toFixed(2)}x real time (${result.fps.toFixed(1)} fps)`,
      });
      await signalProgress(result);
      log.info({ rate: result.rate, fps: result.fps }, 'stream encoded');
      return { ...result, wallSeconds: (Date.now() - startedAt) / 1000 };
    },
  };
}
