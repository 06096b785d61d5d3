/**
 * The HTTP API, assembled: the middleware every request passes (security headers, host, origin
 * and key checks, the body limit, request timings), the routes by resource (api/routes/: the
 * seed's and the webhook's triggers, the web script's items, the status page and scripts, health
 * and metrics, jobs, cleanup runs, HLS), and one error handler that turns every failure into
 * JSON a person can read. Routes validate and delegate to the use cases in services/.
 */
import express, { type NextFunction, type Request, type Response } from 'express';
import { z } from 'zod';
import type { Client } from '@temporalio/client';
import type { Config } from '../core/config';
import { UpflowError } from '../core/errors';
import { JellyfinClient } from '../adapters/jellyfin';
import type { Logger } from '../adapters/logger';
import { ApiMetrics } from '../adapters/metrics';
import type { UpflowStore } from '../adapters/postgres';
import { createServices, type Services } from '../services';
import { LiveProgressCache } from '../services/live-progress';
import {
  allowOnlyKnownOrigins, isOwner, limitTriggers, requireApiKey, requireLoopbackHostWithoutKey, securityHeaders, warnAboutUntrustedProxy,
} from './security';
import { describeIssue, isIgnoredNotification } from './schemas';
import { RETRY_AFTER_SECONDS, serviceUnavailableError } from './service-errors';
import { httpStatusOf } from './http-errors';
import { internalError, withoutDetails } from './public-answers';
import { HlsWaiter } from './hls-waiting';
import { cleanupRoutes } from './routes/cleanup';
import { BODY_LIMIT, type RouteContext } from './routes/context';
import { healthRoutes } from './routes/health';
import { hlsRouter } from './routes/hls';
import { itemRoutes } from './routes/items';
import { jobRoutes } from './routes/jobs';
import { pageRoutes } from './routes/pages';
import { triggerRoutes } from './routes/triggers';

export interface ApiDeps {
  config: Config;
  store: UpflowStore;
  client: Client;
  logger: Logger;
}

/**
 * How long a player's request for a segment (or the playlist) not made yet waits for it: long
 * enough for a chunk to start where the player is; hls.js retries after its own time limit.
 */
const HLS_WAIT_MS = 20_000;

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

  const routes: RouteContext = {
    config, store, client, logger, jellyfin, servicesFor,
    // Notifications Upflow ignores start nothing: a webhook sending every kind does not use up the
    // limit. On the webhook's route alone: the script's route reads no body, so any caller could
    // send one there that reads as ignored and never be counted.
    triggerLimit: limitTriggers(config.api.triggerRateLimit, (req) => req.path === '/upscale-trigger' && isIgnoredNotification(req.body, config.skipFromHeight)),
  };
  app.use(triggerRoutes(routes));
  app.use(itemRoutes(routes));
  app.use(pageRoutes());
  app.use(healthRoutes(routes, metrics));
  app.use(jobRoutes(routes));
  app.use(cleanupRoutes(routes));

  const waiter = new HlsWaiter({ hlsDir: config.hlsDir, titles: { liveGrid: (key) => configuredServices.grids.liveGrid(key), beingMade: (key) => configuredServices.grids.beingMade(key), tellViewer: (key, viewer) => configuredServices.triggers.tellViewer(key, viewer) }, logger, waitMs: HLS_WAIT_MS });
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
