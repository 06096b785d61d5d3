/**
 * Jobs as the API and the CLI show them: the record in Postgres with its progress, fresher from
 * the workflow's own query while it runs; one job with its events, its segments; cancel.
 */
import { progressFigures, TERMINAL_JOB_STATES, type StreamProgress } from '../core/domain';
import { UpflowError } from '../core/errors';
import type { JobEvent, JobRecord, SegmentRecord } from '../adapters/postgres';
import { jobHandle, withTemporalDeadline } from '../adapters/temporal';
import { cancelSignal, statusQuery } from '../workflows/definitions';
import type { ServiceDeps } from './deps';
import type { HlsUrls } from './hls-urls';

export interface JobView extends JobRecord {
  percent: number;
  etaSeconds: number | null;
  hlsUrl: string | null;
  events?: JobEvent[];
}

const QUERY_TIMEOUT_MS = 1500;

export class JobViews {
  constructor(
    private readonly deps: ServiceDeps,
    private readonly urls: HlsUrls,
  ) {}

  async jobView(job: JobRecord, withEvents = false): Promise<JobView> {
    const live = await this.liveProgress(job);
    // Each segment is recorded in Postgres before the workflow hears of it: an answer that
    // knows fewer segments (up to a second old, services/live-progress.ts) is older than Postgres.
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
      hlsUrl: job.hlsRemovedAt ? null : this.urls.playlist(job.titleKey),
      ...(withEvents ? { events: await this.deps.store.events(job.id) } : {}),
    };
  }

  /**
   * The workflow's own latest progress, fresher than Postgres between segments. The worker
   * making the stream answers the query: at most one a second per job (services/live-progress.ts).
   */
  private liveProgress(job: JobRecord): Promise<StreamProgress | undefined> {
    if (TERMINAL_JOB_STATES.includes(job.state)) return Promise.resolve(undefined);
    const { client, liveProgress } = this.deps;
    return liveProgress.get(job.id, async () => {
      try {
        const handle = jobHandle(client, job);
        const status = await withTemporalDeadline(client, () => handle.query(statusQuery), QUERY_TIMEOUT_MS);
        return status.progress;
      } catch {
        return undefined; // Worker busy or restarting, or Temporal down: Postgres has the last recorded figures.
      }
    });
  }

  /** The latest jobs (the store's page of them), newest first. */
  async list(): Promise<JobView[]> {
    const jobs = await this.deps.store.listJobs();
    return Promise.all(jobs.map((job) => this.jobView(job)));
  }

  async job(id: string): Promise<JobView> {
    const job = await this.deps.store.getJob(id);
    if (!job) throw new UpflowError('NotFound', `no job ${id}`);
    return this.jobView(job, true);
  }

  async segments(id: string): Promise<(SegmentRecord & { rate: number | null })[]> {
    const job = await this.deps.store.getJob(id);
    if (!job) throw new UpflowError('NotFound', `no job ${id}`);
    const segments = await this.deps.store.segmentsOf(id);
    return segments.map((s) => ({ ...s, rate: s.wallSeconds ? s.durationSeconds / s.wallSeconds : null }));
  }

  async cancel(id: string, reason = 'cancelled by request'): Promise<JobView> {
    const { store, client } = this.deps;
    const job = await store.getJob(id);
    if (!job) throw new UpflowError('NotFound', `no job ${id}`);
    if (TERMINAL_JOB_STATES.includes(job.state)) throw new UpflowError('Conflict', `job ${id} is already ${job.state}`);
    await withTemporalDeadline(client, () => jobHandle(client, job).signal(cancelSignal, reason));
    return this.jobView(job);
  }
}
