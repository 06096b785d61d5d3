/**
 * The script's decisions, as pure functions of Upflow's answer and the viewer's position
 * (unit-tested in tests/unit/client-script.test.ts; no DOM here).
 */
import type { ItemStatus } from '../../core/jellyfin-items';
import { DEFAULT_SEGMENT_SECONDS, INTO_PART_SECONDS, MAX_LEAD_SECONDS, neededAheadSeconds, rateKnown, SLOW_PLAY_SECONDS, SWITCH_POLL_INTERVAL_MS, switchOneSegmentAway } from '../../core/switch-lead';

/**
 * `ready`: the upscaled stream can take over at this position without stalling; `wait`: not
 * yet (still queued, or too little lies ahead of the viewer); `never`: nothing will come for
 * this playback (failed, cancelled, or finished with its HLS cleaned up).
 */
export type Readiness = 'ready' | 'wait' | 'never';

/** Content within this much of the end counts as all of it (the last frame's duration, rounding). */
const END_SLACK_SECONDS = 0.25;

/** Ready once the made part the viewer is in reaches `neededAheadSeconds` past them, at the title's rate and segment length (core/switch-lead.ts). */
export function readiness(status: ItemStatus, positionSeconds: number, minBufferedSeconds: number): Readiness {
  if (status.status === 'failed' || status.status === 'cancelled') return 'never';
  if (status.status === 'complete') return status.hls_url ? 'ready' : 'never';
  if (!status.hls_url || status.segments === 0) return 'wait';
  if (allContentMade(status)) return 'ready';
  const ahead = madeAhead(status, positionSeconds, INTO_PART_SECONDS);
  // Near the end, what is left of the title is enough.
  const left = status.duration_seconds === null ? Infinity : Math.max(0, status.duration_seconds - positionSeconds);
  const needed = Math.min(neededAhead(status, minBufferedSeconds), left);
  return ahead >= needed && ahead > 0 ? 'ready' : 'wait';
}

/**
 * Seconds of play until the viewer, on the original at `positionSeconds`, is far enough into a
 * part that this status already makes ready (`INTO_PART_SECONDS` past its start, where what is
 * made ahead is enough): the script switches then without asking again, as segments once made
 * stay made. Undefined when no part ahead of them within a lead's reach is ready that way.
 */
export function secondsToReady(status: ItemStatus, positionSeconds: number, minBufferedSeconds: number): number | undefined {
  const arrivals = status.ready
    .map(([start]) => start + INTO_PART_SECONDS)
    .filter((at) => at > positionSeconds && at - positionSeconds <= MAX_LEAD_SECONDS && readiness(status, at, minBufferedSeconds) === 'ready');
  return arrivals.length > 0 ? Math.min(...arrivals) - positionSeconds : undefined;
}

/**
 * The switch is one segment away for a viewer on the original: a part made in their reach (they
 * are in it, or it starts within a lead's reach ahead) reaches far enough past them that one more
 * segment would make enough lie ahead. The script then asks every `SWITCH_POLL_INTERVAL_MS`
 * instead of every `pollIntervalMs`, as the lead's plan assumes (core/switch-lead.ts); a making
 * far from enough (below real time, say) is asked after at the usual pace.
 */
export function switchNear(status: ItemStatus, positionSeconds: number, minBufferedSeconds: number): boolean {
  if (status.status === 'complete' || status.status === 'failed' || status.status === 'cancelled') return false;
  const needed = neededAhead(status, minBufferedSeconds);
  const segment = status.segment_seconds ?? DEFAULT_SEGMENT_SECONDS;
  // No rate yet (a part's first segment sets none): the next segment may be the one that makes enough.
  const rateUnknown = !rateKnown(status.rate);
  return status.ready.some(([start, end]) => end > positionSeconds && start <= positionSeconds + MAX_LEAD_SECONDS && (rateUnknown || switchOneSegmentAway(end - positionSeconds, needed, segment)));
}

