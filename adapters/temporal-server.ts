/**
 * The Temporal CLI's dev server (`temporal server start-dev`), for `upflow up` when no
 * UPFLOW_TEMPORAL_ADDRESS is given: state in a SQLite file under the data folder so workflows
 * survive a restart, web UI on, bound to 127.0.0.1 (the dev server has no authentication).
 */
import fs from 'node:fs';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import type { Logger } from './logger';
import { isPortFree, startChild, type ChildExit } from './process';

export interface TemporalDevServerOptions {
  cliPath: string;
  dbFile: string;
  port: number;
  /** Omitted: no web UI (`--headless`). */
  uiPort?: number;
  namespace: string;
  logFile: string;
  logger: Logger;
}

export interface TemporalDevServer {
  address: string;
  uiUrl?: string;
  pid: number;
  /** Resolves when the server's process ends, stopped or not. */
  exited: Promise<ChildExit>;
  stop(): Promise<void>;
}

const HOST = '127.0.0.1';
/**
 * New tasks go to one partition of each task queue (the server's default spreads them over 4):
 * one machine needs no more, and streams waiting for a gpu worker are then handed out in the
 * order they were queued, the order whose positions the API shows (measured with four titles
 * queued together: out of order in 3 of 5 rounds with 4 partitions, in none with 1). Reads
 * stay on 4 partitions, so tasks that an older start left in the others are still served.
 */
const TASK_QUEUE_DYNAMIC_CONFIG = ['matching.numTaskqueueWritePartitions=1'];
const START_TIMEOUT_MS = 90_000;
/**
 * Starts of a dev server that exits while starting. It picks free ports for its own history,
 * matching and worker services and binds them later, so another process starting at the same
 * moment (a second stack in the tests) can take one: the server then panics (a nil listener in
 * grpc's Serve; temporalio/cli#667). A start a moment later picks other ports.
 */
const START_ATTEMPTS = 3;

/** Where set-up puts the CLI (`<cache>/bin/temporal`), its pip venv, or anything on PATH. */
export function findTemporalCli(cacheDir: string): string | undefined {
  const candidates = [
    path.join(cacheDir, 'bin', 'temporal'),
    path.join(cacheDir, 'temporal-venv', 'bin', 'temporal'),
    ...(process.env.PATH ?? '').split(':').filter(Boolean).map((dir) => path.join(dir, 'temporal')),
  ];
  return candidates.find((file) => {
    try {
      fs.accessSync(file, fs.constants.X_OK);
      return fs.statSync(file).isFile();
    } catch {
      return false;
    }
  });
}

export async function startTemporalDevServer(o: TemporalDevServerOptions): Promise<TemporalDevServer> {
  for (const [what, port, variable] of [
    ['gRPC', o.port, 'UPFLOW_TEMPORAL_PORT'],
    ['web UI', o.uiPort, 'UPFLOW_TEMPORAL_UI_PORT'],
  ] as const) {
    if (port !== undefined && !(await isPortFree(port, HOST))) {
      throw new Error(`port ${port} for Temporal's ${what} is in use: is another Temporal or Upflow running? Set ${variable}, or UPFLOW_TEMPORAL_ADDRESS to use that server`);
    }
  }
  fs.mkdirSync(path.dirname(o.dbFile), { recursive: true });
  const args = ['server', 'start-dev', '--ip', HOST, '--port', String(o.port), '--db-filename', o.dbFile, '--namespace', o.namespace];
  args.push(...TASK_QUEUE_DYNAMIC_CONFIG.flatMap((setting) => ['--dynamic-config-value', setting]));
  args.push(...(o.uiPort !== undefined ? ['--ui-port', String(o.uiPort)] : ['--headless']));
  const address = `${HOST}:${o.port}`;
  for (let attempt = 1; ; attempt++) {
    const child = startChild({ name: 'temporal', command: o.cliPath, args, logFile: o.logFile });
    const stop = async () => {
      await child.stop('SIGTERM', 15_000);
    };
    try {
      await waitForNamespace(address, o.namespace, () => child.hasExited(), o.logFile);
    } catch (err) {
      // Exited by itself: the race above (or a real fault, which the last attempt reports); not within the time: no retry.
      const exitedWhileStarting = child.hasExited();
      await stop();
      if (!exitedWhileStarting || attempt >= START_ATTEMPTS) throw err;
      o.logger.warn({ err: (err as Error).message, attempt }, 'the Temporal dev server exited while starting: starting it again');
      continue;
    }
    o.logger.debug({ address }, 'temporal dev server started');
    return {
      address,
      uiUrl: o.uiPort !== undefined ? `http://localhost:${o.uiPort}` : undefined,
      pid: child.pid,
      exited: child.exited,
      stop,
    };
  }
}

async function waitForNamespace(address: string, namespace: string, exited: () => boolean, logFile: string): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  let lastError = '';
  while (Date.now() < deadline && !exited()) {
    try {
      const connection = await Connection.connect({ address, connectTimeout: '2 seconds' });
      try {
        await connection.workflowService.describeNamespace({ namespace });
        return;
      } finally {
        await connection.close();
      }
    } catch (err) {
      lastError = (err as Error).message;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  const log = fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8').trim().split('\n').slice(-3).join(' | ') : '';
  throw new Error(`the Temporal dev server did not start (${exited() ? 'it exited' : lastError}); see ${logFile}: ${log}`);
}
