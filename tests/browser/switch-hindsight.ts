/**
 * What the best part start would have given, known afterwards: one `npm run bench:jellyfin`
 * row's timeline replayed with the part started at each segment start near the viewer, to tell
 * a plan that chose badly from a making too slow for any plan. The making's times do not depend
 * on where the part starts (the same frames, the same cores), so the j-th segment of any start
 * is taken as made when the j-th segment of the run's own part was. The script's rule is
 * replayed as client-js/src/decide.ts has it, at the first moment it holds (the script's poll
 * or, since it switches on the viewer's arrival, its own timer, and the picture's move come
 * after): the viewer `intoPartSeconds` into the part, as far as the run's script went
 * (`scriptOf`), and what `neededAheadSeconds` asks for at the rate the status gives (none before
 * the second segment; from it, the rate the bench next read).
 */
import { DEFAULT_MIN_BUFFERED_SECONDS, neededAheadSeconds, plannedSwitch, THREE_TENTHS_INTO_PART, type ScriptTiming } from '../../core/switch-lead';
import type { SwitchResult } from './switch-result';

type Timeline = NonNullable<SwitchResult['timeline']>;

/** How far past the viewer's segment the replay tries starts: past the furthest lead any run planned. */
const STARTS_WITHIN_SECONDS = 20;
/** The replay's time step. */
const STEP_SECONDS = 0.01;

/** How the run's script polled and switched: recorded since it switched a tenth of a second into a part; before, three tenths. */
export function scriptOf(timeline: Pick<Timeline, 'script'>): ScriptTiming {
  return timeline.script ?? THREE_TENTHS_INTO_PART;
}

/** Seconds after play at which the script would have switched into a part from `startSeconds`; null when not within the recorded segments. */
export function replayedSwitch(timeline: Pick<Timeline, 'playing' | 'made' | 'rates' | 'script'>, startSeconds: number, segmentSeconds: number): number | null {
  const { playing, made, rates } = timeline;
  const into = scriptOf(timeline).intoPartSeconds;
  if (!playing || made.length === 0) return null;
  const position = (t: number) => playing.position + Math.max(0, t - playing.afterPlaySeconds);
  const second = made[1]?.afterPlaySeconds ?? Infinity;
  // The status gives the rate with the second segment; the bench read it up to a quarter second later.
  const firstRate = rates.find((r) => r.afterPlaySeconds >= second && r.rate !== null)?.rate ?? null;
  const rateAt = (t: number) => (t < second ? null : rates.filter((r) => r.afterPlaySeconds <= t && r.rate !== null).pop()?.rate ?? firstRate);
  // Past the last recorded segment, what is made is no longer known.
  for (let step = 0; made[0]!.afterPlaySeconds + step * STEP_SECONDS < made[made.length - 1]!.afterPlaySeconds; step++) {
    const t = made[0]!.afterPlaySeconds + step * STEP_SECONDS;
    const segments = made.filter((m) => m.afterPlaySeconds <= t).length;
    const arrived = startSeconds <= 0 || position(t) >= startSeconds + into;
    const ahead = startSeconds + segments * segmentSeconds - position(t);
    if (arrived && ahead >= neededAheadSeconds(rateAt(t), DEFAULT_MIN_BUFFERED_SECONDS, segmentSeconds)) return t;
  }
  return null;
}

/** The grid's segment length, as the run's first two segments show it; null with fewer. */
export function segmentSecondsOf(made: Timeline['made']): number | null {
  const [first, second] = made;
  return first && second && second.startSeconds > first.startSeconds ? second.startSeconds - first.startSeconds : null;
}

/** The part start (a segment's) from the viewer's segment on whose replayed switch comes soonest, and that switch. */
export function hindsightSwitch(timeline: Pick<Timeline, 'playing' | 'made' | 'rates' | 'script'>): { startSeconds: number; switchSeconds: number } | null {
  const segmentSeconds = segmentSecondsOf(timeline.made);
  if (!timeline.playing || segmentSeconds === null) return null;
  const from = Math.floor(timeline.playing.position / segmentSeconds + 1e-9) * segmentSeconds;
  let best: { startSeconds: number; switchSeconds: number } | null = null;
  for (let start = from; start <= timeline.playing.position + STARTS_WITHIN_SECONDS; start += segmentSeconds) {
    const switchSeconds = replayedSwitch(timeline, start, segmentSeconds);
    if (switchSeconds !== null && (!best || switchSeconds < best.switchSeconds)) best = { startSeconds: start, switchSeconds };
  }
  return best;
}

