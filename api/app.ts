/**
 * The HTTP API: the seed watchdog's contract (`/upscale-trigger`, `/hls-status/:filename`,
 * `/health`), the Jellyfin Webhook plugin's bodies, the web script's item-keyed endpoints and
 * its bundle, the status page (`/`), jobs, Prometheus metrics, and the HLS files. Routes validate and delegate to the use cases in services/; one
 * error handler turns every failure into JSON a person can read.
 */
import fs from 'node:fs';
import path from 'node:path';
import express, { type NextFunction, type Request, type Response } from 'express';
import { z } from 'zod';
import type { Client } from '@temporalio/client';
import type { Config } from '../core/config';
import { UpflowError } from '../core/errors';
import { CLIENT_BUNDLE, STATUS_PAGE_BUNDLE } from '../client-js/bundle';
import { JellyfinClient } from '../adapters/jellyfin';
import type { Logger } from '../adapters/logger';
import { ApiMetrics } from '../adapters/metrics';
import { postgresUnreachableReason, type UpflowStore } from '../adapters/postgres';
import { temporalHealth } from '../adapters/temporal';
import { hlsRouter } from './hls';
import {
  allowOnlyKnownOrigins, isOwner, limitItemLookups, limitTriggers, requireApiKey, requireLoopbackHostWithoutKey, securityHeaders, warnAboutUntrustedProxy,
} from './security';
import { describeIssue, filenameParam, hlsStatusQuery, isIgnoredNotification, itemIdParam, jobIdParam, parseTriggerRequest, STARTING_NOTIFICATION, triggerQuery } from './schemas';
import { RETRY_AFTER_SECONDS, serviceUnavailableError } from './service-errors';
import { httpStatusOf } from './http-errors';
import { internalError, publicItemLookupError, publicItemStatus, withoutDetails } from './public-answers';
import { LiveProgressCache } from '../services/live-progress';
import { HlsWaiter } from './hls-waiting';
import { createServices, type Services, type TriggerResult } from '../services';

export interface ApiDeps {
  config: Config;
  store: UpflowStore;
  client: Client;
  logger: Logger;
}

/** Seconds until the first segment is usually playable: the short first segment plus start-up. */
const ESTIMATED_FIRST_SEGMENT_DELAY_SECONDS = 2;

/**
 * How long a player's request for a segment (or the playlist) not made yet waits for it: long
 * enough for a chunk to start where the player is; hls.js retries after its own time limit.
 */
const HLS_WAIT_MS = 20_000;

/** The status page at `/`; its script is client-js/src/status-page.ts. */
const STATUS_PAGE_HTML = path.join(__dirname, 'status-page.html');

/** The most a request body may hold. */
const BODY_LIMIT = '64kb';

/** How long a Jellyfin reachability check stands in `/health`. */
const JELLYFIN_HEALTH_CACHE_MS = 30_000;

