/** Connections to Temporal: a client for starters (API, CLI) and activities, a native one for workers. */
import {
  Client,
  Connection,
  ScheduleAlreadyRunning,
  ScheduleOverlapPolicy,
  isGrpcServiceError,
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  type WorkflowHandleWithFirstExecutionRunId,
} from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import type { Config } from '../core/config';
import {
  HLS_CLEANUP_SCHEDULE_ID,
  TASK_QUEUES,
  workflowIdForTitle,
  type HlsCleanupOptions,
  type HlsCleanupReport,
  type UpscaleSettings,
  type UpscaleTitleInput,
} from '../core/domain';
import type { cleanupHls } from '../workflows/hls-cleanup';

export { WorkflowNotFoundError };

export async function connectClient(address: string, namespace: string): Promise<Client> {
  const connection = await Connection.connect({ address, connectTimeout: '5 seconds' });
  return new Client({ connection, namespace });
}

export function connectWorkerConnection(address: string): Promise<NativeConnection> {
  return NativeConnection.connect({ address });
}

/** The run id of the workflow running under this id now, if any. */
export async function runningRunIdOf(client: Client, workflowId: string): Promise<string | undefined> {
  try {
    const description = await client.workflow.getHandle(workflowId).describe();
    return description.status.name === 'RUNNING' ? description.runId : undefined;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return undefined;
    throw err;
  }
}

/**
 * How long a call made for an API request waits for Temporal. Without a deadline the client
 * retries a server that is down for about 20 s; with one, the request answers 503 in time.
 */
export const TEMPORAL_REQUEST_TIMEOUT_MS = 5000;

/** Runs `fn`'s Temporal calls under one deadline: past it they fail with DEADLINE_EXCEEDED. */
export function withTemporalDeadline<T>(client: Client, fn: () => Promise<T>, timeoutMs = TEMPORAL_REQUEST_TIMEOUT_MS): Promise<T> {
  return client.withDeadline(Date.now() + timeoutMs, fn);
}

/** gRPC status codes (grpc.status) of a server that is down, restarting or not answering. */
const GRPC_UNAVAILABLE = 14;
const GRPC_DEADLINE_EXCEEDED = 4;

/**
 * Why a failed call says Temporal is unreachable (down, restarting, not answering within its
 * deadline), or undefined when the failure is anything else (not found, already started...).
 * The client wraps the gRPC error in its own ServiceError: the chain of causes is searched.
 */
export function temporalUnreachableReason(err: unknown): string | undefined {
  for (let current: unknown = err, depth = 0; current instanceof Error && depth < 5; current = current.cause, depth++) {
    if (!isGrpcServiceError(current)) continue;
    if (current.code === GRPC_DEADLINE_EXCEEDED) return 'Temporal is unreachable (no answer in time)';
    if (current.code === GRPC_UNAVAILABLE) {
      // "No connection established. Last error: Error: connect ECONNREFUSED 127.0.0.1:7233. Resolution note: "
      const details = current.details.replace(/\.?\s*Resolution note:.*$/s, '').trim();
      return `Temporal is unreachable (${details || 'unavailable'})`;
    }
  }
  return undefined;
}

/** Answers within `timeoutMs` whether the Temporal server is reachable, with the reason if not. */
export async function temporalHealth(client: Client, timeoutMs = 2000): Promise<string | undefined> {
  try {
    await withTemporalDeadline(client, () => client.connection.workflowService.getSystemInfo({}), timeoutMs);
    return undefined;
  } catch (err) {
    return temporalUnreachableReason(err) ?? `Temporal is unreachable (${(err as Error).message})`;
  }
}

export function upscaleSettings(config: Config): UpscaleSettings {
  return {
    aiEnabled: config.upscale.aiEnabled,
    model: config.upscale.model,
    slowSegmentsBeforeStepDown: config.rateControl.slowSegmentsBeforeStepDown,
    stepDownBelowRate: config.rateControl.stepDownBelowRate,
    scaleFactor: config.upscale.scaleFactor,
    preset: config.upscale.preset,
    crf: config.upscale.crf,
    encoderThreads: config.upscale.encoderThreads,
    segmentSeconds: config.hls.segmentSeconds,
    hlsRetentionMs: config.hls.retentionMs,
    lookAheadSegments: config.hls.listSize,
  };
}

/** The title's run after a start: the one this call started, or the one it joined. */
export type TitleWorkflowStart = WorkflowHandleWithFirstExecutionRunId & {
  /** False: a run was already going under the title's workflow id, and this is it. */
  started: boolean;
};

/** A run that ends between a refused start and the look-up of it is retried this often. */
const START_OR_JOIN_ATTEMPTS = 3;

