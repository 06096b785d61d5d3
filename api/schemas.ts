/** Request schemas: bodies and params are validated here, and a failure names the field. */
import { z } from 'zod';
import { UpflowError } from '../core/errors';
import { CONTENT_KINDS, type ContentKind } from '../core/content-kind';
import { normalizeItemId } from '../core/jellyfin-items';

/** A name shown to people and kept in Postgres, whose text cannot hold a NUL byte. */
const displayName = (field: string) =>
  z.string({ message: `${field} must be a string` }).max(1024, `${field} is too long (at most 1024 characters)`).refine((v) => !v.includes('\0'), `${field} contains a NUL byte`);

/** Seconds into the title: a number (or numeric text) ≥ 0; past the end is clamped by the workflow. */
const positionSeconds = (field: string) =>
  z.union([z.number(), z.string().trim().regex(/^[+]?\d+(\.\d+)?$/, `${field} must be a number of seconds ≥ 0`).transform(Number)], { message: `${field} must be a number of seconds ≥ 0` })
    .refine((v) => Number.isFinite(v) && v >= 0 && v <= 1e7, `${field} must be a number of seconds from 0 to 10,000,000`);

/**
 * Jellyfin's ticks (10,000,000 a second), as the Webhook plugin sends `"{{PlaybackPositionTicks}}"`;
 * the template renders an unknown position as "", which means none (start where Upflow would).
 */
const positionTicks = (field: string) =>
  z.preprocess((v) => (typeof v === 'string' && v.trim() === '' ? undefined : v), z.union([z.number(), z.string().trim().regex(/^[+]?\d+$/, `${field} must be a whole number of ticks ≥ 0`).transform(Number)], { message: `${field} must be a whole number of ticks ≥ 0` })
    .refine((v) => Number.isSafeInteger(v) && v >= 0, `${field} must be a whole number of ticks ≥ 0 (10,000,000 a second)`)
    .transform((ticks) => ticks / 1e7).optional());

/** A height in pixels as the template renders `{{Video_0_Height}}`: a number, digits, or "" (no video stream: none). */
const pixelHeight = (field: string) =>
  z.preprocess((v) => (typeof v === 'string' && v.trim() === '' ? undefined : v), z.union([z.number(), z.string().trim().regex(/^\d+$/, `${field} must be a whole number of pixels`).transform(Number)], { message: `${field} must be a whole number of pixels` })
    .refine((v) => Number.isInteger(v) && v > 0 && v <= 100_000, `${field} must be a whole number of pixels from 1 to 100,000`)
    .optional());

export const triggerBody = z.object({
  position_seconds: positionSeconds('position_seconds').optional(),
  // What the title shows, which picks the model unless UPFLOW_MODEL is set (a webhook's item: its Jellyfin genres).
  content_kind: z.enum(CONTENT_KINDS, { message: `content_kind must be one of ${CONTENT_KINDS.join(', ')}` }).optional(),
  Item: z.object({
    Path: z.string({ message: 'Item.Path must be a string' }).min(1, 'Item.Path must not be empty').max(4096, 'Item.Path is too long'),
    Name: displayName('Item.Name').optional(),
  }, { message: 'Item must be an object with Path and Name' }),
});

/** A Jellyfin item id, with or without dashes, kept in its 32-digit form. */
const jellyfinItemId = (field: string) =>
  z.string({ message: `${field} must be a string` }).transform((text, ctx) => {
    const id = normalizeItemId(text);
    if (id) return id;
    ctx.addIssue({ code: 'custom', message: `${field} must be a Jellyfin item id (32 hex digits, dashes allowed)` });
    return z.NEVER;
  });

/** The Jellyfin Webhook plugin's body, as its templates send it (other fields are ignored). */
export const webhookPluginBody = z.object({
  ItemId: jellyfinItemId('ItemId'),
  Name: displayName('Name').optional(),
  NotificationType: z.string({ message: 'NotificationType must be a string such as PlaybackStart' }).max(100, 'NotificationType is too long (at most 100 characters)').optional(),
  PlaybackPositionTicks: positionTicks('PlaybackPositionTicks').optional(),
  Video_0_Height: pixelHeight('Video_0_Height'),
  DeviceId: z.string().max(256).optional().catch(undefined),
  UserId: z.string().max(256).optional().catch(undefined),
});

/** The Webhook plugin notification that starts upscaling, and the one that ends a viewer's play head; the others are acknowledged. */
export const STARTING_NOTIFICATION = 'PlaybackStart';
export const STOPPING_NOTIFICATION = 'PlaybackStop';

export type ItemTriggerRequest = { kind: 'item'; itemId: string; name?: string; notificationType?: string; positionSeconds?: number; viewer?: string; videoHeight?: number };
export type TriggerRequest =
  | { kind: 'path'; path: string; name?: string; positionSeconds?: number; contentKind?: ContentKind }
  | ItemTriggerRequest;

