/**
 * Where a CLI command sends its work: the Upflow already running on this machine (over its
 * HTTP API), or a stack the command starts for itself and stops when it is done.
 */
import path from 'node:path';
import { createServices, type JobView, type TriggerResult } from '../services';
import { loadConfig, type Config } from '../core/config';
import { workflowIdForTitle } from '../core/domain';
import { UpflowError } from '../core/errors';
import type { Logger } from '../adapters/logger';
import { startStack } from './stack';
import { kindOfHttpStatus } from '../api/http-errors';

export interface UpflowTarget {
  description: string;
  trigger(file: string, force: boolean): Promise<TriggerResult>;
  /** undefined while the workflow has not registered its job yet. */
  job(id: string): Promise<JobView | undefined>;
  close(): Promise<void>;
}

/** The Upflow API running on this machine, and the key this machine's configuration has for it. */
export interface RunningApi {
  url: string;
  /** UPFLOW_API_KEY: sent on every call (reads need it too when the API has one). */
  apiKey?: string;
}

/** Longer than /health's own wait for Jellyfin. */
const HEALTH_ANSWER_TIMEOUT_MS = 6_000;

export async function runningApi(config: Config): Promise<RunningApi | undefined> {
  const listening = config.api.host;
  const host = listening === '0.0.0.0' ? '127.0.0.1' : listening === '::' ? '[::1]' : listening;
  const url = `http://${host}:${config.api.port}`;
  try {
    // Any answer is the running Upflow, healthy or not (503 names what is down); /health asks
    // Jellyfin, which may take its 5 s timeout to answer.
    await fetch(`${url}/health`, { signal: AbortSignal.timeout(HEALTH_ANSWER_TIMEOUT_MS) });
    return { url, apiKey: config.api.apiKey };
  } catch {
    return undefined;
  }
}

/** The running API, or an error saying how to start it. */
export async function requireRunningApi(config: Config): Promise<RunningApi> {
  const api = await runningApi(config);
  if (!api) throw new Error(`Upflow is not running on port ${config.api.port}: start it with \`npm start\` (or set UPFLOW_API_HOST/UPFLOW_API_PORT to where it runs)`);
  return api;
}

/**
 * One JSON call to the running API, with UPFLOW_API_KEY when this machine has it; a job route's
 * 404 (not registered yet, or unknown) is undefined.
 */
export async function callApi<T>(api: RunningApi, method: string, route: string, body?: unknown): Promise<T | undefined> {
  const response = await fetch(`${api.url}${route}`, {
    method,
    headers: { ...(body ? { 'content-type': 'application/json' } : {}), ...(api.apiKey ? { 'x-api-key': api.apiKey } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  if (response.status === 404 && route.startsWith('/jobs/')) return undefined;
  const json = (await response.json()) as T & { error?: string };
  if (!response.ok) throw new UpflowError(kindOfHttpStatus(response.status), json.error ?? `HTTP ${response.status}`);
  return json;
}

export function apiTarget(api: RunningApi): UpflowTarget {
  const call = <T>(method: string, route: string, body?: unknown) => callApi<T>(api, method, route, body);
  return {
    description: `the running Upflow at ${api.url}`,
    async trigger(file, force) {
      const answer = await call<{ status: TriggerResult['status']; title_key: string; job_id: string | null; hls_url: string | null; final_file?: string }>(
        'POST', `/upscale-trigger${force ? '?force=1' : ''}`, { Item: { Path: file, Name: path.basename(file) } });
      if (!answer) throw new Error('no answer from the API');
      return {
        status: answer.status,
        titleKey: answer.title_key,
        workflowId: workflowIdForTitle(answer.title_key),
        jobId: answer.job_id ?? undefined,
        hlsUrl: answer.hls_url,
        finalFile: answer.final_file,
      };
    },
    job: (id) => call<JobView>('GET', `/jobs/${id}`),
    close: async () => undefined,
  };
}

/**
 * A stack of this command's own. The file itself joins the media roots for this run: a file
 * named on the command line is the user's own choice, unlike a path in a webhook. (Not its
 * folder: that may hold the data folder, `./.upflow` beside the file, which must stay outside
 * the media folders.)
 */
export async function embeddedTarget(file: string, baseEnv: NodeJS.ProcessEnv, logger: Logger): Promise<UpflowTarget> {
  const base = loadConfig(baseEnv);
  const env = { ...baseEnv, UPFLOW_MEDIA_ROOTS: [...base.mediaRoots, file].join(':') };
  const config = loadConfig(env);
  const stack = await startStack(config, logger, { api: true, workerEnv: env });
  const services = createServices({ config, store: stack.store, client: stack.client });
  return {
    description: `a stack of its own (Temporal UI ${stack.temporalUiUrl ?? config.temporal.address})`,
    trigger: (f, force) => services.triggers.trigger(f, { force }),
    job: (id) => services.jobs.job(id).catch((err: unknown) => {
      if (err instanceof UpflowError && err.kind === 'NotFound') return undefined;
      throw err;
    }),
    close: () => stack.stop(),
  };
}
