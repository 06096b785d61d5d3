/** The `upflow` command line. */
import path from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { loadConfig, parseDurationMs, type Config } from '../core/config';
import { modelFor } from '../core/content-kind';
import { BENCH_SIZES, isBenchSize, isModelId, isPrecision, MODEL_IDS, PRECISIONS, type ModelId } from '../core/models';
import { precisionsOf } from '../core/precision';
import { precisionHere } from '../adapters/onnx';
import { createLogger, type Logger } from '../adapters/logger';
import { runApiProcess } from './api-process';
import { benchCommand, DEFAULT_BENCH_MODELS, DEFAULT_MODELS_JSON, FFMPEG_ONLY } from './bench';
import { DEFAULT_GRID_JSON, GRID_BENCH_PARTS, gridBenchCommand, isGridBenchPart } from './bench-grid';
import { DEFAULT_PROFILE_JSON, DEFAULT_PROFILE_MODELS, profileBenchCommand } from './bench-profile';
import { DEFAULT_ENCODER_JSON, ENCODER_BENCH_SETTINGS, encoderBenchCommand, type EncoderComparison } from './bench-encoder';
import { auditCommand } from './audit';
import { cleanupCommand } from './cleanup';
import { monitorCommand } from './monitor';
import { buildModelsCommand, listModelsCommand } from './models';
import { DEFAULT_QUALITY_JSON, qualityCommand } from './quality';
import { upCommand } from './up';
import { errorText } from './format';
import { upscaleCommand } from './upscale';
import { isStillImage, upscaleImageCommand } from './upscale-image';
import { runWorkerProcess } from './worker-process';

