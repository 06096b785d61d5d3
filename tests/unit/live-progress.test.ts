/** The API's shared cache of workflow progress: status polls share the workflow queries. */
import { LiveProgressCache } from '../../services/live-progress';
import type { StreamProgress } from '../../core/domain';

const progress = (segments: number): StreamProgress => ({ frames: segments * 25, segments, contentSeconds: segments, durationSeconds: 60, rate: 1, fps: 25 });

/** A query the test answers by hand, counting how often it was asked. */
function manualQuery() {
  const pending: ((p: StreamProgress | undefined) => void)[] = [];
  const query = jest.fn(() => new Promise<StreamProgress | undefined>((resolve) => pending.push(resolve)));
  return { query, answer: (p: StreamProgress | undefined) => pending.shift()!(p) };
}

describe('LiveProgressCache', () => {
  let now = 0;
  const cache = () => new LiveProgressCache(1000, () => now);
  beforeEach(() => {
    now = 1_000_000;
  });

  it('asks once for requests that arrive together, and answers them all with that answer', async () => {
    const c = cache();
    const { query, answer } = manualQuery();
    const answers = Promise.all([c.get('job', query), c.get('job', query), c.get('job', query)]);
    answer(progress(3));
    expect(await answers).toEqual([progress(3), progress(3), progress(3)]);
    expect(query).toHaveBeenCalledTimes(1);
  });

  it('serves an answer for maxAgeMs, then the last one at once while the next is fetched', async () => {
    const c = cache();
    const { query, answer } = manualQuery();
    const first = c.get('job', query);
    answer(progress(3));
    await first;
    now += 999;
    expect(await c.get('job', query)).toEqual(progress(3));
    expect(query).toHaveBeenCalledTimes(1);

    now += 1;
    expect(await c.get('job', query)).toEqual(progress(3)); // not waiting for the query in flight
    expect(await c.get('job', query)).toEqual(progress(3));
    expect(query).toHaveBeenCalledTimes(2);
    answer(progress(4));
    await Promise.resolve();
    expect(await c.get('job', query)).toEqual(progress(4));
  });

  it('waits for the next answer when the last one is too old to serve', async () => {
    const c = cache();
    const { query, answer } = manualQuery();
    const first = c.get('job', query);
    answer(progress(3));
    await first;
    now += 10_000;
    const second = c.get('job', query);
    answer(progress(9));
    expect(await second).toEqual(progress(9));
  });

  it('keeps jobs apart, and counts a failed query as no answer', async () => {
    const c = cache();
    const { query, answer } = manualQuery();
    const a = c.get('a', query);
    const b = c.get('b', () => Promise.reject(new Error('worker busy')));
    answer(progress(1));
    expect(await a).toEqual(progress(1));
    expect(await b).toBeUndefined();
  });
});
