/**
 * The ONNX path of the stream activity: ffmpeg decodes raw frames, a model upscales them,
 * ffmpeg encodes them with the source's audio into the same HLS segments and final file as
 * ffmpeg-only mode. Models load once per worker process (ModelSessions) and stay loaded.
 */
import fs from 'node:fs';
import { ApplicationFailure } from '@temporalio/activity';
import type { Config } from '../common/config';
import { FailureType } from '../common/errors';
import type { ModelId } from '../common/models';
import { MODELS, modelPath } from '../common/models';
import { startFrameDecoder, startFrameEncoder, type RunOptions, type StreamEncodeOptions } from '../adapters/ffmpeg';
import { loadFrameUpscaler, type FrameUpscaler } from '../adapters/onnx';
import type { Logger } from '../adapters/logger';
import { runFramePipeline } from './frame-pipeline';

/** One onnxruntime session per model per worker process, loaded on first use. */
export class ModelSessions {
  private readonly sessions = new Map<ModelId, Promise<FrameUpscaler>>();

  constructor(
    private readonly config: Config,
    private readonly logger: Logger,
  ) {}

  /** Async so that a missing model is a rejection wherever it is asked for, never a throw. */
  async get(id: ModelId): Promise<FrameUpscaler> {
    let session = this.sessions.get(id);
    if (!session) {
      const file = modelPath(this.config.cacheDir, id);
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
        threads: this.config.inference.threads,
        logger: this.logger,
      });
      session.then(
        (s) => this.logger.info({ model: id, provider: s.provider, threads: this.config.inference.threads }, 'model loaded'),
        () => this.sessions.delete(id),
      );
      this.sessions.set(id, session);
    }
    return session;
  }

  async releaseAll(): Promise<void> {
    const all = [...this.sessions.values()];
    this.sessions.clear();
    await Promise.allSettled(all.map(async (s) => (await s).release()));
  }
}

export interface ModelEncodeOptions extends StreamEncodeOptions {
  sessions: ModelSessions;
  /** The model for the `index`th frame this encode upscales; rate control changes it at segment boundaries. */
  modelFor(index: number): ModelId;
}

/**
 * Runs decoder, model and encoder to the end. On any failure (or cancellation) both ffmpeg
 * processes are stopped before this returns, so nothing keeps writing after the activity ends.
 */
export async function encodeWithModels(options: ModelEncodeOptions, run: RunOptions): Promise<void> {
  const { plan } = options;
  if (plan.modelScale === null) throw new Error('encodeWithModels needs a plan for the ONNX path');
  // Load the first model before starting ffmpeg: a missing model fails fast and cleanly.
  await options.sessions.get(options.modelFor(0));
  const stop = new AbortController();
  run.signal?.addEventListener('abort', () => stop.abort(run.signal?.reason), { once: true });
  const decoder = startFrameDecoder({ source: options.source, fps: plan.fps, toneMap: plan.toneMap, from: options.from }, { signal: stop.signal });
  const encoder = startFrameEncoder(
    { ...options, frameWidth: plan.inputWidth * plan.modelScale, frameHeight: plan.inputHeight * plan.modelScale },
    { ...run, signal: stop.signal },
  );
  const frames = runFramePipeline({
    decoded: decoder.frames,
    encoderInput: encoder.frames,
    width: plan.inputWidth,
    height: plan.inputHeight,
    upscalerFor: (index) => options.sessions.get(options.modelFor(index)),
    signal: stop.signal,
  });
  const failed = (err: unknown) => {
    stop.abort(err);
    throw err;
  };
  const results = await Promise.allSettled([frames.catch(failed), decoder.done.catch(failed), encoder.done.catch(failed)]);
  const rejected = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (rejected) throw rejected.reason;
}
