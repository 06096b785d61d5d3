/** Small statistics shared by the workflow (a viewer's lead) and the benches. */

/** The median of the finite values; NaN when there are none. */
export function median(values: readonly number[]): number {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** A segment made: when (ms), and the content seconds it holds. */
export interface MadeEvent {
  at: number;
  seconds: number;
}

/**
 * Content seconds made per wall second, from the segments made (oldest first): after `firstAt`
 * (the stream's first segment, itself left out with the start-up before it) and within the last
 * `windowMs`. Measured to the last segment made, so the rate does not sag while the next one is
 * being made; once that one is later than the mean gap, to now less that gap, so a making that
 * stopped reads ever lower. 0 before a segment after the first.
 */
export function madeRate(events: readonly MadeEvent[], firstAt: number | undefined, now: number, windowMs: number): number {
  if (firstAt === undefined) return 0;
  const since = Math.max(firstAt, now - windowMs);
  const counted = events.filter((e) => e.at > since);
  if (counted.length === 0) return 0;
  const last = counted[counted.length - 1]!.at;
  const meanGap = (last - since) / counted.length;
  const end = Math.max(last, now - meanGap);
  return counted.reduce((sum, e) => sum + e.seconds, 0) / Math.max(0.001, (end - since) / 1000);
}
