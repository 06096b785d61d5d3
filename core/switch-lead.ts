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
 * the making is ahead when the viewer gets there; `plannedSwitch` picks the start where the
 * script's switch comes soonest (docs/benchmarks.md, "What a Jellyfin viewer sees").
 */

/** Upscaling slower than real time (rate < 1.0x) gives the viewer at least this much upscaled play before they catch up. */
export const SLOW_PLAY_SECONDS = 30;
/** A viewer on the upscaled stream with less than this made ahead has caught up with the upscaling (the script's fallback, when the rate says they would be level soon). */
export const CATCH_UP_MARGIN_SECONDS = 1.5;
/** A grid's segment length for a status that does not say its own (HLS_SEGMENT_TIME's default with ffmpeg alone; 1 s with a model). */
export const DEFAULT_SEGMENT_SECONDS = 2;
/**
 * The script's `minBufferedSeconds` unless a page sets it: one segment of the 2 s grid (ffmpeg
 * alone), two of the 1 s grid (a model), so the switch may come once the segment at the viewer's
 * position and the next are made (0.3 s into a part, one segment made leaves less).
 * `neededAheadSeconds` adds what the measured rate asks for.
 */
export const DEFAULT_MIN_BUFFERED_SECONDS = 2;
/** The script's poll interval unless a page sets it: how late it may see that it can switch. */
export const DEFAULT_POLL_INTERVAL_MS = 1000;
/**
 * How often the script asks while the viewer waits on the original for a part made ahead of them
 * that one more segment would make enough, or before the status gives a rate (`switchNear` in
 * client-js/src/decide.ts). Between two segments, what lies ahead of the viewer shrinks by a
 * second a second: at about 1.3x it is enough for only the first few tenths of a second after
 * each segment, which a poll a second mostly misses, and a poll a quarter second missed too
 * (docs/benchmarks.md: 0.18 s of it on the 1 s grid, the switch a segment later, 1.1 s).
 */
export const SWITCH_POLL_INTERVAL_MS = 100;

/**
 * The switch is one segment away: `aheadSeconds` made past the viewer, and one more segment would
 * make the `neededSeconds`. The script polls every `switchingMs` then; the plan assumes the same.
 */
export function switchOneSegmentAway(aheadSeconds: number, neededSeconds: number, segmentSeconds: number): boolean {
  return aheadSeconds >= neededSeconds - segmentSeconds;
}

/** How often the script polls (`intervalMs`, or `switchingMs` while the switch is one segment away), when it knows the rate, and how far into a part it switches. */
export interface ScriptTiming {
  intervalMs: number;
  switchingMs: number;
  /**
   * How many segments of a part are made before the status gives a rate: 2, as a chunk's first
   * segment carries its start-up and sets none; until then the script judges as at real time.
   */
  rateFromSegment: number;
  /** The viewer is this far into a made part before the script switches (`INTO_PART_SECONDS`). */
  intoPartSeconds: number;
  /**
   * Whether the script switches the moment the viewer gets there when the status it last had
   * makes enough ahead of that point, without asking again (client-js `secondsToReady`); before,
   * at its next poll after.
   */
  switchesOnArrival: boolean;
}
/** A lead never goes further than a minute of content: far below real time, rate control's step down serves the viewer sooner than a longer wait. */
export const MAX_LEAD_SECONDS = 60;
/**
 * The script switches only once the viewer is this far into a made part. Switched just before
 * the part's start, hls.js loads the segment before, which is not made, and the picture stands
 * still while Upflow makes it (measured: 2.5–7.8 s with Anime4K S, docs/benchmarks.md). From
 * the part's start on, hls.js takes the part's first segment (it looks a segment up with a
 * quarter second's tolerance towards the next), whose picture starts there; a segment starts
 * on a frame, up to a frame after its place on the grid: a tenth of a second is two frames at
 * 24 fps. It was 0.3 s, which cost every switch that waited for the viewer 0.2 s. A part from
 * 0:00 counts anywhere.
 */
export const INTO_PART_SECONDS = 0.1;
/** What the script does now, as the plan assumes it. */
export const SCRIPT_TIMING: ScriptTiming = { intervalMs: DEFAULT_POLL_INTERVAL_MS, switchingMs: SWITCH_POLL_INTERVAL_MS, rateFromSegment: 2, intoPartSeconds: INTO_PART_SECONDS, switchesOnArrival: true };
/**
 * Kept for workflows an earlier Upflow began, which replay with them: before the script
 * switched a tenth of a second into a part, on the viewer's arrival (three tenths, at a poll);
 * before it polled every tenth of a second near a switch (every quarter); before the first
 * segment's rate was left out too (the plan took it as the measured one); and before the script
 * polled faster near a switch at all.
 */
