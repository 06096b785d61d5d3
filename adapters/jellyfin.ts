/**
 * The Jellyfin API calls Upflow makes: `GET /System/Info` (is the server there, is the key
 * good), `GET /Items/{id}` (the file behind an item: the Webhook plugin sends no path; and, with
 * a viewer's own token, whether that user may see the item) and `POST /Items/{id}/Refresh`
 * (after publishing an upscaled version beside a movie).
 * Made with Jellyfin's own TypeScript SDK (@jellyfin/sdk, generated from Jellyfin's OpenAPI):
 * its URLs, parameters and auth header are Jellyfin's by construction. Every failure becomes an
 * UpflowError with a reason an admin can act on.
 */
import crypto from 'node:crypto';
import os from 'node:os';
import { Jellyfin } from '@jellyfin/sdk';
import type { Api } from '@jellyfin/sdk/lib/api';
import { getLibraryApi } from '@jellyfin/sdk/lib/utils/api/library-api';
import { getSystemApi } from '@jellyfin/sdk/lib/utils/api/system-api';
import { isAxiosError, type AxiosResponse } from 'axios';
import { z } from 'zod';
import { UpflowError } from '../core/errors';
import { normalizeItemId } from '../core/jellyfin-items';

export interface JellyfinSettings {
  url: string;
  apiKey: string;
}

export interface JellyfinItem {
  id: string;
  name: string;
  path: string;
  /** Jellyfin's item type: Movie, Episode, MusicVideo, Video… */
  type: string;
  /** The item's genres; an episode's are its series' when it has none of its own. */
  genres: string[];
}

const REQUEST_TIMEOUT_MS = 5000;
/** A polling script asks about the same item every second or two; its file does not move that often. */
const ITEM_CACHE_MS = 60_000;
/**
 * Ids Jellyfin does not have, asked again (a script on an item Jellyfin forgot, or someone
 * probing ids) within this long, are answered without asking Jellyfin. Jellyfin derives an
 * item's id from its path, so an id that is unknown now is not a file about to be scanned.
 */
const UNKNOWN_ITEM_CACHE_MS = 5 * 60_000;
/**
 * What Jellyfin said about a viewer's token and an item is believed this long: the web script
 * triggers once per playback and again on seeks, and a user's rights change rarely.
 */
const VIEWER_ACCESS_CACHE_MS = 30_000;
/** Past this many cached ids, expired ones are dropped so a cache cannot grow without bound. */
const CACHE_SWEEP_SIZE = 500;
/** Beyond it even unexpired ids are dropped, oldest first: a flood of random ids costs bounded memory. */
const CACHE_MAX_SIZE = 10_000;

/** Values kept until a deadline; bounded in size. */
class ExpiringCache<T> {
  private readonly entries = new Map<string, { value: T; until: number }>();

  constructor(private readonly ttlMs: number) {}

  get(key: string): T | undefined {
    const entry = this.entries.get(key);
    return entry && entry.until > Date.now() ? entry.value : undefined;
  }

  delete(key: string): void {
    this.entries.delete(key);
  }

  set(key: string, value: T): void {
    const now = Date.now();
    if (this.entries.size >= CACHE_SWEEP_SIZE) {
      for (const [k, entry] of this.entries) if (entry.until <= now) this.entries.delete(k);
    }
    // Oldest first: a Map iterates in insertion order.
    for (const k of this.entries.keys()) {
      if (this.entries.size < CACHE_MAX_SIZE) break;
      this.entries.delete(k);
    }
    this.entries.delete(key);
    this.entries.set(key, { value, until: now + this.ttlMs });
  }
}

// Nullish, not optional: Jellyfin omits null fields by default, but a proxy or an older server may send them.
const systemInfo = z.object({ ServerName: z.string().nullish(), Version: z.string().nullish() });
const itemBody = z.object({
  Id: z.string(),
  Name: z.string().nullish(),
  Path: z.string().nullish(),
  Type: z.string().nullish(),
  MediaType: z.string().nullish(),
  MediaSources: z.array(z.object({ Path: z.string().nullish() })).nullish(),
  Genres: z.array(z.string()).nullish(),
  SeriesId: z.string().nullish(),
});
const genresBody = z.object({ Genres: z.array(z.string()).nullish() });

/** Callers pass validated ids; checked again because the id becomes part of a URL. */
function urlItemId(id: string): string {
  const itemId = normalizeItemId(id);
  if (!itemId) throw new UpflowError('BadInput', `${JSON.stringify(id)} is not a Jellyfin item id (32 hex digits, dashes allowed)`);
  return itemId;
}

