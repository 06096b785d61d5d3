/**
 * The status page's two calls to the API that served it: `GET /jobs` and
 * `POST /jobs/:id/cancel`, each with UPFLOW_API_KEY as the X-Api-Key header when the page has
 * it (same origin: no preflight, and no key in a URL a proxy logs). Failures come back as
 * values, so the page can say what went wrong and keep polling.
 */
import type { JobState } from '../../core/domain';
import { requestJson, type JsonAnswer } from './http';

/** The parts of a `GET /jobs` job view (services/job-views.ts, JobView) the page shows. */
export interface JobSummary {
  id: string;
  titleKey: string;
  name: string;
  state: JobState;
  /** `lanczos` or the model the plan started with. */
  upscaler: string | null;
  /** The model making the stream now (rate control may have stepped down); null for lanczos. */
  model: string | null;
  scaleFactor: number | null;
  plan: { outputWidth: number; outputHeight: number } | null;
  source: { durationSeconds: number } | null;
  segments: number;
  contentSeconds: number;
  /** Content seconds made per wall second. */
  rate: number | null;
  percent: number;
  etaSeconds: number | null;
  /** Null once retention has removed the HLS folder. */
  hlsUrl: string | null;
  failureReason: string | null;
  finishedAt: string | null;
  /** Waiting for a free worker: the place in line among waiting jobs (1 = next); null otherwise. */
  queuePosition?: number | null;
  /** Made parts as content-time runs, e.g. `[[0, 120], [2700, 2760]]` (seconds). */
  ready?: [number, number][];
}

export type Answer<T> = JsonAnswer<T>;

export class StatusApi {
  constructor(
    /** The API's root, where the page itself came from. */
    readonly baseUrl: string,
    private readonly timeoutMs: number,
  ) {}

  /** Every job, newest first. `apiKey`: UPFLOW_API_KEY, when Upflow has one (a 401 without it). */
  async jobs(apiKey?: string): Promise<Answer<JobSummary[]>> {
    const answer = await requestJson(new URL('jobs', this.baseUrl).href, 'GET', this.timeoutMs, isJobList, keyHeader(apiKey));
    return answer.ok ? { ok: true, value: answer.value.jobs } : answer;
  }

  cancel(jobId: string, apiKey?: string): Promise<Answer<JobSummary>> {
    const url = new URL(`jobs/${encodeURIComponent(jobId)}/cancel`, this.baseUrl);
    return requestJson(url.href, 'POST', this.timeoutMs, isJobSummary, keyHeader(apiKey));
  }
}

function keyHeader(apiKey: string | undefined): Record<string, string> {
  return apiKey ? { 'X-Api-Key': apiKey } : {};
}

function isJobSummary(value: unknown): value is JobSummary {
  if (typeof value !== 'object' || value === null) return false;
  const j = value as Partial<JobSummary>;
  return typeof j.id === 'string' && typeof j.titleKey === 'string' && typeof j.name === 'string'
    && typeof j.state === 'string' && typeof j.segments === 'number' && typeof j.percent === 'number';
}

function isJobList(body: unknown): body is { jobs: JobSummary[] } {
  const jobs = (body as { jobs?: unknown } | null)?.jobs;
  return Array.isArray(jobs) && jobs.every(isJobSummary);
}
