/**
 * The ONNX path's three stages, each measured alone on the bench's clip with the same adapters
 * the stream uses: ffmpeg decoding raw frames, onnxruntime upscaling them, ffmpeg encoding
 * upscaled frames into HLS segments. The whole pipeline is only as fast as
 * the slowest of these, and, where they share the cores, as the cores allow for the CPU time a
 * frame costs in all three: the bench compares it with both.
 */
import fs from 'node:fs';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Config } from '../core/config';
import type { StreamPlan } from '../core/domain';
import { MODELS, frameBytes, type FrameFormat, type ModelId, type Precision } from '../core/models';
import { startFrameDecoder, startFrameEncoder } from '../adapters/ffmpeg';
import { cpuMsPerFrameSince, cpuSecondsUsed } from '../adapters/cpu';
import type { Logger } from '../adapters/logger';
import { inferenceLanesHere, loadFrameUpscaler, type FrameUpscaler } from '../adapters/onnx';
import { FrameChunker, runFramePipeline } from '../activities/frame-pipeline';
import { builtModelFile } from '../models/build';

export interface InferenceOptions {
  /** onnxruntime threads in each lane. */
  threads: number;
  /** Inference lanes (frames at once); default 1. */
  lanes?: number;
  /** Which of the model's files: fp32 unless said, on gbrp frames unless said. */
  precision?: Precision;
  frames?: FrameFormat;
  executionProvider: 'auto' | 'cuda' | 'cpu';
  logger: Logger;
  cacheDir: string;
}

export async function loadModel(id: ModelId, options: InferenceOptions): Promise<FrameUpscaler> {
  const file = builtModelFile(options.cacheDir, id, options.precision, options.frames);
  return loadFrameUpscaler({
    model: file,
    scale: MODELS[id].scale,
    cpuGraphOptimization: MODELS[id].cpuGraphOptimization,
    executionProvider: options.executionProvider,
    threads: options.threads,
    ...(options.lanes ? { lanes: options.lanes } : {}),
    logger: options.logger,
  });
}

/** A worker's inference settings as the stream uses them: its lanes, each with its share of the slot's threads. */
export function inferenceOptionsOf(config: Config, logger: Logger): InferenceOptions {
  const { lanes, threadsPerLane } = inferenceLanesHere(config.inference);
  return { threads: threadsPerLane, lanes, executionProvider: config.inference.executionProvider, logger, cacheDir: config.cacheDir };
}

/** Frames kept from the decode for the inference measurement. */
const SAMPLE_FRAMES = 4;

/** A stage alone: frames a second, and the CPU milliseconds a frame cost (`cpuSecondsUsed`: this process's threads and its ffmpeg). */
export interface StageFigures {
  fps: number;
  cpuMsPerFrame: number;
}

/** Decodes the whole clip to raw frames in `format` and drops them; keeps a few for inference. */
export async function measureDecode(clip: string, plan: StreamPlan, format: FrameFormat): Promise<StageFigures & { frames: number; sample: Buffer[] }> {
  const started = performance.now();
  const cpuBefore = cpuSecondsUsed();
  const decoder = startFrameDecoder({ source: { path: clip }, plan, fromSegment: 0, frames: format }, {});
  const sample: Buffer[] = [];
  let frames = 0;
  const sink = new Writable({
    objectMode: true,
    write(frame: Buffer, _encoding, callback) {
      if (sample.length < SAMPLE_FRAMES) sample.push(frame);
      frames += 1;
      callback();
    },
  });
  await Promise.all([pipeline(decoder.frames, new FrameChunker(frameBytes(format, plan.inputWidth, plan.inputHeight)), sink), decoder.done]);
  return { fps: frames / ((performance.now() - started) / 1000), cpuMsPerFrame: cpuMsPerFrameSince(cpuBefore, frames), frames, sample };
}

