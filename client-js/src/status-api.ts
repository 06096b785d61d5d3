/**
 * The status page's two calls to the API that served it: `GET /jobs` and
 * `POST /jobs/:id/cancel`. Failures come back as values, so the page can say what went wrong
 * and keep polling.
 */
import type { JobState } from '../../common/domain';

/** The parts of a `GET /jobs` job view (api/titles-service.ts, JobView) the page shows. */
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
}

export type Answer<T> =
  | { ok: true; value: T }
  /** `unreachable`: no answer (down, timeout); `refused`: an answer saying why not (4xx/5xx). */
  | { ok: false; kind: 'unreachable' | 'refused'; httpStatus?: number; reason: string };

export class StatusApi {
  constructor(
    /** The API's root, where the page itself came from. */
    readonly baseUrl: string,
    private readonly timeoutMs: number,
  ) {}

  /** Every job, newest first. */
  async jobs(): Promise<Answer<JobSummary[]>> {
    const answer = await this.request('GET', 'jobs');
    if (!answer.ok) return answer;
    const jobs = (answer.value as { jobs?: unknown }).jobs;
    if (!Array.isArray(jobs) || !jobs.every(isJobSummary)) return { ok: false, kind: 'refused', reason: 'unexpected answer from Upflow' };
    return { ok: true, value: jobs };
  }

  async cancel(jobId: string): Promise<Answer<JobSummary>> {
    const answer = await this.request('POST', `jobs/${encodeURIComponent(jobId)}/cancel`);
    if (!answer.ok) return answer;
    return isJobSummary(answer.value) ? { ok: true, value: answer.value } : { ok: false, kind: 'refused', reason: 'unexpected answer from Upflow' };
  }

  private async request(method: 'GET' | 'POST', path: string): Promise<Answer<unknown>> {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), this.timeoutMs);
    try {
      const response = await fetch(new URL(path, this.baseUrl), { method, signal: controller.signal, cache: 'no-store' });
      const body: unknown = await response.json().catch(() => undefined);
      if (!response.ok) {
        const reason = isErrorBody(body) ? body.error : `HTTP ${response.status}`;
        return { ok: false, kind: 'refused', httpStatus: response.status, reason };
      }
      return { ok: true, value: body };
    } catch (err) {
      const reason = controller.signal.aborted ? `no answer within ${this.timeoutMs / 1000} s` : (err as Error).message;
      return { ok: false, kind: 'unreachable', reason };
    } finally {
      clearTimeout(timer);
    }
  }
}

function isErrorBody(body: unknown): body is { error: string } {
  return typeof body === 'object' && body !== null && typeof (body as { error?: unknown }).error === 'string';
}

function isJobSummary(value: unknown): value is JobSummary {
  if (typeof value !== 'object' || value === null) return false;
  const j = value as Partial<JobSummary>;
  return typeof j.id === 'string' && typeof j.titleKey === 'string' && typeof j.name === 'string'
    && typeof j.state === 'string' && typeof j.segments === 'number' && typeof j.percent === 'number';
}
