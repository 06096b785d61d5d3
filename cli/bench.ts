/**
 * `upflow bench`: for each input size and model, on a generated clip (24 fps, with audio):
 * each stage of the ONNX path alone (decode, inference, encode), then the whole pipeline
 * through the real stack (Temporal, Postgres, worker), with its efficiency (whole ÷ slowest
 * stage), real-time multiplier and seconds from trigger to the first playable segment.
 * `ffmpeg` is the ffmpeg-only path (SRGAN_ENABLE=0), one process, for comparison.
 * Rate control is off so each model is measured as itself. The results go, with the machine,
 * the commit and the settings, to docs/bench/models.json (`--models-json`), from which the
 * docs' models table is generated (scripts/docs-tables.ts).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createServices } from '../services';
import { loadConfig, type Config } from '../core/config';
import { TERMINAL_JOB_STATES, type StreamPlan } from '../core/domain';
import { MODELS, type BenchSize, type FrameFormat, type ModelId, type Precision } from '../core/models';
import { streamFramesIn } from '../core/precision';
import { makeTestClip, probeSource } from '../adapters/ffmpeg';
import type { Logger } from '../adapters/logger';
import { upscaleSettings } from '../services/title-workflows';
import { planStream } from '../core/plan';
import { inferenceOptionsOf, loadModel, measureDecode, measureEncode, measureInference, writeUpscaledFrames, type InferenceOptions, type StageFigures } from './bench-stages';
import { startBenchStack, type BenchStack } from './bench-stack';
import { makeTempDataDir } from '../adapters/postgres-cluster';
import { cliCommand, figuresFile, figuresHeader, writeFiguresFile, type FiguresHeader } from './figures-file';
import type { Stack } from './stack';

export const BENCH_INPUTS: Record<BenchSize, { width: number; height: number }> = {
  '360p': { width: 640, height: 360 },
  '540p': { width: 960, height: 540 },
  '720p': { width: 1280, height: 720 },
  '1080p': { width: 1920, height: 1080 },
};

/** The ffmpeg-only path: decode, lanczos and x264 in one ffmpeg process. */
export const FFMPEG_ONLY = 'ffmpeg';
export type BenchModel = ModelId | typeof FFMPEG_ONLY;

export const DEFAULT_BENCH_MODELS: BenchModel[] = [FFMPEG_ONLY, 'lanczos-x2', 'anime4k-s-an', 'anime4k-m-an', 'anime4k-l-an', 'realesrgan-x2', 'realesrgan-x4'];

const CLIP_FPS = 24;
/** Cases whose output would exceed 4K are left out (the encoder and the GPU image target ≤ 2160p). */
const MAX_OUTPUT_PIXELS = 3840 * 2160;
const POLL_MS = 25;

export interface BenchOptions {
  json: boolean;
  seconds: number;
  sizes: BenchSize[];
  models: BenchModel[];
  /** Each model in each of these it is built in (fp32 for the others, once). */
  precisions: Precision[];
  /** A whole-pipeline run predicted (from the slowest stage) to take longer is skipped. */
  maxPipelineSeconds: number;
  /** Where the results are written, with the machine and the settings. */
  jsonFile: string;
}

export const DEFAULT_MODELS_JSON = figuresFile('models');

/** docs/bench/models.json: one run of the models table. */
export interface ModelsBenchReport extends FiguresHeader {
  settings: Record<string, unknown>;
  results: BenchResult[];
  benchSeconds?: number;
}

export interface BenchResult {
  size: BenchSize;
  model: BenchModel;
  /** The precision of the model's graph; null for the ffmpeg-only path. */
  precision: Precision | null;
  /** The frames between ffmpeg and the model, as a stream of it uses; null for the ffmpeg-only path (absent in files written before). */
  frames?: FrameFormat | null;
  input: string;
  output: string;
  /** Stages alone, frames per second; null for the ffmpeg-only path (one process). */
  inferenceFps: number | null;
  decodeFps: number | null;
  encodeFps: number | null;
  /** The whole pipeline through the stack; null when skipped. */
  pipelineFps: number | null;
  /** pipelineFps ÷ the slowest stage's fps. */
  efficiency: number | null;
  /** CPU milliseconds a frame each stage alone cost (this process's threads and its ffmpeg); null for the ffmpeg-only path (absent in files written before). */
  cpuMsPerFrame?: { decode: number; inference: number; encode: number } | null;
  /**
   * The most frames a second the machine's cores allow the three stages together: cores × 1000 ÷
   * the sum of their CPU ms a frame. Each stage alone had every core; in the pipeline they share
   * them, so this, not the slowest stage, is what the pipeline can reach where the stages cost
   * about the same (absent in files written before).
   */
  coresBoundFps?: number | null;
  /** Content seconds per wall second (the stream's own figure: its fps ÷ 24). */
  realTime: number | null;
  /** From the trigger to the first playable segment. */
  firstSegmentSeconds: number | null;
  skipped?: string;
}

