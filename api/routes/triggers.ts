/**
 * The seed watchdog's contract and the Jellyfin Webhook plugin's: `POST /upscale-trigger` (a path
 * or a webhook body) and `GET /hls-status/:filename`.
 */
import express from 'express';
import type { TriggerResult } from '../../services';
import { isOwner } from '../security';
import { filenameParam, hlsStatusQuery, parseTriggerRequest, STARTING_NOTIFICATION, triggerQuery, webhookAction } from '../schemas';
import { BODY_LIMIT, type RouteContext } from './context';

/** Seconds until the first segment is usually playable: the short first segment plus start-up. */
const ESTIMATED_FIRST_SEGMENT_DELAY_SECONDS = 2;

export function triggerRoutes({ config, logger, servicesFor, triggerLimit }: RouteContext): express.Router {
  const router = express.Router();
  const triggerAnswer = (result: TriggerResult, owner: boolean, itemId?: string) => ({
    status: result.status,
    hls_url: config.streamingEnabled ? result.hlsUrl : null,
    estimated_delay_seconds: result.status === 'started' ? ESTIMATED_FIRST_SEGMENT_DELAY_SECONDS : 0,
    streaming: config.streamingEnabled,
    title_key: result.titleKey,
    job_id: result.jobId ?? null,
    ...(itemId ? { item_id: itemId } : {}),
    ...(result.finalFile && owner ? { final_file: result.finalFile } : {}),
  });

  // Jellyfin's Webhook plugin posts JSON as text/plain unless told otherwise.
  const webhookText = express.json({ limit: BODY_LIMIT, type: 'text/plain' });
  /** The seed's body (a path) or the Jellyfin Webhook plugin's (an item id and a notification type). */
  router.post('/upscale-trigger', webhookText, triggerLimit, async (req, res) => {
    const readAt = Date.now();
    const services = servicesFor(req);
    const request = parseTriggerRequest(req.body);
    const query = triggerQuery.parse(req.query);
    if (request.kind === 'item') {
      const action = webhookAction(request, config.skipFromHeight);
      if (action.kind === 'ignored') {
        res.json({ status: 'ignored', reason: action.reason, item_id: request.itemId });
        return;
      }
      if (action.kind === 'viewer-left') {
        await services.triggers.viewerLeft(request.itemId, action.viewer);
        res.json({ status: 'viewer_left', item_id: request.itemId });
        return;
      }
    }
    // A PlaybackStart means someone watches, from its position or from the start.
    const watching = request.kind === 'item' && request.notificationType === STARTING_NOTIFICATION;
    const positionSeconds = request.positionSeconds ?? query.position_seconds ?? (watching ? 0 : undefined);
    const viewer = positionSeconds === undefined ? undefined
      : { viewer: (request.kind === 'item' ? request.viewer : undefined) ?? `trigger:${req.ip ?? 'unknown'}`, seconds: positionSeconds, readAt, waiting: true };
    const options = { name: request.name, force: query.force, ...(viewer ? { viewer } : {}) };
    const result = request.kind === 'path'
      ? await services.triggers.trigger(request.path, { ...options, ...(request.contentKind ? { contentKind: request.contentKind } : {}) })
      : await services.triggers.triggerItem(request.itemId, options);
    const itemId = request.kind === 'item' ? request.itemId : undefined;
    logger.info({ title: result.titleKey, status: result.status, item: itemId, reason: result.reupscaleReason }, 'trigger');
    res.status(result.status === 'started' ? 202 : 200).json(triggerAnswer(result, isOwner(res), itemId));
  });

  router.get('/hls-status/:filename', async (req, res) => {
    const services = servicesFor(req);
    const { filename } = filenameParam.parse(req.params);
    const { path: requestedPath } = hlsStatusQuery.parse(req.query);
    const status = await services.statuses.statusByFilename(filename, requestedPath);
    const job = status.job;
    res.json({
      status: status.state,
      hls_url: job?.hlsUrl ?? services.urls.playlist(status.titleKey),
      segments: job?.segments ?? 0,
      // Made parts of the title, content seconds: chunks make it where viewers are first.
      ready: job?.ready ?? [],
      complete: status.state === 'complete',
      title_key: status.titleKey,
      job_id: job?.id ?? null,
      progress_percent: job ? Math.round(job.percent * 10) / 10 : 0,
      rate: job?.rate ?? null,
      model: job?.model ?? null,
      // Waiting for a free worker: the place in line (1 = next), as in GET /jobs/:id.
      queue_position: job?.queuePosition ?? null,
      ...(job?.failureReason ? { reason: job.failureReason } : {}),
    });
  });
  return router;
}
