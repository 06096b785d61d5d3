/**
 * The running streams' progress as their workflows' `status` query answers it, shared by every
 * request of the API process. The query is answered by the worker that is making the stream:
 * one per status request (every viewer's web script polls, so does the status page) kept
 * Temporal and that worker busy, and each answer waited for it (with ten players, 0.15–0.2 s,
 * p99 at the 1.5 s timeout: `npm run bench:load`). Now a job is queried at most once per
 * `maxAgeMs`, one query at a time, and a request that finds the last answer older than that
 * gets it at once while the next one is fetched.
 */
import type { StreamProgress } from '../core/domain';

/**
 * How long one answer serves. The workflow's progress changes once a segment (1 s or more) or
 * every 5 s between segments, and status pollers ask every 2 s; the segment count is also read
 * from Postgres on every request (JobViews.jobView, services/job-views.ts).
 */
export const LIVE_PROGRESS_MAX_AGE_MS = 1000;

/**
 * An answer older than this is not served while the next is fetched: the request waits for it.
 * Pollers (every 2 s) never wait; a lone request after a pause gets a fresh answer.
 */
const STALE_LIMIT_MS = 3000;

/** Jobs not asked about for this long are forgotten (ended, or nobody is watching). */
const FORGET_AFTER_MS = 60_000;

interface Entry {
  /** The latest answer, and when it came; `at` undefined until the first one has. */
  answer?: StreamProgress;
  at?: number;
  askedAt: number;
  /** The query in flight, if any. */
  next?: Promise<StreamProgress | undefined>;
}

export class LiveProgressCache {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly maxAgeMs = LIVE_PROGRESS_MAX_AGE_MS,
    private readonly now: () => number = Date.now,
  ) {}

  /** `query` answers undefined when the workflow cannot be asked (worker busy, Temporal down); a rejection counts as that. */
  get(jobId: string, query: () => Promise<StreamProgress | undefined>): Promise<StreamProgress | undefined> {
    const now = this.now();
    this.forgetOld(now);
    const entry = this.entries.get(jobId) ?? { askedAt: now };
    this.entries.set(jobId, entry);
    entry.askedAt = now;
    const age = entry.at === undefined ? Infinity : now - entry.at;
    if (age < this.maxAgeMs) return Promise.resolve(entry.answer);
    const settle = (answer: StreamProgress | undefined) => {
      entry.answer = answer;
      entry.at = this.now();
      entry.next = undefined;
      return answer;
    };
    entry.next ??= query().then(settle, () => settle(undefined));
    return age < STALE_LIMIT_MS ? Promise.resolve(entry.answer) : entry.next;
  }

  private forgetOld(now: number): void {
    for (const [jobId, entry] of this.entries) {
      if (!entry.next && now - entry.askedAt > FORGET_AFTER_MS) this.entries.delete(jobId);
    }
  }
}
