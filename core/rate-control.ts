/**
 * Rate control (the design card's "monitor rate"): a pure, deterministic function the workflow
 * applies to each segment the stream activity reports. When the chunk's current model makes
 * its latest `stepDownWindowSeconds` of content below the target rate, the model steps down the
 * plan's ladder (L → M → S → lanczos); the activity switches at the next segment boundary it
 * has not reached. `stepDownWindowSeconds: 0` turns it off.
 *
 * Judged over content seconds, not a count of segments: on the 1 s grid two segments in a row
 * below real time (the rule before, tuned on 2 s segments) stepped Anime4K S down to Lanczos,
 * for the rest of the title, in 14 of 84 plays of the Jellyfin bench, on 0.83–0.99x in the
 * seconds after play while the player and the chunk start, where S makes 1.0–1.5x after
 * (docs/models.md#rate-control).
 *
 * It is for the viewers: the workflow judges only a chunk a viewer plays into as it is made (the
 * rest keeps the title's own model, for the kept file), keeps a model below the rate while the
 * viewer has `STEP_UP_LEAD_SECONDS` made ahead, and at that lead tries the better model again,
 * one step up (`stepUp`), given up once it has cost the viewer `TRY_COST_SECONDS` (`giveUpTry`).
 */
import type { ChunkModelChange, ModelChange, ModelStepUp, SegmentReport, UpscaleSettings } from './domain';
import type { ModelId } from './models';

/** One segment the current model made in the chunk: its content seconds and the wall seconds it took. */
interface TimedSegment {
  seconds: number;
  wallSeconds: number;
}

export interface RateControlState {
  /** The model the stream should use. */
  model: ModelId;
  /** The current model's latest segments in the chunk, oldest first: at most a window's worth and one. */
  recent: TimedSegment[];
  /** Runs begun before the window (`slowSegmentsBeforeStepDown`): the current model's slow segments in a row. */
  slowRates: number[];
}

export type RateControlSettings = Pick<UpscaleSettings, 'stepDownWindowSeconds' | 'slowSegmentsBeforeStepDown' | 'stepDownBelowRate'>;

export function initialRateControl(model: ModelId): RateControlState {
  return { model, recent: [], slowRates: [] };
}

export function observeSegment(
  state: RateControlState,
  segment: Pick<SegmentReport, 'index' | 'rate' | 'durationSeconds' | 'wallSeconds'> & { model: ModelId },
  ladder: readonly ModelId[],
  settings: RateControlSettings,
  /** Made ahead of the nearest viewer playing into the chunk: from `STEP_UP_LEAD_SECONDS` on, a model below the rate is kept (the viewer has room) until the lead falls below it. */
  leadSeconds?: number,
): { state: RateControlState; change?: ModelChange } {
  // Segments the previous model made while the switch travelled through the pipeline say
  // nothing about this one. (A chunk's first segment, which carries its start-up, is not
  // reported here at all: the workflow leaves it out.)
  if (segment.model !== state.model) return { state };
  // A run's input fixes its rule: workflows begun before the window replay the count in a row.
  if (settings.slowSegmentsBeforeStepDown !== undefined) return observeInARow(state, segment, ladder, { ...settings, slowSegmentsBeforeStepDown: settings.slowSegmentsBeforeStepDown });
  const windowSeconds = settings.stepDownWindowSeconds ?? 0;
  if (windowSeconds === 0) return { state };
  const recent = [...state.recent, { seconds: segment.durationSeconds, wallSeconds: segment.wallSeconds }];
  // Keep the fewest latest segments that still cover the window.
  while (recent.length > 1 && sum(recent.slice(1), 'seconds') >= windowSeconds) recent.shift();
  const window = windowOf(recent, windowSeconds);
  const next = ladder[ladder.indexOf(state.model) + 1];
  const roomAhead = leadSeconds !== undefined && leadSeconds >= STEP_UP_LEAD_SECONDS;
  if (!window.full || window.rate >= settings.stepDownBelowRate || next === undefined || roomAhead) return { state: { ...state, recent } };
  return { state: initialRateControl(next), change: stepDown(state.model, next, segment.index, recent, window, settings.stepDownBelowRate) };
}

