/**
 * Which HLS folders cleanup removes: a pure function of what is known about one folder, so the
 * rules are stated (and unit-tested) in one place. Final files never enter into it: they live
 * in the output folder, and a folder that holds the output folder is never removed.
 */
import { formatDurationMs as duration } from './config';
import type { HlsCleanupOptions, HlsCleanupReason, JobState } from './domain';

export interface HlsFolderFacts {
  /** Newest modification time of the folder or anything in it (ms since the epoch). */
  modifiedAtMs: number;
  /** The output folder (final files) is this folder or lies inside it. */
  holdsOutputFolder: boolean;
  /** The newest job of the title, when Postgres has one. */
  job?: {
    id: string;
    state: JobState;
    finishedAtMs: number | null;
    /** The last segment, else the job's last update. */
    lastActivityAtMs: number;
  };
  /** The job of the title's workflow when one is running now (its first run's id). */
  runningJobId?: string;
}

export type HlsFolderDecision =
  | { remove: true; reason: HlsCleanupReason; ageMs: number }
  | { remove: false; why: string };


export function decideHlsFolder(facts: HlsFolderFacts, options: HlsCleanupOptions, nowMs: number): HlsFolderDecision {
  if (facts.holdsOutputFolder) return { remove: false, why: 'holds the output folder with final files' };
  const { job, runningJobId } = facts;
  // A running workflow is a stream being produced, unless it is the complete job's own run
  // waiting out its retention timer (then the age rule below applies).
  if (runningJobId && !(job && job.id === runningJobId && job.state === 'complete')) {
    return { remove: false, why: `being produced (${job && job.id === runningJobId ? job.state : 'starting'})` };
  }
  if (!job) {
    if (options.completedOnly) return { remove: false, why: 'no job on record made it; --completed-only' };
    const idleMs = nowMs - facts.modifiedAtMs;
    return idleMs >= options.abandonedAfterMs
      ? { remove: true, reason: 'orphaned', ageMs: idleMs }
      : { remove: false, why: `no job on record made it; changed ${duration(idleMs)} ago, orphaned after ${duration(options.abandonedAfterMs)}` };
  }
  if (job.state === 'complete') {
    const ageMs = nowMs - (job.finishedAtMs ?? job.lastActivityAtMs);
    return ageMs >= options.maxAgeMs
      ? { remove: true, reason: 'complete', ageMs }
      : { remove: false, why: `complete ${duration(ageMs)} ago; kept for ${duration(options.maxAgeMs)}` };
  }
  if (options.completedOnly) return { remove: false, why: `${job.state}, not complete; --completed-only` };
  const idleMs = nowMs - Math.max(job.lastActivityAtMs, facts.modifiedAtMs);
  return idleMs >= options.abandonedAfterMs
    ? { remove: true, reason: 'abandoned', ageMs: idleMs }
    : { remove: false, why: `${job.state}, last change ${duration(idleMs)} ago; abandoned after ${duration(options.abandonedAfterMs)}` };
}
