/** What the HLS cleanup runs removed (or would have, dry runs), newest first. */
import express from 'express';
import type { RouteContext } from './context';

export function cleanupRoutes({ store }: RouteContext): express.Router {
  const router = express.Router();
  router.get('/cleanup-runs', async (_req, res) => {
    const runs = await store.cleanupRuns();
    res.json({ runs: runs.map(({ report, ...run }) => ({ ...run, ...report })) });
  });
  return router;
}