/** `POST /upscale-trigger` takes the seed's body (a path) or the Webhook plugin's (an item id). */
export function parseTriggerRequest(body: unknown): TriggerRequest {
  const fields = typeof body === 'object' && body !== null ? body : {};
  if ('Item' in fields) {
    const seed = triggerBody.parse(body);
    return { kind: 'path', path: seed.Item.Path, name: seed.Item.Name, positionSeconds: seed.position_seconds, ...(seed.content_kind ? { contentKind: seed.content_kind } : {}) };
  }
  if ('ItemId' in fields) {
    const plugin = webhookPluginBody.parse(body);
    const viewer = plugin.DeviceId || plugin.UserId;
    return {
      kind: 'item',
      itemId: plugin.ItemId,
      name: plugin.Name,
      notificationType: plugin.NotificationType,
      positionSeconds: plugin.PlaybackPositionTicks,
      ...(viewer ? { viewer: `jellyfin:${viewer}` } : {}),
      ...(plugin.Video_0_Height !== undefined ? { videoHeight: plugin.Video_0_Height } : {}),
    };
  }
  throw new UpflowError('BadInput', 'expected {"Item":{"Path":…,"Name":…}} or a Jellyfin Webhook plugin body with ItemId and NotificationType');
}

/**
 * What a Webhook plugin notification asks: `start` upscaling (PlaybackStart, or a body without a
 * type), tell the title a `viewer-left` (PlaybackStop: the scheduler stops working ahead of them),
 * or nothing (`ignored`, with the reason the answer gives).
 */
export type WebhookAction = { kind: 'start' } | { kind: 'viewer-left'; viewer: string } | { kind: 'ignored'; reason: string };

export function webhookAction(request: ItemTriggerRequest, skipFromHeight: number): WebhookAction {
  const type = request.notificationType;
  if (type === undefined || type === STARTING_NOTIFICATION) {
    const height = request.videoHeight;
    if (skipFromHeight > 0 && height !== undefined && height >= skipFromHeight) {
      return { kind: 'ignored', reason: `the video is ${height} pixels tall, at or above ${skipFromHeight} (UPFLOW_SKIP_FROM_HEIGHT): it is not upscaled` };
    }
    return { kind: 'start' };
  }
  if (type === STOPPING_NOTIFICATION) {
    return request.viewer
      ? { kind: 'viewer-left', viewer: request.viewer }
      : { kind: 'ignored', reason: `${STOPPING_NOTIFICATION} without DeviceId or UserId names no viewer` };
  }
  return { kind: 'ignored', reason: `notification type ${type} does not start upscaling (only ${STARTING_NOTIFICATION} does; ${STOPPING_NOTIFICATION} ends a viewer's play head)` };
}

/** A Webhook plugin body that asks nothing of Upflow (the trigger limit does not count it). */
export function isIgnoredNotification(body: unknown, skipFromHeight: number): boolean {
  try {
    const request = parseTriggerRequest(body);
    return request.kind === 'item' && webhookAction(request, skipFromHeight).kind === 'ignored';
  } catch {
    return false; // refused by the route, counted
  }
}

export const itemIdParam = z.object({ itemId: jellyfinItemId('item id') });

export const jobIdParam = z.object({ id: z.uuid({ message: 'job id must be a UUID' }) });

export const filenameParam = z.object({
  filename: z.string().min(1).max(1024).refine((v) => !v.includes('\0'), 'filename contains a NUL byte'),
});

/** `?path=`: which of two titles of one file name, by its path (absolute, or in the media folders). */
export const hlsStatusQuery = z.object({
  path: z.string({ message: 'path must be a string (given once)' }).min(1, 'path must not be empty').max(4096, 'path is too long').refine((v) => !v.includes('\0'), 'path contains a NUL byte').optional(),
});

/**
 * `?force=1`: upscale again even when a finished file exists; `?position_seconds=`: where the
 * viewer is; `?paused=1`: they are not playing on (no lead: core/switch-lead.ts); `?device=`:
 * their Jellyfin device id, so the script's reports and the Webhook plugin's are one viewer.
 */
export const triggerQuery = z.object({
  force: z.enum(['1', 'true', '0', 'false'], { message: 'force must be 1, true, 0 or false' }).optional().transform((v) => v === '1' || v === 'true'),
  position_seconds: positionSeconds('position_seconds').optional(),
  paused: z.enum(['1', 'true', '0', 'false'], { message: 'paused must be 1, true, 0 or false' }).optional().transform((v) => v === '1' || v === 'true'),
  device: z.string({ message: 'device must be a string (given once)' }).regex(/^[\x21-\x7e]{1,200}$/, 'device must be 1 to 200 printable characters, no spaces').optional(),
});

/** zod's first issue as one sentence: "Item.Path: must be a string". */
export function describeIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return 'invalid request';
  const field = issue.path.join('.');
  return field && !issue.message.startsWith(field) ? `${field}: ${issue.message}` : issue.message;
}
