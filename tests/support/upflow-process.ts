/**
 * Runs the real `upflow up` (what `npm start` runs) on free ports in a temp data folder, and
 * stops it with SIGINT as a person would with Ctrl-C. Or `upflow api` alone, against services
 * a test runs itself (DATABASE_URL, UPFLOW_TEMPORAL_ADDRESS), in another process's folder.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { findFreePort } from '../../adapters/process';
import { makeTempDataDir } from '../../adapters/postgres-cluster';

export interface UpflowProcess {
  dir: string;
  mediaDir: string;
  apiUrl: string;
  env: NodeJS.ProcessEnv;
  /** One JSON call to its API, with its UPFLOW_API_KEY when it has one (as the owner's tools). */
  api<T>(method: string, route: string, body?: unknown): Promise<{ status: number; json: T }>;
  output(): string;
  /** Every process below `upflow up` right now (Postgres, Temporal, the worker...). */
  descendants(): number[];
  /** SIGINT as Ctrl-C (SIGKILL after 60 s); SIGKILL: a crash. Resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export interface StartUpflowOptions {
  /** `up` (default): the whole stack; `api`: the API alone (the env must name Postgres and Temporal). */
  command?: 'up' | 'api';
  /** Another process's folder (its data and media) instead of a fresh one. */
  dir?: string;
  /** Default: a free port. */
  apiPort?: number;
}

const REPO = path.join(__dirname, '..', '..');

export function descendantsOf(pid: number): number[] {
  const out = execFileSync('ps', ['-e', '-o', 'pid=,ppid='], { encoding: 'utf8' });
  const children = new Map<number, number[]>();
  for (const line of out.trim().split('\n')) {
    const [child, parent] = line.trim().split(/\s+/).map(Number) as [number, number];
    children.set(parent, [...(children.get(parent) ?? []), child]);
  }
  const found: number[] = [];
  const visit = (p: number) => {
    for (const c of children.get(p) ?? []) {
      found.push(c);
      visit(c);
    }
  };
  visit(pid);
  return found;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Starts `upflow up` (or `upflow api`) and waits until its /health is healthy (and, for `up`,
 * its worker is ready; it logs so at level info). The services it
 * uses are its own unless `extraEnv` sets DATABASE_URL / UPFLOW_TEMPORAL_ADDRESS.
 */
export async function startUpflow(extraEnv: NodeJS.ProcessEnv = {}, options: StartUpflowOptions = {}): Promise<UpflowProcess> {
  const command = options.command ?? 'up';
  const dir = options.dir ?? makeTempDataDir('upflow-e2e-');
  const mediaDir = path.join(dir, 'media');
  fs.mkdirSync(mediaDir, { recursive: true });
  const apiPort = options.apiPort ?? (await findFreePort());
  // The services of the shell running the tests are never used by accident.
  const inherited = { ...process.env };
  delete inherited.DATABASE_URL;
  delete inherited.UPFLOW_TEMPORAL_ADDRESS;
  const env: NodeJS.ProcessEnv = {
    ...inherited,
    UPFLOW_DATA_DIR: path.join(dir, 'data'),
    UPFLOW_MEDIA_ROOTS: mediaDir,
    UPFLOW_API_HOST: '127.0.0.1',
    UPFLOW_API_PORT: String(apiPort),
    HLS_SERVER_HOST: '127.0.0.1',
    UPFLOW_TEMPORAL_PORT: String(await findFreePort()),
    UPFLOW_TEMPORAL_UI_PORT: String(await findFreePort()),
    UPFLOW_DEMO: '0',
    UPFLOW_LOG_FORMAT: 'json',
    UPFLOW_LOG_LEVEL: 'info',
    ...extraEnv,
  };
  let output = '';
  const child: ChildProcess = spawn(process.execPath, [path.join(REPO, 'bin', 'upflow.js'), command], {
    env,
    cwd: dir,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const apiUrl = `http://127.0.0.1:${apiPort}`;

  const deadline = Date.now() + 120_000;
  // `up` answers /health before its worker has bundled the workflows and polls the queues;
  // a test that times its first trigger must not count that start-up.
  // (Temporal's list of a task queue's pollers missed a polling worker once in a while.)
  const workerReady = () => command !== 'up' || output.includes('"msg":"worker ready"');
  let lastHealth = 'no answer yet';
  for (;;) {
    if (child.exitCode !== null) throw new Error(`upflow ${command} exited with ${child.exitCode}:\n${output}`);
    const healthy = await fetch(`${apiUrl}/health`).then(
      async (r) => {
        lastHealth = `${r.status} ${await r.text()}`;
        return r.ok;
      },
      (err: Error) => {
        lastHealth = `${err.message}${err.cause instanceof Error ? ` (${err.cause.message})` : ''}`;
        return false;
      },
    );
    if (healthy && workerReady()) break;
    if (Date.now() > deadline) {
      // Its Temporal server and worker too: left running, they keep jest from exiting (CI-11).
      for (const pid of child.pid ? descendantsOf(child.pid) : []) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      child.kill('SIGKILL');
      // The last answer says which part was missing (a rare start that never became healthy, CI-11).
      throw new Error(`upflow ${command} did not become healthy, its worker ready, in 120 s (last /health: ${lastHealth}):\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  return {
    dir,
    mediaDir,
    apiUrl,
    env,
    async api<T>(method: string, route: string, body?: unknown) {
      const response = await fetch(`${apiUrl}${route}`, {
        method,
        headers: {
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...(env.UPFLOW_API_KEY ? { 'x-api-key': env.UPFLOW_API_KEY } : {}),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: response.status, json: (await response.json()) as T };
    },
    output: () => output,
    descendants: () => descendantsOf(child.pid!),
    async stop(signal: NodeJS.Signals = 'SIGINT') {
      if (child.exitCode === null) child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

/**
 * A test's teardown of its Upflow: Ctrl-C, which must end it with 0 (a clean stop is part of
 * every test that starts one), then its temp folder goes. Nothing to do when beforeAll failed
 * before it started.
 */
export async function stopAndRemove(upflow: UpflowProcess | undefined): Promise<void> {
  if (!upflow) return;
  expect(await upflow.stop()).toBe(0);
  fs.rmSync(upflow.dir, { recursive: true, force: true });
}

export async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000, intervalMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
