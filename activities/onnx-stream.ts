/**
 * The ONNX path of the stream activity: ffmpeg decodes raw frames, a model upscales them,
 * ffmpeg encodes them with the source's audio into the same HLS segments and final file as
 * ffmpeg-only mode. Models load once per worker process (ModelSessions) and stay loaded.
 */
import fs from 'node:fs';
import { ApplicationFailure } from '@temporalio/activity';
import type { Config } from '../core/config';
import { FailureType } from '../core/errors';
import { MODELS, modelPath, stepDownLadder, streamFrameFormat, type FrameFormat, type ModelId, type Precision } from '../core/models';
import type { StreamPlan } from '../core/domain';
import { describePrecision, precisionOfModel, type PrecisionChoice } from '../core/precision';
import { startFrameDecoder, startFrameEncoder, type ChunkEncodeOptions, type RunOptions } from '../adapters/ffmpeg';
import { inferenceLanesHere, loadFrameUpscaler, precisionHere, type FrameUpscaler } from '../adapters/onnx';
import type { Logger } from '../adapters/logger';
import { runFramePipeline } from './frame-pipeline';

/**
 * Each model loaded once per worker process, on first use, in the worker's precision: one
 * onnxruntime session per inference lane, the slot's lanes times the worker's slots, so that
 * every slot can keep its lanes busy at once.
 */
export class ModelSessions {
  /** By model and frame format. */
  private readonly sessions = new Map<`${ModelId} ${FrameFormat}`, Promise<FrameUpscaler>>();
  /** UPFLOW_PRECISION for this worker: `auto` decided once, from the GPU or the CPU it runs on. */
  readonly precision: PrecisionChoice;
  /** Frames a slot upscales at once (UPFLOW_INFERENCE_LANES, or decided from the provider). */
  readonly lanesPerSlot: number;
  /** onnxruntime threads in each lane: the slot's threads shared out among its lanes. */
  readonly threadsPerLane: number;

  constructor(
    private readonly config: Config,
    private readonly logger: Logger,
  ) {
    this.precision = precisionHere(config.inference);
    const { lanes, threadsPerLane } = inferenceLanesHere(config.inference);
    this.lanesPerSlot = lanes;
    this.threadsPerLane = threadsPerLane;
    const runs = describePrecision(this.precision);
    if (config.upscale.aiEnabled) logger.info({ precision: runs }, `models run in ${runs} (${this.precision.reason})`);
  }

  /** The precision `id` runs in here: the worker's for it, or fp32 for a model not built in it. */
  precisionOf(id: ModelId): Precision {
    return precisionOfModel(id, this.precision);
  }

  /**
   * The frames a chunk of `plan` streams in here: yuv420p where core/models.ts allows it and
   * every model of its ladder has that file (a cache built before them has not: `npm run models`
   * adds them), otherwise gbrp.
   */
  framesFor(plan: Pick<StreamPlan, 'ladder' | 'inputWidth' | 'inputHeight'>): FrameFormat {
    const format = streamFrameFormat(plan.ladder, plan.inputWidth, plan.inputHeight, (id) => this.precisionOf(id));
    const built = (id: ModelId) => fs.existsSync(modelPath(this.config.cacheDir, id, this.precisionOf(id), format));
    return format === 'gbrp' || plan.ladder.every(built) ? format : 'gbrp';
  }

  /** Loads `model` in the form a stream starting with it uses (frames of even sizes, as nearly every video has). */
  preload(model: ModelId): Promise<FrameUpscaler> {
    return this.get(model, this.framesFor({ ladder: stepDownLadder(model), inputWidth: 2, inputHeight: 2 }));
  }

