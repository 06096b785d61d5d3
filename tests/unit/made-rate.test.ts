import { madeRate, type MadeEvent } from '../../core/statistics';

/** One slot making 2 s segments at `rate`, its first at `firstAt` ms. */
function segments(firstAt: number, rate: number, count: number): MadeEvent[] {
  return Array.from({ length: count }, (_, i) => ({ at: firstAt + (i * 2000) / rate, seconds: 2 }));
}

describe("a title's rate (content seconds made per wall second)", () => {
  const window = 30_000;

  it('leaves out the start-up: 1.1x reads 1.1x from the second segment on, not below real time', () => {
    // The first segment came 3.5 s after the stream's start.
    const made = segments(3500, 1.1, 3);
    expect(madeRate(made.slice(0, 2), 3500, made[1]!.at, window)).toBeCloseTo(1.1);
    // Between segments it does not sag: just before the third.
    expect(madeRate(made.slice(0, 2), 3500, made[2]!.at - 1, window)).toBeCloseTo(1.1);
    expect(madeRate(made, 3500, made[2]!.at + 500, window)).toBeCloseTo(1.1);
  });

  it('is 0 before anything after the first segment', () => {
    expect(madeRate([], undefined, 5000, window)).toBe(0);
    expect(madeRate(segments(3500, 1.1, 1), 3500, 4000, window)).toBe(0);
  });

  it('reads ever lower once the making stops', () => {
    const made = segments(0, 2, 5); // every second, the last at 4 s
    const rates = [4500, 6000, 10_000, 20_000].map((now) => madeRate(made, 0, now, window));
    expect(rates[0]).toBeCloseTo(2);
    expect(rates[1]).toBeLessThan(2);
    for (let i = 1; i < rates.length; i++) expect(rates[i]!).toBeLessThan(rates[i - 1]!);
    expect(rates[3]!).toBeLessThan(0.5);
  });

  it('looks back over the window only', () => {
    // 1x for a minute, then 3x: after 30 s more, only the 3x counts.
    const slow = segments(0, 1, 30);
    const fast = segments(60_000, 3, 46);
    expect(madeRate([...slow, ...fast], 0, 90_000, window)).toBeCloseTo(3, 1);
  });
});
