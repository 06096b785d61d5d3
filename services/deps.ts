/**
 * What the use cases are built with. The API process builds one set for all its requests (the
 * live-progress cache is shared; only the HLS base URL may follow a request's address), a CLI
 * command one of its own.
 */
import type { Client } from '@temporalio/client';
import type { Config } from '../core/config';
import type { JellyfinClient } from '../adapters/jellyfin';
import type { UpflowStore } from '../adapters/postgres';
import type { LiveProgressCache } from './live-progress';

export interface ServiceDeps {
  config: Config;
  store: UpflowStore;
  client: Client;
  /** Unset without JELLYFIN_URL/JELLYFIN_API_KEY: item ids cannot be resolved to files. */
  jellyfin?: JellyfinClient;
  /** Shared by every request of one API process, so that all its requests share the queries. */
  liveProgress: LiveProgressCache;
}
