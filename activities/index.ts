/**
 * Activities of the title workflow, closed over their dependencies (samples-typescript's
 * `createActivities(deps)`): the worker builds the deps once and registers the result.
 * Media-queue activities are cheap; `makeChunk` (one worker slot's run of segments) is the gpu queue's.
 */
import { createChunkActivities } from './chunk';
import type { ActivityDeps } from './deps';
import { createHlsCleanupActivities } from './hls-cleanup';
import { createJobActivities } from './jobs';
import { createMediaActivities } from './media';
import type { ModelSessions } from './onnx-stream';

export type { ActivityDeps } from './deps';
export { ModelSessions } from './onnx-stream';
export { readJobIdHeader } from './context';

export function createMediaQueueActivities(deps: ActivityDeps) {
  return { ...createJobActivities(deps), ...createMediaActivities(deps), ...createHlsCleanupActivities(deps) };
}

export function createGpuQueueActivities(deps: ActivityDeps, sessions: ModelSessions) {
  return createChunkActivities(deps, sessions);
}

export type MediaQueueActivities = ReturnType<typeof createMediaQueueActivities>;
export type GpuQueueActivities = ReturnType<typeof createGpuQueueActivities>;
