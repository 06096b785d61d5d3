/**
 * A stack of its own for one bench measurement: a fresh data folder (Postgres cluster, Temporal
 * database, HLS and output folders), free ports, the worker started with the settings being
 * measured. Interrupted (Ctrl-C), the bench still takes it down and removes its folder.
 */
import fs from 'node:fs';
import path from 'node:path';
import { loadConfig, type Config } from '../core/config';
import type { Logger } from '../adapters/logger';
import { makeTempDataDir } from '../adapters/postgres-cluster';
import { findFreePort } from '../adapters/process';
import { startStack, type Stack } from './stack';

export interface BenchStack {
  /** The configuration the worker runs with, for the trigger's settings and the folders. */
  config: Config;
  stack: Stack;
  /** Stops the stack and removes its data folder. */
  stop(): Promise<void>;
}

export interface BenchStackOptions {
  /** Where the clips are; the stack's own `media` folder when unset. */
  mediaRoot?: string;
  /** Settings for this measurement (SRGAN_ENABLE, UPFLOW_GPU_CONCURRENCY...), over the bench's environment. */
  env?: NodeJS.ProcessEnv;
}

export async function startBenchStack(logger: Logger, options: BenchStackOptions = {}): Promise<BenchStack> {
  const dir = makeTempDataDir('upflow-bench-');
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    UPFLOW_DATA_DIR: dir,
    UPFLOW_MEDIA_ROOTS: options.mediaRoot ?? path.join(dir, 'media'),
    UPFLOW_TEMPORAL_PORT: String(await findFreePort()),
    UPFLOW_TEMPORAL_UI_PORT: String(await findFreePort()),
    UPFLOW_HLS_RETENTION: '1h',
    UPFLOW_LOG_LEVEL: 'warn',
    ...options.env,
  };
  const config = loadConfig(env);
  let stack: Stack;
  try {
    stack = await startStack(config, logger, { api: false, workerEnv: env });
  } catch (err) {
    fs.rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  const interrupt = (signal: NodeJS.Signals) => {
    void stack.stop().finally(() => {
      fs.rmSync(dir, { recursive: true, force: true });
      process.exit(signal === 'SIGINT' ? 130 : 143);
    });
  };
  process.once('SIGINT', interrupt);
  process.once('SIGTERM', interrupt);
  return {
    config,
    stack,
    async stop() {
      process.off('SIGINT', interrupt);
      process.off('SIGTERM', interrupt);
      await stack.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
