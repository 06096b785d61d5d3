/**
 * Rate control (the design card's "monitor rate"): a pure, deterministic function the workflow
 * applies to each segment the stream activity reports. When segments stay below the target
 * rate for `slowSegmentsBeforeStepDown` in a row, the model steps down the plan's ladder
 * (L → M → S → lanczos); the activity switches at the next segment boundary it has not reached.
 * `slowSegmentsBeforeStepDown: 0` turns it off.
 */
import type { ModelChange, SegmentReport, UpscaleSettings } from './domain';
import type { ModelId } from './models';

export interface RateControlState {
  /** The model the stream should use. */
  model: ModelId;
  /** Slow segments in a row, counted only among segments `model` produced. */
  slowRates: number[];
}

export function initialRateControl(model: ModelId): RateControlState {
  return { model, slowRates: [] };
}

export function observeSegment(
  state: RateControlState,
  segment: Pick<SegmentReport, 'index' | 'rate'> & { model: ModelId },
  ladder: readonly ModelId[],
  settings: Pick<UpscaleSettings, 'slowSegmentsBeforeStepDown' | 'stepDownBelowRate'>,
): { state: RateControlState; change?: ModelChange } {
  // Segments the previous model made while the switch travelled through the pipeline say
  // nothing about this one. (A chunk's first segment, which carries its start-up, is not
  // reported here at all: the workflow leaves it out.)
  if (settings.slowSegmentsBeforeStepDown === 0 || segment.model !== state.model) return { state };
  if (segment.rate >= settings.stepDownBelowRate) return { state: { ...state, slowRates: [] } };
  const slowRates = [...state.slowRates, segment.rate];
  const next = ladder[ladder.indexOf(state.model) + 1];
  if (slowRates.length < settings.slowSegmentsBeforeStepDown || next === undefined) {
    return { state: { ...state, slowRates } };
  }
  return {
    state: { model: next, slowRates: [] },
    change: {
      fromModel: state.model,
      toModel: next,
      afterSegment: segment.index,
      slowRates,
      belowRate: settings.stepDownBelowRate,
    },
  };
}

export function describeModelChange(change: ModelChange): string {
  const rates = change.slowRates.map((r) => `${r.toFixed(2)}x`).join(', ');
  return `step down ${change.fromModel} → ${change.toModel}: ${change.slowRates.length} segment(s) in a row below ${change.belowRate.toFixed(2)}x (${rates}) up to segment ${change.afterSegment}`;
}
