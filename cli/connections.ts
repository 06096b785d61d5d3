/** Postgres and Temporal as a command reaches them, failing in one line that says what to check. */
import type { Client } from '@temporalio/client';
import { migrate, postgresUnreachableReason } from '../adapters/postgres';
import { connectClient } from '../adapters/temporal';
import { errorText } from './format';

/** Upflow's migrations on the database; `fromSetting`: DATABASE_URL named it (not Upflow's own cluster). */
export async function migrateDatabase(databaseUrl: string, fromSetting: boolean): Promise<string[]> {
  try {
    return await migrate(databaseUrl);
  } catch (err) {
    if (!fromSetting) throw err;
    const reason = postgresUnreachableReason(err) ?? `Postgres refused Upflow's migrations (${errorText(err)})`;
    throw new Error(`${reason}: check that DATABASE_URL names a running server, with its user and password`, { cause: err });
  }
}

/** A client of the Temporal server at `address`; `fromSetting`: UPFLOW_TEMPORAL_ADDRESS named it. */
export async function connectTemporal(address: string, namespace: string, fromSetting: boolean): Promise<Client> {
  try {
    return await connectClient(address, namespace);
  } catch (err) {
    throw new Error(`cannot reach Temporal at ${address} (${errorText(err)})${fromSetting ? ': check UPFLOW_TEMPORAL_ADDRESS' : ''}`, { cause: err });
  }
}
