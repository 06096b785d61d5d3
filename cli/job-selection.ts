/** Which jobs a command means: a job id, a title key or part of a title's name, or by default the active ones. */
import type { JobView } from '../services';
import { TERMINAL_JOB_STATES } from '../core/domain';
import { callApi, type RunningApi } from './targets';

const JOB_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const isActive = (job: Pick<JobView, 'state'>) => !TERMINAL_JOB_STATES.includes(job.state);

export async function listJobs(api: RunningApi): Promise<JobView[]> {
  return (await callApi<{ jobs: JobView[] }>(api, 'GET', '/jobs'))?.jobs ?? [];
}

/**
 * The jobs `selector` names: the job with that id, else the newest job of each title whose key
 * is `selector` or whose name contains it (any case). Newest first; empty when none matches.
 */
export async function selectJobs(api: RunningApi, selector: string): Promise<JobView[]> {
  if (JOB_ID.test(selector)) {
    const job = await callApi<JobView>(api, 'GET', `/jobs/${selector.toLowerCase()}`);
    return job ? [job] : [];
  }
  const wanted = selector.toLowerCase();
  const newestPerTitle = new Map<string, JobView>();
  for (const job of await listJobs(api)) {
    if (job.titleKey !== selector && !job.name.toLowerCase().includes(wanted)) continue;
    if (!newestPerTitle.has(job.titleKey)) newestPerTitle.set(job.titleKey, job);
  }
  return [...newestPerTitle.values()];
}
