/**
 * The local Upflow stack: Postgres and the Temporal dev server, supervised (unless DATABASE_URL /
 * UPFLOW_TEMPORAL_ADDRESS point at existing ones), migrations, a supervised worker process
 * and, optionally, the API. `stop()` takes everything down in reverse order.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { startApiServer } from '../api/server';
import type { Config } from '../core/config';
import { checkMediaTools } from '../adapters/ffmpeg';
import type { Logger } from '../adapters/logger';
import { createPool, UpflowStore, type Pool } from '../adapters/postgres';
import { startPostgresCluster } from '../adapters/postgres-cluster';
import { killStaleFromPidFile, lockStack, startChild, writePidFile, type ChildExit } from '../adapters/process';
import { findTemporalCli, startTemporalDevServer, type TemporalDevServer } from '../adapters/temporal-server';
import { CHECK_TEMPORAL_ADDRESS, connectTemporal, migrateDatabase } from './connections';

export interface Stack {
  databaseUrl: string;
  temporalAddress: string;
  temporalUiUrl?: string;
  apiUrl?: string;
  client: Client;
  store: UpflowStore;
  stop(): Promise<void>;
}

export interface StackOptions {
  api: boolean;
  /** Extra environment for the worker process (e.g. more media roots for one CLI run). */
  workerEnv?: NodeJS.ProcessEnv;
}

/**
 * A worker or Temporal dev server that dies (a crash, an OOM kill) is started again after this
 * pause. The dev server's SQLite file keeps every workflow, which go on once it is back.
 */
const RESTART_DELAY_MS = 2000;

