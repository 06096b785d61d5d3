/**
 * What guards the API: the API key on every request that changes something, a rate limit on
 * triggers, and security headers. Reads stay open: players, the web script and the status
 * page must fetch status and HLS without a secret.
 */
import crypto from 'node:crypto';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { rateLimit } from 'express-rate-limit';
import helmet from 'helmet';
import { AppError } from '../common/errors';

const READ_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** The key a request carries: `X-Api-Key`, `Authorization: Bearer …`, or `?api_key=` (webhooks, simple browser requests). */
export function apiKeyOf(req: Request): string | undefined {
  const header = req.get('x-api-key');
  if (header) return header;
  const bearer = /^Bearer\s+(\S+)$/i.exec(req.get('authorization') ?? '');
  if (bearer) return bearer[1];
  const query = req.query.api_key;
  return typeof query === 'string' && query.length > 0 ? query : undefined;
}

/** Equal keys, compared in time that does not depend on where they differ (or on the given key's length). */
export function sameKey(given: string, expected: string): boolean {
  const digest = (text: string) => crypto.createHash('sha256').update(text).digest();
  return crypto.timingSafeEqual(digest(given), digest(expected));
}

/** Unset key: everything is open (the README says to set one whenever other machines reach the API). */
export function requireApiKeyToChange(apiKey: string | undefined): RequestHandler {
  return (req: Request, _res: Response, next: NextFunction) => {
    if (!apiKey || READ_METHODS.has(req.method)) {
      next();
      return;
    }
    const given = apiKeyOf(req);
    if (given === undefined) {
      next(new AppError(401, 'this request changes something and needs the API key (UPFLOW_API_KEY): send it as the X-Api-Key header or ?api_key='));
      return;
    }
    next(sameKey(given, apiKey) ? undefined : new AppError(401, 'the API key is wrong'));
  };
}

/** Triggers per client (its address) per minute; the webhook sends one per playback start. */
export function limitTriggers(perMinute: number): RequestHandler {
  return rateLimit({
    windowMs: 60_000,
    limit: perMinute,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    handler: (_req, _res, next) => next(new AppError(429, `too many triggers: at most ${perMinute} a minute from one client (UPFLOW_TRIGGER_RATE_LIMIT); try again shortly`)),
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