  /** Async so that a missing model is a rejection wherever it is asked for, never a throw. */
  async get(id: ModelId, frames: FrameFormat = 'gbrp'): Promise<FrameUpscaler> {
    const key = `${id} ${frames}` as const;
    let session = this.sessions.get(key);
    if (!session) {
      const file = modelPath(this.config.cacheDir, id, this.precisionOf(id), frames);
      if (!fs.existsSync(file)) {
        throw ApplicationFailure.nonRetryable(
          `model ${id} is not built on this worker (${file} missing): run \`npm run models\``,
          FailureType.ModelUnavailable,
        );
      }
      session = loadFrameUpscaler({
        model: file,
        scale: MODELS[id].scale,
        cpuGraphOptimization: MODELS[id].cpuGraphOptimization,
        executionProvider: this.config.inference.executionProvider,
        threads: this.threadsPerLane,
        lanes: this.lanesPerSlot * this.config.streamsPerWorker,
        logger: this.logger,
      });
      session.then(
        (s) => this.logger.info({ model: id, precision: this.precisionOf(id), frames, provider: s.provider, lanes: s.lanes, threadsPerLane: this.threadsPerLane }, 'model loaded'),
        () => this.sessions.delete(key),
      );
      this.sessions.set(key, session);
    }
    return session;
  }

  async releaseAll(): Promise<void> {
    const all = [...this.sessions.values()];
    this.sessions.clear();
    await Promise.allSettled(all.map(async (s) => (await s).release()));
  }
}

export interface ModelEncodeOptions extends ChunkEncodeOptions {
  sessions: ModelSessions;
  /** The frames on both pipes (`ModelSessions.framesFor` the plan): every model of the chunk is loaded for them. */
  frames: FrameFormat;
  /** The model for the chunk's `index`th frame; rate control changes it at segment boundaries. */
  modelFor(index: number): ModelId;
  /** Frames the chunk makes at most (asked again for each frame: the chunk's end may move). */
  frameLimit(): number;
}

/**
 * Runs decoder, model and encoder from the chunk's first frame until `frameLimit` frames (the
 * encoder then closes its last segment) or the end of the source. On any failure (or
 * cancellation) both ffmpeg processes are stopped before this returns, so nothing keeps writing
 * after the activity ends.
 */
export async function encodeChunkWithModels(options: ModelEncodeOptions, run: RunOptions): Promise<void> {
  const { plan } = options;
  if (plan.modelScale === null) throw new Error('encodeChunkWithModels needs a plan for the ONNX path');
  const { frames } = options;
  // Load the first model before starting ffmpeg: a missing model fails fast and cleanly.
  await options.sessions.get(options.modelFor(0), frames);
  // An abort while the model loaded fired no listener yet: stop before any ffmpeg starts.
  run.signal?.throwIfAborted();
  const stop = new AbortController();
  run.signal?.addEventListener('abort', () => stop.abort(run.signal?.reason), { once: true });
  // The decoder has its own stop: once the chunk's last frame is through, it is not needed.
  const decoderStop = new AbortController();
  stop.signal.addEventListener('abort', () => decoderStop.abort(stop.signal.reason), { once: true });
  let limitReached = false;
  const decoder = startFrameDecoder({ source: options.source, plan, fromSegment: options.fromSegment, frames }, { signal: decoderStop.signal });
  const encoder = startFrameEncoder(
    { ...options, frameWidth: plan.inputWidth * plan.modelScale, frameHeight: plan.inputHeight * plan.modelScale, frames },
    { ...run, signal: stop.signal },
  );
  const upscaled = runFramePipeline({
    decoded: decoder.frames,
    encoderInput: encoder.frames,
    width: plan.inputWidth,
    height: plan.inputHeight,
    frames,
    upscalerFor: (index) => options.sessions.get(options.modelFor(index), frames),
    inFlight: options.sessions.lanesPerSlot,
    signal: stop.signal,
    frameLimit: options.frameLimit,
    onLimit: () => {
      limitReached = true;
      decoderStop.abort(new Error('the chunk has all its frames'));
    },
  });
  const failed = (err: unknown) => {
    stop.abort(err);
    throw err;
  };
  const decoded = decoder.done.catch((err: unknown) => {
    if (!limitReached) failed(err);
  });
  const results = await Promise.allSettled([upscaled.catch(failed), decoded, encoder.done.catch(failed)]);
  const rejected = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (rejected) throw rejected.reason;
}
