/**
 * How far a title is, asked by a Jellyfin item (the web script, while a viewer plays it) or by
 * file name (the seed's `/hls-status/:filename`): the title's latest job, or where it stands
 * before it has one. Writes nothing.
 */
import type { JobState } from '../core/domain';
import { UpflowError } from '../core/errors';
import type { ItemStatus } from '../core/jellyfin-items';
import { pathInMediaRoots, resolveNamedSource } from '../adapters/source-files';
import type { ServiceDeps } from './deps';
import type { JobView, JobViews } from './job-views';
import { itemSource, titleKeyOf } from './title-sources';
import type { TriggerResult } from './triggers';

export class TitleStatuses {
  constructor(
    private readonly deps: ServiceDeps,
    private readonly jobs: JobViews,
  ) {}

  /**
   * What the web script asks while a viewer plays an item: is there an upscaled stream, how far
   * is it. Writes nothing (anyone may ask): a trigger by item ties the item to its title.
   * `triggered`: the trigger this answers. Its workflow registers the job a moment after the
   * start, so until Postgres has that job the answer is `queued` with the trigger's job id, not
   * the title's previous job (or none).
   */
  async itemStatus(itemId: string, triggered?: Pick<TriggerResult, 'jobId'>): Promise<ItemStatus> {
    const { config, store } = this.deps;
    let titleKey = await store.titleKeyForItem(itemId);
    if (!titleKey) {
      // Not asked for by item yet; maybe by path (the seed's webhook body, the CLI).
      const key = await titleKeyOf(store, (await itemSource(this.deps, itemId)).sourcePath);
      if (!(await store.hasTitle(key))) return itemStatusOf(itemId, null, undefined);
      titleKey = key;
    }
    const job = await store.latestJobForTitle(titleKey);
    const pendingJobId = triggered?.jobId !== undefined && job?.id !== triggered.jobId ? triggered.jobId : undefined;
    const status = pendingJobId
      ? { ...itemStatusOf(itemId, titleKey, undefined), job_id: pendingJobId }
      : itemStatusOf(itemId, titleKey, job && (await this.jobs.jobView(job)));
    return config.streamingEnabled ? status : { ...status, hls_url: null };
  }

  /**
   * The seed's status by file name: the title's latest job, or `queued` before it has one.
   * Two titles of that name (in different folders) are a 409 naming them by their paths in
   * the media folders; `requestedPath` (absolute or one of those) chooses, through the same
   * guard as a trigger.
   */
  async statusByFilename(filename: string, requestedPath?: string): Promise<{ state: JobState; titleKey: string; job?: JobView }> {
    const { config, store } = this.deps;
    const candidates = await store.titlesNamed(filename);
    let titleKey: string;
    if (requestedPath !== undefined) {
      const sourcePath = resolveNamedSource(config.mediaRoots, requestedPath);
      const chosen = candidates.find((title) => title.sourcePath === sourcePath);
      if (!chosen) throw new UpflowError('NotFound', `no upscale known for ${filename} at ${requestedPath}`);
      titleKey = chosen.key;
    } else {
      if (candidates.length === 0) throw new UpflowError('NotFound', `no upscale known for ${filename}`);
      if (candidates.length > 1) {
        const paths = candidates.map((title) => pathInMediaRoots(config.mediaRoots, title.sourcePath));
        throw new UpflowError('Conflict', `${candidates.length} titles are named ${filename}: ${paths.map((p) => JSON.stringify(p)).join(', ')}; choose one with ?path=`, { candidates: paths });
      }
      titleKey = candidates[0]!.key;
    }
    const job = await store.latestJobForTitle(titleKey);
    if (!job) return { state: 'queued', titleKey };
    return { state: job.state, titleKey, job: await this.jobs.jobView(job) };
  }
}

function round(value: number, places: number): number {
  const f = 10 ** places;
  return Math.round(value * f) / f;
}

/** The item-keyed answer (core/jellyfin-items.ts); `job` undefined: nothing started yet. */
function itemStatusOf(itemId: string, titleKey: string | null, job: JobView | undefined): ItemStatus {
  if (!job) {
    return {
      item_id: itemId,
      status: titleKey ? 'queued' : 'not_started',
      hls_url: null,
      segments: 0,
      content_seconds: 0,
      ready: [],
      duration_seconds: null,
      segment_seconds: null,
      rate: null,
      complete: false,
      progress_percent: 0,
      model: null,
      title_key: titleKey,
      job_id: null,
      queue_position: null,
    };
  }
  return {
    item_id: itemId,
    status: job.state,
    hls_url: job.hlsUrl,
    segments: job.segments,
    content_seconds: round(job.contentSeconds, 3),
    ready: job.ready,
    duration_seconds: job.source?.durationSeconds ?? null,
    segment_seconds: job.plan?.segmentSeconds ?? null,
    rate: job.rate === null ? null : round(job.rate, 3),
    complete: job.state === 'complete',
    progress_percent: round(job.percent, 1),
    model: job.model,
    title_key: job.titleKey,
    job_id: job.id,
    queue_position: job.queuePosition,
    ...(job.failureReason ? { reason: job.failureReason } : {}),
  };
}