/**
 * The run's part start had the plan judged the earlier title's speed (`timeline.earlierSpeed`)
 * at `slowerBy` (core/switch-lead.ts `plannedSwitch`), from where the viewer was when the job was
 * registered, with the run's script (`scriptOf`); and the first moment the script's rule would
 * have held for it. Null without an earlier speed or a recorded making.
 */
export function replayedPlan(result: Pick<SwitchResult, 'startSeconds' | 'timeline'>, slowerBy: number): { startSeconds: number; ruleHoldsSeconds: number | null } | null {
  const timeline = result.timeline;
  const segmentSeconds = timeline ? segmentSecondsOf(timeline.made) : null;
  if (!timeline?.earlierSpeed || !timeline.playing || segmentSeconds === null) return null;
  const playedBeforePlan = Math.max(0, (timeline.registeredAfterPlaySeconds ?? timeline.playing.afterPlaySeconds) - timeline.playing.afterPlaySeconds);
  const planned = plannedSwitch(timeline.earlierSpeed, (result.startSeconds ?? 0) + playedBeforePlan, segmentSeconds, DEFAULT_MIN_BUFFERED_SECONDS, scriptOf(timeline), slowerBy);
  if (!planned) return null;
  return { startSeconds: planned.startSeconds, ruleHoldsSeconds: replayedSwitch(timeline, planned.startSeconds, segmentSeconds) };
}

/**
 * For a row whose part moved on (`timeline.moves`): when the script's rule would have held had the
 * part been kept, known afterwards. What the kept chunk would have made is not recorded (it was
 * stopped), so its later segments are taken at its own pace before the move until the moved
 * chunk's first segment (the chunk's start-up the move paid), and at the moved chunk's pace
 * after: what slowed the making, or let it speed up, would have done so to either. Null without
 * a move, with fewer than two segments on either side of it, or with no switch replayed within
 * what that makes.
 */
export function keptPartSwitch(timeline: Pick<Timeline, 'playing' | 'made' | 'rates' | 'script' | 'moves'>): number | null {
  const move = timeline.moves?.[0];
  const segmentSeconds = segmentSecondsOf(timeline.made);
  if (!move || segmentSeconds === null) return null;
  const kept = timeline.made.filter((m) => m.startSeconds < move.toSeconds);
  const moved = timeline.made.filter((m) => m.startSeconds >= move.toSeconds);
  if (kept.length < 2 || moved.length < 2) return null;
  const keptPace = (kept[kept.length - 1]!.afterPlaySeconds - kept[0]!.afterPlaySeconds) / (kept.length - 1);
  const movedPaces = moved.slice(1).map((m, i) => m.afterPlaySeconds - moved[i]!.afterPlaySeconds);
  const made = [...kept];
  let last = kept[kept.length - 1]!;
  const next = (afterPlaySeconds: number) => {
    last = { index: last.index + 1, startSeconds: last.startSeconds + segmentSeconds, afterPlaySeconds };
    made.push(last);
  };
  while (last.afterPlaySeconds + keptPace <= moved[0]!.afterPlaySeconds) next(last.afterPlaySeconds + keptPace);
  // The moved chunk's pace, its recorded gaps over and over, as far as the replay may need.
  for (let i = 0; made.length < kept.length + STARTS_WITHIN_SECONDS / segmentSeconds * 2; i++) next(last.afterPlaySeconds + movedPaces[i % movedPaces.length]!);
  return replayedSwitch({ ...timeline, made }, move.fromSeconds, segmentSeconds);
}

/** How long after the script's rule held the picture moved (its poll or its own timer, the request, the new source): measured switch − the replayed moment, for a part that did not move. */
export function switchAfterRule(result: Pick<SwitchResult, 'switchSeconds' | 'timeline'>): number | null {
  const timeline = result.timeline;
  const segmentSeconds = timeline ? segmentSecondsOf(timeline.made) : null;
  if (!timeline || segmentSeconds === null || result.switchSeconds === null || (timeline.moves ?? []).length > 0) return null;
  const held = replayedSwitch(timeline, timeline.made[0]!.startSeconds, segmentSeconds);
  return held === null ? null : result.switchSeconds - held;
}
