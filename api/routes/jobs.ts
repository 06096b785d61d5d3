/** Jobs: the latest ones, one with its events, its segments as they became playable, cancel. */
import express from 'express';
import { jobIdParam } from '../schemas';
import type { RouteContext } from './context';

export function jobRoutes({ servicesFor }: RouteContext): express.Router {
  const router = express.Router();
  router.get('/jobs', async (req, res) => {
    res.json({ jobs: await servicesFor(req).jobs.list() });
  });

  router.get('/jobs/:id', async (req, res) => {
    const { id } = jobIdParam.parse(req.params);
    res.json(await servicesFor(req).jobs.job(id));
  });

  /** Each segment as it became playable: timing, per-segment rate and the model that made it. */
  router.get('/jobs/:id/segments', async (req, res) => {
    const { id } = jobIdParam.parse(req.params);
    res.json({ segments: await servicesFor(req).jobs.segments(id) });
  });

  router.post('/jobs/:id/cancel', async (req, res) => {
    const { id } = jobIdParam.parse(req.params);
    res.status(202).json(await servicesFor(req).jobs.cancel(id));
  });
  return router;
}
