/**
 * `upflow api`: the HTTP API alone, against the Postgres and Temporal named by DATABASE_URL and
 * UPFLOW_TEMPORAL_ADDRESS (docker-compose runs it so, beside separate worker containers).
 * It brings the database schema up to date before it listens.
 */
import type { Config } from '../core/config';
import type { Logger } from '../adapters/logger';
import { createPool, UpflowStore } from '../adapters/postgres';
import { ensureHlsCleanupSchedule } from '../services/hls-cleanup';
import { startApiServer } from '../api/server';
import { CHECK_TEMPORAL_ADDRESS, connectTemporal, migrateDatabase } from './connections';

export async function runApiProcess(config: Config, logger: Logger): Promise<void> {
  const { databaseUrl } = config;
  const address = config.temporal.address;
  if (!databaseUrl || !address) {
    throw new Error('upflow api needs DATABASE_URL and UPFLOW_TEMPORAL_ADDRESS (`upflow up` starts both itself)');
  }
  const applied = await migrateDatabase(databaseUrl, true);
  if (applied.length > 0) logger.info({ migrations: applied }, 'database schema updated');
  const pool = createPool(databaseUrl);
  const client = await connectTemporal(address, config.temporal.namespace, CHECK_TEMPORAL_ADDRESS);
  // The API is what a compose deployment starts once: it keeps the cleanup Schedule.
  const schedule = await ensureHlsCleanupSchedule(client, config);
  logger.info({ cron: config.cleanup.schedule, timeZone: config.cleanup.timeZone, next: schedule.nextRunAt, outcome: schedule.outcome }, 'HLS cleanup Schedule');
  const api = await startApiServer({ config, store: new UpflowStore(pool), client, logger });
  logger.info({ url: api.url }, 'API ready');
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await api.close();
  await client.connection.close();
  await pool.end();
}
