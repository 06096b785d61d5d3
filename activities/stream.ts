/**
 * The long activity: one encode writes the HLS segments — ffmpeg alone (lanczos) or decoder →
 * ONNX model → encoder (SRGAN_ENABLE=1). While it runs, each completed segment is recorded
 * (Postgres), listed (playlist), heartbeated and signalled to the workflow, which keeps the
 * latest progress as its queryable state. On the ONNX path each segment's rate also goes to the
 * workflow's rate control (an update), whose answer is the model for the next segment boundary.
 * A retry (the worker died, the server lost it) resumes after the last complete segment the
 * heartbeats reported (stream-resume.ts). The final file is made from the segments afterwards.
 * Each attempt checks the source again and reads it only if it is the version the probe read.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { ApplicationFailure, CancelledFailure, Context } from '@temporalio/activity';
import type { SegmentReport, SourceInfo, StreamPlan, StreamProgress } from '../common/domain';
import type { ModelId } from '../common/models';
import { FailureType } from '../common/errors';
import { fingerprintChange, openSource, titleFiles, type OpenedSource } from '../common/media-paths';
import { findLowDisk, type LowDisk } from '../adapters/disk';
import type { Logger } from '../adapters/logger';
import { encodeStream, probeSource, type EncodeProgress, type SourceInput, type StreamStart } from '../adapters/ffmpeg';
import { readSegmentList, renderPlaylist, writeFileAtomic, type ListedSegment } from '../adapters/hls-playlist';
import { progressSignal, segmentDoneUpdate } from '../workflows/definitions';
import { frameAt, segmentBoundaries } from '../workflows/plan';
import type { ActivityDeps } from './index';
import { encodeWithModels, ModelSessions } from './onnx-stream';
import { currentJob, jobLogger } from './context';
import { sourceChangedFailure, toActivityFailure } from './failures';
import { ModelSchedule } from './model-schedule';
import { decideResume, filesIn, removeAllBut, resumedList, withAudioResume, type ResumeDecision, type StreamHeartbeat } from './stream-resume';

const SEGMENT_POLL_MS = 200;
/** Progress reaches the workflow at least this often between segments. */
const PROGRESS_SIGNAL_INTERVAL_MS = 5000;
/** How often free space is checked while a stream runs. */
const DISK_CHECK_INTERVAL_MS = 2000;
/** How long the finished encode waits for Postgres to record its last segments before it fails (and is retried). */
const FINAL_RECORD_PATIENCE_MS = 60_000;
/** A rate-control answer slower than this is left for the next segment's: the stream goes on. */
const RATE_CONTROL_TIMEOUT_MS = 5000;

export interface StreamInput {
  titleKey: string;
  sourcePath: string;
  plan: StreamPlan;
  /** What the probe found, the container and the version of the file among it. Unset in tasks scheduled before Upflow passed it. */
  source?: SourceInfo;
}

/**
 * The source, right before it is read: the trigger's checks again (inside the media folders, a
 * regular file, symlinks resolved), opened, and the very version the probe read, or the job
 * fails. The path in the input was checked when the title was probed, maybe hours before.
 * ffmpeg reads the opened descriptor: a file swapped in after this is never read.
 */
