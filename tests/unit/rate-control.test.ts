import type { SegmentReport } from '../../core/domain';
import { stepDownLadder, type ModelId } from '../../core/models';
import { planGrid } from '../../core/grid';
import { ModelSchedule } from '../../core/model-schedule';
import { describeChunkModelChange, describeModelChange, describeModelStepUp, giveUpTry, initialRateControl, keepsUp, observeSegment, STEP_UP_LEAD_SECONDS, stepUp, stepUpLeadSeconds, TRY_COST_SECONDS, type RateControlSettings, type RateControlState } from '../../core/rate-control';

const ladder = stepDownLadder('anime4k-l-rl');
const settings = { stepDownWindowSeconds: 4, stepDownBelowRate: 1 };

function segment(index: number, rate: number, model: ModelId, durationSeconds = 1): SegmentReport & { model: ModelId } {
  return { ticket: 'chunk-1', index, durationSeconds, wallSeconds: durationSeconds / rate, rate, model };
}

/** Feeds `rates` (1 s segments from index 1) and gives the first change with the state after each. */
function feed(rates: number[], model: ModelId = 'anime4k-s-rl', rule: RateControlSettings = settings) {
  let state: RateControlState = initialRateControl(model);
  for (const [i, rate] of rates.entries()) {
    const result = observeSegment(state, segment(i + 1, rate, state.model), ladder, rule);
    state = result.state;
    if (result.change) return { change: result.change, state, at: i };
  }
  return { state };
}

describe('rate control (workflow side)', () => {
  it('walks the ladder L → M → S → lanczos', () => {
    expect(ladder).toEqual(['anime4k-l-rl', 'anime4k-m-rl', 'anime4k-s-rl', 'lanczos-x2']);
  });

  it('steps down once the model makes its latest window of content below the rate, and not before', () => {
    expect(feed([0.5, 0.6, 0.5]).change).toBeUndefined(); // 3 s of a 4 s window
    const { change, state, at } = feed([0.5, 0.6, 0.5, 0.8]);
    expect(at).toBe(3);
    expect(change).toMatchObject({ fromModel: 'anime4k-s-rl', toModel: 'lanczos-x2', afterSegment: 4, belowRate: 1 });
    expect(change!.rates.map((r) => +r.toFixed(6))).toEqual([0.5, 0.6, 0.5, 0.8]);
    // 4 content seconds in 2 + 1.667 + 2 + 1.25 wall seconds.
    expect(change!.window!.seconds).toBe(4);
    expect(change!.window!.rate).toBeCloseTo(4 / (2 + 1 / 0.6 + 2 + 1.25), 6);
    expect(state).toEqual(initialRateControl('lanczos-x2'));
  });

  it('keeps a model whose slow start the window outweighs: the Jellyfin bench\'s S beside a starting browser', () => {
    // The rule before (two 1 s segments in a row below 1.0x) stepped S down at the third of these.
    const slowStart = [1.03, 0.95, 0.88, 0.85, 1.25, 1.3, 1.35, 1.3, 1.2, 1.3];
    expect(feed(slowStart, 'anime4k-s-rl', { stepDownWindowSeconds: 8, stepDownBelowRate: 1 }).change).toBeUndefined();
    expect(feed(slowStart, 'anime4k-s-rl', { slowSegmentsBeforeStepDown: 2, stepDownBelowRate: 1 }).at).toBe(2);
  });

  it('judges the latest window only: a fast start does not hide a slow stretch after it', () => {
    const { at } = feed([3, 3, 3, 3, 0.9, 0.9, 0.9, 0.9]);
    expect(at).toBe(7);
  });

  it('judges content seconds, whatever the segments\' length', () => {
    let state = initialRateControl('anime4k-m-rl');
    state = observeSegment(state, segment(1, 0.9, 'anime4k-m-rl', 2), ladder, settings).state;
    const second = observeSegment(state, segment(2, 0.9, 'anime4k-m-rl', 2), ladder, settings);
    expect(second.change).toMatchObject({ toModel: 'anime4k-s-rl', window: { seconds: 4 } });
  });

  it('ignores segments the previous model made', () => {
    let state = initialRateControl('anime4k-m-rl');
    state = observeSegment(state, segment(1, 0.1, 'anime4k-l-rl'), ladder, settings).state;
    expect(state).toEqual(initialRateControl('anime4k-m-rl'));
  });

  it('is off with a window of 0 seconds', () => {
    const result = observeSegment(initialRateControl('anime4k-l-rl'), segment(3, 0.1, 'anime4k-l-rl'), ladder, { ...settings, stepDownWindowSeconds: 0 });
    expect(result).toEqual({ state: initialRateControl('anime4k-l-rl') });
  });

  it('stays at the bottom of the ladder', () => {
    const { change, state } = feed([0.2, 0.2, 0.2, 0.2, 0.2, 0.2], 'lanczos-x2');
    expect(change).toBeUndefined();
    expect(state.model).toBe('lanczos-x2');
  });

  it('says why in the job\'s event', () => {
    const { change } = feed([0.5, 0.5, 0.5, 0.5]);
    expect(describeModelChange(change!)).toBe('step down anime4k-s-rl → lanczos-x2: 0.50x over its last 4.0 s of content up to segment 4 (4 segment(s): 0.50x, 0.50x, 0.50x, 0.50x), below 1.00x');
  });
});

