/**
 * `upflow audit [job]`: the original `audit_performance`, from the segment timings Postgres
 * recorded as the stream was made: frames, average and sampled fps, the real-time multiplier
 * and whether the rate held steady.
 */
import type { JobView } from '../services';
import type { SegmentRecord } from '../adapters/postgres';
import type { Config } from '../core/config';
import { firstSegmentAfterStreamStart } from '../core/domain';
import { median } from '../core/statistics';
import { formatRate, formatTable } from './format';
import { listJobs, selectJobs } from './job-selection';
import { callApi, requireRunningApi } from './targets';

/**
 * The stability rule: over the full-length segments after the first (the first one's time
 * includes start-up; a short last one's rate is mostly pipeline drain), the per-segment rates'
 * coefficient of variation (standard deviation ÷ mean) is at most 20 %. Fewer than three such
 * segments are too few to judge.
 */
export const STABLE_MAX_VARIATION = 0.2;
const MIN_SEGMENTS_TO_JUDGE = 3;
export const STABILITY_RULE = `STABLE when the rates of the full-length segments after the first vary by at most ${STABLE_MAX_VARIATION * 100} % (standard deviation ÷ mean), over at least ${MIN_SEGMENTS_TO_JUDGE} segments`;

export type Stability = 'STABLE' | 'UNSTABLE' | 'TOO FEW SEGMENTS';

interface Spread {
  min: number;
  median: number;
  max: number;
}

export interface PerformanceAudit {
  jobId: string;
  titleKey: string;
  name: string;
  state: string;
  models: Array<{ model: string; segments: number; contentSeconds: number; realTime: number | null }>;
  frames: number;
  segments: number;
  contentSeconds: number;
  /** From the stream's start to its last recorded segment. */
  wallSeconds: number;
  averageFps: number | null;
  /** Per-segment fps (its frames ÷ its wall time), over the full-length segments after the first. */
  sampledFps: Spread | null;
  realTime: number | null;
  rates: Spread | null;
  /** Standard deviation ÷ mean of the per-segment rates after the first. */
  rateVariation: number | null;
  stability: Stability;
  /** Segments after the first that came slower than real time: a viewer at the live edge waits there. */
  slowSegments: number;
  firstSegmentSeconds: number | null;
}

function spread(values: number[]): Spread | null {
  if (values.length === 0) return null;
  return { min: Math.min(...values), median: median(values), max: Math.max(...values) };
}

function variation(values: number[]): number | null {
  if (values.length === 0) return null;
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const variance = values.reduce((sum, v) => sum + (v - mean) ** 2, 0) / values.length;
  return mean > 0 ? Math.sqrt(variance) / mean : null;
}

/** A segment's model with the precision its graph ran in ("anime4k-s-an int8"); older records have none. */
const modelLabel = (s: SegmentRecord) => (s.precision ? `${s.model} ${s.precision}` : s.model ?? '-');

export function auditPerformance(job: JobView, segments: SegmentRecord[]): PerformanceAudit {
  const timed = segments.filter((s): s is SegmentRecord & { wallSeconds: number } => s.wallSeconds !== null && s.wallSeconds > 0);
  const wallSeconds = timed.reduce((sum, s) => sum + s.wallSeconds, 0);
  const contentSeconds = segments.reduce((sum, s) => sum + s.durationSeconds, 0);
  const sourceFps = job.source?.fps ?? job.plan?.fps ?? null;
  const frames = job.frames > 0 ? job.frames : sourceFps ? Math.round(contentSeconds * sourceFps) : 0;
  const fullLength = Math.max(0, ...segments.map((s) => s.durationSeconds)) / 2;
  const judged = timed.filter((s) => s.index > 0 && s.durationSeconds >= fullLength);
  const rates = judged.map((s) => s.durationSeconds / s.wallSeconds);
  const rateVariation = variation(rates);
  const stability: Stability = rates.length < MIN_SEGMENTS_TO_JUDGE || rateVariation === null
    ? 'TOO FEW SEGMENTS'
    : rateVariation <= STABLE_MAX_VARIATION ? 'STABLE' : 'UNSTABLE';

  const byModel = new Map<string, { segments: number; contentSeconds: number; wallSeconds: number }>();
  for (const s of segments) {
    const model = s.model ? modelLabel(s) : job.upscaler ?? 'unknown';
    const entry = byModel.get(model) ?? { segments: 0, contentSeconds: 0, wallSeconds: 0 };
    entry.segments += 1;
    entry.contentSeconds += s.durationSeconds;
    entry.wallSeconds += s.wallSeconds ?? 0;
    byModel.set(model, entry);
  }

  return {
    jobId: job.id,
    titleKey: job.titleKey,
    name: job.name,
    state: job.state,
    models: [...byModel].map(([model, m]) => ({
      model,
      segments: m.segments,
      contentSeconds: m.contentSeconds,
      realTime: m.wallSeconds > 0 ? m.contentSeconds / m.wallSeconds : null,
    })),
    frames,
    segments: segments.length,
    contentSeconds,
    wallSeconds,
    averageFps: wallSeconds > 0 ? frames / wallSeconds : null,
    sampledFps: sourceFps ? spread(judged.map((s) => (s.durationSeconds * sourceFps) / s.wallSeconds)) : null,
    realTime: wallSeconds > 0 ? contentSeconds / wallSeconds : null,
    rates: spread(rates),
    rateVariation,
    stability,
    slowSegments: rates.filter((r) => r < 1).length,
    firstSegmentSeconds: firstSegmentAfterStreamStart(job),
  };
}