/**
 * Starts the title's workflow, or joins the one already running under the same id, so that
 * concurrent triggers of one title never start two encodes, and says which it did.
 *
 * The workflow id is the lock: with `workflowIdConflictPolicy: 'FAIL'` the server lets exactly
 * one of many concurrent starts through and refuses the others (ALREADY_EXISTS), which then
 * join the running run. ('USE_EXISTING' would join too, but @temporalio/client 1.24's `start`
 * drops the server's `started` flag: a joined start looks like a fresh one.)
 */
export async function startOrJoinTitleWorkflow(client: Client, input: UpscaleTitleInput): Promise<TitleWorkflowStart> {
  const workflowId = workflowIdForTitle(input.titleKey);
  for (let attempt = 1; ; attempt++) {
    try {
      const handle = await client.workflow.start('upscaleTitle', {
        workflowId,
        taskQueue: TASK_QUEUES.media,
        args: [input],
        workflowIdConflictPolicy: 'FAIL',
        workflowIdReusePolicy: 'ALLOW_DUPLICATE',
      });
      return { ...handle, started: true };
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    }
    const runId = await runningRunIdOf(client, workflowId);
    if (runId) {
      const handle = client.workflow.getHandle(workflowId, undefined, { firstExecutionRunId: runId });
      return { ...handle, firstExecutionRunId: runId, started: false };
    }
    // The run that refused this start has ended meanwhile: start again.
    if (attempt >= START_OR_JOIN_ATTEMPTS) throw new Error(`could neither start nor join workflow ${workflowId}: its runs keep ending`);
  }
}

/**
 * Ends a complete title's run that only waits out HLS retention, so the title can be upscaled
 * afresh. By run id: a concurrent trigger that already replaced it is not touched.
 */
export async function endRetentionRun(client: Client, workflowId: string, runId: string, reason: string): Promise<void> {
  try {
    await client.workflow.getHandle(workflowId, runId).terminate(reason);
  } catch (err) {
    // Ended meanwhile (by retention, or by a concurrent trigger): nothing left to do.
    if (!(err instanceof WorkflowNotFoundError)) throw err;
  }
}

/** Cleanup as configured (what the Schedule runs), with a one-off run's changes on top. */
export function hlsCleanupOptions(config: Config, overrides: Partial<HlsCleanupOptions> = {}): HlsCleanupOptions {
  return {
    dryRun: false,
    maxAgeMs: config.hls.retentionMs,
    completedOnly: false,
    abandonedAfterMs: config.cleanup.abandonedAfterMs,
    ...overrides,
  };
}

export interface CleanupScheduleState {
  outcome: 'created' | 'updated';
  nextRunAt?: Date;
}

/**
 * Creates the cleanup Schedule, or brings an existing one to the configured cron and options:
 * every start of Upflow calls it, so changing UPFLOW_CLEANUP_SCHEDULE takes effect on restart.
 */
export async function ensureHlsCleanupSchedule(client: Client, config: Config): Promise<CleanupScheduleState> {
  const spec = { cronExpressions: [config.cleanup.schedule], timezone: config.cleanup.timeZone };
  const action = {
    type: 'startWorkflow' as const,
    workflowType: 'cleanupHls',
    taskQueue: TASK_QUEUES.media,
    workflowId: HLS_CLEANUP_SCHEDULE_ID,
    args: [hlsCleanupOptions(config)],
  };
  let outcome: CleanupScheduleState['outcome'] = 'created';
  try {
    await client.schedule.create({
      scheduleId: HLS_CLEANUP_SCHEDULE_ID,
      spec,
      action,
      // A run still going when the next is due (a huge folder) is left to finish.
      policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 hour' },
      state: { note: 'kept by Upflow from UPFLOW_CLEANUP_SCHEDULE, UPFLOW_HLS_RETENTION and UPFLOW_CLEANUP_ABANDONED_AFTER' },
    });
  } catch (err) {
    if (!(err instanceof ScheduleAlreadyRunning)) throw err;
    outcome = 'updated';
    await client.schedule.getHandle(HLS_CLEANUP_SCHEDULE_ID).update((previous) => ({ ...previous, spec, action }));
  }
  const description = await client.schedule.getHandle(HLS_CLEANUP_SCHEDULE_ID).describe();
  return { outcome, nextRunAt: description.info.nextActionTimes[0] };
}

/** Runs cleanup now, as its own workflow beside the scheduled ones, and waits for its report. */
export async function runHlsCleanup(client: Client, options: HlsCleanupOptions): Promise<{ workflowId: string; report: HlsCleanupReport }> {
  const workflowId = `${HLS_CLEANUP_SCHEDULE_ID}-now-${Date.now()}`;
  const report = await client.workflow.execute<typeof cleanupHls>('cleanupHls', {
    workflowId,
    taskQueue: TASK_QUEUES.media,
    args: [options],
  });
  return { workflowId, report };
}
