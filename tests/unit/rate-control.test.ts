import type { SegmentReport } from '../../core/domain';
import { stepDownLadder, type ModelId } from '../../core/models';
import { planGrid } from '../../core/grid';
import { ModelSchedule } from '../../core/model-schedule';
import { initialRateControl, observeSegment, type RateControlState } from '../../core/rate-control';

const ladder = stepDownLadder('anime4k-l-rl');
const settings = { slowSegmentsBeforeStepDown: 2, stepDownBelowRate: 1 };

function segment(index: number, rate: number, model: ModelId): SegmentReport & { model: ModelId } {
  return { ticket: 'chunk-1', index, durationSeconds: 2, wallSeconds: 2 / rate, rate, model };
}

describe('rate control (workflow side)', () => {
  it('walks the ladder L → M → S → lanczos', () => {
    expect(ladder).toEqual(['anime4k-l-rl', 'anime4k-m-rl', 'anime4k-s-rl', 'lanczos-x2']);
  });

  it('steps down after N slow segments in a row of the current model, and not before', () => {
    let state: RateControlState = initialRateControl('anime4k-l-rl');
    state = observeSegment(state, segment(1, 0.5, 'anime4k-l-rl'), ladder, settings).state;
    const second = observeSegment(state, segment(2, 0.6, 'anime4k-l-rl'), ladder, settings);
    expect(second.change).toEqual({ fromModel: 'anime4k-l-rl', toModel: 'anime4k-m-rl', afterSegment: 2, slowRates: [0.5, 0.6], belowRate: 1 });
    expect(second.state).toEqual({ model: 'anime4k-m-rl', slowRates: [] });
  });

  it('starts counting again after a segment at real time or faster', () => {
    let state = initialRateControl('anime4k-l-rl');
    for (const [i, rate] of [[1, 0.5], [2, 1.2], [3, 0.5]] as const) {
      const result = observeSegment(state, segment(i, rate, 'anime4k-l-rl'), ladder, settings);
      expect(result.change).toBeUndefined();
      state = result.state;
    }
    expect(state.slowRates).toEqual([0.5]);
  });

  it('ignores segments the previous model made', () => {
    let state = initialRateControl('anime4k-m-rl');
    state = observeSegment(state, segment(1, 0.1, 'anime4k-l-rl'), ladder, settings).state;
    expect(state.slowRates).toEqual([]);
  });

  it('is off with a limit of 0 slow segments', () => {
    const result = observeSegment(initialRateControl('anime4k-l-rl'), segment(3, 0.1, 'anime4k-l-rl'), ladder, { ...settings, slowSegmentsBeforeStepDown: 0 });
    expect(result).toEqual({ state: initialRateControl('anime4k-l-rl') });
  });

  it('stays at the bottom of the ladder', () => {
    let state = initialRateControl('lanczos-x2');
    for (let i = 1; i < 6; i++) {
      const result = observeSegment(state, segment(i, 0.2, 'lanczos-x2'), ladder, settings);
      expect(result.change).toBeUndefined();
      state = result.state;
    }
    expect(state.model).toBe('lanczos-x2');
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
