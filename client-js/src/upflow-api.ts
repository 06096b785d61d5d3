/** The two calls the script makes to Upflow; failures are values (see http.ts). */
import type { ItemStatus } from '../../core/jellyfin-items';
import { requestJson } from './http';

export type ApiAnswer =
  | { ok: true; status: ItemStatus }
  /** `unreachable`: no answer (down, timeout, CORS); `refused`: an answer saying why not (4xx/5xx). */
  | { ok: false; kind: 'unreachable' | 'refused'; httpStatus?: number; reason: string };

export class UpflowApi {
  constructor(
    private readonly apiUrl: string,
    private readonly timeoutMs: number,
    /** The logged-in Jellyfin viewer's access token, read for each call: Upflow gives the stream to a viewer of the item. */
    private readonly viewerToken: () => string | undefined,
    /** The browser's Jellyfin device id, so Upflow counts the script's reports and the webhook's as one viewer. */
    private readonly viewerDevice: () => string | undefined = () => undefined,
  ) {}

  /** The item's status; with the viewer's token (as for a trigger) it carries the stream's `hls_url`. */
  status(itemId: string): Promise<ApiAnswer> {
    return this.request('GET', `/items/${encodeURIComponent(itemId)}/status`, this.viewerHeaders());
  }

  /**
   * Asks Upflow to upscale the item, made from where the viewer is first; answers the status
   * right after (idempotent on Upflow's side: a running title is told the new position). It
   * carries the viewer's Jellyfin token as Jellyfin's clients send it (a header: the browser
   * asks Upflow first, once per 10 minutes); Upflow asks Jellyfin whether that user may see the item.
   */
  upscale(itemId: string, positionSeconds: number, paused: boolean): Promise<ApiAnswer> {
    const query = new URLSearchParams({ position_seconds: String(Math.max(0, Math.round(positionSeconds * 10) / 10)) });
    // A paused viewer's part is made where they are; a playing one's a lead further on.
    if (paused) query.set('paused', '1');
    const device = this.viewerDevice();
    if (device) query.set('device', device);
    return this.request('POST', `/items/${encodeURIComponent(itemId)}/upscale?${query.toString()}`, this.viewerHeaders());
  }

  private viewerHeaders(): Record<string, string> {
    const token = this.viewerToken();
    return token ? { Authorization: `MediaBrowser Token="${token}"` } : {};
  }

  private async request(method: 'GET' | 'POST', path: string, headers: Record<string, string> = {}): Promise<ApiAnswer> {
    const answer = await requestJson(`${this.apiUrl}${path}`, method, this.timeoutMs, isItemStatus, headers);
    return answer.ok ? { ok: true, status: answer.value } : answer;
  }
}

function isItemStatus(body: unknown): body is ItemStatus {
  if (typeof body !== 'object' || body === null) return false;
  const b = body as Partial<ItemStatus>;
  return typeof b.item_id === 'string' && typeof b.status === 'string' && typeof b.content_seconds === 'number';
}
