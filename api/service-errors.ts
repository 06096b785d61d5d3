/**
 * Failures that mean a service Upflow needs is down, in one place: every route that needs
 * Postgres or Temporal answers 503 with the reason while it is (instead of a 500 or a hang),
 * and as before once it is back.
 */
import { UpflowError } from '../core/errors';
import { postgresUnreachableReason } from '../adapters/postgres';
import { temporalUnreachableReason } from '../adapters/temporal';

/** What a client should wait before asking again, in seconds (`Retry-After`). */
export const RETRY_AFTER_SECONDS = 5;

/** A 503 naming the service that is down and why, or undefined for any other failure. */
export function serviceUnavailableError(err: unknown): UpflowError | undefined {
  const reason = temporalUnreachableReason(err) ?? postgresUnreachableReason(err);
  return reason === undefined ? undefined : new UpflowError('Unavailable', reason);
}
