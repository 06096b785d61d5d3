import { PassThrough, Writable } from 'node:stream';
import { runFramePipeline } from '../../activities/frame-pipeline';
import type { FrameUpscaler } from '../../adapters/onnx';

/** A 2×1 frame is 6 bytes; the "model" doubles nothing, it hands the frame on. */
const identity: FrameUpscaler = { scale: 1, provider: 'cpu', frames: 'gbrp', lanes: 1, upscale: async (frame: Buffer) => new Uint8Array(frame), release: async () => undefined };

function sink(): { stream: Writable; frames: Buffer[] } {
  const frames: Buffer[] = [];
  return {
    frames,
    stream: new Writable({
      write(chunk: Buffer, _encoding, callback) {
        frames.push(Buffer.from(chunk));
        callback();
      },
    }),
  };
}

describe('the frame pipeline', () => {
  it('passes every frame from the decoder to the encoder, in order', async () => {
    const decoded = new PassThrough();
    const out = sink();
    const done = runFramePipeline({ decoded, encoderInput: out.stream, width: 2, height: 1, frames: 'gbrp', upscalerFor: () => identity });
    decoded.end(Buffer.from([1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2]));
    await done;
    expect(out.frames.map((f) => f[0])).toEqual([1, 2]);
  });

  it('stops at its frame limit: the encoder gets its end, and the decoder stopped mid-frame is no failure', async () => {
    const decoded = new PassThrough();
    const out = sink();
    let stopped = false;
    const done = runFramePipeline({
      decoded, encoderInput: out.stream, width: 2, height: 1, frames: 'gbrp', upscalerFor: () => identity,
      frameLimit: () => 2,
      onLimit: () => {
        stopped = true;
        // What killing the decoder looks like from here: its output ends inside a frame.
        decoded.end(Buffer.from([9, 9, 9]));
      },
    });
    decoded.write(Buffer.from([1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3]));
    await done;
    expect(stopped).toBe(true);
    expect(out.frames.map((f) => f[0])).toEqual([1, 2]);
  });

  it('fails when the decoder ends inside a frame before the limit', async () => {
    const decoded = new PassThrough();
    const done = runFramePipeline({ decoded, encoderInput: sink().stream, width: 2, height: 1, frames: 'gbrp', upscalerFor: () => identity, frameLimit: () => 5 });
    decoded.end(Buffer.from([1, 1, 1, 1, 1, 1, 2, 2]));
    await expect(done).rejects.toThrow(/stopped inside a frame/);
  });

  it('keeps `inFlight` frames in the model at once and still hands them on in order', async () => {
    // Frame k takes longer the earlier it is: with two lanes the second finishes first.
    let inModel = 0;
    let mostAtOnce = 0;
    const uneven: FrameUpscaler = {
      scale: 1, provider: 'cpu', frames: 'gbrp', lanes: 2, release: async () => undefined,
      upscale: async (frame: Uint8Array) => {
        inModel += 1;
        mostAtOnce = Math.max(mostAtOnce, inModel);
        await new Promise((resolve) => setTimeout(resolve, 5 * (10 - frame[0]!)));
        inModel -= 1;
        return new Uint8Array(frame);
      },
    };
    const decoded = new PassThrough();
    const out = sink();
    const done = runFramePipeline({ decoded, encoderInput: out.stream, width: 2, height: 1, frames: 'gbrp', upscalerFor: () => uneven, inFlight: 2 });
    decoded.end(Buffer.concat([1, 2, 3, 4, 5].map((k) => Buffer.alloc(6, k))));
    await done;
    expect(out.frames.map((f) => f[0])).toEqual([1, 2, 3, 4, 5]);
    expect(mostAtOnce).toBe(2);
  });

  it('fails when a frame in flight fails, and no rejection is left unhandled', async () => {
    const failing: FrameUpscaler = {
      scale: 1, provider: 'cpu', frames: 'gbrp', lanes: 2, release: async () => undefined,
      upscale: async (frame: Uint8Array) => {
        if (frame[0] === 2) throw new Error('lane failed');
        await new Promise((resolve) => setTimeout(resolve, 20));
        return new Uint8Array(frame);
      },
    };
    const decoded = new PassThrough();
    const done = runFramePipeline({ decoded, encoderInput: sink().stream, width: 2, height: 1, frames: 'gbrp', upscalerFor: () => failing, inFlight: 2 });
    decoded.end(Buffer.concat([1, 2, 3].map((k) => Buffer.alloc(6, k))));
    await expect(done).rejects.toThrow(/lane failed/);
  });

  it('cuts yuv420p frames (Y, then U and V at half size) and refuses a model on other frames', async () => {
    const decoded = new PassThrough();
    const out = sink();
    const yuv: FrameUpscaler = { ...identity, frames: 'yuv420p' };
    // 2×2 yuv420p: 4 bytes of Y, 1 of U, 1 of V.
    const done = runFramePipeline({ decoded, encoderInput: out.stream, width: 2, height: 2, frames: 'yuv420p', upscalerFor: () => yuv });
    decoded.end(Buffer.from([1, 1, 1, 1, 8, 9, 2, 2, 2, 2, 8, 9]));
    await done;
    expect(out.frames.map((f) => [...f])).toEqual([[1, 1, 1, 1, 8, 9], [2, 2, 2, 2, 8, 9]]);

    const mismatched = new PassThrough();
    const refused = runFramePipeline({ decoded: mismatched, encoderInput: sink().stream, width: 2, height: 2, frames: 'gbrp', upscalerFor: () => yuv });
    mismatched.end(Buffer.alloc(12));
    await expect(refused).rejects.toThrow('frame 0: the model takes yuv420p frames, the chunk streams gbrp');
  });
});
