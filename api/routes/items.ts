/**
 * For the web script in Jellyfin's page: an item's upscaled stream and how far it is
 * (`GET /items/:itemId/status`, asked without the key, so such a caller gets no path or
 * Jellyfin's words) and `POST /items/:itemId/upscale` (idempotent, as the webhook; with the key,
 * or with the viewer's own Jellyfin token for an item Jellyfin lets them see).
 */
import express from 'express';
import { UpflowError } from '../../core/errors';
import { countAsFailedLookup, isOwner, limitItemLookups, viewerTokenOf } from '../security';
import { itemIdParam, triggerQuery } from '../schemas';
import { anonymousItemStatus, publicItemLookupError, publicItemStatus } from '../public-answers';
import type { RouteContext } from './context';

export function itemRoutes({ logger, servicesFor, triggerLimit }: RouteContext): express.Router {
  const router = express.Router();

  router.get('/items/:itemId/status', limitItemLookups(), async (req, res) => {
    const services = servicesFor(req);
    const { itemId } = itemIdParam.parse(req.params);
    const owner = isOwner(res);
    const status = await services.statuses.itemStatus(itemId).catch((err: unknown) => {
      if (owner) throw err;
      logger.info({ item: itemId, reason: (err as Error).message }, 'item status refused');
      throw publicItemLookupError(err);
    });
    if (owner) {
      res.json(status);
      return;
    }
    // The stream and the title's name go to a viewer Jellyfin lets see the item (the script sends
    // their token); anyone else who knows an item id learns how far it is, nothing to play.
    const token = viewerTokenOf(res);
    const viewer = token !== undefined && await services.viewers.requireViewer(token, itemId).then(() => true, () => false);
    if (token !== undefined && !viewer) countAsFailedLookup(res);
    res.json(viewer ? publicItemStatus(status) : anonymousItemStatus(status));
  });

  router.post('/items/:itemId/upscale', triggerLimit, async (req, res) => {
    const readAt = Date.now();
    const services = servicesFor(req);
    const { itemId } = itemIdParam.parse(req.params);
    const { force, position_seconds: seconds, paused, device } = triggerQuery.parse(req.query);
    const owner = isOwner(res);
    // A viewer is told no path, no Jellyfin name or address, as on the status route.
    const forViewer = (err: unknown): never => {
      if (owner) throw err;
      logger.info({ item: itemId, reason: (err as Error).message }, 'viewer trigger refused');
      throw publicItemLookupError(err);
    };
    if (!owner) {
      // Without the key, only with a viewer's Jellyfin token (security.ts), for an item Jellyfin lets that user see.
      if (force) throw new UpflowError('Forbidden', 'force needs the API key: a viewer may start an upscale, not redo one');
      await services.viewers.requireViewer(viewerTokenOf(res) ?? '', itemId).catch((err: unknown) => {
        // Its refusals name nothing private; Jellyfin down or answering oddly would name its address.
        if (err instanceof UpflowError && err.kind !== 'Upstream' && err.kind !== 'Unavailable') throw err;
        forViewer(err);
      });
    }
    // The viewer as the Webhook plugin names them (jellyfin:<DeviceId>) when the page says, so a
    // pause replaces their PlaybackStart's head. A page could name another device: that moves only
    // which part of a title the viewer may see is made first.
    const viewer = device ? `jellyfin:${device}` : `script:${req.ip ?? 'unknown'}`;
    const result = await services.triggers.triggerItem(itemId, { force, ...(seconds !== undefined ? { viewer: { viewer, seconds, readAt, waiting: true, ...(paused ? { paused } : {}) } } : {}) }).catch(forViewer);
    logger.info({ title: result.titleKey, status: result.status, item: itemId, reason: result.reupscaleReason }, 'trigger from the web script');
    const status = await services.statuses.itemStatus(itemId, result).catch(forViewer);
    res.status(result.status === 'started' ? 202 : 200).json(owner ? status : publicItemStatus(status));
  });
  return router;
}