async function openProbedSource(mediaRoots: string[], input: StreamInput, log: Logger): Promise<{ opened: OpenedSource; source: SourceInput }> {
  let opened: OpenedSource;
  try {
    opened = openSource(mediaRoots, input.sourcePath);
  } catch (err) {
    throw toActivityFailure(err);
  }
  try {
    const probed = input.source;
    const change = probed?.fingerprint && fingerprintChange(probed.fingerprint, opened.fingerprint);
    if (change) throw sourceChangedFailure(change, 'since it was probed');
    let container = probed?.container;
    if (container === undefined) {
      log.info('the probe recorded no container (an earlier Upflow): probing the opened source again');
      container = (await probeSource({ path: opened.realPath, fd: opened.fd }, input.sourcePath).catch((err: unknown) => {
        throw toActivityFailure(err);
      })).container;
    }
    return { opened, source: { path: opened.realPath, fd: opened.fd, container } };
  } catch (err) {
    opened.close();
    throw err;
  }
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
      const log = jobLogger(logger);
      const workflow = client.workflow.getHandle(workflowId);

      await fs.mkdir(files.hlsDir, { recursive: true });
      await fs.mkdir(config.outputDir, { recursive: true });
      const diskFolders = [files.hlsDir, config.outputDir];
      const lowAtStart = await findLowDisk(diskFolders, config.minFreeBytes);
      if (lowAtStart) throw ApplicationFailure.nonRetryable(lowAtStart.message, FailureType.DiskFull);

      const plan = input.plan;
      const attempt = context.info.attempt;
      let decision: ResumeDecision | undefined;
      if (attempt > 1) {
        const onDisk = await filesIn(files.hlsDir);
        const previous = context.info.heartbeatDetails as StreamHeartbeat | undefined;
        decision = decideResume(plan, previous, await store.segmentsOf(jobId), (name) => onDisk.get(name));
      }
      const resumed = decision?.resume ? decision : undefined;
      const kept: ListedSegment[] = (resumed?.kept ?? []).map(({ index, filename, startSeconds, durationSeconds }) => ({ index, filename, startSeconds, durationSeconds }));
      const from: StreamStart = !resumed ? { seconds: 0, segment: 0 }
        : plan.keepAudio ? await withAudioResume(resumed.from, kept, files.hlsDir) : resumed.from;
      const writePlaylist = (segments: ListedSegment[]) => writeFileAtomic(files.playlist, renderPlaylist(segments, {
        targetDurationSeconds: Math.ceil(plan.segmentSeconds),
        listSize: config.hls.listSize,
        ended: false,
      }));
      if (resumed) {
        // What the stopped attempt wrote after its last reported segment is made again; players
        // see the kept segments until the first new one is listed.
        await removeAllBut(files.hlsDir, new Set([...kept.map((s) => s.filename), path.basename(files.playlist)]));
        await writePlaylist(kept);
      } else {
        await fs.rm(files.hlsDir, { recursive: true, force: true });
        await fs.mkdir(files.hlsDir, { recursive: true });
      }
      if (attempt > 1) await store.forgetSegmentsFrom(jobId, from.segment);
      const startMessage = resumed
        ? `resuming at segment ${from.segment}, ${from.seconds.toFixed(1)} s of ${plan.durationSeconds.toFixed(1)} s kept (attempt ${attempt})`
        : `encoding ${plan.outputWidth}x${plan.outputHeight} with ${plan.upscaler} (attempt ${attempt}${decision && !decision.resume ? `, from the start: ${decision.why}` : ''})`;
      log.info({ attempt, fromSegment: from.segment, fromSeconds: from.seconds }, startMessage);
      await store.updateJob(jobId, { state: 'streaming', streamStarted: true }, {
        kind: resumed ? 'stream-resumed' : 'stream-started',
        message: startMessage,
        ...(resumed ? { data: { attempt, fromSegment: from.segment, fromSeconds: from.seconds, contentBeforeStop: resumed.previous.contentSeconds } } : {}),
      });

      const startedAt = Date.now();
      const firstFrame = frameAt(from.seconds, plan.fps);
      let encoded: EncodeProgress = { frame: 0, outTimeSeconds: 0, done: false };
      let listed: ListedSegment[] = kept;
      let firstSegmentSeconds = resumed?.previous.firstSegmentSeconds;
      let lastSignalAt = 0;
      let lastSegmentAt = startedAt;
      const schedule = plan.upscaler === 'lanczos'
        ? undefined
        : new ModelSchedule(resumed?.previous.model ?? plan.upscaler, segmentBoundaries(plan), plan.fps);
      schedule?.resumeAt(from.segment);

      /** The title's progress; rate and fps are this attempt's. */
      const progress = (): StreamProgress => {
        const wallSeconds = Math.max(0.001, (Date.now() - startedAt) / 1000);
        const contentSeconds = Math.min(plan.durationSeconds, from.seconds + encoded.outTimeSeconds);
        return {
          frames: firstFrame + encoded.frame,
          segments: listed.length,
          contentSeconds,
          durationSeconds: plan.durationSeconds,
          rate: (contentSeconds - from.seconds) / wallSeconds,
          fps: encoded.frame / wallSeconds,
          ...(firstSegmentSeconds !== undefined ? { firstSegmentSeconds } : {}),
        };
      };
      const heartbeat = (): StreamHeartbeat => ({
        ...progress(),
        completeSegments: listed.length,
        ...(schedule ? { model: schedule.current } : {}),
      });

      const signalProgress = async (current: StreamProgress) => {
        lastSignalAt = Date.now();
        // Progress is informative: a failed signal must not fail the encode.
        await workflow.signal(progressSignal, current).catch((err: Error) => log.warn({ err }, 'progress signal failed'));
      };

      // Serialised so that segments are recorded and listed in order, once each.
      let collecting: Promise<void> = Promise.resolve();
      let recordingFails = false;
      const collectSegments = (): Promise<void> => {
        const next = collecting.then(async () => {
          const all = [...kept, ...resumedList(await readSegmentList(files.segmentList), from)];
          if (all.length <= listed.length) return;
          for (const segment of all.slice(listed.length)) {
            const { size } = await fs.stat(path.join(files.hlsDir, segment.filename));
            const now = Date.now();
            const wallSeconds = Math.max(0.001, (now - lastSegmentAt) / 1000);
            const model = schedule?.modelOfSegment(segment.index) ?? null;
            // Listed only once recorded: a failed write (Postgres away) is tried again at the next poll.
            await store.recordSegment(jobId, { ...segment, bytes: size, model, wallSeconds }, { ...progress(), segments: listed.length + 1 });
            lastSegmentAt = now;
            listed = [...listed, segment];
            firstSegmentSeconds ??= (now - startedAt) / 1000;
            if (schedule && model) {
              await controlRate(schedule, { index: segment.index, durationSeconds: segment.durationSeconds, wallSeconds, rate: segment.durationSeconds / wallSeconds, model });
            }
          }
          await writePlaylist(listed);
          context.heartbeat(heartbeat());
          // Not awaited: while Temporal is away the signal retries, and segments must go on being listed.
          void signalProgress(progress());
        });
        // One failed poll (Postgres away) must not fail every later one: the next poll tries again.
        collecting = next.then(
          () => {
            if (recordingFails) log.info('recording segments again');
            recordingFails = false;
          },
          (err: Error) => {
            if (!recordingFails) log.error({ err }, 'recording a segment failed; trying again at every poll (the encode goes on)');
            recordingFails = true;
          },
        );
        return next;
      };

      /** After the encode: the last segments recorded, waiting out a short Postgres outage. */
      const collectRemainingSegments = async () => {
        const deadline = Date.now() + FINAL_RECORD_PATIENCE_MS;
        for (;;) {
          try {
            await collectSegments();
            return;
          } catch (err) {
            if (Date.now() > deadline) throw err;
            context.heartbeat(heartbeat());
            await new Promise((resolve) => setTimeout(resolve, 1000));
          }
        }
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

      // Checked and opened again on every attempt, just before the encode; closed after it.
      const { opened, source } = await openProbedSource(config.mediaRoots, input, log);
      const poller = setInterval(() => {
        // Also while a model loads or ffmpeg starts: a heartbeat says this worker is alive.
        context.heartbeat(heartbeat());
        collectSegments().catch(() => undefined); // logged once by collectSegments
        if (Date.now() - lastSignalAt > PROGRESS_SIGNAL_INTERVAL_MS) void signalProgress(progress());
        if (Date.now() - lastDiskCheckAt > DISK_CHECK_INTERVAL_MS) checkDisk().catch((err: Error) => log.warn({ err }, 'free space check failed'));
      }, SEGMENT_POLL_MS);

      const outputs = {
        source,
        plan,
        segmentPattern: 'seg%05d.ts',
        segmentList: path.basename(files.segmentList),
        from,
      };
      const run = {
        cwd: files.hlsDir,
        signal: AbortSignal.any([context.cancellationSignal, diskGuard.signal]),
        onProgress: (update: EncodeProgress) => {
          encoded = update;
          context.heartbeat(heartbeat());
        },
      };
      try {
        if (plan.upscaler === 'lanczos') {
          await encodeStream(outputs, run);
        } else {
          await encodeWithModels({ ...outputs, sessions, modelFor: (index) => schedule!.modelFor(firstFrame + index) }, run);
        }
        // Written to in place while it was read: the segments may mix two versions.
        const change = opened.changeSinceOpened();
        if (change) throw sourceChangedFailure(change, 'while it was being upscaled');
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
        opened.close();
      }
      await collectRemainingSegments();
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
