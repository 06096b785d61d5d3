/**
 * The worker process: the title workflow and its media-queue activities on queue "media",
 * the stream activity on queue "gpu". One process serves both queues on one machine; more
 * machines run more of these against the same Temporal server.
 */
import { DefaultLogger, Runtime, Worker, type NativeConnection } from '@temporalio/worker';
import type { Client } from '@temporalio/client';
import { createGpuQueueActivities, createMediaQueueActivities, ModelSessions, readJobIdHeader } from '../activities';
import type { Config } from '../core/config';
import { modelFor } from '../core/content-kind';
import { TASK_QUEUES } from '../core/domain';
import type { Logger } from '../adapters/logger';
import type { UpflowStore } from '../adapters/postgres';
import { workflowBundlePath } from './workflow-bundle';

/** SDK messages that are expected in Upflow's layout and would only alarm a reader. */
const EXPECTED_SDK_MESSAGES = [
  // The gpu-queue worker runs activities only, by design.
  'No workflows registered, not polling for workflow tasks',
];

/**
 * Called once by a worker process before its first connection: the SDK's own logs go through
 * Upflow's logger (so they carry its format) at WARN and above. (Tests pass 'ERROR'.)
 */
export function installWorkerRuntime(logger: Logger, level: 'WARN' | 'ERROR' = 'WARN'): void {
  const sdkLogger = logger.child({ component: 'temporal-sdk' });
  Runtime.install({
    logger: new DefaultLogger(level, ({ level: entryLevel, message, meta }) => {
      if (EXPECTED_SDK_MESSAGES.some((expected) => message.startsWith(expected))) return;
      const method = entryLevel === 'ERROR' ? 'error' : entryLevel === 'WARN' ? 'warn' : entryLevel === 'INFO' ? 'info' : 'debug';
      sdkLogger[method](meta ?? {}, message);
    }),
  });
}

export interface WorkerDeps {
  config: Config;
  connection: NativeConnection;
  client: Client;
  store: UpflowStore;
  logger: Logger;
}

export interface RunningWorkers {
  /** Resolves when both workers have stopped. */
  done: Promise<void>;
  shutdown(): Promise<void>;
}

export async function startWorkers(deps: WorkerDeps): Promise<RunningWorkers> {
  const activityDeps = { config: deps.config, store: deps.store, client: deps.client, logger: deps.logger };
  const sessions = new ModelSessions(deps.config, deps.logger);
  // Loaded before the worker says it is ready: the first title starts as fast as the next.
  // One that cannot load is reported, and fails the titles that need it, not the worker.
  if (deps.config.upscale.aiEnabled) {
    // The configured kind's model: titles of the other kind load theirs on first use.
    await sessions.preload(modelFor(deps.config.upscale)).catch((err: Error) => deps.logger.warn({ err: err.message }, 'the configured model could not be loaded'));
  }
  const namespace = deps.config.temporal.namespace;
  const media = await Worker.create({
    connection: deps.connection,
    namespace,
    taskQueue: TASK_QUEUES.media,
    workflowBundle: { codePath: await workflowBundlePath(deps.config.cacheDir, deps.logger) },
    activities: createMediaQueueActivities(activityDeps),
    interceptors: { activity: [readJobIdHeader] },
  });
  const gpu = await Worker.create({
    connection: deps.connection,
    namespace,
    taskQueue: TASK_QUEUES.gpu,
    activities: createGpuQueueActivities(activityDeps, sessions),
    interceptors: { activity: [readJobIdHeader] },
    // UPFLOW_GPU_CONCURRENCY streams at once (default 1: one encode already uses a GPU or every
    // core); further chunks wait in Temporal's task queue for a free slot.
    maxConcurrentActivityTaskExecutions: deps.config.streamsPerWorker,
    // Cancellation reaches an activity with a heartbeat's answer: a chunk stopped for a viewer
    // who waits (a seek) stops within half a second (measured: 1-2 s of a seek's wait at 2 s).
    maxHeartbeatThrottleInterval: '500 milliseconds',
    defaultHeartbeatThrottleInterval: '500 milliseconds',
  });
  // The models' inference lanes are released with the workers: a clean stop frees their sessions.
  const done = Promise.all([media.run(), gpu.run()]).then(() => sessions.releaseAll());
  return {
    done,
    async shutdown() {
      for (const worker of [media, gpu]) {
        if (worker.getState() === 'RUNNING') worker.shutdown();
      }
      await done;
    },
  };
}
