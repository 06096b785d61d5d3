/**
 * The use cases the API and the CLI share, built once from their dependencies: triggers, job
 * views, title statuses, live grids, the HLS URLs they answer with, and what a Jellyfin viewer
 * may do with their own token.
 */
import type { ServiceDeps } from './deps';
import { HlsUrls } from './hls-urls';
import { JobViews } from './job-views';
import { LiveGrids } from './live-grid';
import { LiveProgressCache } from './live-progress';
import { TitleStatuses } from './title-status';
import { TitleTriggers } from './triggers';
import { ViewerAccess } from './viewer-access';

export interface Services {
  urls: HlsUrls;
  jobs: JobViews;
  triggers: TitleTriggers;
  statuses: TitleStatuses;
  grids: LiveGrids;
  viewers: ViewerAccess;
}

/** Without `liveProgress`, a cache of its own (a CLI command); the API passes the one all its requests share. */
export function createServices(deps: Omit<ServiceDeps, 'liveProgress'> & { liveProgress?: LiveProgressCache }): Services {
  const full: ServiceDeps = { ...deps, liveProgress: deps.liveProgress ?? new LiveProgressCache() };
  const urls = new HlsUrls(full.config);
  const jobs = new JobViews(full, urls);
  return {
    urls,
    jobs,
    triggers: new TitleTriggers(full, urls),
    statuses: new TitleStatuses(full, jobs),
    grids: new LiveGrids(full),
    viewers: new ViewerAccess(full),
  };
}

export type { ServiceDeps } from './deps';
export type { JobView } from './job-views';
export type { TriggerResult, TriggerStatus } from './triggers';
