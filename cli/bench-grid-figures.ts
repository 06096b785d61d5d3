/**
 * The grid bench's arithmetic, pure and unit-tested: medians of repeats, a chunk's start cost
 * from the times its segments closed, and the model of what K worker slots give a title.
 */
import { median } from '../core/statistics';

/** Repeats of one figure, as the bench reports them. */
export interface Spread {
  median: number;
  min: number;
  max: number;
  values: number[];
}

export function spread(values: readonly number[]): Spread {
  const finite = values.filter(Number.isFinite);
  return {
    median: median(finite),
    min: finite.length ? Math.min(...finite) : NaN,
    max: finite.length ? Math.max(...finite) : NaN,
    values: [...values],
  };
}

/** The most of these [start, end) intervals that overlap at one instant. */
export function maxOverlap(intervals: readonly (readonly [number, number])[]): number {
  // Ends before starts at the same instant: one chunk ending as the next starts is not two at once.
  const edges = intervals.flatMap(([start, end]) => [[start, 1], [end, -1]] as const).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let open = 0;
  let most = 0;
  for (const [, change] of edges) {
    open += change;
    most = Math.max(most, open);
  }
  return most;
}

export interface ChunkStartCost {
  /** From the chunk's start to its first closed segment. */
  firstSeconds: number;
  /** The median time between two segments closing after the first: one segment's work. */
  steadySeconds: number;
  /** What the first segment took beyond a steady one: seek, encoder start, pipeline fill. */
  startCostSeconds: number;
}

/**
 * `closedAt`: seconds from a chunk's start to each of its segments closing, in order (at least
 * two). Every segment closes a little after its last frame (the encoder's lookahead, the next
 * keyframe), the first as much as the others, so the first closing time less a steady interval
 * is what starting the chunk cost.
 */
export function chunkStartCost(closedAt: readonly number[]): ChunkStartCost {
  if (closedAt.length < 2) throw new Error(`a start cost needs at least two closed segments (got ${closedAt.length})`);
  const intervals = closedAt.slice(1).map((t, i) => t - closedAt[i]!);
  const firstSeconds = closedAt[0]!;
  const steadySeconds = median(intervals);
  return { firstSeconds, steadySeconds, startCostSeconds: firstSeconds - steadySeconds };
}

/**
 * Content seconds of one full claim: the workflow's `maxChunkSegments` (MAX_CHUNK_SECONDS
 * rounded up to whole segments), at most the title.
 */
export function chunkContentSeconds(maxChunkSeconds: number, segmentSeconds: number, titleSeconds = Infinity): number {
  return Math.min(titleSeconds, Math.max(1, Math.ceil(maxChunkSeconds / segmentSeconds)) * segmentSeconds);
}

/** What the model of K slots takes. */
export interface SlotModelInputs {
  /** C: content seconds per chunk. */
  chunkContentSeconds: number;
  /** r₁: content seconds one slot makes per wall second once a chunk runs. */
  singleSlotRate: number;
  /** s: wall seconds a chunk spends starting (seek, encoder start, the model's first frames). */
  startCostSeconds: number;
}

export const SLOT_MODEL_FORMULA = 'rate(K) = K × C ÷ (C ÷ r₁ + s); real time from K = ⌈1 ÷ r₁ + s ÷ C⌉';

/** Content seconds per wall second that K slots give one title, each making whole chunks one after another. */
export function rateWithSlots(inputs: SlotModelInputs, slots: number): number {
  const { chunkContentSeconds: c, singleSlotRate: r1, startCostSeconds: s } = inputs;
  return (slots * c) / (c / r1 + s);
}

/** The fewest slots whose rate reaches real time (1.0x); Infinity when a slot makes nothing. */
export function slotsForRealTime(inputs: SlotModelInputs): number {
  if (!(inputs.singleSlotRate > 0)) return Infinity;
  const exact = 1 / inputs.singleSlotRate + inputs.startCostSeconds / inputs.chunkContentSeconds;
  // A product that lands on a whole number in floating point still counts as reached.
  return Math.max(1, Math.ceil(exact - 1e-9));
}
