/**
 * The script's decisions, as pure functions of Upflow's answer and the viewer's position
 * (unit-tested in tests/unit/client-decide.test.ts; no DOM here).
 */
import type { ItemStatus } from '../../core/jellyfin-items';

/**
 * `ready`: the upscaled stream can take over at this position without stalling; `wait`: not
 * yet (still queued, or too little lies ahead of the viewer); `never`: nothing will come for
 * this playback (failed, cancelled, or finished with its HLS cleaned up).
 */
export type Readiness = 'ready' | 'wait' | 'never';

/** Content within this much of the end counts as all of it (the last frame's duration, rounding). */
const END_SLACK_SECONDS = 0.25;

export function readiness(status: ItemStatus, positionSeconds: number, minBufferedSeconds: number): Readiness {
  if (status.status === 'failed' || status.status === 'cancelled') return 'never';
  if (status.status === 'complete') return status.hls_url ? 'ready' : 'never';
  if (!status.hls_url || status.segments === 0) return 'wait';
  if (allContentMade(status)) return 'ready';
  const ahead = status.content_seconds - positionSeconds;
  // Near the end, what is left of the title is enough.
  const needed = status.duration_seconds === null
    ? minBufferedSeconds
    : Math.min(minBufferedSeconds, Math.max(0, status.duration_seconds - positionSeconds));
  return ahead >= needed && ahead > 0 ? 'ready' : 'wait';
}

/**
 * A viewer on the upscaled stream has caught up with the upscaling: less than `marginSeconds`
 * is made ahead of them. The script then plays the original until enough is made again,
 * rather than letting the player stall at the live edge.
 */
export function caughtUp(status: ItemStatus, positionSeconds: number, marginSeconds: number): boolean {
  if (status.status === 'complete' || allContentMade(status)) return false;
  return status.content_seconds - positionSeconds < marginSeconds;
}

function allContentMade(status: ItemStatus): boolean {
  return status.duration_seconds !== null && status.content_seconds >= status.duration_seconds - END_SLACK_SECONDS;
}

/** After `failures` failed requests in a row: the poll interval doubled each time, up to a minute. */
export function retryDelayMs(pollIntervalMs: number, failures: number): number {
  return Math.max(pollIntervalMs, Math.min(60_000, pollIntervalMs * 2 ** Math.min(failures, 10)));
}
