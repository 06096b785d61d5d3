/** What every activity is built with (samples-typescript's `createActivities(deps)`): the worker makes these once. */
import type { Client } from '@temporalio/client';
import type { Config } from '../core/config';
import type { Logger } from '../adapters/logger';
import type { UpflowStore } from '../adapters/postgres';

export interface ActivityDeps {
  config: Config;
  store: UpflowStore;
  /** To report to the workflow that runs the activity. */
  client: Client;
  logger: Logger;
}
