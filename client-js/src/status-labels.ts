/** The status page's words for a job's state; pure, so unit tests run it without a browser. */
import { placeInLine, TERMINAL_JOB_STATES, type JobState } from '../../core/domain';

/** What the label reads of a job (a `GET /jobs` job view, JobSummary). */
export interface LabelledJob {
  state: JobState;
  segments: number;
  /** Waiting for a free worker: its place in line; null or absent otherwise. */
  queuePosition?: number | null;
}

/**
 * The state as a person reads it: a stream not yet taken by a worker waits in line (with its
 * place), one with no segment yet is waiting for the encoder.
 */
export function stateLabel(job: LabelledJob, cancelling: boolean): string {
  if (cancelling && !TERMINAL_JOB_STATES.includes(job.state)) return 'cancelling…';
  if (job.state === 'streaming' && typeof job.queuePosition === 'number') return `waiting for a free worker · ${placeInLine(job.queuePosition)}`;
  if (job.state === 'streaming' && job.segments === 0) return 'starting';
  return job.state;
}
