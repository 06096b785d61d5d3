/**
 * Activities of the title workflow, closed over their dependencies (samples-typescript's
 * `createActivities(deps)`): the worker builds the deps once and registers the result.
 * Media-queue activities are cheap; `streamTitle` is the long one on the gpu queue.
 */
import type { Client } from '@temporalio/client';
import type { Config } from '../common/config';
import type { Logger } from '../adapters/logger';
import type { UpflowStore } from '../adapters/postgres';
import { createHlsCleanupActivities } from './hls-cleanup';
import { createJobActivities } from './jobs';
import { createMediaActivities } from './media';
import { createStreamActivities } from './stream';

export interface ActivityDeps {
  config: Config;
  store: UpflowStore;
  /** To signal progress to the workflow that runs the activity. */
  client: Client;
  logger: Logger;
}

export function createMediaQueueActivities(deps: ActivityDeps) {
  return { ...createJobActivities(deps), ...createMediaActivities(deps), ...createHlsCleanupActivities(deps) };
}

export function createGpuQueueActivities(deps: ActivityDeps) {
  return createStreamActivities(deps);
}

export type MediaQueueActivities = ReturnType<typeof createMediaQueueActivities>;
export type GpuQueueActivities = ReturnType<typeof createGpuQueueActivities>;
