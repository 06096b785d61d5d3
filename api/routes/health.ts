/** `/health` (open to all: names a failing part; its address and error only for the owner) and Prometheus' `/metrics`. */
import express from 'express';
import type { ApiMetrics } from '../../adapters/metrics';
import { postgresUnreachableReason } from '../../adapters/postgres';
import { temporalHealth } from '../../adapters/temporal';
import { isOwner } from '../security';
import { withoutDetails } from '../public-answers';
import type { RouteContext } from './context';

/** How long a Jellyfin reachability check stands in `/health`. */
const JELLYFIN_HEALTH_CACHE_MS = 30_000;

/** `summary` for anyone (reachable or unreachable), `detail` for the owner (its name and version, or why not). */
type JellyfinState = { summary: string; detail: string };

export function healthRoutes({ config, store, client, jellyfin }: RouteContext, metrics: ApiMetrics): express.Router {
  const router = express.Router();
  let jellyfinChecked: { at: number; state: Promise<JellyfinState> } | undefined;
  const jellyfinHealth = (): Promise<JellyfinState> => {
    if (!jellyfin) return Promise.resolve({ summary: 'not configured', detail: 'not configured' });
    if (!jellyfinChecked || Date.now() - jellyfinChecked.at > JELLYFIN_HEALTH_CACHE_MS) {
      const state = jellyfin.serverInfo().then(
        (info) => ({ summary: 'reachable', detail: `reachable (${info.serverName} ${info.version})` }),
        (err: Error) => ({ summary: 'unreachable', detail: err.message }),
      );
      jellyfinChecked = { at: Date.now(), state };
    }
    return jellyfinChecked.state;
  };

  router.get('/health', async (_req, res) => {
    const owner = isOwner(res);
    const postgres = await store.ping().then(() => undefined, (err: Error) => postgresUnreachableReason(err) ?? `Postgres is unreachable (${err.message})`);
    const temporal = await temporalHealth(client);
    const problems = [postgres, temporal].filter((p): p is string => Boolean(p)).map((p) => (owner ? p : withoutDetails(p)));
    // Jellyfin is reported, not required: path triggers work without it.
    const jellyfinState = jellyfin ? await jellyfinHealth() : undefined;
    const jellyfinAnswer = jellyfinState === undefined ? {} : { jellyfin: owner ? jellyfinState.detail : jellyfinState.summary };
    if (problems.length > 0) {
      res.status(503).json({ status: 'unhealthy', streaming_enabled: config.streamingEnabled, reason: problems.join('; '), ...jellyfinAnswer });
      return;
    }
    res.json({ status: 'healthy', streaming_enabled: config.streamingEnabled, ...jellyfinAnswer });
  });

  /** Prometheus: jobs by state, segments and content made, each stream's fps and rate, time to first segment, HTTP timings. */
  router.get('/metrics', async (_req, res) => {
    res.type(metrics.contentType).send(await metrics.render());
  });
  return router;
}
