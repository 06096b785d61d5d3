/** `upflow worker`: one worker process, connected to the stack named by its environment. */
import fs from 'node:fs';
import type { Config } from '../core/config';
import type { Logger } from '../adapters/logger';
import { createPool, UpflowStore } from '../adapters/postgres';
import { connectWorkerConnection } from '../adapters/temporal';
import { installWorkerRuntime, startWorkers } from '../worker';
import { CHECK_TEMPORAL_ADDRESS, connectTemporal } from './connections';

export async function runWorkerProcess(config: Config, logger: Logger): Promise<void> {
  const { databaseUrl } = config;
  const address = config.temporal.address;
  if (!databaseUrl || !address) {
    throw new Error('upflow worker needs DATABASE_URL and UPFLOW_TEMPORAL_ADDRESS (`upflow up` sets both)');
  }
  installWorkerRuntime(logger);
  const pool = createPool(databaseUrl);
  const client = await connectTemporal(address, config.temporal.namespace, CHECK_TEMPORAL_ADDRESS);
  const connection = await connectWorkerConnection(address);
  const workers = await startWorkers({ config, connection, client, store: new UpflowStore(pool), logger });
  logger.info({ queues: ['media', 'gpu'] }, 'worker ready');
  // `upflow up` says it is up once this file is there.
  const readyFile = process.env.UPFLOW_WORKER_READY_FILE;
  if (readyFile) fs.writeFileSync(readyFile, String(process.pid));
  // A failed shutdown is `workers.done`'s failure, thrown below.
  const shutdown = () => void workers.shutdown().catch(() => undefined);
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
  await workers.done;
  await connection.close();
  await client.connection.close();
  await pool.end();
}
