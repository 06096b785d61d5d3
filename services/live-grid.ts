/** A title's grid while its HLS can be had: what a player's request for a file not made yet may wait for (api/hls-waiting.ts). */
import { TERMINAL_JOB_STATES, workflowIdForTitle } from '../core/domain';
import type { Grid } from '../core/grid';
import { gridOf } from '../core/plan';
import type { JobRecord } from '../adapters/postgres';
import { runningJobIdOf, withTemporalDeadline } from '../adapters/temporal';
import type { ServiceDeps } from './deps';

export class LiveGrids {
  constructor(private readonly deps: Pick<ServiceDeps, 'store' | 'client'>) {}

  /** Whether the title is being made now (or a new run is about to make it): where its players are matters to it. */
  async beingMade(titleKey: string): Promise<boolean> {
    const job = await this.deps.store.latestJobForTitle(titleKey);
    const grid = await this.gridFor(titleKey, job);
    return grid === 'probing' || (grid !== undefined && job !== undefined && !TERMINAL_JOB_STATES.includes(job.state));
  }

  /** The title's grid while its HLS can be had: `probing` before the plan, undefined when nothing is made or kept. */
  async liveGrid(titleKey: string): Promise<Grid | 'probing' | undefined> {
    return this.gridFor(titleKey, await this.deps.store.latestJobForTitle(titleKey));
  }

  /** `liveGrid` from the title's latest job, read once by the caller. */
  private async gridFor(titleKey: string, job: JobRecord | undefined): Promise<Grid | 'probing' | undefined> {
    const { client } = this.deps;
    if (!job || job.hlsRemovedAt || job.state === 'failed' || job.state === 'cancelled') {
      // Just triggered (again): the new run registers its job a moment after it starts.
      const running = await withTemporalDeadline(client, () => runningJobIdOf(client, workflowIdForTitle(titleKey)));
      return running !== undefined && running !== job?.id ? 'probing' : undefined;
    }
    if (job.plan) return gridOf(job.plan);
    return job.state === 'queued' || job.state === 'probing' ? 'probing' : undefined;
  }
}
