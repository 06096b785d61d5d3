/**
 * The ONNX path's middle: raw frames from the decoder, through the model, to the encoder.
 * Node streams carry them, so backpressure holds on every pipe: a slow model stops reading the
 * decoder (which then blocks on its pipe), a slow encoder stops the model. Decode, inference
 * and encode overlap: the two ffmpeg processes run beside onnxruntime's threads, and each stage
 * keeps up to FRAMES_AHEAD frames queued, plus the frames in the model's lanes. Memory stays
 * bounded at about (2·FRAMES_AHEAD + lanes) source frames + (FRAMES_AHEAD + lanes) upscaled
 * frames, plus pipe buffers: with two lanes ~15 MB for 360p→720p, ~140 MB for 1080p→2160p.
 */
import { Transform, type Readable, type TransformCallback, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { frameBytes, type FrameFormat } from '../core/models';
import type { FrameUpscaler } from '../adapters/onnx';

export const FRAMES_AHEAD = 2;

/** Cuts a byte stream into frames of exactly `frameBytes`; a partial frame at the end is an error. */
export class FrameChunker extends Transform {
  private frame: Buffer;
  private filled = 0;

  constructor(private readonly frameBytes: number) {
    super({ readableObjectMode: true, readableHighWaterMark: FRAMES_AHEAD });
    this.frame = Buffer.allocUnsafe(frameBytes);
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    let offset = 0;
    while (offset < chunk.length) {
      const n = Math.min(this.frameBytes - this.filled, chunk.length - offset);
      chunk.copy(this.frame, this.filled, offset, offset + n);
      this.filled += n;
      offset += n;
      if (this.filled === this.frameBytes) {
        this.push(this.frame);
        this.frame = Buffer.allocUnsafe(this.frameBytes);
        this.filled = 0;
      }
    }
    callback();
  }

  override _flush(callback: TransformCallback): void {
    callback(this.filled > 0 ? new Error(`the decoder stopped inside a frame (${this.filled} of ${this.frameBytes} bytes)`) : null);
  }
}

export interface UpscaleStageOptions {
  width: number;
  height: number;
  /** The frames' format on both pipes: every upscaler of the chunk takes and gives it. */
  frames: FrameFormat;
  /** The upscaler for frame `index` (0-based): where rate control switches models. */
  upscalerFor(index: number): FrameUpscaler | Promise<FrameUpscaler>;
  /** After each frame, with how many are done. */
  onFrame?(framesDone: number): void;
  /** Frames upscaled at once: the slot's inference lanes (default 1). */
  inFlight?: number;
}

/**
 * Upscales up to `inFlight` frames at once (one per inference lane) and hands them on in order:
 * a frame that finishes early waits for the ones before it.
 */
export class UpscaleStage extends Transform {
  private index = 0;
  /** Frames handed to the model and not yet passed on, oldest first. */
  private readonly inFlight: Promise<Buffer>[] = [];

  constructor(private readonly options: UpscaleStageOptions) {
    super({ objectMode: true, highWaterMark: FRAMES_AHEAD });
  }

  private start(frame: Buffer): void {
    const { width, height, frames } = this.options;
    const index = this.index++;
    const upscaled = Promise.resolve(this.options.upscalerFor(index))
      .then((upscaler) => {
        if (upscaler.frames !== frames) throw new Error(`frame ${index}: the model takes ${upscaler.frames} frames, the chunk streams ${frames}`);
        return upscaler.upscale(frame, 1, width, height);
      })
      .then((out) => Buffer.from(out.buffer, out.byteOffset, out.byteLength));
    // Read in order later; a failure meanwhile is not an unhandled rejection.
    upscaled.catch(() => undefined);
    this.inFlight.push(upscaled);
  }

  /** Passes on the oldest frame in flight once it is upscaled. */
  private passOldest(): Promise<void> {
    const oldest = this.inFlight.shift() as Promise<Buffer>;
    return oldest.then((out) => {
      this.push(out);
      this.options.onFrame?.(this.index - this.inFlight.length);
    });
  }

  override _transform(frame: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.start(frame);
    if (this.inFlight.length < Math.max(1, this.options.inFlight ?? 1)) {
      callback();
      return;
    }
    this.passOldest().then(() => callback(), (err: Error) => callback(err));
  }

  override _flush(callback: TransformCallback): void {
    const drain = async () => {
      while (this.inFlight.length > 0) await this.passOldest();
    };
    drain().then(() => callback(), (err: Error) => callback(err));
  }
}

/**
 * Lets frames through until `frameLimit()` of them have passed, then ends its output (the
 * encoder gets its end and closes the last segment cleanly) and says so. The limit is asked for
 * each frame: a chunk's end may move while it runs.
 */
export class FrameGate extends Transform {
  private passed = 0;
  limitReached = false;

  constructor(
    private readonly frameLimit: () => number,
    private readonly onClose: () => void,
  ) {
    super({ objectMode: true, highWaterMark: FRAMES_AHEAD });
  }

  override _transform(frame: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (!this.limitReached && this.passed >= this.frameLimit()) {
      this.limitReached = true;
      this.push(null);
      this.onClose();
    }
    if (this.limitReached) {
      callback();
      return;
    }
    this.passed += 1;
    callback(null, frame);
  }
}

export interface FramePipelineOptions extends UpscaleStageOptions {
  decoded: Readable;
  encoderInput: Writable;
  signal?: AbortSignal;
  /** Frames to upscale at most (asked again for each frame); default: to the end of the source. */
  frameLimit?: () => number;
  /** Called once when the limit is reached: the decoder is no longer needed. */
  onLimit?: () => void;
}

/**
 * Runs decode → upscale → encode to the end of the source, or until `frameLimit`; rejects on
 * the first failure. The decoder's side is piped into the gate rather than joined to it in one
 * pipeline: a decoder stopped on purpose once the limit is reached (`onLimit`) ends mid-frame,
 * and that must not tear down the upscale and encode still finishing the chunk's last frames.
 */
export async function runFramePipeline(options: FramePipelineOptions): Promise<void> {
  const chunker = new FrameChunker(frameBytes(options.frames, options.width, options.height));
  const gate = new FrameGate(options.frameLimit ?? (() => Infinity), () => options.onLimit?.());
  const signal = options.signal ? { signal: options.signal } : {};
  const decoding = pipeline(options.decoded, chunker, signal).catch((err: unknown) => {
    if (gate.limitReached) return;
    gate.destroy(err as Error);
    throw err;
  });
  chunker.pipe(gate);
  const encoding = pipeline(gate, new UpscaleStage(options), options.encoderInput, signal);
  await Promise.all([decoding, encoding]);
}
