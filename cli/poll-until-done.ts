/**
 * The watch loop `upflow monitor` and `upflow upscale` share: look, wait, look again, until
 * what is watched is done or the user presses Ctrl-C. Ctrl-C stops the watching only; the
 * jobs go on in the workflows, so the commands say so and exit 130 themselves.
 */

/**
 * Resolves at the first Ctrl-C from now on. While it listens, Ctrl-C no longer ends the
 * process (Node's default), so a command that takes it early also holds an early Ctrl-C.
 */
export function nextInterrupt(): Promise<'interrupted'> {
  return new Promise((resolve) => process.once('SIGINT', () => resolve('interrupted')));
}

export interface PollOptions {
  /** The wait between two looks. */
  intervalMs: number;
  /** Default: the first Ctrl-C from the call on; one from nextInterrupt() taken earlier counts a Ctrl-C since then. */
  interrupted?: Promise<'interrupted'>;
}

/**
 * Calls `look` (round 0 at once, then one round every `intervalMs`) until it returns a value,
 * and returns that value; undefined when Ctrl-C came first (during a wait, or before it).
 */
export async function pollUntilDone<T>(look: (round: number) => Promise<T | undefined>, options: PollOptions): Promise<T | undefined> {
  const interrupted = options.interrupted ?? nextInterrupt();
  for (let round = 0; ; round++) {
    const done = await look(round);
    if (done !== undefined) return done;
    const outcome = await Promise.race([new Promise((r) => setTimeout(r, options.intervalMs)), interrupted]);
    if (outcome === 'interrupted') return undefined;
  }
}
