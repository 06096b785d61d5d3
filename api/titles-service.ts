/**
 * Use cases behind the API and the CLI: trigger a title, read its status, cancel a job.
 * Status comes from Postgres (the record) and, while a job runs, its workflow's query.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import type { Config } from '../core/config';
import { progressFigures, TERMINAL_JOB_STATES, workflowIdForTitle, type JobState, type StreamProgress, type ViewerPosition } from '../core/domain';
import { AppError } from '../core/errors';
import { hlsPlaylistPath, hlsTokens, signHlsToken, type HlsTokens } from '../core/hls-access';
import type { ItemStatus } from '../core/jellyfin-items';
import { sourceChangeSince, titleFiles, titleKeyFor } from '../core/media-paths';
import { pathInMediaRoots, resolveNamedSource, resolveSourcePath, statSource } from '../adapters/source-files';
import type { JellyfinClient, JellyfinItem } from '../adapters/jellyfin';
import type { JobEvent, JobRecord, SegmentRecord, UpflowStore } from '../adapters/postgres';
import { runningRunIdOf, withTemporalDeadline, WorkflowNotFoundError } from '../adapters/temporal';
import { endRetentionRun, startOrJoinTitleWorkflow, upscaleSettings } from '../services/title-workflows';
import { cancelSignal, statusQuery, viewerSignal } from '../workflows/definitions';
import { LiveProgressCache } from './live-progress';
import type { Grid } from '../core/grid';
import { gridOf } from '../core/plan';

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

export interface JobView extends JobRecord {
  percent: number;
  etaSeconds: number | null;
  hlsUrl: string | null;
  events?: JobEvent[];
}

const QUERY_TIMEOUT_MS = 1500;

export class TitlesService {
  /** Set with UPFLOW_API_KEY: every `hls_url` carries a token for its title alone. */
  private readonly hlsTokens: HlsTokens | undefined;

  constructor(
    private readonly config: Config,
    private readonly store: UpflowStore,
    private readonly client: Client,
    /** Unset without JELLYFIN_URL/JELLYFIN_API_KEY: item ids cannot be resolved to files. */
    private readonly jellyfin?: JellyfinClient,
    /** Shared by every TitlesService of one API process, so that all its requests share the queries. */
    private readonly liveProgressCache = new LiveProgressCache(),
  ) {
    this.hlsTokens = hlsTokens(config.api.apiKey, config.hls.tokenTtlMs);
  }

  /**
   * Where a player fetches the title's playlist. With a key, signed anew for UPFLOW_HLS_TOKEN_TTL
   * from now, so that players which cannot send headers (hls.js, ffplay, VLC) need only the URL.
   */
  hlsUrl(titleKey: string): string {
    const token = this.hlsTokens && signHlsToken(this.hlsTokens, titleKey, Date.now());
    return `${this.config.hlsBaseUrl}/${hlsPlaylistPath(titleKey, token)}`;
  }

  /**
   * A title's final file answers `complete` only while its source is the version it was made
   * from: a source replaced or rewritten since (same name, other content: a Radarr upgrade) is
   * upscaled again, as `force` does. The old final file stays until the new one replaces it.
   * `viewer`: where the one who triggered watches (Jellyfin's PlaybackPositionTicks,
   * `position_seconds`): a new title is made from there first, a running one is told.
   */
  async trigger(requestedPath: string, options: { name?: string; force?: boolean; jellyfinItemId?: string; viewer?: ViewerPosition } = {}): Promise<TriggerResult> {
    const sourcePath = resolveSourcePath(this.config.mediaRoots, requestedPath);
    const titleKey = await this.titleKeyOf(sourcePath);
    // Postgres text cannot hold a NUL; a name from Jellyfin's library could carry one.
    const name = options.name?.replaceAll('\0', '').trim() || path.basename(sourcePath, path.extname(sourcePath));
    await this.store.upsertTitle({ key: titleKey, sourcePath, name, jellyfinItemId: options.jellyfinItemId });
    const workflowId = workflowIdForTitle(titleKey);

    const latest = await this.store.latestJobForTitle(titleKey);
    let reupscaleReason: string | undefined;
    if (!options.force && latest?.state === 'complete' && latest.finalPath && fs.existsSync(latest.finalPath)) {
      const change = sourceChangeSince({ fingerprint: latest.source?.fingerprint, probedAt: latest.createdAt }, statSource(sourcePath));
      if (!change) {
        return {
          status: 'complete',
          titleKey,
          workflowId,
          jobId: latest.id,
          hlsUrl: latest.hlsRemovedAt ? null : this.hlsUrl(titleKey),
          finalFile: latest.finalPath,
        };
      }
      reupscaleReason = `the source changed since the final file was made (${change}): upscaling again`;
    }
    // Each Temporal call under a deadline: Temporal down answers 503 in seconds, not after the client's retries.
    const running = await withTemporalDeadline(this.client, () => runningRunIdOf(this.client, workflowId));
    // A complete run stays open only to remove its HLS after retention: it is not upscaling.
    const runningIsRetention = running !== undefined && running === latest?.id && latest.state === 'complete';
    if (running && !runningIsRetention) {
      if (options.viewer) await this.tellViewer(titleKey, options.viewer);
      return { status: 'already_running', titleKey, workflowId, jobId: running, hlsUrl: this.hlsUrl(titleKey) };
    }
    if (runningIsRetention) {
      const reason = options.force ? 're-upscale requested (force)' : reupscaleReason ?? 'the final file is missing: upscaling again';
      await withTemporalDeadline(this.client, () => endRetentionRun(this.client, workflowId, running, reason));
    }
    // Concurrent triggers all get here; Temporal lets one start and the others join its run.
    const run = await withTemporalDeadline(this.client, () => startOrJoinTitleWorkflow(this.client, {
      titleKey,
      sourcePath,
      name,
      settings: upscaleSettings(this.config),
      ...(options.viewer ? { viewer: options.viewer } : {}),
      ...(options.force ? { fresh: true } : {}),
    }));
    if (!run.started && options.viewer) await this.tellViewer(titleKey, options.viewer);
    return {
      status: run.started ? 'started' : 'already_running',
      titleKey,
      workflowId,
      jobId: run.firstExecutionRunId,
      hlsUrl: this.hlsUrl(titleKey),
      ...(run.started && reupscaleReason ? { reupscaleReason } : {}),
    };
  }

  /** A file's title key: the one its title has (older titles keep their shorter keys), else a new one. */
  private async titleKeyOf(realSourcePath: string): Promise<string> {
    return (await this.store.titleKeyForSource(realSourcePath)) ?? titleKeyFor(realSourcePath);
  }

  /** A Jellyfin item: its file through Jellyfin's API, then the same guard and trigger as a path. */
  async triggerItem(itemId: string, options: { name?: string; force?: boolean; viewer?: ViewerPosition } = {}): Promise<TriggerResult> {
    const item = await this.jellyfinItem(itemId);
    // The library's own name first, whatever a webhook template made of `{{Name}}` (escaping, quotes).
    return this.trigger(this.guardItemPath(item), { ...options, name: item.name || options.name, jellyfinItemId: itemId });
  }

  /**
   * Tells the title's running workflow where someone watches (a trigger for a running title, a
   * player asking for a segment): what is made next follows. Nothing runs: nothing to tell.
   */
  async tellViewer(titleKey: string, viewer: ViewerPosition): Promise<void> {
    try {
      await withTemporalDeadline(this.client, () => this.client.workflow.getHandle(workflowIdForTitle(titleKey)).signal(viewerSignal, viewer));
    } catch (err) {
      if (!(err instanceof WorkflowNotFoundError)) throw err;
    }
  }

  /**
   * What the web script asks while a viewer plays an item: is there an upscaled stream, how far
   * is it. Writes nothing (anyone may ask): a trigger by item ties the item to its title.
   * `triggered`: the trigger this answers. Its workflow registers the job a moment after the
   * start, so until Postgres has that job the answer is `queued` with the trigger's job id, not
   * the title's previous job (or none).
   */
  async itemStatus(itemId: string, triggered?: Pick<TriggerResult, 'jobId'>): Promise<ItemStatus> {
    let titleKey = await this.store.titleKeyForItem(itemId);
    if (!titleKey) {
      // Not asked for by item yet; maybe by path (the seed's webhook body, the CLI).
      const key = await this.titleKeyOf(this.guardItemPath(await this.jellyfinItem(itemId)));
      if (!(await this.store.hasTitle(key))) return itemStatusOf(itemId, null, undefined);
      titleKey = key;
    }
    const job = await this.store.latestJobForTitle(titleKey);
    const pendingJobId = triggered?.jobId !== undefined && job?.id !== triggered.jobId ? triggered.jobId : undefined;
    const status = pendingJobId
      ? { ...itemStatusOf(itemId, titleKey, undefined), job_id: pendingJobId }
      : itemStatusOf(itemId, titleKey, job && (await this.jobView(job)));
    return this.config.streamingEnabled ? status : { ...status, hls_url: null };
  }

  private async jellyfinItem(itemId: string): Promise<JellyfinItem> {
    if (!this.jellyfin) {
      throw new AppError(503, 'Jellyfin is not configured: set JELLYFIN_URL and JELLYFIN_API_KEY so Upflow can find the file of a Jellyfin item (webhooks and the web script send item ids, not paths)');
    }
    return this.jellyfin.item(itemId);
  }

  /** The media-root guard, with a hint when Jellyfin and Upflow see the library at different paths. */
  private guardItemPath(item: JellyfinItem): string {
    try {
      return resolveSourcePath(this.config.mediaRoots, item.path);
    } catch (err) {
      if (err instanceof AppError) {
        throw new AppError(err.status, `Jellyfin item ${item.id}: ${err.message.replace(/^Item\.Path/, 'its path')} (Upflow must see the library at the paths Jellyfin reports)`);
      }
      throw err;
    }
  }

  async jobView(job: JobRecord, withEvents = false): Promise<JobView> {
    const live = await this.liveProgress(job);
    // Each segment is recorded in Postgres before the workflow hears of it: an answer that
    // knows fewer segments (up to a second old, api/live-progress.ts) is older than Postgres.
    const progress = live && live.segments >= job.segments ? live : {
      frames: job.frames,
      segments: job.segments,
      contentSeconds: job.contentSeconds,
      durationSeconds: job.source?.durationSeconds ?? 0,
      rate: job.rate ?? 0,
      fps: job.fps ?? 0,
    };
    const figures = job.state === 'complete' ? { percent: 100, etaSeconds: 0 } : progressFigures(progress);
    return {
      ...job,
      frames: progress.frames,
      segments: Math.max(progress.segments, job.segments),
      contentSeconds: progress.contentSeconds,
      rate: progress.rate || job.rate,
      fps: progress.fps || job.fps,
      ...figures,
      hlsUrl: job.hlsRemovedAt ? null : this.hlsUrl(job.titleKey),
      ...(withEvents ? { events: await this.store.events(job.id) } : {}),
    };
  }

  /**
   * The workflow's own latest progress, fresher than Postgres between segments. The worker
   * making the stream answers the query: at most one a second per job (api/live-progress.ts).
   */
  private liveProgress(job: JobRecord): Promise<StreamProgress | undefined> {
    if (TERMINAL_JOB_STATES.includes(job.state)) return Promise.resolve(undefined);
    return this.liveProgressCache.get(job.id, async () => {
      try {
        const handle = this.client.workflow.getHandle(job.workflowId, job.id);
        const status = await withTemporalDeadline(this.client, () => handle.query(statusQuery), QUERY_TIMEOUT_MS);
        return status.progress;
      } catch {
        return undefined; // Worker busy or restarting, or Temporal down: Postgres has the last recorded figures.
      }
    });
  }

  async job(id: string): Promise<JobView> {
    const job = await this.store.getJob(id);
    if (!job) throw new AppError(404, `no job ${id}`);
    return this.jobView(job, true);
  }

  async segments(id: string): Promise<(SegmentRecord & { rate: number | null })[]> {
    const job = await this.store.getJob(id);
    if (!job) throw new AppError(404, `no job ${id}`);
    const segments = await this.store.segmentsOf(id);
    return segments.map((s) => ({ ...s, rate: s.wallSeconds ? s.durationSeconds / s.wallSeconds : null }));
  }

  /**
   * The seed's status by file name: the title's latest job, or `queued` before it has one.
   * Two titles of that name (in different folders) are a 409 naming them by their paths in
   * the media folders; `requestedPath` (absolute or one of those) chooses, through the same
   * guard as a trigger.
   */
  async statusByFilename(filename: string, requestedPath?: string): Promise<{ state: JobState; titleKey: string; job?: JobView }> {
    const candidates = await this.store.titlesNamed(filename);
    let titleKey: string;
    if (requestedPath !== undefined) {
      const sourcePath = resolveNamedSource(this.config.mediaRoots, requestedPath);
      const chosen = candidates.find((title) => title.sourcePath === sourcePath);
      if (!chosen) throw new AppError(404, `no upscale known for ${filename} at ${requestedPath}`);
      titleKey = chosen.key;
    } else {
      if (candidates.length === 0) throw new AppError(404, `no upscale known for ${filename}`);
      if (candidates.length > 1) {
        const paths = candidates.map((title) => pathInMediaRoots(this.config.mediaRoots, title.sourcePath));
        throw new AppError(409, `${candidates.length} titles are named ${filename}: ${paths.map((p) => JSON.stringify(p)).join(', ')}; choose one with ?path=`, { candidates: paths });
      }
      titleKey = candidates[0]!.key;
    }
    const job = await this.store.latestJobForTitle(titleKey);
    if (!job) return { state: 'queued', titleKey };
    return { state: job.state, titleKey, job: await this.jobView(job) };
  }

  async cancel(id: string, reason = 'cancelled by request'): Promise<JobView> {
    const job = await this.store.getJob(id);
    if (!job) throw new AppError(404, `no job ${id}`);
    if (TERMINAL_JOB_STATES.includes(job.state)) throw new AppError(409, `job ${id} is already ${job.state}`);
    await withTemporalDeadline(this.client, () => this.client.workflow.getHandle(job.workflowId, job.id).signal(cancelSignal, reason));
    return this.jobView(job);
  }

  /** The title's grid while its HLS can be had: `probing` before the plan, undefined when nothing is made or kept. */
  async liveGrid(titleKey: string): Promise<Grid | 'probing' | undefined> {
    const job = await this.store.latestJobForTitle(titleKey);
    if (!job || job.hlsRemovedAt || job.state === 'failed' || job.state === 'cancelled') {
      // Just triggered (again): the new run registers its job a moment after it starts.
      const running = await withTemporalDeadline(this.client, () => runningRunIdOf(this.client, workflowIdForTitle(titleKey)));
      return running !== undefined && running !== job?.id ? 'probing' : undefined;
    }
    if (job.plan) return gridOf(job.plan);
    return job.state === 'queued' || job.state === 'probing' ? 'probing' : undefined;
  }

  /** Where a finished title's files are (for the CLI). */
  filesOf(titleKey: string) {
    return titleFiles(this.config, titleKey);
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
      duration_seconds: null,
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
    duration_seconds: job.source?.durationSeconds ?? null,
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