describe('rate control in runs begun before the window (their input counts segments in a row)', () => {
  const before = { slowSegmentsBeforeStepDown: 2, stepDownBelowRate: 1 };

  it('steps down after N slow segments in a row, and counts again after one at real time', () => {
    expect(feed([0.5, 1.2, 0.5], 'anime4k-l-rl', before).change).toBeUndefined();
    const { change, state } = feed([0.5, 1.2, 0.5, 0.6], 'anime4k-l-rl', before);
    expect(change).toEqual({ fromModel: 'anime4k-l-rl', toModel: 'anime4k-m-rl', afterSegment: 4, rates: [0.5, 0.6], belowRate: 1 });
    expect(state).toEqual(initialRateControl('anime4k-m-rl'));
    expect(describeModelChange(change!)).toBe('step down anime4k-l-rl → anime4k-m-rl: 2 segment(s) in a row below 1.00x (0.50x, 0.60x) up to segment 4');
  });

  it('is off with a limit of 0 slow segments', () => {
    expect(feed([0.1, 0.1, 0.1], 'anime4k-l-rl', { ...before, slowSegmentsBeforeStepDown: 0 }).change).toBeUndefined();
  });
});

describe('stepping up again (workflow side)', () => {
  const chunk = (model: ModelId) => ({ ticket: 'chunk-2', model, nextSegment: 41 });

  it('tries one step back towards the title\'s own model once a viewer has the lead made ahead of them', () => {
    expect(stepUp(chunk('lanczos-x2'), 'anime4k-m-rl', ladder, STEP_UP_LEAD_SECONDS - 0.1, 0)).toBeUndefined();
    const up = stepUp(chunk('lanczos-x2'), 'anime4k-m-rl', ladder, 23, 0);
    expect(up).toEqual({ ticket: 'chunk-2', fromModel: 'lanczos-x2', toModel: 'anime4k-s-rl', afterSegment: 40, leadSeconds: 23, neededSeconds: STEP_UP_LEAD_SECONDS });
    expect(describeModelStepUp(up!)).toBe('step up lanczos-x2 → anime4k-s-rl after segment 40: 23.0 s made ahead of the nearest viewer (20 s needed, doubled after each try that stepped down again)');
    // Never past the title's own model, however long the lead.
    expect(stepUp(chunk('anime4k-m-rl'), 'anime4k-m-rl', ladder, 600, 0)).toBeUndefined();
    expect(stepUp(chunk('anime4k-s-rl'), 'anime4k-m-rl', ladder, 600, 0)?.toModel).toBe('anime4k-m-rl');
  });

  it('needs twice the lead after each try that stepped down again', () => {
    expect([0, 1, 2, 3].map(stepUpLeadSeconds)).toEqual([20, 40, 80, 160]);
    expect(stepUp(chunk('lanczos-x2'), 'anime4k-s-rl', ladder, 39, 1)).toBeUndefined();
    expect(stepUp(chunk('lanczos-x2'), 'anime4k-s-rl', ladder, 40, 1)?.neededSeconds).toBe(40);
  });

  it('says why a chunk changed model by who watches it', () => {
    expect(describeChunkModelChange({ ticket: 'chunk-1', fromModel: 'lanczos-x2', toModel: 'anime4k-m-rl', afterSegment: 5, watched: false }))
      .toBe('chunk-1 makes anime4k-m-rl again after segment 5, not lanczos-x2: no viewer plays into its part as it is made (made for the kept file)');
    expect(describeChunkModelChange({ ticket: 'chunk-2', fromModel: 'anime4k-m-rl', toModel: 'lanczos-x2', afterSegment: 9, watched: true }))
      .toBe('chunk-2 makes lanczos-x2 after segment 9: a viewer plays into its part as it is made (the model viewers get since a step down)');
  });

  it('knows when a model has held: a whole window at or above the rate', () => {
    expect(keepsUp(feed([1.2, 1.1, 1.3]).state, settings)).toBe(false);
    expect(keepsUp(feed([1.2, 1.1, 1.3, 1.2, 1.4]).state, settings)).toBe(true);
    expect(keepsUp(feed([1.2, 1.1, 1.3, 1.2, 1.4]).state, { ...settings, stepDownWindowSeconds: 0 })).toBe(false);
  });

  it('keeps a model below the rate while the viewer has the step-up lead made ahead, and steps down once it falls below', () => {
    let state: RateControlState = initialRateControl('anime4k-s-rl');
    for (const i of [1, 2, 3]) state = observeSegment(state, segment(i, 0.8, 'anime4k-s-rl'), ladder, settings, 30).state;
    const roomy = observeSegment(state, segment(4, 0.8, 'anime4k-s-rl'), ladder, settings, STEP_UP_LEAD_SECONDS);
    expect(roomy.change).toBeUndefined();
    expect(keepsUp(roomy.state, settings)).toBe(false);
    const spent = observeSegment(roomy.state, segment(5, 0.8, 'anime4k-s-rl'), ladder, settings, STEP_UP_LEAD_SECONDS - 0.5);
    expect(spent.change).toMatchObject({ fromModel: 'anime4k-s-rl', toModel: 'lanczos-x2', window: { seconds: 4 } });
  });

  it('gives a try below the rate up once it has cost the viewer 4 s of lead, its window full or not', () => {
    // A try of M at 0.3x from 20 s ahead: each 1 s segment takes 3.3 s, 2.3 s of the viewer's lead.
    let state: RateControlState = initialRateControl('anime4k-m-rl');
    let lead = 20;
    state = observeSegment(state, segment(41, 0.3, 'anime4k-m-rl'), ladder, settings, (lead -= 1 / 0.3 - 1)).state;
    expect(giveUpTry(state, ladder, settings, { triedAtSeconds: 20, nowSeconds: lead, afterSegment: 41 })).toBeUndefined(); // 2.3 s spent
    state = observeSegment(state, segment(42, 0.3, 'anime4k-m-rl'), ladder, settings, (lead -= 1 / 0.3 - 1)).state;
    const gaveUp = giveUpTry(state, ladder, settings, { triedAtSeconds: 20, nowSeconds: lead, afterSegment: 42 });
    expect(gaveUp).toMatchObject({ fromModel: 'anime4k-m-rl', toModel: 'anime4k-s-rl', afterSegment: 42, window: { seconds: 2 } });
    expect(gaveUp!.window!.rate).toBeCloseTo(0.3, 6);
    expect(gaveUp!.gaveUpTry).toEqual({ triedAtLeadSeconds: 20, leadSeconds: lead, costSeconds: TRY_COST_SECONDS });
    expect(describeModelChange(gaveUp!)).toBe('step down anime4k-m-rl → anime4k-s-rl, the try given up: the nearest viewer\'s lead fell from 20.0 s to 15.3 s (a try may cost 4 s) at 0.30x over its last 2.0 s of content up to segment 42 (2 segment(s): 0.30x, 0.30x), below 1.00x');
  });

  it('keeps a try at or above the rate whatever the lead does (a player jumping ahead), and one that has not yet cost 4 s', () => {
    const fast = feed([1.2, 1.3], 'anime4k-m-rl').state;
    expect(giveUpTry(fast, ladder, settings, { triedAtSeconds: 20, nowSeconds: 2, afterSegment: 2 })).toBeUndefined();
    const slow = feed([0.9, 0.9], 'anime4k-m-rl').state;
    expect(giveUpTry(slow, ladder, settings, { triedAtSeconds: 40, nowSeconds: 40 - TRY_COST_SECONDS + 0.1, afterSegment: 2 })).toBeUndefined();
    expect(giveUpTry(slow, ladder, settings, { triedAtSeconds: 40, nowSeconds: 40 - TRY_COST_SECONDS, afterSegment: 2 })?.toModel).toBe('anime4k-s-rl');
    // Nothing measured of it yet, rate control off, or nowhere lower to go.
    expect(giveUpTry(initialRateControl('anime4k-m-rl'), ladder, settings, { triedAtSeconds: 20, nowSeconds: 0, afterSegment: 2 })).toBeUndefined();
    expect(giveUpTry(slow, ladder, { ...settings, stepDownWindowSeconds: 0 }, { triedAtSeconds: 20, nowSeconds: 0, afterSegment: 2 })).toBeUndefined();
    expect(giveUpTry(feed([0.5], 'lanczos-x2').state, ladder, settings, { triedAtSeconds: 20, nowSeconds: 0, afterSegment: 2 })).toBeUndefined();
  });
});

