/**
 * Connections to Temporal: a client for starters (API, CLI) and activities, a native one for
 * workers; deadlines for calls made for a request, health, and which failures mean Temporal is
 * unreachable. What Upflow asks of Temporal (start a title, run cleanup) is in services/.
 */
import {
  Client,
  Connection,
  defaultGrpcRetryOptions,
  isGrpcServiceError,
  makeGrpcRetryInterceptor,
  WorkflowNotFoundError,
  type GrpcRetryOptions,
  type WorkflowHandle,
} from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';

export { WorkflowNotFoundError };

type GrpcInterceptor = ReturnType<typeof makeGrpcRetryInterceptor>;
type GrpcDeadline = Parameters<GrpcInterceptor>[0]['deadline'];

/**
 * The client's own retries (backing off 0.17 s, 0.29 s, … up to 5 s), but none that would start
 * past the call's deadline: the default interceptor sleeps without looking at it, so a call to
 * a server that is down failed up to 4.4 s past a 5 s deadline. Stopping early answers with the
 * last failure (e.g. the refused connection) before the deadline.
 */
export function retryWithinDeadline(base: GrpcRetryOptions = defaultGrpcRetryOptions()): GrpcInterceptor {
  return (options, nextCall) => {
    const deadlineMs = deadlineMsOf(options.deadline);
    // The interceptor asks whether to retry, then how long to wait: one delay serves both.
    let delayMs = 0;
    const withinDeadline: GrpcRetryOptions = {
      retryableDecider(attempt, status) {
        if (!base.retryableDecider(attempt, status)) return false;
        delayMs = base.delayFunction(attempt, status);
        return Date.now() + delayMs < deadlineMs;
      },
      delayFunction: () => delayMs,
    };
    return makeGrpcRetryInterceptor(withinDeadline)(options, nextCall);
  };
}

function deadlineMsOf(deadline: GrpcDeadline): number {
  if (deadline === undefined) return Infinity;
  return deadline instanceof Date ? deadline.getTime() : deadline;
}

/**
 * gRPC backs off reconnecting up to 120 s: after an outage of seconds, the API still refused
 * for seconds once Temporal was back. A connection tried each second costs next to nothing.
 */
const MAX_RECONNECT_BACKOFF_MS = 1000;

export async function connectClient(address: string, namespace: string): Promise<Client> {
  const connection = await Connection.connect({
    address,
    connectTimeout: '5 seconds',
    interceptors: [retryWithinDeadline()],
    channelArgs: { 'grpc.max_reconnect_backoff_ms': MAX_RECONNECT_BACKOFF_MS },
  });
  return new Client({ connection, namespace });
}

export function connectWorkerConnection(address: string): Promise<NativeConnection> {
  return NativeConnection.connect({ address });
}

/**
 * The job running under this workflow id now, if any: the first run's id of the chain the
 * running run belongs to (a long title continues as new; its job keeps the first run's id).
 */
export async function runningJobIdOf(client: Client, workflowId: string): Promise<string | undefined> {
  try {
    const description = await client.workflow.getHandle(workflowId).describe();
    if (description.status.name !== 'RUNNING') return undefined;
    return description.raw.workflowExecutionInfo?.firstRunId || description.runId;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return undefined;
    throw err;
  }
}

/**
 * How long a call made for an API request waits for Temporal. Without a deadline the client
 * retries a server that is down for about 20 s; with one, the request answers 503 in time.
 */
export const TEMPORAL_REQUEST_TIMEOUT_MS = 5000;

/** Runs `fn`'s Temporal calls under one deadline: past it they fail with DEADLINE_EXCEEDED. */
export function withTemporalDeadline<T>(client: Client, fn: () => Promise<T>, timeoutMs = TEMPORAL_REQUEST_TIMEOUT_MS): Promise<T> {
  return client.withDeadline(Date.now() + timeoutMs, fn);
}

/**
 * A job's workflow, for queries and signals: the latest run under its workflow id, which is the
 * job's own while the job runs (a long title's runs continue as new; a title's next job starts
 * only once they have closed). Cancel and terminate are held to the job's chain of runs.
 */
export function jobHandle(client: Client, job: { workflowId: string; id: string }): WorkflowHandle {
  return client.workflow.getHandle(job.workflowId, undefined, { firstExecutionRunId: job.id });
}

/** gRPC status codes (grpc.status) of a server that is down, restarting or not answering. */
const GRPC_UNAVAILABLE = 14;
const GRPC_DEADLINE_EXCEEDED = 4;
/** What the server answers an update its run will not take (the run's update limit reached). */
const GRPC_FAILED_PRECONDITION = 9;

/** The call's deadline passed before Temporal answered (down, or a long poll that found nothing yet). */
export function noAnswerInTime(err: unknown): boolean {
  return grpcErrorIn(err)?.code === GRPC_DEADLINE_EXCEEDED;
}

/**
 * Why a failed call says Temporal is unreachable (down, restarting, not answering within its
 * deadline), or undefined when the failure is anything else (not found, already started...).
 */
export function temporalUnreachableReason(err: unknown): string | undefined {
  const grpc = grpcErrorIn(err);
  if (grpc?.code === GRPC_DEADLINE_EXCEEDED) return 'Temporal is unreachable (no answer in time)';
  if (grpc?.code === GRPC_UNAVAILABLE) {
    // "No connection established. Last error: Error: connect ECONNREFUSED 127.0.0.1:7233. Resolution note: "
    const details = grpc.details.replace(/\.?\s*Resolution note:.*$/s, '').trim();
    return `Temporal is unreachable (${details || 'unavailable'})`;
  }
  return undefined;
}

/** The gRPC error under a failed call: the client wraps it in its own errors, so the chain of causes is searched. */
function grpcErrorIn(err: unknown): { code: number; details: string } | undefined {
  for (let current: unknown = err, depth = 0; current instanceof Error && depth < 5; current = current.cause, depth++) {
    if (isGrpcServiceError(current)) return current;
  }
  return undefined;
}

/**
 * Whether a failed update says its workflow run takes no more: the run has closed (continued as
 * new, or ended), or it has taken all the updates a run may (it is about to continue as new).
 * Not an outage: asking again cannot help.
 */
export function runTakesNoMoreUpdates(err: unknown): boolean {
  return err instanceof WorkflowNotFoundError || grpcErrorIn(err)?.code === GRPC_FAILED_PRECONDITION;
}

/** Answers within `timeoutMs` whether the Temporal server is reachable, with the reason if not. */
export async function temporalHealth(client: Client, timeoutMs = 2000): Promise<string | undefined> {
  try {
    await withTemporalDeadline(client, () => client.connection.workflowService.getSystemInfo({}), timeoutMs);
    return undefined;
  } catch (err) {
    return temporalUnreachableReason(err) ?? `Temporal is unreachable (${(err as Error).message})`;
  }
}