export const THREE_TENTHS_INTO_PART: ScriptTiming = { ...SCRIPT_TIMING, intoPartSeconds: 0.3, switchesOnArrival: false };
export const QUARTER_SECOND_POLLS: ScriptTiming = { ...THREE_TENTHS_INTO_PART, switchingMs: 250 };
export const FAST_POLLS_RATE_AT_FIRST: ScriptTiming = { ...QUARTER_SECOND_POLLS, rateFromSegment: 1 };
export const LEGACY_SCRIPT_TIMING: ScriptTiming = { ...THREE_TENTHS_INTO_PART, switchingMs: DEFAULT_POLL_INTERVAL_MS, rateFromSegment: 1 };
/**
 * How much slower than measured the making may run when a viewer's part is planned from this
 * title's own speed: its first samples vary by about that much.
 */
export const PLAN_SLOWER = 1.25;
/**
 * The same, for a speed measured on earlier titles, often made alone: beside a viewer (a browser
 * or Jellyfin's transcode on the same cores) a title ran at 0.61 to 1.18 times their rate and
 * took 0.92 to 1.61 times their first segment in the Jellyfin bench's 44 rows with Anime4K S.
 * Replayed over those rows, starts planned at 1.5 switch within 5 s far more often than at
 * 1.25 (docs/benchmarks.md, "The plan replayed"): a lead one segment longer costs a second where
 * the making is fast, one too short costs many where it is slow.
 */
export const PLAN_SLOWER_FROM_EARLIER_TITLES = 1.5;
/** Polls at this many evenly spaced phases of the interval: a prediction holds for the unluckiest of them, so for any phase within an eighth of the interval. */
export const POLL_PHASES = 8;

/** A status's rate is a measured one: none before a chunk's second segment, and never 0 or below. */
export function rateKnown(rate: number | null): rate is number {
  return rate !== null && rate > 0;
}

/**
 * Upscaled seconds that must lie ahead of the viewer before the script switches: its
 * `minBufferedSeconds`; enough that, switched, the viewer is still `CATCH_UP_MARGIN_SECONDS`
 * ahead when the next segment comes at the measured rate (a segment's length ÷ the rate; with
 * one segment ahead at about real time the script went back to the original once or twice in
 * 30 s, docs/benchmarks.md); and below real time enough for `SLOW_PLAY_SECONDS` of upscaled play
 * before the viewer catches up ((1 − rate) seconds lost a second), so it does not flap.
 */
export function neededAheadSeconds(rate: number | null, minBufferedSeconds: number, segmentSeconds = DEFAULT_SEGMENT_SECONDS): number {
  const known = rateKnown(rate);
  const untilNextSegment = CATCH_UP_MARGIN_SECONDS + segmentSeconds / (known ? rate : 1);
  const slower = known && rate < 1 ? SLOW_PLAY_SECONDS * (1 - rate) : 0;
  return Math.max(minBufferedSeconds, untilNextSegment, slower);
}

/** How fast one worker slot makes this title's segments: measured on it, or on earlier titles with the same plan. */
export interface MakingSpeed {
  /** Seconds from a chunk's start to its first segment. */
  firstSegmentSeconds: number;
  /** Content seconds per wall second, once it runs. */
  rate: number;
}

/** Where a viewer's part starts, and when the script is predicted to switch them into it. */
export interface PlannedSwitch {
  /** Seconds from the viewer's position to the start of their part (0: the segment they are in). */
  leadSeconds: number;
  /** Content seconds where the part starts (a segment's start). */
  startSeconds: number;
  /** Predicted seconds from now to the switch, at the unluckiest poll, the later of the measured speed's and a slower one's (`PLAN_SLOWER`). */
  switchSeconds: number;
}

/** How far a part being made has come: segments made from its start on, without a gap, and when the next comes. */
export interface PartProgress {
  madeSegments: number;
  /** Seconds from now until the next segment of the part is made (a chunk's start-up when none is being made). */
  nextSegmentInSeconds: number;
}

function usable(speed: MakingSpeed | undefined): speed is MakingSpeed {
  return speed !== undefined && speed.rate > 0 && speed.firstSegmentSeconds >= 0;
}