/** A few decoded frames from segment `fromSegment` on, for `measureInference`, without decoding the whole clip. */
export async function sampleFrames(clip: string, plan: StreamPlan, fromSegment: number, format: FrameFormat, count = SAMPLE_FRAMES): Promise<Buffer[]> {
  const stop = new AbortController();
  const decoder = startFrameDecoder({ source: { path: clip }, plan, fromSegment, frames: format }, { signal: stop.signal });
  const sample: Buffer[] = [];
  const sink = new Writable({
    objectMode: true,
    write(frame: Buffer, _encoding, callback) {
      sample.push(frame);
      if (sample.length === count) stop.abort();
      callback();
    },
  });
  const chunker = new FrameChunker(frameBytes(format, plan.inputWidth, plan.inputHeight));
  // Stopped once it has `count` frames: the decoder's and the pipe's abort errors are expected then.
  await Promise.allSettled([pipeline(decoder.frames, chunker, sink, { signal: stop.signal }), decoder.done]);
  if (sample.length < count) throw new Error(`${clip}: only ${sample.length} of ${count} frames decoded from segment ${fromSegment}`);
  return sample;
}

/**
 * Upscales the sample frames, as many at once as the upscaler has lanes (as the stream does),
 * after two untimed warm-up rounds (onnxruntime sizes its buffers on the first ones), until
 * `minSeconds` have passed (at least one round): slow models get a figure without taking minutes.
 */
export async function measureInference(
  upscaler: FrameUpscaler,
  sample: Buffer[],
  plan: Pick<StreamPlan, 'inputWidth' | 'inputHeight'>,
  // At least 3 s: a short run (24 frames, < 1 s for S) read a passing stall as the model's speed.
  limits = { minSeconds: 3 },
): Promise<StageFigures> {
  const round = (first: number) => Promise.all(Array.from({ length: upscaler.lanes }, (_, k) =>
    upscaler.upscale(sample[(first + k) % sample.length]!, 1, plan.inputWidth, plan.inputHeight)));
  await round(0);
  await round(1);
  const started = performance.now();
  const cpuBefore = cpuSecondsUsed();
  let frames = 0;
  while (frames === 0 || performance.now() - started < limits.minSeconds * 1000) {
    await round(frames);
    frames += upscaler.lanes;
  }
  return { fps: frames / ((performance.now() - started) / 1000), cpuMsPerFrame: cpuMsPerFrameSince(cpuBefore, frames) };
}

/**
 * Writes the clip's frames at the model's output size to a raw file in `format` (decoded, then
 * upscaled by the fixed Lanczos graph of that scale), so the encoder can be measured alone on
 * real frames.
 */
export async function writeUpscaledFrames(clip: string, plan: StreamPlan, scale: 2 | 4, file: string, format: FrameFormat, options: InferenceOptions): Promise<void> {
  const lanczos = await loadModel(`lanczos-x${scale}`, { ...options, precision: 'fp32', frames: format });
  try {
    const decoder = startFrameDecoder({ source: { path: clip }, plan, fromSegment: 0, frames: format }, {});
    await Promise.all([
      runFramePipeline({
        decoded: decoder.frames,
        encoderInput: fs.createWriteStream(file),
        width: plan.inputWidth,
        height: plan.inputHeight,
        frames: format,
        upscalerFor: () => lanczos,
      }),
      decoder.done,
    ]);
  } finally {
    await lanczos.release();
  }
}

/** Encodes the raw frames in `framesFile` (`format`, plus the clip's audio) to HLS segments. */
export async function measureEncode(clip: string, plan: StreamPlan, framesFile: string, format: FrameFormat, frames: number, frameWidth: number, frameHeight: number, workDir: string): Promise<StageFigures> {
  fs.rmSync(workDir, { recursive: true, force: true });
  fs.mkdirSync(workDir, { recursive: true });
  const started = performance.now();
  const cpuBefore = cpuSecondsUsed();
  const encoder = startFrameEncoder(
    { source: { path: clip }, plan, fromSegment: 0, segmentPattern: 'seg%05d.ts', segmentList: 'segments.csv', frameWidth, frameHeight, frames: format },
    { cwd: workDir },
  );
  await Promise.all([pipeline(fs.createReadStream(framesFile, { highWaterMark: 1 << 20 }), encoder.frames), encoder.done]);
  const figures = { fps: frames / ((performance.now() - started) / 1000), cpuMsPerFrame: cpuMsPerFrameSince(cpuBefore, frames) };
  fs.rmSync(workDir, { recursive: true, force: true });
  return figures;
}
