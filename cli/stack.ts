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
import { createPool, migrate, UpflowStore, type Pool } from '../adapters/postgres';
import { startPostgresCluster } from '../adapters/postgres-cluster';
import { killStaleFromPidFile, startChild, writePidFile, type ManagedChild } from '../adapters/process';
import { connectClient } from '../adapters/temporal';
import { findTemporalCli, startTemporalDevServer, type TemporalDevServer } from '../adapters/temporal-server';

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

/** A worker that dies (a crash, an OOM kill) is started again after this pause. */
const WORKER_RESTART_DELAY_MS = 2000;
/** So is the Temporal dev server; its SQLite file keeps every workflow, which go on once it is back. */
const TEMPORAL_RESTART_DELAY_MS = 2000;

export async function startStack(config: Config, logger: Logger, options: StackOptions): Promise<Stack> {
  await checkMediaTools();
  const logsDir = path.join(config.dataDir, 'logs');
  const runDir = path.join(config.dataDir, 'run');
  for (const dir of [config.dataDir, logsDir, runDir, config.hlsDir, config.outputDir]) {
    fs.mkdirSync(dir, { recursive: true });
  }
  const stops: Array<() => Promise<void>> = [];
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

    await migrate(databaseUrl);
    const pool: Pool = createPool(databaseUrl);
    stops.push(() => pool.end());
    const store = new UpflowStore(pool);
    const client = await connectClient(temporalAddress, config.temporal.namespace);
    stops.push(() => client.connection.close());

    const worker = superviseWorker({
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

/**
 * Starts the Temporal dev server, and starts it again (on the same port, with the same file)
 * whenever it dies unexpectedly, until the stack stops.
 */
async function superviseTemporal(o: { start: () => Promise<TemporalDevServer>; runDir: string; logger: Logger }): Promise<Pick<TemporalDevServer, 'address' | 'uiUrl' | 'stop'>> {
  let current = await o.start();
  let stopping = false;
  let restartTimer: NodeJS.Timeout | undefined;
  let starting: Promise<void> | undefined;
  const watch = (server: TemporalDevServer) => {
    writePidFile(o.runDir, 'temporal', server.pid);
    void server.exited.then(({ code, signal }) => {
      if (stopping) return;
      o.logger.error({ code, signal }, `the Temporal dev server exited unexpectedly; starting it again in ${TEMPORAL_RESTART_DELAY_MS / 1000} s`);
      restartTimer = setTimeout(restart, TEMPORAL_RESTART_DELAY_MS);
    });
  };
  const restart = () => {
    starting = o.start().then(
      (server) => {
        current = server;
        watch(server);
        if (!stopping) o.logger.info({ address: server.address }, 'the Temporal dev server is back');
      },
      (err: Error) => {
        if (stopping) return;
        o.logger.error({ err }, `the Temporal dev server did not start again; trying again in ${TEMPORAL_RESTART_DELAY_MS / 1000} s`);
        restartTimer = setTimeout(restart, TEMPORAL_RESTART_DELAY_MS);
      },
    );
  };
  watch(current);
  return {
    address: current.address,
    uiUrl: current.uiUrl,
    async stop() {
      stopping = true;
      clearTimeout(restartTimer);
      await starting; // a start under way ends first, so that its server is stopped too
      await current.stop();
    },
  };
}

/** How long a starting worker may take to say it is ready (bundling the workflows, loading a model). */
const WORKER_READY_TIMEOUT_MS = 120_000;

/**
 * Runs `upflow worker` as a child process and starts it again if it dies unexpectedly.
 * `ready` resolves once the first one has written its ready file (cli/worker-process.ts).
 */
function superviseWorker(o: { env: NodeJS.ProcessEnv; logFile?: string; runDir: string; logger: Logger }) {
  let child: ManagedChild | undefined;
  let stopping = false;
  let restartTimer: NodeJS.Timeout | undefined;
  const readyFile = path.join(o.runDir, 'worker.ready');
  const launch = () => {
    killStaleFromPidFile(o.runDir, 'worker');
    fs.rmSync(readyFile, { force: true });
    const current = startChild({
      name: 'worker',
      command: process.execPath,
      args: [path.join(__dirname, '..', 'bin', 'upflow.js'), 'worker'],
      env: { ...o.env, UPFLOW_WORKER_READY_FILE: readyFile },
      // No log file: the worker logs to this terminal.
      logFile: o.logFile,
    });
    child = current;
    writePidFile(o.runDir, 'worker', current.pid);
    void current.exited.then(({ code, signal }) => {
      if (stopping) return;
      o.logger.error({ code, signal }, `worker exited unexpectedly; starting it again in ${WORKER_RESTART_DELAY_MS / 1000} s`);
      restartTimer = setTimeout(launch, WORKER_RESTART_DELAY_MS);
    });
  };
  launch();
  const ready = (async () => {
    const deadline = Date.now() + WORKER_READY_TIMEOUT_MS;
    while (!fs.existsSync(readyFile)) {
      if (Date.now() > deadline) throw new Error(`the worker did not get ready in ${WORKER_READY_TIMEOUT_MS / 1000} s (see its log above)`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  })();
  return {
    ready,
    async stop() {
      stopping = true;
      clearTimeout(restartTimer);
      await child?.stop('SIGTERM', 15_000);
    },
  };
}
