/**
 * What guards the API: which browser pages may call it (Jellyfin's, UPFLOW_CORS_ORIGINS and its
 * own), which addresses a keyless API answers to, the API key on every request but the few that
 * players and Jellyfin's page make without one, rate limits on triggers and item lookups, and
 * security headers.
 */
import crypto from 'node:crypto';
import cors from 'cors';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { rateLimit } from 'express-rate-limit';
import helmet from 'helmet';
import { isLoopbackHost } from '../core/config';
import { UpflowError } from '../core/errors';
import type { Logger } from '../adapters/logger';

/**
 * Item lookups one client may have fail (unknown ids, items that cannot be upscaled) per minute.
 * Only failures count: players polling their item every second or two never meet it, while
 * someone probing ids through Upflow (each a call to Jellyfin) is stopped.
 */
export const ITEM_LOOKUP_FAILURES_PER_MINUTE = 120;

/** The key a request carries: `X-Api-Key`, `Authorization: Bearer …`, or `?api_key=` (webhooks, simple browser requests). */
export function apiKeyOf(req: Request): string | undefined {
  const header = req.get('x-api-key');
  if (header) return header;
  const bearer = /^Bearer\s+(\S+)$/i.exec(req.get('authorization') ?? '');
  if (bearer) return bearer[1];
  const query = req.query.api_key;
  return typeof query === 'string' && query.length > 0 ? query : undefined;
}

/**
 * A Jellyfin viewer's access token, sent the way Jellyfin's own clients send it:
 * `Authorization: MediaBrowser …, Token="…"` (the web script) or `X-Emby-Token`.
 */
export function jellyfinTokenOf(req: Request): string | undefined {
  const token = /^MediaBrowser\s.*\bToken="([^"]*)"/i.exec(req.get('authorization') ?? '')?.[1] ?? req.get('x-emby-token');
  return token ? token : undefined;
}

/** The one thing a Jellyfin viewer's token lets a caller do: ask for the item they play to be upscaled. */
function isViewerRoute(method: string, path: string): boolean {
  return method === 'POST' && /^\/items\/[^/]+\/upscale$/.test(path);
}

/** The item status Jellyfin's page polls: open, but its stream only for a viewer's token (routes/items.ts). */
function isItemStatusRoute(method: string, path: string): boolean {
  return (method === 'GET' || method === 'HEAD') && /^\/items\/[^/]+\/status$/.test(path);
}

/** The viewer's Jellyfin token this request came with, when it came with no API key (routes/items.ts checks it with Jellyfin). */
export function viewerTokenOf(res: Response): string | undefined {
  return typeof res.locals.viewerToken === 'string' ? res.locals.viewerToken : undefined;
}

/** Equal keys, compared in time that does not depend on where they differ (or on the given key's length). */
export function sameKey(given: string, expected: string): boolean {
  const digest = (text: string) => crypto.createHash('sha256').update(text).digest();
  return crypto.timingSafeEqual(digest(given), digest(expected));
}

/**
 * What a caller without the key may reach when UPFLOW_API_KEY is set: `/health`, the status
 * page's shell and the two scripts, the item status Jellyfin's page polls, and `/hls/…`, which
 * guards itself (players get signed URLs).
 */
export function isOpenRoute(method: string, path: string): boolean {
  if (isHlsPath(path)) return true;
  if (method !== 'GET' && method !== 'HEAD') return false;
  return path === '/health' || path === '/' || /^\/client\/[^/]+\.js$/.test(path) || isItemStatusRoute(method, path);
}

/**
 * The caller gave the API key, or Upflow has none (then only this machine reaches it): such a
 * caller is the owner, and answers may show file paths and the services' own words.
 */
export function isOwner(res: Response): boolean {
  return res.locals.owner === true;
}

/**
 * Unset key: every request is the owner's (the API listens on loopback only, core/config.ts).
 * Set: the key on every route but the open ones and the trigger a Jellyfin viewer's token may
 * make; a wrong key is refused wherever it is given.
 */