function duration(value: string): number {
  try {
    return parseDurationMs(value);
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
}

function positiveNumber(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('expected a positive number');
  return n;
}

function positiveInteger(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('expected a positive whole number');
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
    const logger = createLogger({ level: config.logLevel, format: config.logFormat });
    try {
      const code = await run(config, logger, ...args);
      process.exit(code ?? 0);
    } catch (err) {
      process.stderr.write(`upflow: ${errorText(err)}\n`);
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
  .command('api')
  .description('run the HTTP API alone against DATABASE_URL and UPFLOW_TEMPORAL_ADDRESS (applies migrations first)')
  .action(action((config, logger) => runApiProcess(config, logger)));

program
  .command('worker')
  .description('run one worker (queues "media" and "gpu") against DATABASE_URL and UPFLOW_TEMPORAL_ADDRESS')
  .action(action((config, logger) => runWorkerProcess(config, logger)));

function modelIdArg(value: string, previous: ModelId[] = []): ModelId[] {
  if (!isModelId(value)) throw new InvalidArgumentError(`unknown model; one of ${MODEL_IDS.join(', ')}`);
  return [...previous, value];
}

const models = program
  .command('models')
  .description('list the upscaling models: scale, licence, source package, whether built here, measured speed')
  .option('--json', 'machine-readable', false)
  .action(action(async (config, _logger, opts: { json: boolean }) => listModelsCommand(config, opts)));

models
  .command('build')
  .description('convert the shipped weights to ONNX files in the cache (missing or stale ones only)')
  .argument('[models...]', 'model ids (default: all)')
  .option('--force', 'rebuild even if up to date', false)
  .option('--quiet', 'print only when something is built', false)
  .action(action(async (config, _logger, ids: string[], opts: { force: boolean; quiet: boolean }) =>
    buildModelsCommand(config, { ...opts, ids: ids.reduce<ModelId[]>((all, id) => modelIdArg(id, all), []) })));

program
  .command('upscale')
  .description('upscale one video file with a progress bar, using the running Upflow or a stack of its own; or one PNG image')
  .argument('<file>', 'video file, or a .png image')
  .option('--model <id>', `model to upscale with (${MODEL_IDS.join(', ')}); default UPFLOW_MODEL, else UPFLOW_CONTENT_KIND's model; for a video it turns SRGAN_ENABLE on`)
  .option('--output <file>', 'where to write the result (a .png for an image; a copy of the final file for a video)')
  .option('--json', 'print machine-readable progress lines', false)
  .option('--force', 'upscale again even if a finished file exists', false)
  .action(action((config, logger, file: string, opts: { json: boolean; force: boolean; model?: string; output?: string }) => {
    const model = opts.model === undefined ? undefined : modelIdArg(opts.model)[0]!;
    if (isStillImage(file)) return upscaleImageCommand(file, { model: model ?? modelFor(config.upscale), output: opts.output, json: opts.json }, config, logger);
    return upscaleCommand(file, { json: opts.json, force: opts.force, model, output: opts.output }, config, logger);
  }));

const BENCH_PARTS = ['models', 'grid', 'profile', 'encoder'] as const;
/** Frames a profile averages over. */
const PROFILE_RUNS = 20;

program
  .command('bench')
  .description('measure each model at each input size (inference, decode and encode alone, the whole pipeline, real-time multiplier, first segment), then the grid: trigger and seek to a playable segment, two slots against one, chunk start cost, K slots for slow models; then where a frame\'s time goes inside each model (onnxruntime\'s profiler); then what x264\'s lookahead costs and buys at a model\'s pace')
  .option('--only <part>', `run one part only: ${BENCH_PARTS.join(', ')}`)
  .option('--json', 'print one JSON line per case (models) and the grid\'s figures as one JSON line', false)
  .option('--seconds <n>', 'length of each generated clip (24 fps)', positiveNumber, 8)
  .option('--size <sizes...>', `input sizes (${BENCH_SIZES.join(', ')})`)
  .option('--model <ids...>', `models (${FFMPEG_ONLY} = the ffmpeg-only path; default ${DEFAULT_BENCH_MODELS.join(', ')})`)
  .option('--precision <precisions...>', `precisions each model is measured in, where built (${PRECISIONS.join(', ')}; default fp32 and each one UPFLOW_PRECISION runs a model in here)`)
  .option('--max-pipeline-seconds <n>', 'skip a whole-pipeline run predicted to take longer', positiveNumber, 90)
  .option('--models-json <file>', 'models: where their figures are written (default: docs/bench/models.json in the repository)')
  .option('--grid-seconds <n>', 'length of the grid\'s generated clip (640x360, 24 fps)', positiveNumber, 600)
  .option('--grid-repeats <n>', 'grid: fresh stacks per upscaler for trigger and seeks, whole titles per slot count, chunk starts per upscaler', positiveInteger, 3)
  .option('--grid-parts <parts...>', `grid: which measurements (${GRID_BENCH_PARTS.join(', ')}; default all)`)
  .option('--grid-json <file>', 'grid: where its figures are written (default: docs/bench/grid.json in the repository)')
  .option('--profile-json <file>', 'profile: where its figures are written (default: docs/bench/profile.json in the repository)')
  .option('--encoder-json <file>', 'encoder: where its figures are written (default: docs/bench/encoder.json in the repository)')
  .option('--encoder-compare <kinds...>', `encoder: what its rows vary (${ENCODER_BENCH_SETTINGS.compare.join(', ')}; default both)`)
  .action(action(async (config, logger, opts: {
    only?: string; json: boolean; seconds: number; size?: string[]; model?: string[]; precision?: string[]; maxPipelineSeconds: number; modelsJson?: string;
    gridSeconds: number; gridRepeats: number; gridParts?: string[]; gridJson?: string; profileJson?: string; encoderJson?: string; encoderCompare?: string[];
  }) => {
    if (opts.only !== undefined && !(BENCH_PARTS as readonly string[]).includes(opts.only)) {
      throw new InvalidArgumentError(`--only: one of ${BENCH_PARTS.join(', ')}`);
    }
    const sizes = (opts.size ?? [...BENCH_SIZES]).map((size) => {
      if (!isBenchSize(size)) throw new InvalidArgumentError(`unknown size ${size}; one of ${BENCH_SIZES.join(', ')}`);
      return size;
    });
    const models = [...new Set(opts.model ?? DEFAULT_BENCH_MODELS)].map((m) => (m === FFMPEG_ONLY ? FFMPEG_ONLY : modelIdArg(m)[0]!));
    // By default fp32 and every precision a worker here runs some model in.
    const precisions = [...new Set(opts.precision ?? ['fp32', ...precisionsOf(precisionHere(config.inference))])].map((p) => {
      if (!isPrecision(p)) throw new InvalidArgumentError(`unknown precision ${p}; one of ${PRECISIONS.join(', ')}`);
      return p;
    });
    const gridParts = (opts.gridParts ?? [...GRID_BENCH_PARTS]).map((part) => {
      if (!isGridBenchPart(part)) throw new InvalidArgumentError(`unknown grid part ${part}; one of ${GRID_BENCH_PARTS.join(', ')}`);
      return part;
    });
    const encoderCompare = (opts.encoderCompare ?? [...ENCODER_BENCH_SETTINGS.compare]).map((kind) => {
      if (!(ENCODER_BENCH_SETTINGS.compare as readonly string[]).includes(kind)) throw new InvalidArgumentError(`--encoder-compare: unknown ${kind}; one of ${ENCODER_BENCH_SETTINGS.compare.join(', ')}`);
      return kind as EncoderComparison;
    });
    const runs = (part: (typeof BENCH_PARTS)[number]) => opts.only === undefined || opts.only === part;
    if (runs('models')) {
      const jsonFile = opts.modelsJson ? path.resolve(opts.modelsJson) : DEFAULT_MODELS_JSON;
      await benchCommand({ json: opts.json, seconds: opts.seconds, sizes, models, precisions, maxPipelineSeconds: opts.maxPipelineSeconds, jsonFile }, logger);
    }
    if (runs('grid')) {
      await gridBenchCommand({ clipSeconds: opts.gridSeconds, repeats: opts.gridRepeats, parts: gridParts, jsonFile: opts.gridJson ? path.resolve(opts.gridJson) : DEFAULT_GRID_JSON, json: opts.json }, logger);
    }
    if (runs('profile')) {
      // The ffmpeg-only path has no model to look into.
      const profiled = opts.model ? models.filter((m): m is ModelId => m !== FFMPEG_ONLY) : DEFAULT_PROFILE_MODELS;
      const jsonFile = opts.profileJson ? path.resolve(opts.profileJson) : DEFAULT_PROFILE_JSON;
      await profileBenchCommand({ models: profiled, size: sizes[0] ?? '360p', runs: PROFILE_RUNS, precisions, cacheDir: config.cacheDir, jsonFile, json: opts.json });
    }
    if (runs('encoder')) {
      await encoderBenchCommand({ jsonFile: opts.encoderJson ? path.resolve(opts.encoderJson) : DEFAULT_ENCODER_JSON, json: opts.json, compare: encoderCompare });
    }
  }));

program
  .command('quality')
  .description('PSNR of each 2x model, bicubic and nearest on photos and on drawings downscaled by 2 (tests/fixtures/photos, tests/fixtures/animation), and of each fp16/int8 graph against its fp32 one')
  .option('--json', 'machine-readable', false)
  .option('--crops <dir>', 'also write a side-by-side PNG crop per content kind (quality-crop-<kind>.png): original, bicubic, lanczos and some models')
  .option('--json-file <file>', 'where the figures are written (default: docs/bench/quality.json in the repository)')
  .action(action(async (config, logger, opts: { json: boolean; crops?: string; jsonFile?: string }) =>
    qualityCommand(config, logger, { ...opts, jsonFile: opts.jsonFile ? path.resolve(opts.jsonFile) : DEFAULT_QUALITY_JSON })));

program
  .command('cleanup')
  .description('remove HLS folders of complete streams past their age and of abandoned ones, now (the daily Schedule runs the same workflow); final files stay')
  .option('--dry-run', 'list what would be removed, with sizes; remove nothing', false)
  .option('--max-age <hours>', 'remove complete streams finished longer ago than this (hours, or 90m, 2d; default UPFLOW_HLS_RETENTION)', duration)
  .option('--completed-only', 'only complete streams; leave abandoned and orphaned folders', false)
  .option('--abandoned-after <hours>', 'a stopped stream idle this long is abandoned (default UPFLOW_CLEANUP_ABANDONED_AFTER; 0 to reclaim space now)', duration)
  .option('--json', 'print the report as JSON', false)
  .action(action((config, _logger, opts: { dryRun: boolean; maxAge?: number; abandonedAfter?: number; completedOnly: boolean; json: boolean }) =>
    cleanupCommand(config, { dryRun: opts.dryRun, maxAgeMs: opts.maxAge, abandonedAfterMs: opts.abandonedAfter, completedOnly: opts.completedOnly, json: opts.json })));

program
  .command('monitor')
  .description('live progress of the titles being upscaled (bars: segments, %, rate, ETA, model); exits when they end')
  .argument('[title-or-job]', 'a job id, a title key or part of a name (default: every active job, and new ones)')
  .option('--json', 'one JSON line per job per second instead of bars', false)
  .action(action((config, _logger, selector: string | undefined, opts: { json: boolean }) => monitorCommand(config, selector, opts)));

program
  .command('audit')
  .description('performance of a stream from its recorded segment timings: frames, fps, real-time multiplier, stability')
  .argument('[title-or-job]', 'a job id, a title key or part of a name (default: the newest job with segments)')
  .option('--segments', 'also list every segment with its timing', false)
  .option('--json', 'machine-readable', false)
  .action(action((config, _logger, selector: string | undefined, opts: { json: boolean; segments: boolean }) => auditCommand(config, selector, opts)));

program.showHelpAfterError();
void program.parseAsync(process.argv).catch((err: unknown) => {
  process.stderr.write(`upflow: ${errorText(err)}\n`);
  process.exit(1);
});

