/**
 * One title's lifecycle: probe → plan → stream (monitored) → finalize → HLS retention timer.
 * Deterministic workflow code: activities are imported as types only, and every timeout and
 * retry policy sits next to the proxies below.
 */
import {
  ActivityCancellationType,
  ApplicationFailure,
  CancellationScope,
  isCancellation,
  proxyActivities,
  setHandler,
  sleep,
} from '@temporalio/workflow';
import type { GpuQueueActivities, MediaQueueActivities } from '../activities';
import { TASK_QUEUES, type SegmentReport, type UpscaleStatus, type UpscaleTitleInput } from '../common/domain';
import { NON_RETRYABLE_FAILURE_TYPES } from '../common/errors';
import { cancelSignal, progressSignal, segmentDoneUpdate, statusQuery } from './definitions';
import { planStream } from './plan';
import { initialRateControl, observeSegment, type RateControlState } from './rate-control';

export { cancelSignal, progressSignal, segmentDoneUpdate, statusQuery };

/** Bookkeeping in Postgres: quick, and worth retrying for a while if Postgres restarts. */
const jobs = proxyActivities<MediaQueueActivities>({
  taskQueue: TASK_QUEUES.media,
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds', maximumAttempts: 20 },
});

/** ffprobe/file steps: bad input fails at once, anything else is retried a few times. */
const media = proxyActivities<MediaQueueActivities>({
  taskQueue: TASK_QUEUES.media,
  startToCloseTimeout: '5 minutes',
  retry: { initialInterval: '2 seconds', maximumAttempts: 5, nonRetryableErrorTypes: NON_RETRYABLE_FAILURE_TYPES },
});

function gpuActivities(durationSeconds: number) {
  return proxyActivities<GpuQueueActivities>({
    taskQueue: TASK_QUEUES.gpu,
    // Even at a tenth of real time the encode finishes inside this.
    startToCloseTimeout: `${Math.ceil(durationSeconds * 10 + 600)} seconds`,
    // A worker that dies stops heartbeating (a live one does every 2 s, loading a model too);
    // 20 s later the server retries it on a live worker, which resumes after the last
    // complete segment the heartbeats reported.
    heartbeatTimeout: '20 seconds',
    // On cancel, wait for ffmpeg to be stopped before the partial output is discarded.
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    retry: { initialInterval: '5 seconds', maximumAttempts: 5, nonRetryableErrorTypes: NON_RETRYABLE_FAILURE_TYPES },
  });
}

/** Joining the segments into the final file copies every byte once: allow for a slow disk. */
function finalizeActivities(durationSeconds: number) {
  return proxyActivities<MediaQueueActivities>({
    taskQueue: TASK_QUEUES.media,
    startToCloseTimeout: `${Math.ceil(durationSeconds / 4 + 300)} seconds`,
    retry: { initialInterval: '2 seconds', maximumAttempts: 5, nonRetryableErrorTypes: NON_RETRYABLE_FAILURE_TYPES },
  });
}

export interface UpscaleTitleResult {
  titleKey: string;
  finalFile: string;
  segments: number;
  rate: number;
  fps: number;
}

function failureMessage(err: unknown): string {
  let current: unknown = err;
  // The activity's own message sits at the bottom of ActivityFailure → ApplicationFailure.
  while (current instanceof Error && current.cause instanceof Error) current = current.cause;
  return current instanceof Error ? current.message : String(err);
}

function failureType(err: unknown): string | undefined {
  let current: unknown = err;
  while (current instanceof Error) {
    if (current instanceof ApplicationFailure && current.type) return current.type;
    current = current.cause;
  }
  return undefined;
}

export async function upscaleTitle(input: UpscaleTitleInput): Promise<UpscaleTitleResult> {
  const status: UpscaleStatus = { state: 'queued', titleKey: input.titleKey, modelChanges: [], hlsRemoved: false };
  setHandler(statusQuery, () => status);
  setHandler(progressSignal, (progress) => {
    status.progress = progress;
  });

  let rateControl: RateControlState | undefined;
  setHandler(
    segmentDoneUpdate,
    async (segment) => {
      const { state, change } = observeSegment(rateControl!, segment, status.plan!.ladder, input.settings);
      rateControl = state;
      if (change) {
        status.model = change.toModel;
        status.modelChanges.push(change);
        await jobs.recordModelChange(change);
      }
      return rateControl.model;
    },
    {
      validator: (_segment: SegmentReport) => {
        if (!rateControl) throw new Error('this title is not being upscaled by a model');
      },
    },
  );

  const work = new CancellationScope();
  setHandler(cancelSignal, () => work.cancel());

  let finalFile: string;
  // Until the job is registered there is no job record to write a failure to (a title key that
  // belongs to another file is refused there): Temporal alone holds the reason.
  let registered = false;
  try {
    finalFile = await work.run(async () => {
      await jobs.registerJob({ titleKey: input.titleKey, sourcePath: input.sourcePath, name: input.name });
      registered = true;
      status.state = 'probing';
      const source = await media.probeSource({ sourcePath: input.sourcePath });
      status.source = source;

      const plan = planStream(source, input.settings);
      status.plan = plan;
      if (plan.upscaler !== 'lanczos') {
        status.model = plan.upscaler;
        rateControl = initialRateControl(plan.upscaler);
      }
      status.state = 'streaming';
      await jobs.recordJob({
        state: 'streaming',
        plan,
        message: `plan: ${plan.upscaler} x${plan.scaleFactor} → ${plan.outputWidth}x${plan.outputHeight}, ${plan.encoder} ${plan.preset} crf ${plan.crf}, segments ${plan.firstSegmentSeconds}+${plan.segmentSeconds} s`,
      });
      const streamed = await gpuActivities(source.durationSeconds).streamTitle({
        titleKey: input.titleKey,
        sourcePath: input.sourcePath,
        plan,
        // The stream reads the version of the file the probe read, in its container, or fails.
        source,
      });
      status.progress = streamed;

      status.state = 'finalizing';
      await jobs.recordJob({ state: 'finalizing', message: 'joining the segments into the final file' });
      const final = await finalizeActivities(source.durationSeconds).finalizeTitle({ titleKey: input.titleKey, source, plan });
      status.state = 'complete';
      return final.finalFile;
    });
  } catch (err) {
    status.state = isCancellation(err) ? 'cancelled' : 'failed';
    if (!isCancellation(err)) status.failureReason = failureMessage(err);
    if (registered) {
      await CancellationScope.nonCancellable(async () => {
        await media.discardPartialOutput({ titleKey: input.titleKey });
        await (isCancellation(err)
          ? jobs.recordJob({ state: 'cancelled', message: 'cancelled; partial final file removed' })
          : jobs.recordJob({ state: 'failed', failureReason: status.failureReason, message: `failed: ${status.failureReason}` }));
      });
    }
    if (isCancellation(err)) throw err;
    throw ApplicationFailure.create({
      message: status.failureReason,
      type: failureType(err) ?? 'StreamFailed',
      nonRetryable: true,
      cause: err instanceof Error ? err : undefined,
    });
  }

  // The stream stays playable for the retention period; then its segments go, the file stays.
  await sleep(input.settings.hlsRetentionMs);
  await media.removeHlsFolder({ titleKey: input.titleKey });
  status.hlsRemoved = true;
  const progress = status.progress;
  return {
    titleKey: input.titleKey,
    finalFile,
    segments: progress?.segments ?? 0,
    rate: progress?.rate ?? 0,
    fps: progress?.fps ?? 0,
  };
}

export { cleanupHls } from './hls-cleanup';
