/**
 * The ONNX path's middle: raw frames from the decoder, through the model, to the encoder.
 * Node streams carry them, so backpressure holds on every pipe: a slow model stops reading the
 * decoder (which then blocks on its pipe), a slow encoder stops the model. Decode, inference
 * and encode overlap: the two ffmpeg processes run beside onnxruntime's threads, and each stage
 * keeps up to FRAMES_AHEAD frames queued. Memory stays bounded at about
 * (2·FRAMES_AHEAD + 1) source frames + (FRAMES_AHEAD + 1) upscaled frames, plus pipe buffers:
 * ~12 MB for 360p→720p, ~105 MB for 1080p→2160p.
 */
import { Transform, type Readable, type TransformCallback, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
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
  /** The upscaler for frame `index` (0-based): where rate control switches models. */
  upscalerFor(index: number): FrameUpscaler | Promise<FrameUpscaler>;
  /** After each frame, with how many are done. */
  onFrame?(framesDone: number): void;
}

/** Upscales one frame at a time, in order. */
export class UpscaleStage extends Transform {
  private index = 0;

  constructor(private readonly options: UpscaleStageOptions) {
    super({ objectMode: true, highWaterMark: FRAMES_AHEAD });
  }

  override _transform(frame: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    const { width, height } = this.options;
    Promise.resolve(this.options.upscalerFor(this.index))
      .then((upscaler) => upscaler.upscale(frame, 1, width, height))
      .then((out) => {
        this.index += 1;
        this.options.onFrame?.(this.index);
        callback(null, Buffer.from(out.buffer, out.byteOffset, out.byteLength));
      }, (err: Error) => callback(err));
  }
}

export interface FramePipelineOptions extends UpscaleStageOptions {
  decoded: Readable;
  encoderInput: Writable;
  signal?: AbortSignal;
}

/** Runs decode → upscale → encode to the end of the source; rejects on the first failure. */
export async function runFramePipeline(options: FramePipelineOptions): Promise<void> {
  const frameBytes = options.width * options.height * 3;
  await pipeline(options.decoded, new FrameChunker(frameBytes), new UpscaleStage(options), options.encoderInput, {
    ...(options.signal ? { signal: options.signal } : {}),
  });
}
