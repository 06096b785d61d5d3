/** The two calls the script makes to Upflow; failures are values (see http.ts). */
import type { ItemStatus } from '../../common/jellyfin-items';
import { requestJson } from './http';

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
    return this.request('POST', `/items/${encodeURIComponent(itemId)}/upscale`);
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
