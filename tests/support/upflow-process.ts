/**
 * Runs the real `upflow up` (what `npm start` runs) on free ports in a temp data folder, and
 * stops it with SIGINT as a person would with Ctrl-C.
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
  /** One JSON call to its API. */
  api<T>(method: string, route: string, body?: unknown): Promise<{ status: number; json: T }>;
  output(): string;
  /** Every process below `upflow up` right now (Postgres, Temporal, the worker...). */
  descendants(): number[];
  stop(): Promise<number | null>;
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

export async function startUpflow(extraEnv: NodeJS.ProcessEnv = {}): Promise<UpflowProcess> {
  const dir = makeTempDataDir('upflow-e2e-');
  const mediaDir = path.join(dir, 'media');
  fs.mkdirSync(mediaDir, { recursive: true });
  const apiPort = await findFreePort();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
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
  delete env.DATABASE_URL;
  delete env.UPFLOW_TEMPORAL_ADDRESS;
  let output = '';
  const child: ChildProcess = spawn(process.execPath, [path.join(REPO, 'bin', 'upflow.js'), 'up'], {
    env,
    cwd: dir,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const apiUrl = `http://127.0.0.1:${apiPort}`;

  const deadline = Date.now() + 120_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`upflow up exited with ${child.exitCode}:\n${output}`);
    const healthy = await fetch(`${apiUrl}/health`).then((r) => r.ok, () => false);
    if (healthy) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`upflow up did not become healthy in 120 s:\n${output}`);
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
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: response.status, json: (await response.json()) as T };
    },
    output: () => output,
    descendants: () => descendantsOf(child.pid!),
    async stop() {
      if (child.exitCode === null) child.kill('SIGINT');
      const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
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