export function requireApiKey(apiKey: string | undefined): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    // The HLS routes check the key (or a signed token) themselves.
    if (isHlsPath(req.path)) {
      next();
      return;
    }
    if (!apiKey) {
      res.locals.owner = true;
      next();
      return;
    }
    const given = apiKeyOf(req);
    if (given !== undefined) {
      if (!sameKey(given, apiKey)) {
        next(new UpflowError('Unauthorized', 'the API key is wrong'));
        return;
      }
      res.locals.owner = true;
      next();
      return;
    }
    if (isOpenRoute(req.method, req.path)) {
      const statusToken = isItemStatusRoute(req.method, req.path) ? jellyfinTokenOf(req) : undefined;
      if (statusToken !== undefined) res.locals.viewerToken = statusToken;
      next();
      return;
    }
    const viewerToken = isViewerRoute(req.method, req.path) ? jellyfinTokenOf(req) : undefined;
    if (viewerToken !== undefined) {
      res.locals.viewerToken = viewerToken;
      next();
      return;
    }
    const what = req.method === 'GET' || req.method === 'HEAD' ? 'this request reads Upflow\'s jobs or settings' : 'this request changes something';
    next(new UpflowError('Unauthorized', `${what} and needs the API key (UPFLOW_API_KEY): send it as the X-Api-Key header or ?api_key=`));
  };
}

/**
 * Without a key, only requests addressed to this machine by a loopback name: a web page whose
 * own name was made to point at 127.0.0.1 (DNS rebinding) is then the same origin as Upflow,
 * and CORS would not stop it, but its requests carry its own name.
 */
export function requireLoopbackHostWithoutKey(apiKey: string | undefined): RequestHandler {
  return (req: Request, _res: Response, next: NextFunction) => {
    if (apiKey || isLoopbackHost(hostnameOf(req.get('host') ?? ''))) {
      next();
      return;
    }
    next(new UpflowError('Forbidden', 'without UPFLOW_API_KEY the API answers only requests addressed to this machine (localhost or 127.0.0.1); set UPFLOW_API_KEY to reach it by another name'));
  };
}

/** "example.lan:5000" → "example.lan"; "[::1]:5000" → "::1"; "" for what is not a host. */
function hostnameOf(hostHeader: string): string {
  try {
    return new URL(`http://${hostHeader}`).hostname.replace(/^\[(.*)\]$/, '$1');
  } catch {
    return '';
  }
}

/** `/hls` and below: playlists and segments, which guard themselves. */
function isHlsPath(path: string): boolean {
  return path === '/hls' || path.startsWith('/hls/');
}

/**
 * The origins whose pages may call the API: `allowed` (Jellyfin's, UPFLOW_CORS_ORIGINS) get CORS
 * headers; Upflow's own pages (the status page) are the same origin. A request a browser sends
 * from any other page (fetch, XHR, a form's post: all carry `Origin`) is refused before it does
 * anything, so that another site cannot start or cancel upscales in a visitor's browser. The
 * HLS files are served to players of any page, as nginx serves them (deploy/nginx.conf): they
 * change nothing, and guard themselves.
 */
export function allowOnlyKnownOrigins(allowed: readonly string[]): RequestHandler[] {
  const allowedSet = new Set(allowed);
  const refuseOthers: RequestHandler = (req, _res, next) => {
    const origin = req.get('origin');
    if (origin === undefined || allowedSet.has(origin) || isSameOrigin(origin, req) || isHlsPath(req.path)) {
      next();
      return;
    }
    next(new UpflowError('Forbidden', `requests from pages of ${origin.slice(0, 200)} are not allowed: only Jellyfin's (JELLYFIN_URL), those in UPFLOW_CORS_ORIGINS and Upflow's own`));
  };
  const corsForAllowed = cors({ origin: (origin, callback) => callback(null, origin !== undefined && allowedSet.has(origin)), maxAge: 600 });
  const corsForPlayers = cors();
  return [refuseOthers, (req, res, next) => (isHlsPath(req.path) ? corsForPlayers : corsForAllowed)(req, res, next)];
}

