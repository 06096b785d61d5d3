/**
 * What the API tells a caller without the API key (api/security.ts, isOwner): no file-system
 * path, no internal address, no Jellyfin names or types, no service's own error text. The full
 * reason goes to the log; the owner's tools, with the key, get it in the answer too.
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { UpflowError } from '../core/errors';
import type { ItemStatus } from '../core/jellyfin-items';
import { serviceUnavailableError } from './service-errors';

/** "Postgres is unreachable (connect ECONNREFUSED 10.0.0.5:5432)" → "Postgres is unreachable": the part, not its address or error. */
export function withoutDetails(reason: string): string {
  return reason.replace(/\s*\(.*\)\s*$/s, '');
}

/** A failed job's reason names its file: the web script's viewer is told only that it failed. */
export function publicItemStatus(status: ItemStatus): ItemStatus {
  if (status.reason === undefined) return status;
  return { ...status, reason: `upscaling ${status.status === 'failed' ? 'failed' : 'stopped'}; the reason is on Upflow's status page and in its log` };
}

/**
 * An item's status for a caller with neither the key nor a Jellyfin viewer's token for the item:
 * how far it is, not the stream (a signed `hls_url` plays the title) nor the title's key (its
 * file's name).
 */
export function anonymousItemStatus(status: ItemStatus): ItemStatus {
  return { ...publicItemStatus(status), hls_url: null, title_key: null };
}

/**
 * An item lookup's failure as a caller without the key may see it: the status stays, the words
 * are generic (the item's path, Jellyfin's address, the item's name and type stay out). A bad
 * item id (the caller's own input) and a service being down keep their reason, less its details.
 */
export function publicItemLookupError(err: unknown): unknown {
  if (err instanceof z.ZodError) return err;
  const unavailable = serviceUnavailableError(err);
  if (unavailable) return new UpflowError('Unavailable', withoutDetails(unavailable.message));
  if (!(err instanceof UpflowError)) return err; // a 500: its answer carries an id and nothing else
  if (err.kind === 'NotFound') return new UpflowError('NotFound', 'no video is known for this item');
  if (err.kind === 'TooManyRequests') return err;
  if (err.kind === 'Upstream' || err.kind === 'Unavailable') return new UpflowError(err.kind, 'Upflow cannot look this item up in Jellyfin now; the reason is in Upflow\'s log');
  return new UpflowError(err.kind, 'this item cannot be upscaled; the reason is in Upflow\'s log');
}

/** An unexpected failure's answer: an id to find the full error in the log by, and nothing internal. */
export function internalError(): { id: string; message: string } {
  const id = randomUUID();
  return { id, message: `internal error ${id}: the details are in Upflow's log under this id` };
}
