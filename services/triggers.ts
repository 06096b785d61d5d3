/**
 * Triggering a title: start its workflow, or join the one running, or answer with its final
 * file; and telling a running title where viewers are, so what is made next follows them.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { ContentKind } from '../core/content-kind';
import { workflowIdForTitle, type ViewerPosition } from '../core/domain';
import { UpflowError } from '../core/errors';
import { sourceChangeSince } from '../core/media-paths';
import { resolveSourcePath, statSource } from '../adapters/source-files';
import { noAnswerInTime, runningJobIdOf, withTemporalDeadline, WorkflowNotFoundError } from '../adapters/temporal';
import { viewerSignal } from '../workflows/definitions';
import type { ServiceDeps } from './deps';
import type { HlsUrls } from './hls-urls';
import { itemSource, titleKeyOf } from './title-sources';
import { endRetentionRun, startOrJoinTitleWorkflow, upscaleSettings, waitForRunEnd } from './title-workflows';

export type TriggerStatus = 'started' | 'already_running' | 'complete';

export interface TriggerResult {
  status: TriggerStatus;
  titleKey: string;
  workflowId: string;
  jobId?: string;
  hlsUrl: string | null;
  finalFile?: string;
  /** Why a title with a final file is upscaled again: its source is not the file that was made from. */
  reupscaleReason?: string;
}

export class TitleTriggers {
  constructor(
    private readonly deps: ServiceDeps,
    private readonly urls: HlsUrls,
  ) {}

  /**
   * A title's final file answers `complete` only while its source is the version it was made
   * from: a source replaced or rewritten since (same name, other content: a Radarr upgrade) is
   * upscaled again, as `force` does. The old final file stays until the new one replaces it.
   * `viewer`: where the one who triggered watches (Jellyfin's PlaybackPositionTicks,
   * `position_seconds`): a new title is made from there first, a running one is told.
   * `contentKind`: what the title shows (Jellyfin's genres), which picks the model unless
   * UPFLOW_MODEL is set; unset, UPFLOW_CONTENT_KIND.
   */
  async trigger(requestedPath: string, options: { name?: string; force?: boolean; jellyfinItemId?: string; viewer?: ViewerPosition; contentKind?: ContentKind } = {}): Promise<TriggerResult> {
    const { config, store, client } = this.deps;
    const sourcePath = resolveSourcePath(config.mediaRoots, requestedPath);
    const titleKey = await titleKeyOf(store, sourcePath);
    // Postgres text cannot hold a NUL; a name from Jellyfin's library could carry one.
    const name = options.name?.replaceAll('\0', '').trim() || path.basename(sourcePath, path.extname(sourcePath));
    await store.upsertTitle({ key: titleKey, sourcePath, name, jellyfinItemId: options.jellyfinItemId });
    const workflowId = workflowIdForTitle(titleKey);

    const latest = await store.latestJobForTitle(titleKey);
    let reupscaleReason: string | undefined;
    if (!options.force && latest?.state === 'complete' && latest.finalPath && fs.existsSync(latest.finalPath)) {
      const change = sourceChangeSince({ fingerprint: latest.source?.fingerprint, probedAt: latest.createdAt }, statSource(sourcePath));
      if (!change) {
        return {
          status: 'complete',
          titleKey,
          workflowId,
          jobId: latest.id,
          hlsUrl: latest.hlsRemovedAt ? null : this.urls.playlist(titleKey),
          finalFile: latest.finalPath,
        };
      }
      reupscaleReason = `the source changed since the final file was made (${change}): upscaling again`;
    }
    // Each Temporal call under a deadline: Temporal down answers 503 in seconds, not after the client's retries.
    const running = await withTemporalDeadline(client, () => runningJobIdOf(client, workflowId));
    // A complete run stays open only to remove its HLS after retention: it is not upscaling.
    const runningIsRetention = running !== undefined && running === latest?.id && latest.state === 'complete';
    // A cancelled or failed run records its end, then closes: a trigger in between waits for it to
    // close and starts afresh, rather than joining a run that will make nothing more.
    const runningIsEnding = running !== undefined && running === latest?.id && (latest.state === 'cancelled' || latest.state === 'failed');
    if (running && !runningIsRetention && !runningIsEnding) {
      if (options.viewer) await this.tellViewer(titleKey, options.viewer);
      return { status: 'already_running', titleKey, workflowId, jobId: running, hlsUrl: this.urls.playlist(titleKey) };
    }
    if (runningIsEnding) {
      await withTemporalDeadline(client, () => waitForRunEnd(client, workflowId, running)).catch((err: unknown) => {
        // Temporal answered just now (the run is there): it is still closing, not Temporal down.
        if (noAnswerInTime(err)) {
          throw new UpflowError('Unavailable', 'the title\'s last run is still ending: try again in a few seconds', { retryAfterSeconds: 5 });
        }
        throw err;
      });
    }
    if (runningIsRetention) {
      const reason = options.force ? 're-upscale requested (force)' : reupscaleReason ?? 'the final file is missing: upscaling again';
      await withTemporalDeadline(client, () => endRetentionRun(client, workflowId, running, reason));
    }
    // Concurrent triggers all get here; Temporal lets one start and the others join its run.
    const run = await withTemporalDeadline(client, () => startOrJoinTitleWorkflow(client, {
      titleKey,
      sourcePath,
      name,
      settings: upscaleSettings(config, options.contentKind),
      ...(options.viewer ? { viewer: options.viewer } : {}),
      ...(options.force ? { fresh: true } : {}),
    }));
    if (!run.started && options.viewer) await this.tellViewer(titleKey, options.viewer);
    return {
      status: run.started ? 'started' : 'already_running',
      titleKey,
      workflowId,
      jobId: run.firstExecutionRunId,
      hlsUrl: this.urls.playlist(titleKey),
      ...(run.started && reupscaleReason ? { reupscaleReason } : {}),
    };
  }

  /** A Jellyfin item: its file through Jellyfin's API, then the same guard and trigger as a path. */
  async triggerItem(itemId: string, options: { name?: string; force?: boolean; viewer?: ViewerPosition } = {}): Promise<TriggerResult> {
    const item = await itemSource(this.deps, itemId);
    // The library's own name first, whatever a webhook template made of `{{Name}}` (escaping, quotes).
    return this.trigger(item.sourcePath, { ...options, name: item.name || options.name, jellyfinItemId: itemId, ...(item.contentKind ? { contentKind: item.contentKind } : {}) });
  }

  /**
   * Jellyfin's PlaybackStop: the viewer's play head leaves the item's title, so nothing more is
   * made ahead of them first (the rest of the title is still made, in order). An item Upflow never
   * upscaled, or a title not running: nothing to tell.
   */
  async viewerLeft(itemId: string, viewer: string): Promise<void> {
    const titleKey = await this.deps.store.titleKeyForItem(itemId);
    if (titleKey) await this.tellViewer(titleKey, { viewer, waiting: false, left: true });
  }

  /**
   * Tells the title's running workflow where someone watches (a trigger for a running title, a
   * player asking for a segment): what is made next follows. Nothing runs: nothing to tell.
   */
  async tellViewer(titleKey: string, viewer: ViewerPosition): Promise<void> {
    const { client } = this.deps;
    try {
      await withTemporalDeadline(client, () => client.workflow.getHandle(workflowIdForTitle(titleKey)).signal(viewerSignal, viewer));
    } catch (err) {
      if (!(err instanceof WorkflowNotFoundError)) throw err;
    }
  }
}