/** The page's origin names the host the request was sent to (behind a trusted proxy: the one the browser used). */
function isSameOrigin(origin: string, req: Request): boolean {
  try {
    return new URL(origin).host === req.host;
  } catch {
    return false; // `null` (a sandboxed frame, a file:// page) or junk
  }
}

/**
 * A proxy's X-Forwarded-For while UPFLOW_TRUST_PROXY is unset: every client behind it shares one
 * rate limit and `hls_url`s keep http. Said once, so that the owner can set it.
 */
export function warnAboutUntrustedProxy(trustProxy: readonly string[], logger: Logger): RequestHandler {
  let warned = trustProxy.length > 0;
  return (req, _res, next) => {
    if (!warned && req.get('x-forwarded-for') !== undefined) {
      warned = true;
      logger.warn({ from: req.socket.remoteAddress }, 'a request carries X-Forwarded-For but UPFLOW_TRUST_PROXY is unset, so it is not believed: behind a reverse proxy, set UPFLOW_TRUST_PROXY to its address');
    }
    next();
  };
}

/**
 * Triggers per client (its address) per minute; the webhook sends one per playback start.
 * `skip`: requests that start nothing (notifications Upflow ignores) and do not count.
 */
export function limitTriggers(perMinute: number, skip: (req: Request) => boolean = () => false): RequestHandler {
  return rateLimit({
    windowMs: 60_000,
    limit: perMinute,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    skip,
    // Said once in Upflow's own log instead (warnAboutUntrustedProxy).
    validate: { xForwardedForHeader: false },
    handler: (_req, _res, next) => next(new UpflowError('TooManyRequests', `too many triggers: at most ${perMinute} a minute from one client (UPFLOW_TRIGGER_RATE_LIMIT); try again shortly`)),
  });
}

/**
 * A lookup that cost a call to Jellyfin and found nothing, answered with 200 all the same (a
 * viewer's token Jellyfin refused on the status route): counted by `limitItemLookups`.
 */
export function countAsFailedLookup(res: Response): void {
  res.locals.failedLookup = true;
}

/** Failed item lookups per client per minute: each unknown item, or refused token, costs a call to Jellyfin. */
export function limitItemLookups(perMinute = ITEM_LOOKUP_FAILURES_PER_MINUTE): RequestHandler {
  return rateLimit({
    windowMs: 60_000,
    limit: perMinute,
    skipSuccessfulRequests: true,
    requestWasSuccessful: (_req, res) => res.statusCode < 400 && res.locals.failedLookup !== true,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    validate: { xForwardedForHeader: false },
    handler: (_req, _res, next) => next(new UpflowError('TooManyRequests', `too many failed item lookups: at most ${perMinute} a minute from one client; try again shortly`)),
  });
}

/**
 * helmet's headers, loosened only where Upflow's pages need it: its script is loaded by
 * Jellyfin's page from another origin, and the status page plays HLS through MSE (blob: media,
 * hls.js's blob: worker) from wherever `hls_url` points (nginx on another port).
 */
export function securityHeaders(): RequestHandler {
  return helmet({
    contentSecurityPolicy: {
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'", "'unsafe-inline'"],
        imgSrc: ["'self'", 'data:'],
        mediaSrc: ["'self'", 'blob:', 'http:', 'https:'],
        workerSrc: ["'self'", 'blob:'],
        connectSrc: ["'self'", 'http:', 'https:'],
        objectSrc: ["'none'"],
        frameAncestors: ["'none'"],
        baseUri: ["'self'"],
        formAction: ["'self'"],
      },
    },
    crossOriginResourcePolicy: { policy: 'cross-origin' },
    // Whether to insist on https is the reverse proxy's call, not a LAN service's.
    strictTransportSecurity: false,
  });
}