/**
 * Seconds from now until the script switches a viewer at `viewerSeconds`, playing on at 1x, to
 * a part from `startSeconds` (a segment's start) made at `speed`, by a slot that starts it now
 * unless `progress` says how far it has come: at the first poll where the viewer is
 * `script.intoPartSeconds` into the part with enough made ahead (or on their arrival there, when
 * a poll before saw enough made), for the unluckiest phase of the poll. Infinity when that does
 * not come within the lead's reach, or when the viewer would then catch up with the making
 * before the next segment is made.
 */
export function predictedSwitchSeconds(speed: MakingSpeed, viewerSeconds: number, startSeconds: number, segmentSeconds: number, minBufferedSeconds = DEFAULT_MIN_BUFFERED_SECONDS, script: ScriptTiming = SCRIPT_TIMING, progress: PartProgress = { madeSegments: 0, nextSegmentInSeconds: speed.firstSegmentSeconds }): number {
  if (!usable(speed) || !(segmentSeconds > 0)) return Infinity;
  const needed = neededAheadSeconds(speed.rate, minBufferedSeconds, segmentSeconds);
  const perSegment = segmentSeconds / speed.rate;
  const { madeSegments: made, nextSegmentInSeconds: next } = progress;
  const horizon = MAX_LEAD_SECONDS + needed / speed.rate + next;
  const segmentsBy = (t: number) => made + (t < next ? 0 : 1 + Math.floor((t - next) / perSegment + 1e-9));
  const aheadAt = (t: number) => startSeconds + segmentsBy(t) * segmentSeconds - (viewerSeconds + t);
  // What the script asks for ahead: from the rate once the status gives one.
  const neededUnknown = neededAheadSeconds(null, minBufferedSeconds, segmentSeconds);
  const neededSeen = (t: number) => (segmentsBy(t) >= script.rateFromSegment ? needed : neededUnknown);
  const arrival = startSeconds <= 0 ? 0 : startSeconds + script.intoPartSeconds - viewerSeconds;
  const pollSeconds = script.intervalMs / 1000;
  // Once one more segment would put enough ahead, or while the status gives no rate, the script
  // asks every `switchingMs` (switchNear in client-js/src/decide.ts).
  const near = (t: number) => segmentsBy(t) > 0 && (segmentsBy(t) < script.rateFromSegment || switchOneSegmentAway(aheadAt(t), neededSeen(t), segmentSeconds));
  const nextPoll = (t: number) => t + (near(t) ? script.switchingMs : script.intervalMs) / 1000;
  // Before the viewer gets there, what a poll sees made may already be enough there: the script switches on their arrival.
  const enoughOnArrival = (t: number) => script.switchesOnArrival && t < arrival && aheadAt(t) - (arrival - t) >= neededSeen(t);
  let worst = 0;
  for (let phase = 0; phase < POLL_PHASES; phase++) {
    let t = (phase * pollSeconds) / POLL_PHASES;
    while (t <= horizon && !(t >= arrival && aheadAt(t) >= neededSeen(t))) {
      if (enoughOnArrival(t)) {
        t = arrival;
        break;
      }
      t = nextPoll(t);
    }
    if (t > horizon) return Infinity;
    // Playing the part from there: just before each next segment is made, the viewer must not have caught up.
    const until = t + (speed.rate < 1 ? SLOW_PLAY_SECONDS : perSegment);
    for (let k = segmentsBy(t) - made; next + k * perSegment - 1e-6 <= until; k++) {
      const beforeNext = next + k * perSegment - 1e-6;
      if (beforeNext > t && aheadAt(beforeNext) < CATCH_UP_MARGIN_SECONDS) return Infinity;
    }
    worst = Math.max(worst, t);
  }
  return worst;
}

/**
 * Where the making for a viewer on the original at `viewerSeconds` starts: of the segment starts
 * from the one they are in to `MAX_LEAD_SECONDS` on, the one the script is predicted to switch
 * them at soonest (the nearer on a tie), at the measured speed and at one `slowerBy` slower
 * (`PLAN_SLOWER`, or `PLAN_SLOWER_FROM_EARLIER_TITLES`). Too near, the viewer is past the first segments before
 * they are made and what lies ahead grows only at (rate − 1) seconds a second; too far, the
 * viewer plays the original until they get there. Undefined when the speed is not known (the
 * first title of its kind): then the making starts where the viewer is.
 */