/** What must lie ahead of the viewer before the switch, at the title's rate and segment length. */
function neededAhead(status: ItemStatus, minBufferedSeconds: number): number {
  return neededAheadSeconds(status.rate, minBufferedSeconds, status.segment_seconds ?? DEFAULT_SEGMENT_SECONDS);
}

/** When to ask again, waiting on the original for enough to be made. */
export function waitingPollMs(status: ItemStatus, positionSeconds: number, config: { pollIntervalMs: number; minBufferedSeconds: number }): number {
  return switchNear(status, positionSeconds, config.minBufferedSeconds) ? Math.min(config.pollIntervalMs, SWITCH_POLL_INTERVAL_MS) : config.pollIntervalMs;
}

/**
 * A viewer on the upscaled stream has caught up with the upscaling: less than `marginSeconds`
 * is made ahead of them. The script then plays the original until enough is made again,
 * rather than letting the player stall there.
 */
export function caughtUp(status: ItemStatus, positionSeconds: number, marginSeconds: number): boolean {
  if (status.status === 'complete' || allContentMade(status)) return false;
  const left = status.duration_seconds === null ? Infinity : status.duration_seconds - positionSeconds;
  return madeAhead(status, positionSeconds) < Math.min(marginSeconds, left - END_SLACK_SECONDS);
}

/**
 * The upscaled stream keeps up with a viewer on it: the title is all made, or Upflow makes it
 * faster than real time (measured rate ≥ 1.0x). For a seek to a part not made yet, the segment a
 * player asks for is made next (api/hls-waiting.ts), so the player waits there a few seconds and
 * then plays on ahead of the viewer; below 1.0x, or before a rate is measured, the original plays
 * there until enough is made. With `aheadSeconds` made past the viewer, just below real time
 * keeps up too while the viewer would need `SLOW_PLAY_SECONDS` or more to catch up (the play the
 * switch asks for): at 0.99x, 1 s ahead lasts 100 s, and between two segments what lies ahead
 * dips by a segment's length anyway.
 */
export function upscaledKeepsUp(status: ItemStatus, aheadSeconds = 0): boolean {
  if (status.status === 'complete' || allContentMade(status)) return true;
  if (!rateKnown(status.rate)) return false;
  return status.rate >= 1 || aheadSeconds >= SLOW_PLAY_SECONDS * (1 - status.rate);
}

/**
 * Upscaled seconds made from the viewer's position on without a gap: the made part (`ready`)
 * the position falls in, to its end; with `intoPartSeconds`, only once the viewer is that far
 * into it (a part from 0:00 counts anywhere). The title is made where viewers are first, so what
 * lies before them, or further on after a gap, does not count.
 */
export function madeAhead(status: ItemStatus, positionSeconds: number, intoPartSeconds = 0): number {
  // Without a margin, a part about to start counts (a position rounded just before it).
  const into = intoPartSeconds > 0 ? intoPartSeconds : -END_SLACK_SECONDS;
  const part = status.ready.find(([start, end]) => (start <= 0 || start + into <= positionSeconds) && positionSeconds < end);
  return part ? part[1] - positionSeconds : 0;
}

function allContentMade(status: ItemStatus): boolean {
  return status.duration_seconds !== null && status.content_seconds >= status.duration_seconds - END_SLACK_SECONDS;
}

/**
 * Where a source starts by its media fragment (`…/stream.mkv?…#t=2700.5`, as jellyfin-web resumes
 * direct play): the position before the element has loaded enough to say.
 */
export function fragmentStartSeconds(url: string | undefined): number | undefined {
  const match = url ? /#(?:.*&)?t=(?:npt:)?(\d+(?:\.\d+)?)/.exec(url) : null;
  return match ? Number(match[1]) : undefined;
}

/** After `failures` failed requests in a row: the poll interval doubled each time, up to a minute. */
export function retryDelayMs(pollIntervalMs: number, failures: number): number {
  return Math.max(pollIntervalMs, Math.min(60_000, pollIntervalMs * 2 ** Math.min(failures, 10)));
}