/** A step down judged over `recent`, the current model's latest segments, whose `window` the caller has measured. */
function stepDown(fromModel: ModelId, toModel: ModelId, afterSegment: number, recent: TimedSegment[], window: { seconds: number; rate: number }, belowRate: number): ModelChange {
  return {
    fromModel,
    toModel,
    afterSegment,
    rates: recent.map((s) => s.seconds / s.wallSeconds),
    belowRate,
    window: { seconds: window.seconds, rate: window.rate },
  };
}

/** The current model has made a whole window at or above the rate: it keeps up (a model tried again has held). */
export function keepsUp(state: RateControlState, settings: RateControlSettings): boolean {
  const windowSeconds = settings.stepDownWindowSeconds ?? 0;
  const { rate, full } = windowOf(state.recent, windowSeconds);
  return windowSeconds > 0 && full && rate >= settings.stepDownBelowRate;
}

/** The segments' content seconds, their rate (content ÷ wall seconds), and whether they cover the window. */
function windowOf(recent: TimedSegment[], windowSeconds: number): { seconds: number; rate: number; full: boolean } {
  const seconds = sum(recent, 'seconds');
  // Below a tenth of a millisecond a segment's seconds are rounding, not a shortfall.
  return { seconds, rate: seconds / sum(recent, 'wallSeconds'), full: seconds >= windowSeconds - 1e-4 };
}

const sum = (segments: TimedSegment[], key: keyof TimedSegment) => segments.reduce((total, s) => total + s[key], 0);

/** The rule of runs begun before the window: `slowSegmentsBeforeStepDown` segments in a row below the rate (0: off). */
function observeInARow(
  state: RateControlState,
  segment: Pick<SegmentReport, 'index' | 'rate'> & { model: ModelId },
  ladder: readonly ModelId[],
  settings: { slowSegmentsBeforeStepDown: number; stepDownBelowRate: number },
): { state: RateControlState; change?: ModelChange } {
  if (settings.slowSegmentsBeforeStepDown === 0) return { state };
  if (segment.rate >= settings.stepDownBelowRate) return { state: { ...state, slowRates: [] } };
  const slowRates = [...state.slowRates, segment.rate];
  const next = ladder[ladder.indexOf(state.model) + 1];
  if (slowRates.length < settings.slowSegmentsBeforeStepDown || next === undefined) {
    return { state: { ...state, slowRates } };
  }
  return {
    state: initialRateControl(next),
    change: { fromModel: state.model, toModel: next, afterSegment: segment.index, rates: slowRates, belowRate: settings.stepDownBelowRate },
  };
}

export function describeModelChange(change: ModelChange): string {
  const rates = change.rates.map((r) => `${r.toFixed(2)}x`).join(', ');
  const why = change.window
    ? `${change.window.rate.toFixed(2)}x over its last ${change.window.seconds.toFixed(1)} s of content up to segment ${change.afterSegment} (${change.rates.length} segment(s): ${rates}), below ${change.belowRate.toFixed(2)}x`
    : `${change.rates.length} segment(s) in a row below ${change.belowRate.toFixed(2)}x (${rates}) up to segment ${change.afterSegment}`;
  const gaveUp = change.gaveUpTry;
  if (gaveUp) {
    return `step down ${change.fromModel} → ${change.toModel}, the try given up: the nearest viewer's lead fell from ${gaveUp.triedAtLeadSeconds.toFixed(1)} s to ${gaveUp.leadSeconds.toFixed(1)} s (a try may cost ${gaveUp.costSeconds} s) at ${why}`;
  }
  return `step down ${change.fromModel} → ${change.toModel}: ${why}`;
}

