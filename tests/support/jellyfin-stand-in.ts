/**
 * A small local stand-in for a Jellyfin server. The real Jellyfin (a .NET server with its own
 * package repository) cannot be installed from this machine's registries, so the tests run
 * against this instead. It answers the two API calls Upflow makes, with Jellyfin's URL shapes,
 * auth header and JSON field names:
 *   GET /System/Info           (Upflow checks the URL and the API key)
 *   GET /Items/{id}            (Upflow reads the item's file path and type)
 *   POST /Items/{id}/Refresh   (after Upflow published a version beside a movie)
 * and, for the browser tests, serves what jellyfin-web's player needs (see `web`).
 */
import express from 'express';
import { normalizeItemId } from '../../core/jellyfin-items';
import { listenLocally } from './local-server';

export interface StandInItem {
  name: string;
  /** The file's path as Jellyfin reports it (`Path`, `MediaSources[0].Path`). */
  path: string;
  /** Jellyfin's `Type`; default Movie. */
  type?: string;
}

export interface JellyfinStandIn {
  url: string;
  apiKey: string;
  /** Items by their 32-digit id; tests may add more. */
  items: Map<string, StandInItem>;
  /** Every request's method and path, in order (for asserting what Upflow asked). */
  requests: { method: string; path: string; authorized: boolean }[];
  /** The Express app, for routes a test adds (the web player page). */
  app: express.Express;
  close(): Promise<void>;
}

/** Accepts the key the ways Jellyfin does: `Authorization: MediaBrowser Token="…"`, `X-Emby-Token`, `?api_key=`. */
function presentedKey(req: express.Request): string | undefined {
  const authorization = req.get('authorization') ?? '';
  const token = /Token="([^"]*)"/.exec(authorization)?.[1];
  return token ?? req.get('x-emby-token') ?? (typeof req.query.api_key === 'string' ? req.query.api_key : undefined);
}

export interface StandInOptions {
  apiKey?: string;
  items?: Record<string, StandInItem>;
  /** Answer `GET /System/Info` with this HTTP status instead (a server Upflow's health check finds broken); items still answer. */
  systemInfoStatus?: number;
}

export async function startJellyfinStandIn(options: StandInOptions = {}): Promise<JellyfinStandIn> {
  const apiKey = options.apiKey ?? 'stand-in-api-key';
  const items = new Map<string, StandInItem>();
  for (const [id, item] of Object.entries(options.items ?? {})) items.set(normalizeItemId(id) ?? id, item);
  const requests: JellyfinStandIn['requests'] = [];
  const app = express();
  app.use((req, _res, next) => {
    requests.push({ method: req.method, path: req.path, authorized: presentedKey(req) === apiKey });
    next();
  });

  const requireKey: express.RequestHandler = (req, res, next) => {
    if (presentedKey(req) !== apiKey) {
      res.status(401).send('Unauthorized');
      return;
    }
    next();
  };

  app.get('/System/Info', requireKey, (_req, res) => {
    if (options.systemInfoStatus !== undefined) {
      res.status(options.systemInfoStatus).send('Broken.');
      return;
    }
    res.json({ ServerName: 'stand-in', Version: '10.10.7', Id: '0123456789abcdef0123456789abcdef', OperatingSystem: 'Linux' });
  });

  app.get('/Items/:itemId', requireKey, (req, res) => {
    // Jellyfin binds the route's Guid with or without dashes.
    const id = normalizeItemId(String(req.params.itemId));
    if (!id) {
      res.status(400).send('The value is not valid.');
      return;
    }
    const item = items.get(id);
    if (!item) {
      res.status(404).send('Item not found.');
      return;
    }
    res.json({
      Name: item.name,
      ServerId: '0123456789abcdef0123456789abcdef',
      Id: id,
      Path: item.path,
      Type: item.type ?? 'Movie',
      MediaType: 'Video',
      MediaSources: [{ Protocol: 'File', Id: id, Path: item.path, Type: 'Default', Container: 'mp4' }],
    });
  });

  app.post('/Items/:itemId/Refresh', requireKey, (req, res) => {
    const id = normalizeItemId(String(req.params.itemId));
    res.status(id && items.has(id) ? 204 : 404).end();
  });

  const server = await listenLocally(app);
  return { url: server.url, apiKey, items, requests, app, close: server.close };
}
