/** The Temporal server of the running Upflow, for commands that start workflows themselves. */
import type { Client } from '@temporalio/client';
import type { Config } from '../core/config';
import { connectClient, temporalHealth } from '../adapters/temporal';

export async function connectRunningTemporal(config: Config): Promise<Client> {
  const address = config.temporal.address ?? `127.0.0.1:${config.temporal.port}`;
  const hint = config.temporal.address
    ? 'check UPFLOW_TEMPORAL_ADDRESS'
    : 'is Upflow running? Start it with `npm start` (or set UPFLOW_TEMPORAL_ADDRESS)';
  let client: Client;
  try {
    client = await connectClient(address, config.temporal.namespace);
  } catch (err) {
    throw new Error(`cannot reach Temporal at ${address}: ${(err as Error).message}; ${hint}`, { cause: err });
  }
  const problem = await temporalHealth(client);
  if (problem) {
    await client.connection.close();
    throw new Error(`${problem} (at ${address}); ${hint}`);
  }
  return client;
}
