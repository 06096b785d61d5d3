/**
 * Jellyfin item ids and the item-keyed status the API answers and the client script reads.
 * Pure: the API (Node) and client-js/ (the browser) both import this module.
 */
import type { JobState } from './domain';

/**
 * Jellyfin writes a GUID as 32 hex digits ("N" format, in URLs and the Webhook plugin's
 * "Send All Properties") or with dashes 8-4-4-4-12 (templates using `{{ItemId}}` of some
 * versions). Both name the same item; Upflow keeps the 32-digit lower-case form.
 */
export function normalizeItemId(text: string): string | undefined {
  const trimmed = text.trim().toLowerCase();
  if (/^[0-9a-f]{32}$/.test(trimmed)) return trimmed;
  if (/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(trimmed)) return trimmed.replace(/-/g, '');
  return undefined;
}

/**
 * The item a jellyfin-web player URL plays: `/Videos/{id}/stream.mkv?Static=true&…` (direct
 * play), `/videos/{id}/master.m3u8?…` or `/videos/{id}/main.m3u8?…` (transcodes), behind any
 * base URL. Anything else (a blob: URL, another site) names no item.
 */
export function itemIdFromPlayerUrl(url: string): string | undefined {
  const match = /\/videos\/([0-9a-f-]{32,36})\/(?:stream(?:\.[a-z0-9]+)?|master\.m3u8|main\.m3u8|live\.m3u8)(?:[?#]|$)/i.exec(url);
  return match ? normalizeItemId(match[1]!) : undefined;
}

/** `GET /items/:itemId/status` and `POST /items/:itemId/upscale` answer this (snake_case, as the seed's API). */
export interface ItemStatus {
  item_id: string;
  /** `not_started`: Jellyfin knows the item, Upflow has not been asked to upscale it. */
  status: JobState | 'not_started';
  /** The live (EVENT) or finished (ENDLIST) playlist; null before a job or once cleaned up. */
  hls_url: string | null;
  segments: number;
  /** Seconds of upscaled content made, wherever in the title. */
  content_seconds: number;
  /**
   * The made parts of the title, in content seconds (`[[0, 120], [2700, 2760]]`): chunks make it
   * where viewers are first, so the part at a viewer's position may be made before the start.
   */
  ready: [number, number][];
  duration_seconds: number | null;
  /** The grid's segment length (seconds); null before the title is planned. What lies ahead of a viewer grows a segment at a time. */
  segment_seconds: number | null;
  /** Content seconds made per wall second once a chunk runs, its start-up left out (above 1.0 the stream outruns a viewer). */
  rate: number | null;
  complete: boolean;
  progress_percent: number;
  model: string | null;
  title_key: string | null;
  job_id: string | null;
  /**
   * While the job waits for a free worker (`streaming`, no stream started yet): its position
   * among waiting jobs, in the order they began waiting (1 = next; Temporal does not promise
   * FIFO across task queue partitions, so it is the order of arrival). Null otherwise.
   */
  queue_position: number | null;
  reason?: string;
}
