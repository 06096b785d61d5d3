/**
 * The two calls the script makes to Upflow. Failures come back as values, never thrown, so a
 * down Upflow can never surface as an error on Jellyfin's page.
 */
import type { ItemStatus } from '../../common/jellyfin-items';

export type ApiAnswer =
  | { ok: true; status: ItemStatus }
  /** `unreachable`: no answer (down, timeout, CORS); `refused`: an answer saying why not (4xx/5xx). */
  | { ok: false; kind: 'unreachable' | 'refused'; httpStatus?: number; reason: string };

export class UpflowApi {
  constructor(
    private readonly apiUrl: string,
    private readonly timeoutMs: number,
  ) {}

  status(itemId: string): Promise<ApiAnswer> {
    return this.request('GET', `/items/${encodeURIComponent(itemId)}/status`);
  }

  /** Asks Upflow to upscale the item; answers the status right after (idempotent on Upflow's side). */
  upscale(itemId: string): Promise<ApiAnswer> {
    // No body and no custom header: a "simple" cross-origin request, so no CORS preflight.
    return this.request('POST', `/items/${encodeURIComponent(itemId)}/upscale`);
  }

  private async request(method: 'GET' | 'POST', path: string): Promise<ApiAnswer> {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), this.timeoutMs);
    try {
      const response = await fetch(`${this.apiUrl}${path}`, { method, signal: controller.signal, credentials: 'omit', cache: 'no-store' });
      const body: unknown = await response.json().catch(() => undefined);
      if (!response.ok) {
        const reason = isErrorBody(body) ? body.error : `HTTP ${response.status}`;
        return { ok: false, kind: 'refused', httpStatus: response.status, reason };
      }
      if (!isItemStatus(body)) return { ok: false, kind: 'refused', httpStatus: response.status, reason: 'unexpected answer from Upflow' };
      return { ok: true, status: body };
    } catch (err) {
      const reason = controller.signal.aborted ? `no answer within ${this.timeoutMs} ms` : (err as Error).message;
      return { ok: false, kind: 'unreachable', reason };
    } finally {
      clearTimeout(timer);
    }
  }
}

function isErrorBody(body: unknown): body is { error: string } {
  return typeof body === 'object' && body !== null && typeof (body as { error?: unknown }).error === 'string';
}

function isItemStatus(body: unknown): body is ItemStatus {
  if (typeof body !== 'object' || body === null) return false;
  const b = body as Partial<ItemStatus>;
  return typeof b.item_id === 'string' && typeof b.status === 'string' && typeof b.content_seconds === 'number';
}