describe('model schedule (activity side)', () => {
  // 24 fps, 2 s segments: the title's segments start at frames 0, 48, 96, 144; a chunk from segment 1
  // counts its frames from 48, so its segments 1, 2, 3 start at its frames 0, 48, 96.
  const grid = planGrid({ durationSeconds: 8, fps: 24, segmentSeconds: 2 });

  it('switches at the first segment boundary the model stage has not reached', () => {
    const schedule = new ModelSchedule('anime4k-m-rl', grid, 1);
    for (let i = 0; i <= 30; i++) expect(schedule.modelFor(i)).toBe('anime4k-m-rl');
    expect(schedule.request('anime4k-s-rl')).toEqual({ fromSegment: 2, fromFrame: 48 });
    expect(schedule.modelFor(47)).toBe('anime4k-m-rl');
    expect(schedule.modelFor(48)).toBe('anime4k-s-rl');
    expect(schedule.modelOfSegment(1)).toBe('anime4k-m-rl');
    expect(schedule.modelOfSegment(2)).toBe('anime4k-s-rl');
    expect(schedule.modelOfSegment(3)).toBe('anime4k-s-rl');
  });

  it('never changes a frame already taken, and ignores a request for the current model', () => {
    const schedule = new ModelSchedule('anime4k-m-rl', grid, 1);
    schedule.modelFor(48);
    expect(schedule.request('anime4k-m-rl')).toBeUndefined();
    expect(schedule.request('anime4k-s-rl')).toEqual({ fromSegment: 3, fromFrame: 96 });
    expect(schedule.modelFor(60)).toBe('anime4k-m-rl');
  });

  it('replaces a switch not begun at the same boundary, and says which, also when it only calls it off', () => {
    const schedule = new ModelSchedule('anime4k-m-rl', grid, 1);
    schedule.modelFor(10);
    expect(schedule.request('anime4k-s-rl')).toEqual({ fromSegment: 2, fromFrame: 48 });
    expect(schedule.request('lanczos-x2')).toEqual({ fromSegment: 2, fromFrame: 48, replaced: 'anime4k-s-rl' });
    // Back to the model making the chunk now: nothing switches at 2, and the call-off is said.
    expect(schedule.request('anime4k-m-rl')).toEqual({ fromSegment: 2, fromFrame: 48, replaced: 'lanczos-x2' });
    expect(schedule.current).toBe('anime4k-m-rl');
    expect(schedule.modelFor(48)).toBe('anime4k-m-rl');
    expect(schedule.modelOfSegment(2)).toBe('anime4k-m-rl');
  });

  it('cannot switch once the last segment has begun', () => {
    const schedule = new ModelSchedule('anime4k-m-rl', grid, 1);
    schedule.modelFor(97);
    expect(schedule.request('anime4k-s-rl')).toBeUndefined();
    expect(schedule.current).toBe('anime4k-m-rl');
  });

  it('puts boundaries on the first frame at or after the cut time for fractional rates', () => {
    const ntsc = planGrid({ durationSeconds: 8, fps: 23.976, segmentSeconds: 1 });
    const schedule = new ModelSchedule('anime4k-m-rl', ntsc, 0);
    schedule.modelFor(0);
    expect(schedule.request('anime4k-s-rl')).toEqual({ fromSegment: 1, fromFrame: 24 });
  });
});