export function plannedSwitch(speed: MakingSpeed | undefined, viewerSeconds: number, segmentSeconds: number, minBufferedSeconds = DEFAULT_MIN_BUFFERED_SECONDS, script: ScriptTiming = SCRIPT_TIMING, slowerBy = PLAN_SLOWER): PlannedSwitch | undefined {
  if (!usable(speed) || !(segmentSeconds > 0)) return undefined;
  // Below real time the 30 s of upscaled play the script asks for is margin enough; above it, not below it.
  const slower = { firstSegmentSeconds: speed.firstSegmentSeconds * slowerBy, rate: speed.rate >= 1 ? Math.max(1, speed.rate / slowerBy) : speed.rate };
  const from = Math.floor(Math.max(0, viewerSeconds) / segmentSeconds + 1e-9) * segmentSeconds;
  let best: PlannedSwitch | undefined;
  for (let start = from; start <= viewerSeconds + MAX_LEAD_SECONDS + 1e-9; start += segmentSeconds) {
    // No switch comes before the viewer gets into the part: from here on none can beat the best
    // (each prediction costs thousands of simulated polls; a sandboxed workflow runs them slowly).
    if (best && start > 0 && start + script.intoPartSeconds - viewerSeconds >= best.switchSeconds) break;
    // Too near costs far more than too far: a start is judged by the later of its switches at the measured speed and a slower one.
    const switchSeconds = Math.max(
      predictedSwitchSeconds(speed, viewerSeconds, start, segmentSeconds, minBufferedSeconds, script),
      predictedSwitchSeconds(slower, viewerSeconds, start, segmentSeconds, minBufferedSeconds, script),
    );
    if (!best || switchSeconds < best.switchSeconds) best = { startSeconds: start, leadSeconds: Math.max(0, start - viewerSeconds), switchSeconds };
  }
  // Nothing switches within a minute (far below real time): the furthest start, where rate control's step down reaches the viewer soonest.
  if (best && best.switchSeconds === Infinity) {
    const start = Math.floor((viewerSeconds + MAX_LEAD_SECONDS) / segmentSeconds + 1e-9) * segmentSeconds;
    return { startSeconds: start, leadSeconds: Math.max(0, start - viewerSeconds), switchSeconds: Infinity };
  }
  return best;
}

/**
 * Whether a viewer on the original whose part was started where they were (before any speed was
 * known, so with no lead) switches sooner if the making starts again where `plannedSwitch` puts
 * it from `viewerSeconds`, where they are now. `aheadSeconds`: how far what is made (or being
 * made) from their position reaches past them now; undefined when nothing is. Kept, that grows
 * at (rate − 1) seconds a second, and never below real time.
 */
export function soonerWithLead(speed: MakingSpeed, viewerSeconds: number, segmentSeconds: number, aheadSeconds: number | undefined, script: ScriptTiming = SCRIPT_TIMING): boolean {
  const planned = plannedSwitch(speed, viewerSeconds, segmentSeconds, DEFAULT_MIN_BUFFERED_SECONDS, script);
  if (!planned || planned.switchSeconds === Infinity) return false;
  const needed = neededAheadSeconds(speed.rate, DEFAULT_MIN_BUFFERED_SECONDS, segmentSeconds);
  if (aheadSeconds === undefined) return true;
  if (aheadSeconds >= needed) return false;
  if (speed.rate <= 1) return true;
  return planned.switchSeconds < (needed - aheadSeconds) / (speed.rate - 1);
}

/**
 * A planned part must switch at least this much sooner, started again from where the viewer is
 * now, before the making moves: a move throws away what its chunk has made and pays a start-up.
 */
export const MOVE_GAIN_SECONDS = 1;
/**
 * The part being made is judged at a rate this much faster than measured: this title's speed
 * comes from its first few segments, whose rates varied by about a tenth (Anime4K S beside a
 * browser: 1.10–1.37x within ten seconds, docs/benchmarks.md), and a move throws away what
 * is made. Near real time, where a tenth decides whether the part ever gets far enough ahead,
 * the part is kept.
 */
export const KEPT_FASTER = 1.1;

