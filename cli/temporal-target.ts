/** The Temporal server of the running Upflow, for commands that start workflows themselves. */
import type { Client } from '@temporalio/client';
import type { Config } from '../core/config';
import { temporalHealth } from '../adapters/temporal';
import { CHECK_TEMPORAL_ADDRESS, connectTemporal } from './connections';

export async function connectRunningTemporal(config: Config): Promise<Client> {
  const address = config.temporal.address ?? `127.0.0.1:${config.temporal.port}`;
  const hint = config.temporal.address
    ? CHECK_TEMPORAL_ADDRESS
    : 'is Upflow running? Start it with `npm start` (or set UPFLOW_TEMPORAL_ADDRESS)';
  const client = await connectTemporal(address, config.temporal.namespace, hint);
  const problem = await temporalHealth(client);
  if (problem) {
    await client.connection.close();
    throw new Error(`${problem} (at ${address}); ${hint}`);
  }
  return client;
}