export async function startStack(config: Config, logger: Logger, options: StackOptions): Promise<Stack> {
  await checkMediaTools();
  const logsDir = path.join(config.dataDir, 'logs');
  const runDir = path.join(config.dataDir, 'run');
  for (const dir of [config.dataDir, logsDir, runDir, config.hlsDir, config.outputDir]) {
    fs.mkdirSync(dir, { recursive: true });
  }
  const lock = lockStack(runDir, config.dataDir);
  const stops: Array<() => Promise<void>> = [async () => lock.release()];
  const stop = async () => {
    for (const step of stops.reverse()) {
      await step().catch((err: Error) => logger.warn({ err }, 'stopping a part of the stack failed'));
    }
    stops.length = 0;
  };

  try {
    let databaseUrl = config.databaseUrl;
    if (!databaseUrl) {
      const postgres = await startPostgresCluster({
        dir: path.join(config.dataDir, 'postgres'),
        logFile: path.join(logsDir, 'postgres.log'),
        logger,
      });
      stops.push(() => postgres.stop());
      databaseUrl = postgres.url;
    }

    let temporalAddress = config.temporal.address;
    let temporalUiUrl: string | undefined;
    if (!temporalAddress) {
      const cliPath = findTemporalCli(config.cacheDir);
      if (!cliPath) {
        throw new Error('the Temporal CLI is missing: run `npm run setup`, or set UPFLOW_TEMPORAL_ADDRESS to use an existing Temporal server');
      }
      killStaleFromPidFile(runDir, 'temporal');
      const temporal = await superviseTemporal({
        start: () => startTemporalDevServer({
          cliPath,
          dbFile: path.join(config.dataDir, 'temporal.db'),
          port: config.temporal.port,
          uiPort: config.temporal.uiPort,
          namespace: config.temporal.namespace,
          logFile: path.join(logsDir, 'temporal.log'),
          logger,
        }),
        runDir,
        logger,
      });
      stops.push(() => temporal.stop());
      temporalAddress = temporal.address;
      temporalUiUrl = temporal.uiUrl;
    }

    await migrateDatabase(databaseUrl, config.databaseUrl !== undefined);
    const pool: Pool = createPool(databaseUrl);
    stops.push(() => pool.end());
    const store = new UpflowStore(pool);
    const client = await connectTemporal(temporalAddress, config.temporal.namespace, config.temporal.address ? CHECK_TEMPORAL_ADDRESS : undefined);
    stops.push(() => client.connection.close());

    const worker = await superviseWorker({
      env: { ...process.env, ...options.workerEnv, DATABASE_URL: databaseUrl, UPFLOW_TEMPORAL_ADDRESS: temporalAddress },
      runDir,
      logger,
    });
    stops.push(() => worker.stop());
    // Up means ready: the worker has bundled the workflows, loaded its model and polls.
    await worker.ready;

    let apiUrl: string | undefined;
    if (options.api) {
      const api = await startApiServer({ config, store, client, logger });
      stops.push(() => api.close());
      apiUrl = api.url;
    }
    return { databaseUrl, temporalAddress, temporalUiUrl, apiUrl, client, store, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** A process the stack keeps running. */
interface Supervised {
  pid: number;
  exited: Promise<ChildExit>;
  stop(): Promise<unknown>;
}

/**
 * Starts a process and starts it again `RESTART_DELAY_MS` after it exits unexpectedly, or after
 * such a start fails, until `stop()`; its pid file in `runDir` names the current one. The first
 * start's failure is the caller's. `onRestarted` hears of each later start.
 */
async function keepRunning<P extends Supervised>(o: {
  name: string; pidName: string; start: () => Promise<P>; runDir: string; logger: Logger; onRestarted?: (child: P) => void;
}): Promise<{ first: P; stop(): Promise<void> }> {
  const first = await o.start();
  let current = first;
  let stopping = false;
  let restartTimer: NodeJS.Timeout | undefined;
  let starting: Promise<void> | undefined;
  const watch = (child: P) => {
    writePidFile(o.runDir, o.pidName, child.pid);
    void child.exited.then(({ code, signal }) => {
      if (stopping) return;
      o.logger.error({ code, signal }, `${o.name} exited unexpectedly; starting it again in ${RESTART_DELAY_MS / 1000} s`);
      restartTimer = setTimeout(restart, RESTART_DELAY_MS);
    });
  };
  const restart = () => {
    starting = o.start().then(
      (child) => {
        current = child;
        watch(child);
        if (!stopping) o.onRestarted?.(child);
      },
      (err: Error) => {
        if (stopping) return;
        o.logger.error({ err }, `${o.name} did not start again; trying again in ${RESTART_DELAY_MS / 1000} s`);
        restartTimer = setTimeout(restart, RESTART_DELAY_MS);
      },
    );
  };
  watch(first);
  return {
    first,
    async stop() {
      stopping = true;
      clearTimeout(restartTimer);
      await starting; // a start under way ends first, so that its process is stopped too
      await current.stop();
    },
  };
}

/** The Temporal dev server, started again (on the same port, with the same file) whenever it dies unexpectedly. */
async function superviseTemporal(o: { start: () => Promise<TemporalDevServer>; runDir: string; logger: Logger }): Promise<Pick<TemporalDevServer, 'address' | 'uiUrl' | 'stop'>> {
  const { first, stop } = await keepRunning({
    ...o,
    name: 'the Temporal dev server',
    pidName: 'temporal',
    onRestarted: (server) => o.logger.info({ address: server.address }, 'the Temporal dev server is back'),
  });
  return { address: first.address, uiUrl: first.uiUrl, stop };
}

/** How long a starting worker may take to say it is ready (bundling the workflows, loading a model). */
const WORKER_READY_TIMEOUT_MS = 120_000;

/**
 * Runs `upflow worker` as a child process and starts it again if it dies unexpectedly.
 * `ready` resolves once the first one has written its ready file (cli/worker-process.ts).
 */
async function superviseWorker(o: { env: NodeJS.ProcessEnv; logFile?: string; runDir: string; logger: Logger }) {
  const readyFile = path.join(o.runDir, 'worker.ready');
  const { stop } = await keepRunning({
    name: 'worker',
    pidName: 'worker',
    runDir: o.runDir,
    logger: o.logger,
    start: async () => {
      killStaleFromPidFile(o.runDir, 'worker');
      fs.rmSync(readyFile, { force: true });
      const child = startChild({
        name: 'worker',
        command: process.execPath,
        args: [path.join(__dirname, '..', 'bin', 'upflow.js'), 'worker'],
        env: { ...o.env, UPFLOW_WORKER_READY_FILE: readyFile },
        // No log file: the worker logs to this terminal.
        logFile: o.logFile,
      });
      return { pid: child.pid, exited: child.exited, stop: () => child.stop('SIGTERM', 15_000) };
    },
  });
  const ready = (async () => {
    const deadline = Date.now() + WORKER_READY_TIMEOUT_MS;
    while (!fs.existsSync(readyFile)) {
      if (Date.now() > deadline) throw new Error(`the worker did not get ready in ${WORKER_READY_TIMEOUT_MS / 1000} s (see its log above)`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  })();
  return { ready, stop };
}
