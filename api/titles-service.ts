/**
 * Use cases behind the API and the CLI: trigger a title, read its status, cancel a job.
 * Status comes from Postgres (the record) and, while a job runs, its workflow's query.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import type { Config } from '../common/config';
import { progressFigures, TERMINAL_JOB_STATES, workflowIdForTitle, type JobState, type StreamProgress } from '../common/domain';
import { AppError } from '../common/errors';
import { resolveSourcePath, titleFiles, titleKeyFor } from '../common/media-paths';
import type { JobEvent, JobRecord, SegmentRecord, UpflowStore } from '../adapters/postgres';
import { startOrJoinTitleWorkflow, upscaleSettings } from '../adapters/temporal';
import { cancelSignal, statusQuery } from '../workflows/definitions';

export type TriggerStatus = 'started' | 'already_running' | 'complete';

export interface TriggerResult {
  status: TriggerStatus;
  titleKey: string;
  workflowId: string;
  jobId?: string;
  hlsUrl: string | null;
  finalFile?: string;
}

export interface JobView extends JobRecord {
  percent: number;
  etaSeconds: number | null;
  hlsUrl: string | null;
  events?: JobEvent[];
}

const QUERY_TIMEOUT_MS = 1500;

export class TitlesService {
  constructor(
    private readonly config: Config,
    private readonly store: UpflowStore,
    private readonly client: Client,
  ) {}

  hlsUrl(titleKey: string): string {
    return `${this.config.hlsBaseUrl}/${titleKey}/stream.m3u8`;
  }

  async trigger(requestedPath: string, options: { name?: string; force?: boolean } = {}): Promise<TriggerResult> {
    const sourcePath = resolveSourcePath(this.config.mediaRoots, requestedPath);
    const titleKey = titleKeyFor(sourcePath);
    const name = options.name?.trim() || path.basename(sourcePath, path.extname(sourcePath));
    await this.store.upsertTitle({ key: titleKey, sourcePath, name });
    const workflowId = workflowIdForTitle(titleKey);

    const latest = await this.store.latestJobForTitle(titleKey);
    if (!options.force && latest?.state === 'complete' && latest.finalPath && fs.existsSync(latest.finalPath)) {
      return {
        status: 'complete',
        titleKey,
        workflowId,
        jobId: latest.id,
        hlsUrl: latest.hlsRemovedAt ? null : this.hlsUrl(titleKey),
        finalFile: latest.finalPath,
      };
    }
    const running = await this.runningRunId(workflowId);
    if (running) {
      return { status: 'already_running', titleKey, workflowId, jobId: running, hlsUrl: this.hlsUrl(titleKey) };
    }
    const handle = await startOrJoinTitleWorkflow(this.client, {
      titleKey,
      sourcePath,
      name,
      settings: upscaleSettings(this.config),
    });
    return { status: 'started', titleKey, workflowId, jobId: handle.firstExecutionRunId, hlsUrl: this.hlsUrl(titleKey) };
  }

  private async runningRunId(workflowId: string): Promise<string | undefined> {
    try {
      const description = await this.client.workflow.getHandle(workflowId).describe();
      return description.status.name === 'RUNNING' ? description.runId : undefined;
    } catch (err) {
      if ((err as Error).name === 'WorkflowNotFoundError') return undefined;
      throw err;
    }
  }

  async jobView(job: JobRecord, withEvents = false): Promise<JobView> {
    const progress = (await this.liveProgress(job)) ?? {
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

  /** The workflow's own latest progress, fresher than Postgres between segments. */
  private async liveProgress(job: JobRecord): Promise<StreamProgress | undefined> {
    if (TERMINAL_JOB_STATES.includes(job.state)) return undefined;
    try {
      const status = await Promise.race([
        this.client.workflow.getHandle(job.workflowId, job.id).query(statusQuery),
        new Promise<never>((_, reject) => setTimeout(() => reject(new Error('query timeout')), QUERY_TIMEOUT_MS).unref()),
      ]);
      return status.progress;
    } catch {
      return undefined; // Worker busy or restarting: Postgres has the last recorded figures.
    }
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

  /** The seed's status by file name: the title's latest job, or `queued` before it has one. */
  async statusByFilename(filename: string): Promise<{ state: JobState; titleKey: string; job?: JobView }> {
    const titleKey = await this.store.findTitleKeyByFilename(filename);
    if (!titleKey) throw new AppError(404, `no upscale known for ${filename}`);
    const job = await this.store.latestJobForTitle(titleKey);
    if (!job) return { state: 'queued', titleKey };
    return { state: job.state, titleKey, job: await this.jobView(job) };
  }

  async cancel(id: string, reason = 'cancelled by request'): Promise<JobView> {
    const job = await this.store.getJob(id);
    if (!job) throw new AppError(404, `no job ${id}`);
    if (TERMINAL_JOB_STATES.includes(job.state)) throw new AppError(409, `job ${id} is already ${job.state}`);
    await this.client.workflow.getHandle(job.workflowId, job.id).signal(cancelSignal, reason);
    return this.jobView(job);
  }

  /** Where a finished title's files are (for the CLI). */
  filesOf(titleKey: string) {
    return titleFiles(this.config, titleKey);
  }
}
