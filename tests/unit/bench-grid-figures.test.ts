import { chunkContentSeconds, chunkStartCost, maxOverlap, rateWithSlots, slotsForRealTime, spread } from '../../cli/bench-grid-figures';
import { median } from '../../core/statistics';

describe('grid bench figures', () => {
  it('takes the median of the finite values, NaN of none', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([5, NaN, 1])).toBe(3);
    expect(median([])).toBeNaN();
    expect(median([NaN])).toBeNaN();
  });

  it('keeps every repeat beside the median, min and max of the finite ones', () => {
    expect(spread([2, NaN, 1, 4])).toEqual({ median: 2, min: 1, max: 4, values: [2, NaN, 1, 4] });
    expect(spread([NaN])).toMatchObject({ median: NaN, min: NaN, max: NaN });
  });

  it('counts the chunks that ran at once', () => {
    expect(maxOverlap([])).toBe(0);
    expect(maxOverlap([[0, 10], [10, 20]])).toBe(1); // one after the other
    expect(maxOverlap([[0, 10], [2, 12], [11, 20]])).toBe(2);
    expect(maxOverlap([[0, 30], [1, 2], [1.5, 3]])).toBe(3);
  });

  it('a chunk start costs its first segment less a steady one', () => {
    // First segment closed at 1.3 s, then one every 0.5 s (one slower interval is outvoted).
    const cost = chunkStartCost([1.3, 1.8, 2.3, 2.9, 3.4]);
    expect(cost.firstSeconds).toBe(1.3);
    expect(cost.steadySeconds).toBeCloseTo(0.5);
    expect(cost.startCostSeconds).toBeCloseTo(0.8);
    expect(() => chunkStartCost([1])).toThrow(/at least two/);
  });

  it('a claim is MAX_CHUNK_SECONDS in whole segments, at most the title', () => {
    expect(chunkContentSeconds(60, 2)).toBe(60);
    expect(chunkContentSeconds(60, 7)).toBe(63);
    expect(chunkContentSeconds(60, 2, 45)).toBe(45);
    expect(chunkContentSeconds(1, 3)).toBe(3);
  });

  it('K slots make K chunks at a time, each paying its start', () => {
    const inputs = { chunkContentSeconds: 60, singleSlotRate: 0.5, startCostSeconds: 0 };
    expect(rateWithSlots(inputs, 1)).toBeCloseTo(0.5);
    expect(rateWithSlots(inputs, 4)).toBeCloseTo(2);
    expect(slotsForRealTime(inputs)).toBe(2); // exactly 1.0x with two
    // A start cost of 6 s per 60 s chunk: one chunk takes 126 s, so 3 slots give 1.43x, 2 give 0.95x.
    const withStart = { ...inputs, startCostSeconds: 6 };
    expect(rateWithSlots(withStart, 2)).toBeCloseTo(120 / 126);
    expect(slotsForRealTime(withStart)).toBe(3);
    // Faster than real time alone: one slot.
    expect(slotsForRealTime({ chunkContentSeconds: 60, singleSlotRate: 3, startCostSeconds: 0.5 })).toBe(1);
    // Real-ESRGAN on a CPU: 0.3 fps at 24 fps content.
    const slow = { chunkContentSeconds: 60, singleSlotRate: 0.3 / 24, startCostSeconds: 0.5 };
    const k = slotsForRealTime(slow);
    expect(k).toBe(81);
    expect(rateWithSlots(slow, k)).toBeGreaterThanOrEqual(1);
    expect(rateWithSlots(slow, k - 1)).toBeLessThan(1);
    expect(slotsForRealTime({ ...slow, singleSlotRate: 0 })).toBe(Infinity);
  });
});
