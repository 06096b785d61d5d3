/**
 * Prometheus metrics (prom-client) for `GET /metrics`. Job figures are read from Postgres at
 * scrape time, because the worker that makes them is another process; HTTP figures are the
 * API's own. Names follow Prometheus conventions (`_seconds`, base units).
 */
import { collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { Request, RequestHandler } from 'express';
import { JOB_STATES } from '../core/domain';
import type { UpflowStore } from './postgres';

export class ApiMetrics {
  readonly registry = new Registry();
  private readonly jobs = new Gauge({ name: 'upflow_jobs', help: 'Jobs on record by state', labelNames: ['state'], registers: [this.registry] });
  private readonly segments = new Gauge({ name: 'upflow_segments', help: 'HLS segments produced (jobs on record)', registers: [this.registry] });
  private readonly content = new Gauge({ name: 'upflow_content_seconds', help: 'Seconds of upscaled content produced (jobs on record)', registers: [this.registry] });
  private readonly fps = new Gauge({ name: 'upflow_stream_fps', help: 'Frames per second of each stream being made', labelNames: ['title', 'model', 'precision'], registers: [this.registry] });
  private readonly rate = new Gauge({
    name: 'upflow_stream_rate',
    help: 'Content seconds made per wall second of each stream being made (below 1: viewers catch up)',
    labelNames: ['title', 'model', 'precision'],
    registers: [this.registry],
  });
  private readonly firstSegment = new Gauge({
    name: 'upflow_first_segment_seconds',
    help: "Seconds from the newest stream's start to its first playable segment",
    registers: [this.registry],
  });
  private readonly requests = new Histogram({
    name: 'upflow_http_request_duration_seconds',
    help: 'API requests by route and status',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });

  constructor(private readonly store: UpflowStore) {
    collectDefaultMetrics({ register: this.registry, prefix: 'upflow_api_' });
  }

  /** Times every request; the route label is the matched pattern, never the raw path (ids would explode it). */
  readonly timeRequests: RequestHandler = (req, res, next) => {
    const end = this.requests.startTimer({ method: req.method });
    res.on('finish', () => end({ route: routeOf(req), status: String(res.statusCode) }));
    next();
  };

  /** The exposition text, with the job figures read now. */
  async render(): Promise<string> {
    const snapshot = await this.store.metricsSnapshot();
    for (const state of JOB_STATES) this.jobs.set({ state }, snapshot.jobsByState[state] ?? 0);
    this.segments.set(snapshot.segments);
    this.content.set(snapshot.contentSeconds);
    this.fps.reset();
    this.rate.reset();
    for (const stream of snapshot.streams) {
      this.fps.set({ title: stream.titleKey, model: stream.model, precision: stream.precision }, stream.fps);
      this.rate.set({ title: stream.titleKey, model: stream.model, precision: stream.precision }, stream.rate);
    }
    if (snapshot.lastFirstSegmentSeconds !== null) this.firstSegment.set(snapshot.lastFirstSegmentSeconds);
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}

function routeOf(req: Request): string {
  const pattern = (req.route as { path?: string } | undefined)?.path;
  if (pattern) return `${req.baseUrl}${pattern}`;
  return req.baseUrl || 'unmatched';
}
