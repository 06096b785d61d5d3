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
    /** UPFLOW_API_KEY, when the page was given it: only the trigger needs it. */
    private readonly apiKey?: string,
  ) {}

  status(itemId: string): Promise<ApiAnswer> {
    return this.request('GET', `/items/${encodeURIComponent(itemId)}/status`);
  }

  /**
   * Asks Upflow to upscale the item, made from where the viewer is first; answers the status
   * right after (idempotent on Upflow's side: a running title is told the new position).
   */
  upscale(itemId: string, positionSeconds: number): Promise<ApiAnswer> {
    const query = new URLSearchParams({ position_seconds: String(Math.max(0, Math.round(positionSeconds * 10) / 10)) });
    // The key as a query parameter, not a header: a header would cost a CORS preflight.
    if (this.apiKey) query.set('api_key', this.apiKey);
    return this.request('POST', `/items/${encodeURIComponent(itemId)}/upscale?${query.toString()}`);
  }

  private async request(method: 'GET' | 'POST', path: string): Promise<ApiAnswer> {
    const answer = await requestJson(`${this.apiUrl}${path}`, method, this.timeoutMs, isItemStatus);
    return answer.ok ? { ok: true, status: answer.value } : answer;
  }
}

function isItemStatus(body: unknown): body is ItemStatus {
  if (typeof body !== 'object' || body === null) return false;
  const b = body as Partial<ItemStatus>;
  return typeof b.item_id === 'string' && typeof b.status === 'string' && typeof b.content_seconds === 'number';
}