export function createApp({ config, store, client, logger }: ApiDeps): express.Express {
  const jellyfin = config.jellyfin ? new JellyfinClient(config.jellyfin) : undefined;
  // One cache of the workflows' progress for every request: status polls share each query.
  const liveProgress = new LiveProgressCache();
  const configuredServices = createServices({ config, store, client, jellyfin, liveProgress });
  /** The use cases answering this request: their `hls_url`s use the request's own address unless HLS_SERVER_* are set. */
  const servicesFor = (req: Request): Services =>
    config.hlsBaseUrlFromRequest && req.get('host')
      ? createServices({ config: { ...config, hlsBaseUrl: `${req.protocol}://${req.get('host')}/hls` }, store, client, jellyfin, liveProgress })
      : configuredServices;
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  // Only the reverse proxies the owner names (UPFLOW_TRUST_PROXY) are believed about the client's
  // address and the scheme (an https page gets https `hls_url`s); anyone else could pick their own
  // address for each request and never meet a rate limit.
  app.set('trust proxy', config.api.trustProxy.length > 0 ? config.api.trustProxy.join(', ') : false);
  const metrics = new ApiMetrics(store);
  app.use(metrics.timeRequests);
  app.use(securityHeaders());
  app.use(warnAboutUntrustedProxy(config.api.trustProxy, logger));
  app.use(requireLoopbackHostWithoutKey(config.api.apiKey));
  app.use(allowOnlyKnownOrigins(config.api.corsOrigins));
  // Before the body is read: a request without the key costs nothing.
  app.use(requireApiKey(config.api.apiKey));
  // JSON bodies only; the Webhook plugin's text/plain JSON is read on its route alone (a page of
  // another site can post text/plain without asking the browser first).
  app.use(express.json({ limit: BODY_LIMIT }));

  const triggerAnswer = (result: TriggerResult, owner: boolean, itemId?: string) => ({
    status: result.status,
    hls_url: config.streamingEnabled ? result.hlsUrl : null,
    estimated_delay_seconds: result.status === 'started' ? ESTIMATED_FIRST_SEGMENT_DELAY_SECONDS : 0,
    streaming: config.streamingEnabled,
    title_key: result.titleKey,
    job_id: result.jobId ?? null,
    ...(itemId ? { item_id: itemId } : {}),
    ...(result.finalFile && owner ? { final_file: result.finalFile } : {}),
  });

  /** The seed's body (a path) or the Jellyfin Webhook plugin's (an item id and a notification type). */
  // Notifications Upflow ignores start nothing: a webhook sending every kind does not use up the limit.
  const triggerLimit = limitTriggers(config.api.triggerRateLimit, (req) => isIgnoredNotification(req.body));
  // Jellyfin's Webhook plugin posts JSON as text/plain unless told otherwise.
  const webhookText = express.json({ limit: BODY_LIMIT, type: 'text/plain' });
  app.post('/upscale-trigger', webhookText, triggerLimit, async (req, res) => {
    const services = servicesFor(req);
    const request = parseTriggerRequest(req.body);
    const query = triggerQuery.parse(req.query);
    // A PlaybackStart means someone watches, from its position or from the start.
    const watching = request.kind === 'item' && request.notificationType === STARTING_NOTIFICATION;
    const positionSeconds = request.positionSeconds ?? query.position_seconds ?? (watching ? 0 : undefined);
    const viewer = positionSeconds === undefined ? undefined
      : { viewer: (request.kind === 'item' ? request.viewer : undefined) ?? `trigger:${req.ip ?? 'unknown'}`, seconds: positionSeconds, waiting: true };
    const options = { name: request.name, force: query.force, ...(viewer ? { viewer } : {}) };
    if (request.kind === 'item' && isIgnoredNotification(req.body)) {
      res.json({ status: 'ignored', reason: `notification type ${request.notificationType} does not start upscaling (only ${STARTING_NOTIFICATION} does)`, item_id: request.itemId });
      return;
    }
    const result = request.kind === 'path'
      ? await services.triggers.trigger(request.path, options)
      : await services.triggers.triggerItem(request.itemId, options);
    const itemId = request.kind === 'item' ? request.itemId : undefined;
    logger.info({ title: result.titleKey, status: result.status, item: itemId, reason: result.reupscaleReason }, 'trigger');
    res.status(result.status === 'started' ? 202 : 200).json(triggerAnswer(result, isOwner(res), itemId));
  });

  /**
   * For the web script in Jellyfin's page, which asks without the key: the item's upscaled
   * stream and how far it is. Read-only; such a caller gets no path or Jellyfin's words.
   */
  app.get('/items/:itemId/status', limitItemLookups(), async (req, res) => {
    const services = servicesFor(req);
    const { itemId } = itemIdParam.parse(req.params);
    const owner = isOwner(res);
    const status = await services.statuses.itemStatus(itemId).catch((err: unknown) => {
      if (owner) throw err;
      logger.info({ item: itemId, reason: (err as Error).message }, 'item status refused');
      throw publicItemLookupError(err);
    });
    res.json(owner ? status : publicItemStatus(status));
  });

  /** For the web script: upscale the item being played (idempotent, as the webhook). */
  app.post('/items/:itemId/upscale', triggerLimit, async (req, res) => {
    const services = servicesFor(req);
    const { itemId } = itemIdParam.parse(req.params);
    const { force, position_seconds: seconds } = triggerQuery.parse(req.query);
    const result = await services.triggers.triggerItem(itemId, { force, ...(seconds !== undefined ? { viewer: { viewer: `script:${req.ip ?? 'unknown'}`, seconds, waiting: true } } : {}) });
    logger.info({ title: result.titleKey, status: result.status, item: itemId, reason: result.reupscaleReason }, 'trigger from the web script');
    res.status(result.status === 'started' ? 202 : 200).json(await services.statuses.itemStatus(itemId, result));
  });

  /** The script Jellyfin's page loads (bundled by set-up: client-js/build.ts). */
  app.get('/client/upflow-jellyfin.js', (_req, res) => {
    if (!fs.existsSync(CLIENT_BUNDLE)) throw new UpflowError('Unavailable', 'the Jellyfin script is not built: run `npm run setup`');
    res.sendFile(CLIENT_BUNDLE, { headers: { 'Content-Type': 'text/javascript; charset=utf-8', 'Cache-Control': 'no-cache' } });
  });

  /** The status page: titles, progress, rate, a player and cancel, all from the endpoints below. */
  app.get('/', (_req, res) => {
    res.sendFile(STATUS_PAGE_HTML, { headers: { 'Cache-Control': 'no-cache' } });
  });

  app.get('/client/status-page.js', (_req, res) => {
    if (!fs.existsSync(STATUS_PAGE_BUNDLE)) throw new UpflowError('Unavailable', 'the status page script is not built: run `npm run setup`');
    res.sendFile(STATUS_PAGE_BUNDLE, { headers: { 'Content-Type': 'text/javascript; charset=utf-8', 'Cache-Control': 'no-cache' } });
  });

  app.get('/hls-status/:filename', async (req, res) => {
    const services = servicesFor(req);
    const { filename } = filenameParam.parse(req.params);
    const { path: requestedPath } = hlsStatusQuery.parse(req.query);
    const status = await services.statuses.statusByFilename(filename, requestedPath);
    const job = status.job;
    res.json({
      status: status.state,
      hls_url: job?.hlsUrl ?? services.urls.playlist(status.titleKey),
      segments: job?.segments ?? 0,
      // Made parts of the title, content seconds: chunks make it where viewers are first.
      ready: job?.ready ?? [],
      complete: status.state === 'complete',
      title_key: status.titleKey,
      job_id: job?.id ?? null,
      progress_percent: job ? Math.round(job.percent * 10) / 10 : 0,
      rate: job?.rate ?? null,
      model: job?.model ?? null,
      // Waiting for a free worker: the place in line (1 = next), as in GET /jobs/:id.
      queue_position: job?.queuePosition ?? null,
      ...(job?.failureReason ? { reason: job.failureReason } : {}),
    });
  });

  /** `summary` for anyone (reachable or unreachable), `detail` for the owner (its name and version, or why not). */
  type JellyfinState = { summary: string; detail: string };
  let jellyfinChecked: { at: number; state: Promise<JellyfinState> } | undefined;
  const jellyfinHealth = (): Promise<JellyfinState> => {
    if (!jellyfin) return Promise.resolve({ summary: 'not configured', detail: 'not configured' });
    if (!jellyfinChecked || Date.now() - jellyfinChecked.at > JELLYFIN_HEALTH_CACHE_MS) {
      const state = jellyfin.serverInfo().then(
        (info) => ({ summary: 'reachable', detail: `reachable (${info.serverName} ${info.version})` }),
        (err: Error) => ({ summary: 'unreachable', detail: err.message }),
      );
      jellyfinChecked = { at: Date.now(), state };
    }
    return jellyfinChecked.state;
  };

  /** Open to all: names a failing part; its address and error only for the owner. */
  app.get('/health', async (_req, res) => {
    const owner = isOwner(res);
    const postgres = await store.ping().then(() => undefined, (err: Error) => postgresUnreachableReason(err) ?? `Postgres is unreachable (${err.message})`);
    const temporal = await temporalHealth(client);
    const problems = [postgres, temporal].filter((p): p is string => Boolean(p)).map((p) => (owner ? p : withoutDetails(p)));
    // Jellyfin is reported, not required: path triggers work without it.
    const jellyfinState = jellyfin ? await jellyfinHealth() : undefined;
    const jellyfinAnswer = jellyfinState === undefined ? {} : { jellyfin: owner ? jellyfinState.detail : jellyfinState.summary };
    if (problems.length > 0) {
      res.status(503).json({ status: 'unhealthy', streaming_enabled: config.streamingEnabled, reason: problems.join('; '), ...jellyfinAnswer });
      return;
    }
    res.json({ status: 'healthy', streaming_enabled: config.streamingEnabled, ...jellyfinAnswer });
  });

  /** Prometheus: jobs by state, segments and content made, each stream's fps and rate, time to first segment, HTTP timings. */
  app.get('/metrics', async (_req, res) => {
    res.type(metrics.contentType).send(await metrics.render());
  });

  app.get('/jobs', async (req, res) => {
    const services = servicesFor(req);
    res.json({ jobs: await services.jobs.list() });
  });

  app.get('/jobs/:id', async (req, res) => {
    const services = servicesFor(req);
    const { id } = jobIdParam.parse(req.params);
    res.json(await services.jobs.job(id));
  });

  /** Each segment as it became playable: timing, per-segment rate and the model that made it. */
  app.get('/jobs/:id/segments', async (req, res) => {
    const services = servicesFor(req);
    const { id } = jobIdParam.parse(req.params);
    res.json({ segments: await services.jobs.segments(id) });
  });

  app.post('/jobs/:id/cancel', async (req, res) => {
    const services = servicesFor(req);
    const { id } = jobIdParam.parse(req.params);
    res.status(202).json(await services.jobs.cancel(id));
  });

  /** What the HLS cleanup runs removed (or would have, dry runs), newest first. */
  app.get('/cleanup-runs', async (_req, res) => {
    const runs = await store.cleanupRuns();
    res.json({ runs: runs.map(({ report, ...run }) => ({ ...run, ...report })) });
  });

  const waiter = new HlsWaiter({ hlsDir: config.hlsDir, titles: { liveGrid: (key) => configuredServices.grids.liveGrid(key), tellViewer: (key, viewer) => configuredServices.triggers.tellViewer(key, viewer) }, logger, waitMs: HLS_WAIT_MS });
  app.use('/hls', hlsRouter({ hlsDir: config.hlsDir, apiKey: config.api.apiKey, tokenTtlMs: config.hls.tokenTtlMs, waiter }));

  app.use((_req, _res, next) => next(new UpflowError('NotFound', 'no such endpoint')));

  // One error handler: people get a reason, logs get the details.
  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const unavailable = serviceUnavailableError(err);
    if (unavailable) {
      // Postgres or Temporal is down: the reason says which; no stack for every request meanwhile.
      logger.warn({ path: req.path, reason: unavailable.message }, 'request failed: a service is down');
      res.status(503).set('Retry-After', String(RETRY_AFTER_SECONDS)).json({ error: isOwner(res) ? unavailable.message : withoutDetails(unavailable.message) });
      return;
    }
    const known = toHttpError(err);
    if (known) {
      // "Try again in a moment" (a segment being made): when.
      const retryAfter = err instanceof UpflowError ? err.details?.retryAfterSeconds : undefined;
      if (typeof retryAfter === 'number') res.set('Retry-After', String(retryAfter));
      if (known.status >= 500) logger.error({ err, path: req.path }, 'request failed');
      res.status(known.status).json({ error: known.message });
      return;
    }
    // Unexpected: an internal message could name files, queries or addresses; the log has it.
    const { id, message } = internalError();
    logger.error({ err, path: req.path, errorId: id }, 'request failed');
    res.status(500).json({ error: message, error_id: id });
  });
  return app;
}

/** A failure with a reason for people; undefined for an unexpected one (a 500). */
function toHttpError(err: unknown): { status: number; message: string } | undefined {
  if (err instanceof UpflowError) return { status: httpStatusOf(err.kind), message: err.message };
  if (err instanceof z.ZodError) return { status: 400, message: describeIssue(err) };
  const httpError = err as { status?: number; type?: string; message?: string; code?: string };
  if (httpError.type === 'entity.parse.failed') return { status: 400, message: 'request body is not valid JSON' };
  // zlib's own words ("incorrect header check") would not tell a person what was wrong.
  if (httpError.status === 400 && /^(Z_|ERR__ERROR_)/.test(httpError.code ?? '')) {
    return { status: 400, message: 'request body does not decompress as its Content-Encoding says' };
  }
  if (httpError.type === 'entity.too.large') return { status: 413, message: 'request body is too large' };
  if (typeof httpError.status === 'number' && httpError.status >= 400 && httpError.status < 500) {
    return { status: httpError.status, message: httpError.message ?? 'bad request' };
  }
  return undefined;
}