interface PipelineRun {
  fps: number;
  rate: number;
  firstSegmentSeconds: number;
}

/** Triggers one clip through the running stack and waits for its job to complete. */
async function runPipeline(stack: Stack, config: Config, clip: string): Promise<PipelineRun> {
  const services = createServices({ config, store: stack.store, client: stack.client });
  const started = performance.now();
  const triggered = await services.triggers.trigger(clip);
  let firstSegmentSeconds: number | undefined;
  for (;;) {
    const job = await stack.store.latestJobForTitle(triggered.titleKey);
    if (job && job.segments > 0 && firstSegmentSeconds === undefined) firstSegmentSeconds = (performance.now() - started) / 1000;
    if (job && TERMINAL_JOB_STATES.includes(job.state)) {
      if (job.state !== 'complete') throw new Error(`${path.basename(clip)}: ${job.state}: ${job.failureReason}`);
      return { fps: job.fps ?? NaN, rate: job.rate ?? NaN, firstSegmentSeconds: firstSegmentSeconds ?? NaN };
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

/** The configuration the trigger uses for one model: that model, at its own scale, no rate control, on its default grid. */
function configFor(base: Config, model: BenchModel, ffmpegSegmentSeconds: number): Config {
  const ai = model !== FFMPEG_ONLY;
  return {
    ...base,
    // Each on the grid it gets by default: the stack's (SRGAN_ENABLE=1) for a model, SRGAN_ENABLE=0's for ffmpeg alone.
    hls: { ...base.hls, segmentSeconds: ai ? base.hls.segmentSeconds : ffmpegSegmentSeconds },
    upscale: { ...base.upscale, aiEnabled: ai, ...(ai ? { model, scaleFactor: MODELS[model].scale } : { scaleFactor: 2 }) },
    rateControl: { ...base.rateControl, stepDownWindowSeconds: 0 },
  };
}

/**
 * Each model with each asked precision it is built in (a model built in none of them: fp32,
 * once), grouped by precision in the order asked, so the bench changes stacks least.
 */
export function benchCases(models: readonly BenchModel[], precisions: readonly Precision[]): { model: BenchModel; precision: Precision | null }[] {
  const cases = models.flatMap((model): { model: BenchModel; precision: Precision | null }[] => {
    if (model === FFMPEG_ONLY) return [{ model, precision: null }];
    const own = precisions.filter((p) => MODELS[model].precisions.includes(p));
    return (own.length > 0 ? own : (['fp32'] as Precision[])).map((precision) => ({ model, precision }));
  });
  const order = (precision: Precision | null) => (precision === null ? -1 : precisions.includes(precision) ? precisions.indexOf(precision) : precisions.length);
  return cases.sort((a, b) => order(a.precision) - order(b.precision));
}

const fixed = (n: number | null, digits = 1) => (n === null || !Number.isFinite(n) ? '-' : n.toFixed(digits));

function printTable(results: BenchResult[]): void {
  const header = ['input', 'model', 'precision', 'output', 'infer fps', 'decode fps', 'encode fps', 'pipeline fps', 'efficiency', 'CPU ms a frame', 'of the cores', 'real-time', 'first segment'];
  const rows = results.map((r) => [
    r.size,
    r.model,
    r.precision ?? '-',
    r.output,
    fixed(r.inferenceFps),
    fixed(r.decodeFps),
    fixed(r.encodeFps),
    r.skipped ? `skipped: ${r.skipped}` : fixed(r.pipelineFps),
    fixed(r.efficiency, 2),
    r.cpuMsPerFrame ? `${fixed(r.cpuMsPerFrame.decode)}+${fixed(r.cpuMsPerFrame.inference)}+${fixed(r.cpuMsPerFrame.encode)}` : '-',
    r.coresBoundFps && r.pipelineFps !== null ? fixed(r.pipelineFps / r.coresBoundFps, 2) : '-',
    r.realTime === null ? '-' : `${r.realTime.toFixed(2)}x`,
    r.firstSegmentSeconds === null ? '-' : `${r.firstSegmentSeconds.toFixed(2)} s`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.filter((row) => !row[i]!.startsWith('skipped')).map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  process.stdout.write(`\n${line(header)}\n`);
  for (const row of rows) process.stdout.write(`${line(row)}\n`);
  process.stdout.write(`\n${CLIP_FPS} fps clips; stages alone (inference in the worker's lanes and threads, ffmpeg with every core); pipeline through the whole stack; efficiency = pipeline ÷ slowest stage; CPU ms a frame = decode+infer+encode alone; of the cores = pipeline ÷ what the cores allow for that CPU time.\n`);
}

export async function benchCommand(options: BenchOptions, logger: Logger): Promise<BenchResult[]> {
  const progress = (text: string) => {
    if (!options.json) process.stderr.write(`bench: ${text}\n`);
  };
  const benchStartedAt = Date.now();
  const header = await figuresHeader(cliCommand());
  // A worker runs its models in one precision (UPFLOW_PRECISION): a stack per precision, one at a
  // time, the clips in a folder of the bench's own that outlives each.
  const media = makeTempDataDir('upflow-bench-media-');
  let current: { precision: Precision; bench: BenchStack } | undefined;
  const stackFor = async (precision: Precision): Promise<BenchStack> => {
    if (current?.precision === precision) return current.bench;
    await current?.bench.stop();
    current = undefined;
    progress(`starting a stack (Postgres, Temporal, a worker running models in ${precision})`);
    // SRGAN_ENABLE=1 as a user runs models (their default grid: core/config.ts).
    current = { precision, bench: await startBenchStack(logger, { mediaRoot: media, env: { UPFLOW_PRECISION: precision, SRGAN_ENABLE: '1' } }) };
    return current.bench;
  };
  const cases = benchCases(options.models, options.precisions);
  const { config } = await stackFor(cases.find((c) => c.precision)?.precision ?? 'fp32');
  const ffmpegSegmentSeconds = loadConfig({ ...process.env, SRGAN_ENABLE: '0' }).hls.segmentSeconds;
  const inference: InferenceOptions = inferenceOptionsOf(config, logger);
  const report: ModelsBenchReport = {
    ...header,
    settings: {
      clipSeconds: options.seconds,
      clipFps: CLIP_FPS,
      sizes: options.sizes,
      models: options.models,
      precisions: options.precisions,
      maxPipelineSeconds: options.maxPipelineSeconds,
      segmentSeconds: config.hls.segmentSeconds,
      ffmpegSegmentSeconds,
      preset: config.upscale.preset,
      crf: config.upscale.crf,
      encoderThreads: config.upscale.encoderThreads,
      inferenceThreads: config.inference.threads,
      inferenceLanes: inference.lanes ?? 1,
      executionProvider: config.inference.executionProvider,
      rateControl: 'off (each model measured as itself)',
    },
    results: [],
  };
  const dir = media;
  const results = report.results;
  const record = (result: BenchResult) => {
    results.push(result);
    if (options.json) process.stdout.write(`${JSON.stringify(result)}\n`);
  };
  try {
    for (const size of options.sizes) {
      const { width, height } = BENCH_INPUTS[size];
      const clip = path.join(media, `bench-${size}.mp4`);
      fs.mkdirSync(path.dirname(clip), { recursive: true });
      await makeTestClip({ file: clip, seconds: options.seconds, width, height, fps: CLIP_FPS, audio: true });
      const source = await probeSource({ path: clip });
      // The stages' ffmpeg arguments (frame rate, segment cuts, audio) come from the same plan as a stream's.
      const planAt = (scale: number): StreamPlan => planStream(source, { ...upscaleSettings(config), aiEnabled: false, scaleFactor: scale });
      // Each stage in the frames the stream would use for the case (core/precision.ts streamFramesIn).
      const decodes = new Map<FrameFormat, Awaited<ReturnType<typeof measureDecode>>>();
      const decodeIn = async (format: FrameFormat) => {
        if (!decodes.has(format)) {
          progress(`${size}: decoding (${format})`);
          decodes.set(format, await measureDecode(clip, planAt(2), format));
        }
        return decodes.get(format)!;
      };
      const encodes = new Map<string, StageFigures>();

      for (const { model, precision } of cases) {
        const scale = model === FFMPEG_ONLY ? 2 : MODELS[model].scale;
        const output = `${width * scale}x${height * scale}`;
        const label = precision ? `${model} ${precision}` : model;
        const frames = model === FFMPEG_ONLY ? null : streamFramesIn(model, width, height, precision ?? 'fp32');
        const base: BenchResult = {
          size, model, precision, frames, input: `${width}x${height}`, output,
          inferenceFps: null, decodeFps: null, encodeFps: null, pipelineFps: null, efficiency: null, cpuMsPerFrame: null, coresBoundFps: null, realTime: null, firstSegmentSeconds: null,
        };
        if (width * scale * height * scale > MAX_OUTPUT_PIXELS) {
          record({ ...base, skipped: 'output beyond 4K' });
          continue;
        }
        // A clip per model: each trigger is a new title, so none joins the previous run.
        const modelClip = path.join(path.dirname(clip), `bench-${size}-${model}${precision ? `-${precision}` : ''}.mp4`);
        fs.linkSync(clip, modelClip);
        const stageResult: Partial<BenchResult> = {};
        let slowestStageFps = Infinity;
        if (model !== FFMPEG_ONLY && frames) {
          const decode = await decodeIn(frames);
          progress(`${size} ${label}: inference alone (${frames})`);
          const upscaler = await loadModel(model, { ...inference, precision: precision ?? 'fp32', frames });
          const infer = await measureInference(upscaler, decode.sample, { inputWidth: width, inputHeight: height }).finally(() => upscaler.release());
          const encodeKey = `${scale} ${frames}`;
          if (!encodes.has(encodeKey)) {
            progress(`${size}: encoding ${output} alone (${frames})`);
            const framesFile = path.join(dir, `frames-${size}-x${scale}.raw`);
            await writeUpscaledFrames(clip, planAt(scale), scale, framesFile, frames, inference);
            encodes.set(encodeKey, await measureEncode(clip, planAt(scale), framesFile, frames, decode.frames, width * scale, height * scale, path.join(dir, 'encode')));
            fs.rmSync(framesFile, { force: true });
          }
          const encode = encodes.get(encodeKey)!;
          const cpuMsPerFrame = { decode: decode.cpuMsPerFrame, inference: infer.cpuMsPerFrame, encode: encode.cpuMsPerFrame };
          const coresBoundFps = (os.availableParallelism() * 1000) / (cpuMsPerFrame.decode + cpuMsPerFrame.inference + cpuMsPerFrame.encode);
          Object.assign(stageResult, { inferenceFps: infer.fps, decodeFps: decode.fps, encodeFps: encode.fps, cpuMsPerFrame, coresBoundFps });
          slowestStageFps = Math.min(infer.fps, decode.fps, encode.fps);
          const predictedSeconds = decode.frames / slowestStageFps;
          if (predictedSeconds > options.maxPipelineSeconds) {
            record({ ...base, ...stageResult, skipped: `~${Math.round(predictedSeconds)} s (at most ${Math.round(slowestStageFps * 100) / 100} fps)` });
            continue;
          }
        }
        progress(`${size} ${label}: whole pipeline`);
        const bench = precision ? await stackFor(precision) : current!.bench;
        const run = await runPipeline(bench.stack, configFor(bench.config, model, ffmpegSegmentSeconds), modelClip);
        record({
          ...base,
          ...stageResult,
          pipelineFps: run.fps,
          efficiency: Number.isFinite(slowestStageFps) ? run.fps / slowestStageFps : null,
          realTime: run.rate,
          firstSegmentSeconds: run.firstSegmentSeconds,
        });
      }
    }
  } finally {
    await current?.bench.stop();
    fs.rmSync(media, { recursive: true, force: true });
  }
  report.benchSeconds = Math.round(Date.now() - benchStartedAt) / 1000;
  writeFiguresFile(options.jsonFile, report);
  progress(`figures written to ${options.jsonFile}`);
  if (!options.json) printTable(results);
  return results;
}
