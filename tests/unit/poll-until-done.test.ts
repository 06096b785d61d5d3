/** The watch loop of `upflow monitor` and `upflow upscale`: its rounds, its waits and Ctrl-C. */
import { nextInterrupt, pollUntilDone } from '../../cli/poll-until-done';

/** A Ctrl-C the test presses by hand. */
function manualInterrupt() {
  let press: () => void = () => undefined;
  const interrupted = new Promise<'interrupted'>((resolve) => (press = () => resolve('interrupted')));
  return { interrupted, press };
}

describe('pollUntilDone', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('looks at once, then once every interval, and returns what the look that found it done returned', async () => {
    const rounds: number[] = [];
    const { interrupted } = manualInterrupt();
    const result = pollUntilDone(async (round) => {
      rounds.push(round);
      return round === 2 ? 'complete' : undefined;
    }, { intervalMs: 1000, interrupted });
    await jest.advanceTimersByTimeAsync(0);
    expect(rounds).toEqual([0]);
    await jest.advanceTimersByTimeAsync(999);
    expect(rounds).toEqual([0]);
    await jest.advanceTimersByTimeAsync(1);
    expect(rounds).toEqual([0, 1]);
    await jest.advanceTimersByTimeAsync(1000);
    expect(await result).toBe('complete');
    expect(rounds).toEqual([0, 1, 2]);
  });

  it('returns undefined at a Ctrl-C during a wait, and looks no more', async () => {
    const look = jest.fn(async () => undefined);
    const { interrupted, press } = manualInterrupt();
    const result = pollUntilDone(look, { intervalMs: 500, interrupted });
    await jest.advanceTimersByTimeAsync(700);
    press();
    expect(await result).toBeUndefined();
    await jest.advanceTimersByTimeAsync(5000);
    expect(look).toHaveBeenCalledTimes(2);
  });

  it('an earlier Ctrl-C ends it after its first look (upscale listens while it triggers)', async () => {
    const look = jest.fn(async () => undefined);
    const { interrupted, press } = manualInterrupt();
    press();
    expect(await pollUntilDone(look, { intervalMs: 500, interrupted })).toBeUndefined();
    expect(look).toHaveBeenCalledTimes(1);
  });

  it('a look that finds it done at once never waits', async () => {
    const { interrupted } = manualInterrupt();
    expect(await pollUntilDone(async () => true, { intervalMs: 60_000, interrupted })).toBe(true);
    expect(jest.getTimerCount()).toBe(0);
  });
});

describe('nextInterrupt', () => {
  it('resolves at the next SIGINT, and listens for that one only', async () => {
    // Only this test's listener hears the emitted SIGINT (jest's own, if any, are put back after).
    const others = process.rawListeners('SIGINT') as NodeJS.SignalsListener[];
    process.removeAllListeners('SIGINT');
    try {
      const interrupted = nextInterrupt();
      expect(process.listenerCount('SIGINT')).toBe(1);
      process.emit('SIGINT', 'SIGINT');
      expect(await interrupted).toBe('interrupted');
      expect(process.listenerCount('SIGINT')).toBe(0);
    } finally {
      for (const listener of others) process.on('SIGINT', listener);
    }
  });
});
