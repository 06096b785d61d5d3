/**
 * A small local stand-in for a Jellyfin server. The real Jellyfin (a .NET server with its own
 * package repository) cannot be installed from this machine's registries, so the tests run
 * against this instead. It answers the API calls Upflow makes, with Jellyfin's URL shapes,
 * auth header and JSON field names:
 *   GET /System/Info           (Upflow checks the URL and the API key)
 *   GET /Items/{id}            (with the API key: the item's file path and type; with a viewer's
 *                               token: the item if that user may see it, without its path, else 404)
 *   POST /Items/{id}/Refresh   (after Upflow published a version beside a movie)
 * and, for the browser tests, serves what jellyfin-web's player needs (jellyfin-web.ts,
 * jellyfin-transcode.ts).
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
  /** `Genres`; Jellyfin keeps a show's on its series, so an episode usually has none of its own. */
  genres?: string[];
  /** An episode's series (`SeriesId`). */
  seriesId?: string;
  width?: number;
  height?: number;
}

/** A logged-in Jellyfin user, by the access token jellyfin-web holds for them. */
export interface StandInUser {
  name: string;
  /** Items this user may not see (a library outside their access, parental rating). */
  hidden: Set<string>;
  /** Jellyfin fails this user's item lookups with this HTTP status (a server in trouble). */
  failWith?: number;
}

/** The viewer every page logs in as unless a test says otherwise. */
export const VIEWER_TOKEN = 'stand-in-viewer-token';

export interface JellyfinStandIn {
  url: string;
  apiKey: string;
  /** Items by their 32-digit id; tests may add more. */
  items: Map<string, StandInItem>;
  /** Users by access token; tests may add more. */
  users: Map<string, StandInUser>;
  /** The token or key a request carries, the ways Jellyfin accepts it. */
  presentedToken(req: express.Request): string | undefined;
  /** The API key, or a user's token. */
  knowsToken(token: string): boolean;
  /** The API key, or a token of a user who may see the item. */
  mayPlay(token: string, itemId: string): boolean;
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
  const users = new Map<string, StandInUser>([[VIEWER_TOKEN, { name: 'viewer', hidden: new Set() }]]);
  const knowsToken = (token: string) => token === apiKey || users.has(token);
  const mayPlay = (token: string, itemId: string) => {
    if (token === apiKey) return true;
    const user = users.get(token);
    const id = normalizeItemId(itemId);
    return user !== undefined && id !== undefined && !user.hidden.has(id);
  };
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

  app.get('/Items/:itemId', (req, res) => {
    const token = presentedKey(req);
    if (token === undefined || !knowsToken(token)) {
      res.status(401).send('Unauthorized');
      return;
    }
    const failWith = users.get(token)?.failWith;
    if (failWith !== undefined) {
      res.status(failWith).send('Error processing request.');
      return;
    }
    // Jellyfin binds the route's Guid with or without dashes.
    const id = normalizeItemId(String(req.params.itemId));
    if (!id) {
      res.status(400).send('The value is not valid.');
      return;
    }
    const item = items.get(id);
    // An item the user may not see is, to that user, not there.
    if (!item || !mayPlay(token, id)) {
      res.status(404).send('Item not found.');
      return;
    }
    // Only an administrator sees file paths.
    const admin = token === apiKey;
    res.json({
      Name: item.name,
      ServerId: '0123456789abcdef0123456789abcdef',
      Id: id,
      ...(admin ? { Path: item.path } : {}),
      Type: item.type ?? 'Movie',
      MediaType: 'Video',
      Genres: item.genres ?? [],
      ...(item.seriesId ? { SeriesId: item.seriesId } : {}),
      MediaSources: [{ Protocol: 'File', Id: id, ...(admin ? { Path: item.path } : {}), Type: 'Default', Container: 'mp4' }],
    });
  });

  app.post('/Items/:itemId/Refresh', requireKey, (req, res) => {
    const id = normalizeItemId(String(req.params.itemId));
    res.status(id && items.has(id) ? 204 : 404).end();
  });

  const server = await listenLocally(app);
  return { url: server.url, apiKey, items, users, presentedToken: presentedKey, knowsToken, mayPlay, requests, app, close: server.close };
}
