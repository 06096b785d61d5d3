/** What every route module is built with: the settings, the stores, the use cases for a request, the shared trigger limit. */
import type { Request, RequestHandler } from 'express';
import type { Client } from '@temporalio/client';
import type { Config } from '../../core/config';
import type { JellyfinClient } from '../../adapters/jellyfin';
import type { Logger } from '../../adapters/logger';
import type { UpflowStore } from '../../adapters/postgres';
import type { Services } from '../../services';

/** The most a request body may hold. */
export const BODY_LIMIT = '64kb';

export interface RouteContext {
  config: Config;
  store: UpflowStore;
  client: Client;
  logger: Logger;
  /** Unset without JELLYFIN_URL/JELLYFIN_API_KEY. */
  jellyfin?: JellyfinClient;
  /** The use cases answering this request: their `hls_url`s use the request's own address unless HLS_SERVER_* are set. */
  servicesFor(req: Request): Services;
  /** One limit for every route that starts upscaling (the webhook and the web script's), per client. */
  triggerLimit: RequestHandler;
}
