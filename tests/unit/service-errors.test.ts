/**
 * Which failures mean "Postgres or Temporal is down" (503 with the reason) and which do not
 * (500/404 as before): the errors pg and the Temporal client really throw at a closed port,
 * and the shapes of a server going away mid-request.
 */
import { InterceptingCall, Metadata } from '@grpc/grpc-js';
import { Client, Connection, ServiceError, WorkflowNotFoundError } from '@temporalio/client';
import pg from 'pg';
import { findFreePort } from '../../adapters/process';
import { createPool } from '../../adapters/postgres';
import { retryWithinDeadline, withTemporalDeadline } from '../../adapters/temporal';
import { serviceUnavailableError } from '../../api/service-errors';
import { UpflowError } from '../../core/errors';
import { httpStatusOf } from '../../api/http-errors';

/** What the API answers for a failure: `503 reason`, or undefined (the error handler's other cases). */
const classified = (err: unknown): string | undefined => {
  const error = serviceUnavailableError(err);
  return error && `${httpStatusOf(error.kind)} ${error.message}`;
};

const grpcError = (code: number, details: string) =>
  Object.assign(new Error(`${code} ${details}`), { code, details, metadata: new Metadata() });

describe('Postgres down', () => {
  it('is what pg throws at a port nobody listens on', async () => {
    const port = await findFreePort();
    const pool = createPool(`postgres://upflow:secret@127.0.0.1:${port}/upflow`);
    const err = await pool.query('SELECT 1').catch((e: unknown) => e);
    await pool.end();
    expect(classified(err)).toBe(`503 Postgres is unreachable (connect ECONNREFUSED 127.0.0.1:${port})`);
  });

  it('is a server shutting down, starting up or dropping the connection, and a connection that does not come', () => {
    const shutdown = new pg.DatabaseError('terminating connection due to administrator command', 0, 'error');
    shutdown.code = '57P01';
    const startingUp = new pg.DatabaseError('the database system is starting up', 0, 'error');
    startingUp.code = '57P03';
    expect(classified(shutdown)).toBe('503 Postgres is unreachable (terminating connection due to administrator command)');
    expect(classified(startingUp)).toBe('503 Postgres is unreachable (the database system is starting up)');
    expect(classified(new Error('Connection terminated unexpectedly'))).toBe('503 Postgres is unreachable (Connection terminated unexpectedly)');
    expect(classified(new Error('timeout exceeded when trying to connect'))).toBe('503 Postgres is unreachable (timeout exceeded when trying to connect)');
    // Node's error for a host name with two addresses, both refusing, has no message of its own.
    expect(classified(Object.assign(new AggregateError([], ''), { code: 'ECONNREFUSED' }))).toBe('503 Postgres is unreachable (ECONNREFUSED)');
  });

  it('is not a failing query: a constraint, a syntax error', () => {
    const unique = new pg.DatabaseError('duplicate key value violates unique constraint "titles_pkey"', 0, 'error');
    unique.code = '23505';
    const syntax = new pg.DatabaseError('syntax error at or near "SELEC"', 0, 'error');
    syntax.code = '42601';
    expect(classified(unique)).toBeUndefined();
    expect(classified(syntax)).toBeUndefined();
    expect(classified(new Error('something else'))).toBeUndefined();
    expect(classified(new UpflowError('NotFound', 'no job x'))).toBeUndefined();
  });
});

describe('Temporal down', () => {
  let port: number;
  beforeAll(async () => {
    port = await findFreePort();
  });

  it('is a call that outlives its deadline while the client retries a closed port', async () => {
    const connection = await Connection.lazy({ address: `127.0.0.1:${port}` });
    const client = new Client({ connection });
    const startedAt = Date.now();
    const err = await withTemporalDeadline(client, () => client.workflow.getHandle('upflow-x').describe(), 300).catch((e: unknown) => e);
    expect(Date.now() - startedAt).toBeLessThan(2000);
    await connection.close();
    expect(classified(err)).toBe('503 Temporal is unreachable (no answer in time)');
  });

  it('retries within its deadline, then answers with the last failure where a retry would start past it', async () => {
    // Retries back off 170, 289, 491, 835 ms (±20 %): the fourth would start at 1.4 to 2.1 s.
    // The client's default interceptor sleeps past a 1.5 s deadline; Upflow's stops before it.
    const deadlineMs = 1500;
    let attempts = 0;
    const countAttempts: ReturnType<typeof retryWithinDeadline> = (options, nextCall) => {
      attempts++;
      return new InterceptingCall(nextCall(options));
    };
    const connection = await Connection.lazy({ address: `127.0.0.1:${port}`, interceptors: [retryWithinDeadline(), countAttempts] });
    const client = new Client({ connection });
    const startedAt = Date.now();
    const err = await withTemporalDeadline(client, () => client.workflow.getHandle('upflow-x').describe(), deadlineMs).catch((e: unknown) => e);
    const answeredAfterMs = Date.now() - startedAt;
    await connection.close();
    expect(answeredAfterMs).toBeLessThan(deadlineMs);
    expect(attempts).toBeGreaterThanOrEqual(4);
    expect(classified(err)).toMatch(new RegExp(`^503 Temporal is unreachable \\(No connection established\\. Last error: .*ECONNREFUSED 127\\.0\\.0\\.1:${port}\\)$`));
  });

  it('is UNAVAILABLE once the client stops retrying, with the address it could not reach', async () => {
    const connection = await Connection.lazy({ address: `127.0.0.1:${port}`, interceptors: [] });
    const client = new Client({ connection });
    const err = await client.workflow.getHandle('upflow-x').describe().catch((e: unknown) => e);
    await connection.close();
    expect(classified(err)).toMatch(new RegExp(`^503 Temporal is unreachable \\(No connection established\\. Last error: .*ECONNREFUSED 127\\.0\\.0\\.1:${port}\\)$`));
  });

  it('is not an answer from a running server: not found, invalid argument', () => {
    expect(classified(new WorkflowNotFoundError('workflow not found', 'upflow-x', undefined))).toBeUndefined();
    expect(classified(new ServiceError('Failed to start workflow', { cause: grpcError(3, 'invalid argument') }))).toBeUndefined();
    expect(classified(new ServiceError('Failed to start workflow', { cause: grpcError(14, 'Connection dropped') }))).toBe('503 Temporal is unreachable (Connection dropped)');
  });
});
