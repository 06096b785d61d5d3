/**
 * Part of the contract (compiled for the browser too, so it imports nothing).
 *
 * When a viewer's player can take the upscaled stream, and how far ahead of a viewer the making
 * starts so that it can take it soon: pure decisions shared by the Jellyfin script
 * (client-js/src/decide.ts) and the title workflow.
 *
 * Making from the segment a viewer is at loses the race from the start: the first segment takes
 * a chunk's start-up (ffmpeg, a model's first frames) and by then the viewer has moved on, so
 * what lies ahead of them grows only at (rate − 1) seconds a second (at 1.3x with a 4 s first
 * segment: 24 s from play until 4 s lie ahead; below 1.0x, never). Starting a *lead* further on,
 * the making is ahead when the viewer gets there: the switch comes after about the lead, at any
 * rate (docs/benchmarks.md, "What a Jellyfin viewer sees").
 */

/** Upscaling slower than real time (rate < 1.0x) gives the viewer at least this much upscaled play before they catch up. */
export const SLOW_PLAY_SECONDS = 30;
/** The script's `minBufferedSeconds` unless a page sets it. */
export const DEFAULT_MIN_BUFFERED_SECONDS = 4;
/** A lead never goes further than a minute of content: far below real time, rate control's step down serves the viewer sooner than a longer wait. */
export const MAX_LEAD_SECONDS = 60;
/**
 * The script switches only once the viewer is this far into a made part. Started just before a
 * segment boundary (or just on it), hls.js loads the segment before, which is not made, and the
 * picture stands still while Upflow makes it (measured: 2.5–7.8 s with Anime4K S,
 * docs/benchmarks.md). A part from 0:00 counts anywhere.
 */
export const INTO_PART_SECONDS = 0.3;
/** The script's poll interval and the switch itself (hls.js loading the first segment): time the viewer plays on before it. */
const SWITCH_SLACK_SECONDS = 1.5;

/**
 * Upscaled seconds that must lie ahead of the viewer before the script switches: its
 * `minBufferedSeconds`, and below real time enough for `SLOW_PLAY_SECONDS` of upscaled play
 * before the viewer catches up ((1 − rate) seconds lost a second), so it does not flap.
 */
export function neededAheadSeconds(rate: number | null, minBufferedSeconds: number): number {
  const slower = rate !== null && rate > 0 && rate < 1 ? SLOW_PLAY_SECONDS * (1 - rate) : 0;
  return Math.max(minBufferedSeconds, slower);
}

/** How fast one worker slot makes this title's segments: measured on it, or on earlier titles with the same plan. */
export interface MakingSpeed {
  /** Seconds from a chunk's start to its first segment. */
  firstSegmentSeconds: number;
  /** Content seconds per wall second, once it runs. */
  rate: number;
}

/**
 * How far after a viewer's position (seconds) the making of their part starts: far enough that
 * when they get there, the first segment is made and, at `speed.rate`, as much as the script
 * needs lies ahead of them. 0 when the speed is not known (the first title of its kind): then
 * the making starts where the viewer is.
 */
export function leadSeconds(speed: MakingSpeed | undefined): number {
  if (!speed || !(speed.rate > 0) || !(speed.firstSegmentSeconds >= 0)) return 0;
  // Below real time the viewer gains on the making while the script polls and switches.
  const needed = neededAheadSeconds(speed.rate, DEFAULT_MIN_BUFFERED_SECONDS) + SWITCH_SLACK_SECONDS * Math.max(0, 1 - speed.rate);
  // The first segment takes firstSegmentSeconds; after it, made segments hold at least
  // rate × the time since (a segment being made does not count, the one before it does).
  const lead = speed.firstSegmentSeconds + needed / speed.rate;
  return Math.min(MAX_LEAD_SECONDS, lead);
}

/**
 * Whether a viewer on the original whose part was started where they were (before any speed was
 * known, so with no lead) switches sooner if the making starts again a lead ahead of them, now
 * that `speed` is known. `aheadSeconds`: how far what is made (or being made) from their
 * position reaches past them now; undefined when nothing is. Kept, that grows at (rate − 1)
 * seconds a second, and never below real time; moved, the switch comes after about the lead.
 */
export function soonerWithLead(speed: MakingSpeed, aheadSeconds: number | undefined): boolean {
  const lead = leadSeconds(speed);
  if (lead <= 0) return false;
  const needed = neededAheadSeconds(speed.rate, DEFAULT_MIN_BUFFERED_SECONDS);
  if (aheadSeconds === undefined) return true;
  if (aheadSeconds >= needed) return false;
  if (speed.rate <= 1) return true;
  return lead < (needed - aheadSeconds) / (speed.rate - 1);
}