/**
 * The lead (content seconds made ahead of the nearest viewer) at which a stepped-down title tries
 * its better model again. A try that fails costs the viewer about `TRY_COST_SECONDS` of it (and
 * a segment), or less where a whole window comes first (8 s at 0.8x take 10 s: 2 s of lead). One
 * rung up the ladder from a model that built a lead (above real time) makes about half its rate
 * or more (Lanczos 2.99x, S 1.57x, M 0.95x, L 0.73x in the models table on this CPU), so 20 s
 * ahead leaves the viewer room, and the faster model then builds the lead again.
 */
export const STEP_UP_LEAD_SECONDS = 20;

/**
 * The most lead a try may cost the viewer: a tried model below the rate that has taken the
 * nearest viewer's lead this far below where it stood at the try is given up at once, its window
 * full or not (`giveUpTry`). Judged over a whole window instead, a try at 0.3x cost 19 s of 20;
 * given up, it costs 4.7 s on the 1 s grid (two segments at 2.3 s of lead each) and the frames
 * already on their way, while a model near real time, losing its lead slowly, still gets its window.
 */
export const TRY_COST_SECONDS = 4;

/**
 * A tried model (`stepUp`) below the rate whose try has cost the viewer `TRY_COST_SECONDS` of
 * lead or more: one step down, before its window is full and whatever the room ahead. Called
 * after `observeSegment` has taken the segment into `state`, while the try has not held (`keepsUp`).
 */
export function giveUpTry(
  state: RateControlState,
  ladder: readonly ModelId[],
  settings: RateControlSettings,
  lead: { triedAtSeconds: number; nowSeconds: number; afterSegment: number },
): ModelChange | undefined {
  const windowSeconds = settings.stepDownWindowSeconds ?? 0;
  const next = ladder[ladder.indexOf(state.model) + 1];
  if (windowSeconds === 0 || state.recent.length === 0 || next === undefined) return undefined;
  const window = windowOf(state.recent, windowSeconds);
  if (window.rate >= settings.stepDownBelowRate || lead.triedAtSeconds - lead.nowSeconds < TRY_COST_SECONDS) return undefined;
  return {
    ...stepDown(state.model, next, lead.afterSegment, state.recent, window, settings.stepDownBelowRate),
    gaveUpTry: { triedAtLeadSeconds: lead.triedAtSeconds, leadSeconds: lead.nowSeconds, costSeconds: TRY_COST_SECONDS },
  };
}

/** The lead a step up needs after `failedTries` tries that stepped down again: doubled each time, so a model truly too slow is tried ever more rarely. */
export function stepUpLeadSeconds(failedTries: number): number {
  return STEP_UP_LEAD_SECONDS * 2 ** failedTries;
}

/**
 * One step up the ladder, towards the title's own model, for a chunk a viewer plays into with
 * `leadSeconds` made ahead of them; undefined when it is at the title's own model or the lead is short.
 */
export function stepUp(
  chunk: { ticket: string; model: ModelId; nextSegment: number },
  ownModel: ModelId,
  ladder: readonly ModelId[],
  leadSeconds: number,
  failedTries: number,
): ModelStepUp | undefined {
  const at = ladder.indexOf(chunk.model);
  const neededSeconds = stepUpLeadSeconds(failedTries);
  if (at <= ladder.indexOf(ownModel) || leadSeconds < neededSeconds) return undefined;
  return { ticket: chunk.ticket, fromModel: chunk.model, toModel: ladder[at - 1]!, afterSegment: chunk.nextSegment - 1, leadSeconds, neededSeconds };
}

export function describeModelStepUp(change: ModelStepUp): string {
  return `step up ${change.fromModel} → ${change.toModel} after segment ${change.afterSegment}: ${change.leadSeconds.toFixed(1)} s made ahead of the nearest viewer (${change.neededSeconds.toFixed(0)} s needed, doubled after each try that stepped down again)`;
}

export function describeChunkModelChange(change: ChunkModelChange): string {
  return change.watched
    ? `${change.ticket} makes ${change.toModel} after segment ${change.afterSegment}: a viewer plays into its part as it is made (the model viewers get since a step down)`
    : `${change.ticket} makes ${change.toModel} again after segment ${change.afterSegment}, not ${change.fromModel}: no viewer plays into its part as it is made (made for the kept file)`;
}