/**
 * Asked with a viewer's own access token: `allowed`, the user may see the item; `token-refused`,
 * Jellyfin does not know the token (logged out, expired, made up); `not-visible`, the user may
 * not see the item (outside their libraries, above their parental rating) or it does not exist.
 */
export type ViewerAccess = 'allowed' | 'token-refused' | 'not-visible';

/** How Upflow names itself to Jellyfin (its Dashboard lists the devices that call it). */
const SDK = new Jellyfin({ clientInfo: { name: 'Upflow', version: '1' }, deviceInfo: { name: os.hostname(), id: 'upflow' } });

export class JellyfinClient {
  private readonly items = new ExpiringCache<JellyfinItem>(ITEM_CACHE_MS);
  /** By a hash of the token and the item id: a token is never kept as it was given. */
  private readonly viewerAnswers = new ExpiringCache<ViewerAccess>(VIEWER_ACCESS_CACHE_MS);
  /** Ids Jellyfin answered 404 for, with the refusal. */
  private readonly unknownItems = new ExpiringCache<UpflowError>(UNKNOWN_ITEM_CACHE_MS);
  private readonly timeoutMs: number;
  /** Upflow's own calls, with JELLYFIN_API_KEY. */
  private readonly api: Api;

  /** `timeoutMs` is for tests; Jellyfin answers these calls in milliseconds when it is up. */
  constructor(private readonly settings: JellyfinSettings, options: { timeoutMs?: number } = {}) {
    this.timeoutMs = options.timeoutMs ?? REQUEST_TIMEOUT_MS;
    // settings.url comes without a trailing slash (core/config.ts).
    this.api = SDK.createApi(settings.url, settings.apiKey);
  }

  get url(): string {
    return this.settings.url;
  }

  async serverInfo(): Promise<{ serverName: string; version: string }> {
    const parsed = systemInfo.safeParse(await this.call('/System/Info', 'system info', (options) => getSystemApi(this.api).getSystemInfo(options)));
    if (!parsed.success) throw new UpflowError('Upstream', `Jellyfin at ${this.url} answered its system info with an unexpected body`);
    const info = parsed.data;
    return { serverName: info.ServerName ?? 'Jellyfin', version: info.Version ?? 'unknown version' };
  }

  /** `id` with or without dashes; the answer's `id` is the 32-digit form (normalizeItemId). */
  async item(id: string): Promise<JellyfinItem> {
    const itemId = urlItemId(id);
    const cached = this.items.get(itemId);
    if (cached) return cached;
    const unknown = this.unknownItems.get(itemId);
    if (unknown) throw unknown;
    let answer: unknown;
    try {
      answer = await this.call(`/Items/${itemId}`, `item ${itemId}`, (options) => getLibraryApi(this.api).getItem({ itemId }, options));
    } catch (err) {
      if (err instanceof UpflowError && err.kind === 'NotFound') this.unknownItems.set(itemId, err);
      throw err;
    }
    const parsed = itemBody.safeParse(answer);
    if (!parsed.success) throw new UpflowError('Upstream', `Jellyfin at ${this.url} answered item ${itemId} with an unexpected body`);
    const body = parsed.data;
    const described = `Jellyfin item ${itemId} (${body.Name ?? 'no name'}, ${body.Type ?? 'unknown type'})`;
    // A webhook on every PlaybackStart also fires for songs and audiobooks: refuse them before a job fails on them.
    if (body.MediaType && body.MediaType !== 'Video') throw new UpflowError('InvalidMedia', `${described} is ${body.MediaType}, not a video`);
    // `||`: an empty Path (some virtual items) falls back to the media source's.
    const path = body.Path || body.MediaSources?.find((s) => s.Path)?.Path;
    if (!path) {
      throw new UpflowError('InvalidMedia', `${described} has no file to upscale`);
    }
    const genres = body.Genres?.length || !body.SeriesId ? body.Genres ?? [] : await this.seriesGenres(body.SeriesId);
    const item = { id: itemId, name: body.Name ?? '', path, type: body.Type ?? '', genres };
    this.items.set(itemId, item);
    return item;
  }

  /**
   * Jellyfin keeps a show's genres on the series, not on each episode. Only a hint for the
   * model's choice: a series that cannot be read gives none, and the configured kind applies.
   */
  private async seriesGenres(seriesId: string): Promise<string[]> {
    const id = normalizeItemId(seriesId);
    if (!id) return [];
    try {
      const parsed = genresBody.safeParse(await this.call(`/Items/${id}`, `series ${id}`, (options) => getLibraryApi(this.api).getItem({ itemId: id }, options)));
      return parsed.success ? parsed.data.Genres ?? [] : [];
    } catch {
      return [];
    }
  }

