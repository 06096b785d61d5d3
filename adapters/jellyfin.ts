/**
 * The two Jellyfin API calls Upflow makes: `GET /System/Info` (is the server there, is the key
 * good) and `GET /Items/{id}` (the file behind an item: the Webhook plugin sends no path).
 * Every failure becomes an AppError with a reason an admin can act on.
 */
import { z } from 'zod';
import { AppError } from '../common/errors';

export interface JellyfinSettings {
  url: string;
  apiKey: string;
}

export interface JellyfinItem {
  id: string;
  name: string;
  path: string;
}

const REQUEST_TIMEOUT_MS = 5000;
/** A polling script asks about the same item every second or two; its file does not move that often. */
const ITEM_CACHE_MS = 60_000;

const systemInfo = z.object({ ServerName: z.string().optional(), Version: z.string().optional() });
const itemBody = z.object({
  Id: z.string(),
  Name: z.string().optional(),
  Path: z.string().optional(),
  Type: z.string().optional(),
  MediaSources: z.array(z.object({ Path: z.string().optional() })).optional(),
});

export class JellyfinClient {
  private readonly items = new Map<string, { item: JellyfinItem; until: number }>();

  constructor(private readonly settings: JellyfinSettings) {}

  get url(): string {
    return this.settings.url;
  }

  async serverInfo(): Promise<{ serverName: string; version: string }> {
    const parsed = systemInfo.safeParse(await this.get('/System/Info', 'system info'));
    if (!parsed.success) throw new AppError(502, `Jellyfin at ${this.url} answered its system info with an unexpected body`);
    const info = parsed.data;
    return { serverName: info.ServerName ?? 'Jellyfin', version: info.Version ?? 'unknown version' };
  }

  /** `itemId` in the 32-digit form (normalizeItemId). */
  async item(itemId: string): Promise<JellyfinItem> {
    const cached = this.items.get(itemId);
    if (cached && cached.until > Date.now()) return cached.item;
    const parsed = itemBody.safeParse(await this.get(`/Items/${itemId}`, `item ${itemId}`));
    if (!parsed.success) throw new AppError(502, `Jellyfin at ${this.url} answered item ${itemId} with an unexpected body`);
    const body = parsed.data;
    const path = body.Path ?? body.MediaSources?.find((s) => s.Path)?.Path;
    if (!path) {
      throw new AppError(422, `Jellyfin item ${itemId} (${body.Name ?? 'no name'}, ${body.Type ?? 'unknown type'}) has no file to upscale`);
    }
    const item = { id: itemId, name: body.Name ?? '', path };
    this.items.set(itemId, { item, until: Date.now() + ITEM_CACHE_MS });
    return item;
  }

  private async get(path: string, what: string): Promise<unknown> {
    let response: Response;
    try {
      response = await fetch(`${this.url}${path}`, {
        headers: { Authorization: `MediaBrowser Token="${this.settings.apiKey}"`, Accept: 'application/json' },
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
    } catch (err) {
      const cause = (err as Error).name === 'TimeoutError'
        ? `no answer within ${REQUEST_TIMEOUT_MS / 1000} s`
        : ((err as { cause?: { code?: string; message?: string } }).cause?.code ?? (err as Error).message);
      throw new AppError(502, `Jellyfin at ${this.url} is unreachable (${cause}): check JELLYFIN_URL`);
    }
    if (response.status === 401 || response.status === 403) {
      throw new AppError(502, `Jellyfin at ${this.url} refused the API key (HTTP ${response.status}): check JELLYFIN_API_KEY (Dashboard → API Keys)`);
    }
    if (response.status === 404) throw new AppError(404, `Jellyfin has no ${what}`);
    if (!response.ok) throw new AppError(502, `Jellyfin at ${this.url} answered HTTP ${response.status} for ${what}`);
    try {
      return await response.json();
    } catch {
      throw new AppError(502, `Jellyfin at ${this.url} answered ${what} with something that is not JSON: is JELLYFIN_URL the server's address?`);
    }
  }
}