export function formatAudit(audit: PerformanceAudit, segments?: SegmentRecord[]): string {
  const fixed = (n: number | null, digits = 1) => (n === null ? '-' : n.toFixed(digits));
  const fps = audit.sampledFps;
  const rates = audit.rates;
  const rows: string[][] = [
    ['model', audit.models.map((m) => `${m.model} (${m.segments} segment${m.segments === 1 ? '' : 's'}, ${formatRate(m.realTime)})`).join(', ') || '-'],
    ['frames', String(audit.frames)],
    ['segments', `${audit.segments} (${audit.contentSeconds.toFixed(1)} s of video)`],
    ['wall time', `${audit.wallSeconds.toFixed(1)} s`],
    ['average fps', fixed(audit.averageFps)],
    ['sampled fps', fps ? `min ${fps.min.toFixed(1)} · median ${fps.median.toFixed(1)} · max ${fps.max.toFixed(1)} (full-length segments after the first)` : '-'],
    ['real-time multiplier', formatRate(audit.realTime)],
    ['segment rates', rates ? `min ${formatRate(rates.min)} · median ${formatRate(rates.median)} · max ${formatRate(rates.max)}; ${audit.slowSegments} below 1.00x` : '-'],
    ['first segment', audit.firstSegmentSeconds === null ? '-' : `${audit.firstSegmentSeconds.toFixed(2)} s after the stream started`],
    ['stability', `${audit.stability}${audit.rateVariation === null ? '' : ` (rates vary by ${(audit.rateVariation * 100).toFixed(1)} %)`}`],
  ];
  let out = `Performance audit of "${audit.name}" (${audit.titleKey}), job ${audit.jobId}, ${audit.state}\n\n`;
  out += formatTable(['measure', 'value'], rows);
  out += `\nRule: ${STABILITY_RULE}.\n`;
  if (segments) {
    out += '\n' + formatTable(
      ['segment', 'start', 'length', 'wall', 'rate', 'model'],
      segments.map((s) => [
        String(s.index),
        `${s.startSeconds.toFixed(1)} s`,
        `${s.durationSeconds.toFixed(2)} s`,
        s.wallSeconds === null ? '-' : `${s.wallSeconds.toFixed(2)} s`,
        s.wallSeconds ? formatRate(s.durationSeconds / s.wallSeconds) : '-',
        s.model ? modelLabel(s) : '-',
      ]),
      ['right', 'right', 'right', 'right', 'right'],
    );
  }
  return out;
}

export async function auditCommand(config: Config, selector: string | undefined, options: { json: boolean; segments: boolean }): Promise<number> {
  const api = await requireRunningApi(config);
  const candidates = selector ? await selectJobs(api, selector) : await listJobs(api);
  const job = candidates.find((j) => j.segments > 0);
  if (!job) {
    throw new Error(selector ? `no job with segments matches "${selector}" (a job id, a title key or part of a name)` : 'no job has made any segment yet');
  }
  const { segments } = (await callApi<{ segments: SegmentRecord[] }>(api, 'GET', `/jobs/${job.id}/segments`)) ?? { segments: [] };
  const audit = auditPerformance(job, segments);
  process.stdout.write(options.json ? `${JSON.stringify({ ...audit, rule: STABILITY_RULE, segmentTimings: segments })}\n` : formatAudit(audit, options.segments ? segments : undefined));
  return 0;
}
