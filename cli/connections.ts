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

/** What to check when the Temporal server named by UPFLOW_TEMPORAL_ADDRESS cannot be reached. */
export const CHECK_TEMPORAL_ADDRESS = 'check UPFLOW_TEMPORAL_ADDRESS';

/** A client of the Temporal server at `address`; `hint`: what to check when it cannot be reached. */
export async function connectTemporal(address: string, namespace: string, hint?: string): Promise<Client> {
  try {
    return await connectClient(address, namespace);
  } catch (err) {
    throw new Error(`cannot reach Temporal at ${address} (${errorText(err)})${hint ? `: ${hint}` : ''}`, { cause: err });
  }
}