/**
 * Where a viewer on the original whose part was planned from a speed (often earlier titles', made
 * alone) gets it made instead, once this title's own speed says the part comes later than that:
 * `plannedSwitch` from where they are now when it switches them `MOVE_GAIN_SECONDS` sooner than
 * the part being made (its `progress` kept, its rate `KEPT_FASTER`); undefined to keep it. At
 * real time nothing builds up ahead of a viewer, so a part started a few seconds ahead of them
 * at a planned 1.65x stays a few seconds ahead (docs/benchmarks.md: 11.9 s to the switch).
 */
export function movedPart(speed: MakingSpeed, viewerSeconds: number, segmentSeconds: number, part: { startSeconds: number; progress: PartProgress }, script: ScriptTiming = SCRIPT_TIMING): (PlannedSwitch & { keptSwitchSeconds: number }) | undefined {
  const kept = predictedSwitchSeconds({ ...speed, rate: speed.rate * KEPT_FASTER }, viewerSeconds, part.startSeconds, segmentSeconds, DEFAULT_MIN_BUFFERED_SECONDS, script, part.progress);
  // The part switches them within the gain anyway: nothing to weigh (the common case, and cheap).
  if (kept <= MOVE_GAIN_SECONDS) return undefined;
  const planned = plannedSwitch(speed, viewerSeconds, segmentSeconds, DEFAULT_MIN_BUFFERED_SECONDS, script);
  // Far below real time no start switches within the minute: the part being made is kept.
  if (!planned || !Number.isFinite(planned.switchSeconds) || planned.switchSeconds + MOVE_GAIN_SECONDS > kept) return undefined;
  return { ...planned, keptSwitchSeconds: kept };
}

/** A viewer's part moved on (`movedPart`), as the job records it. */
export interface PartMove {
  viewer: string;
  /** Content seconds: where the viewer was, where their part started, and where it starts now. */
  viewerSeconds: number;
  fromSeconds: number;
  toSeconds: number;
  /** This title's own speed, which the move was judged by, and the speed the part was planned from. */
  speed: MakingSpeed;
  plannedFrom: MakingSpeed | null;
  /** Predicted seconds to the switch: the part kept (null: not within the minute), and the part moved. */
  keptSwitchSeconds: number | null;
  switchSeconds: number;
}

export function describePartMove(move: PartMove): string {
  const s = (seconds: number) => `${seconds.toFixed(1)} s`;
  const planned = move.plannedFrom ? ` (planned from ${move.plannedFrom.rate.toFixed(2)}x)` : '';
  const kept = move.keptSwitchSeconds === null ? 'not within a minute' : `in ${s(move.keptSwitchSeconds)}`;
  return `moved ${move.viewer}'s part from ${s(move.fromSeconds)} to ${s(move.toSeconds)}, the viewer at ${s(move.viewerSeconds)}: this title makes ${move.speed.rate.toFixed(2)}x${planned}; kept, the part was predicted to switch them ${kept}, moved in ${s(move.switchSeconds)}`;
}

/** The needed ahead and slack of the rule before `plannedSwitch` (below). */
const LEGACY_MIN_BUFFERED_SECONDS = 4;
const LEGACY_SWITCH_SLACK_SECONDS = 1.5;
function legacyNeededAheadSeconds(rate: number): number {
  return Math.max(LEGACY_MIN_BUFFERED_SECONDS, rate < 1 ? SLOW_PLAY_SECONDS * (1 - rate) : 0);
}

/**
 * The lead before it was planned by predicted switch time: the first segment's time and 4 s
 * more at the rate, which the caller rounds up to the grid. Kept only for workflows an earlier
 * Upflow began, which replay with it (Temporal's `patched`).
 */
export function legacyLeadSeconds(speed: MakingSpeed | undefined): number {
  if (!usable(speed)) return 0;
  const needed = legacyNeededAheadSeconds(speed.rate) + LEGACY_SWITCH_SLACK_SECONDS * Math.max(0, 1 - speed.rate);
  return Math.min(MAX_LEAD_SECONDS, speed.firstSegmentSeconds + needed / speed.rate);
}

/** `soonerWithLead` before the planned switch, for the same workflows. */
export function legacySoonerWithLead(speed: MakingSpeed, aheadSeconds: number | undefined): boolean {
  const lead = legacyLeadSeconds(speed);
  if (lead <= 0) return false;
  const needed = legacyNeededAheadSeconds(speed.rate);
  if (aheadSeconds === undefined) return true;
  if (aheadSeconds >= needed) return false;
  if (speed.rate <= 1) return true;
  return lead < (needed - aheadSeconds) / (speed.rate - 1);
}