  /**
   * Whether the user whose token this is may see the item, as Jellyfin itself answers that user
   * (`GET /Items/{id}` with their token). Other failures (Jellyfin down) are thrown, not cached.
   */
  async viewerAccess(token: string, id: string): Promise<ViewerAccess> {
    const itemId = urlItemId(id);
    const key = `${crypto.createHash('sha256').update(token).digest('hex')}:${itemId}`;
    const cached = this.viewerAnswers.get(key);
    if (cached) return cached;
    let access: ViewerAccess = 'allowed';
    try {
      const asViewer = SDK.createApi(this.api.basePath, token);
      await this.call(`/Items/${itemId}`, `item ${itemId}`, (options) => getLibraryApi(asViewer).getItem({ itemId }, options), { viewer: true });
    } catch (err) {
      if (!(err instanceof UpflowError)) throw err;
      if (err.kind === 'Unauthorized') access = 'token-refused';
      else if (err.kind === 'NotFound') access = 'not-visible';
      else throw err;
    }
    this.viewerAnswers.set(key, access);
    return access;
  }

  /** Asks Jellyfin to scan the item again (its folder: a new version file beside it). */
  async refreshItem(id: string): Promise<void> {
    const itemId = urlItemId(id);
    this.items.delete(itemId);
    await this.call(`/Items/${itemId}/Refresh`, `a refresh of item ${itemId}`, (options) =>
      getLibraryApi(this.api).refreshItem({ itemId, metadataRefreshMode: 'Default', imageRefreshMode: 'Default' }, options), { json: false });
  }

  /**
   * One SDK call, its failures in words: `path` names what was asked in them. `viewer`: made
   * with a viewer's token (a refused one is then Unauthorized, not a wrong JELLYFIN_API_KEY);
   * `json`: the answer is a body to read.
   */
  private async call(
    path: string,
    what: string,
    run: (options: { timeout: number; responseType: 'text' }) => Promise<AxiosResponse<unknown>>,
    { viewer = false, json = true }: { viewer?: boolean; json?: boolean } = {},
  ): Promise<unknown> {
    let response: AxiosResponse<unknown> | undefined;
    for (let attempt = 1; !response; attempt++) {
      try {
        // As text: a body that is not JSON (another server at that address) is told as such.
        response = await run({ timeout: this.timeoutMs, responseType: 'text' });
      } catch (err) {
        // Node keeps connections alive: one Jellyfin closed (a restart, a stop) is reset on reuse,
        // before any answer. Asked once more on a new connection, Jellyfin answers or is not there.
        if (attempt === 1 && isAxiosError(err) && err.code === 'ECONNRESET' && !err.response) continue;
        throw this.failure(err, path, what, viewer);
      }
    }
    if (!json) return undefined;
    try {
      return JSON.parse(String(response.data)) as unknown;
    } catch {
      throw new UpflowError('Upstream', `Jellyfin at ${this.url} answered ${what} with something that is not JSON: is JELLYFIN_URL the server's address?`);
    }
  }

  private failure(err: unknown, path: string, what: string, viewer: boolean): UpflowError {
    if (!isAxiosError(err)) return new UpflowError('Upstream', `Jellyfin at ${this.url} could not be asked for ${what}: ${(err as Error).message}`);
    const status = err.response?.status;
    if (status === undefined) {
      const cause = err.code === 'ECONNABORTED' || err.code === 'ETIMEDOUT' ? `no answer within ${this.timeoutMs / 1000} s` : (err.code ?? err.message);
      return new UpflowError('Upstream', `Jellyfin at ${this.url} is unreachable (${cause}): check JELLYFIN_URL`);
    }
    if (viewer && status === 401) return new UpflowError('Unauthorized', "Jellyfin did not accept the viewer's token");
    if (status === 401 || status === 403) {
      return new UpflowError('Upstream', `Jellyfin at ${this.url} refused the API key (HTTP ${status}): check JELLYFIN_API_KEY (Dashboard → API Keys)`);
    }
    if (status === 404) {
      // An unknown item is the caller's mistake; a missing /System/Info means the URL is not Jellyfin's root.
      if (path.startsWith('/Items/')) return new UpflowError('NotFound', `Jellyfin has no ${what}`);
      return new UpflowError('Upstream', `Jellyfin at ${this.url} has no ${path} (HTTP 404): is JELLYFIN_URL the server's address, with its base URL if it has one?`);
    }
    // Servers before 10.9 only have /Users/{userId}/Items/{id}; their /Items/{id} takes POST and DELETE.
    if (status === 405) {
      return new UpflowError('Upstream', `Jellyfin at ${this.url} does not answer GET ${path} (HTTP 405): Upflow needs Jellyfin 10.9 or newer`);
    }
    return new UpflowError('Upstream', `Jellyfin at ${this.url} answered HTTP ${status} for ${what}`);
  }
}
