import { PassThrough, Writable } from 'node:stream';
import { runFramePipeline } from '../../activities/frame-pipeline';
import type { FrameUpscaler } from '../../adapters/onnx';

/** A 2×1 frame is 6 bytes; the "model" doubles nothing, it hands the frame on. */
const identity: FrameUpscaler = { scale: 1, provider: 'cpu', upscale: async (frame: Buffer) => new Uint8Array(frame), release: async () => undefined };

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
    const done = runFramePipeline({ decoded, encoderInput: out.stream, width: 2, height: 1, upscalerFor: () => identity });
    decoded.end(Buffer.from([1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2]));
    await done;
    expect(out.frames.map((f) => f[0])).toEqual([1, 2]);
  });

  it('stops at its frame limit: the encoder gets its end, and the decoder stopped mid-frame is no failure', async () => {
    const decoded = new PassThrough();
    const out = sink();
    let stopped = false;
    const done = runFramePipeline({
      decoded, encoderInput: out.stream, width: 2, height: 1, upscalerFor: () => identity,
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
    const done = runFramePipeline({ decoded, encoderInput: sink().stream, width: 2, height: 1, upscalerFor: () => identity, frameLimit: () => 5 });
    decoded.end(Buffer.from([1, 1, 1, 1, 1, 1, 2, 2]));
    await expect(done).rejects.toThrow(/stopped inside a frame/);
  });
});
