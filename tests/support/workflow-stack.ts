/**
 * The title workflow's stack without the API, for the integration tests: Temporal's dev server
 * (the CLI set-up installs, through TestWorkflowEnvironment), a Postgres cluster, and the real
 * workers with their activities, in a temporary folder.
 */
import fs from 'node:fs';
import path from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { loadConfig, type Config } from '../../core/config';
import { titleKeyFor } from '../../core/media-paths';
import { createLogger } from '../../adapters/logger';
import { createPool, migrate, UpflowStore } from '../../adapters/postgres';
import { makeTempDataDir, startPostgresCluster } from '../../adapters/postgres-cluster';
import { findTemporalCli } from '../../adapters/temporal-server';
import { startOrJoinTitleWorkflow, upscaleSettings, type TitleWorkflowStart } from '../../services/title-workflows';
import { installWorkerRuntime, startWorkers } from '../../worker';

export interface WorkflowStack {
  /** The temporary folder: data under `data/`, sources under `media/` (the media root). */
  dir: string;
  env: TestWorkflowEnvironment;
  store: UpflowStore;
  /** The workers' own configuration: a test may change what they read while a title runs. */
  config: Config;
  /** Starts a title's workflow, or joins its run, as a trigger does. */
  start(sourcePath: string): Promise<TitleWorkflowStart>;
  stop(): Promise<void>;
}

/** `settings`: more of the configuration's variables; `serverArgs`: more of the dev server's flags. */
export async function startWorkflowStack(options: { settings?: Record<string, string>; serverArgs?: string[] } = {}): Promise<WorkflowStack> {
  // Failures tests cause on purpose log warnings that would only be noise here.
  const logger = createLogger({ level: 'error' });
  const dir = makeTempDataDir('upflow-wf-');
  const config = loadConfig({ UPFLOW_DATA_DIR: path.join(dir, 'data'), UPFLOW_MEDIA_ROOTS: path.join(dir, 'media'), ...options.settings });
  installWorkerRuntime(logger, 'ERROR');
  const cli = findTemporalCli(config.cacheDir);
  if (!cli) throw new Error('Temporal CLI missing: run npm run setup');
  const [env, postgres] = await Promise.all([
    TestWorkflowEnvironment.createLocal({ server: { executable: { type: 'existing-path', path: cli }, extraArgs: ['--headless', ...(options.serverArgs ?? [])] } }),
    startPostgresCluster({ dir: path.join(dir, 'pg'), logFile: path.join(dir, 'pg.log'), logger }),
  ]);
  await migrate(postgres.url);
  const pool = createPool(postgres.url);
  const store = new UpflowStore(pool);
  const workers = await startWorkers({ config, connection: env.nativeConnection, client: env.client, store, logger });
  return {
    dir,
    env,
    store,
    config,
    start: (sourcePath) => startOrJoinTitleWorkflow(env.client, { titleKey: titleKeyFor(sourcePath), sourcePath, name: path.basename(sourcePath), settings: upscaleSettings(config) }),
    async stop() {
      await workers.shutdown();
      await pool.end();
      await env.teardown();
      await postgres.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
