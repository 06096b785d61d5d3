/** The `upflow` command line. */
import { Command, InvalidArgumentError } from 'commander';
import { loadConfig, type Config } from '../common/config';
import { ConfigError } from '../common/errors';
import { createLogger, type Logger } from '../adapters/logger';
import { BENCH_CASES, benchCommand } from './bench';
import { upCommand } from './up';
import { upscaleCommand } from './upscale';
import { runWorkerProcess } from './worker-process';

function positiveNumber(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('expected a positive number');
  return n;
}

/** Runs a command with validated configuration; any failure is one clear line and exit 1. */
function action<A extends unknown[]>(run: (config: Config, logger: Logger, ...args: A) => Promise<number | void>) {
  return async (...args: A) => {
    let config: Config;
    try {
      config = loadConfig();
    } catch (err) {
      process.stderr.write(`upflow: ${(err as Error).message}\n`);
      process.exit(1);
    }
    const logger = createLogger({ level: config.logLevel });
    try {
      const code = await run(config, logger, ...args);
      process.exit(code ?? 0);
    } catch (err) {
      const message = err instanceof ConfigError ? err.message : (err as Error).message;
      process.stderr.write(`upflow: ${message}\n`);
      if (process.env.UPFLOW_DEBUG) process.stderr.write(`${(err as Error).stack}\n`);
      process.exit(1);
    }
  };
}

const program = new Command('upflow').description('Live AI super-resolution for Jellyfin, streamed as HLS');

program
  .command('up')
  .description('start Temporal, Postgres, a worker and the API in the foreground (Ctrl-C stops all)')
  .action(action((config, logger) => upCommand(config, logger)));

program
  .command('worker')
  .description('run one worker (queues "media" and "gpu") against DATABASE_URL and UPFLOW_TEMPORAL_ADDRESS')
  .action(action((config, logger) => runWorkerProcess(config, logger)));

program
  .command('upscale')
  .description('upscale one video file with a progress bar, using the running Upflow or a stack of its own')
  .argument('<file>', 'video file')
  .option('--json', 'print machine-readable progress lines', false)
  .option('--force', 'upscale again even if a finished file exists', false)
  .action(action((config, logger, file: string, opts: { json: boolean; force: boolean }) =>
    upscaleCommand(file, opts, config, logger)));

program
  .command('bench')
  .description('measure the ffmpeg-only path at 360p and 1080p input: time to first segment, real-time multiplier, fps')
  .option('--json', 'print one JSON line per case', false)
  .option('--seconds <n>', 'length of each generated clip', positiveNumber, 20)
  .option('--case <label...>', `cases to run (${BENCH_CASES.map((c) => c.label).join(', ')})`)
  .action(action(async (_config, logger, opts: { json: boolean; seconds: number; case?: string[] }) => {
    const cases = opts.case ? BENCH_CASES.filter((c) => opts.case!.includes(c.label)) : BENCH_CASES;
    await benchCommand({ json: opts.json, seconds: opts.seconds, cases }, logger);
  }));

program.showHelpAfterError();
void program.parseAsync(process.argv).catch((err: Error) => {
  process.stderr.write(`upflow: ${err.message}\n`);
  process.exit(1);
});

