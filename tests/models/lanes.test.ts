/**
 * Inference lanes with the real onnxruntime: each lane a worker thread with a session of its
 * own (adapters/onnx-lane.ts). Frames given at once come back each with its own result, the
 * same bytes one lane gives; a model that does not load fails with onnxruntime's reason; an idle
 * lane does not keep a process alive, a release does, and waits for the runs it still has.
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { buildLanczosGraph } from '../../models/lanczos';
import { toPlanarGbr } from '../../adapters/image';
import { createLogger } from '../../adapters/logger';
import { loadFrameUpscaler } from '../../adapters/onnx';
import { structuredTestImage } from '../support/images';

const logger = createLogger({ level: 'silent' });
const model = buildLanczosGraph(2, 'test');
const options = { model, scale: 2, executionProvider: 'cpu' as const, threads: 1, cpuGraphOptimization: 'all' as const, logger };
const frames = [structuredTestImage(19, 13), structuredTestImage(19, 13)].map((image, k) => {
  const planes = toPlanarGbr(image);
  // Two different frames, so a result handed to the wrong caller shows.
  return k === 0 ? planes : planes.map((v) => 255 - v);
});

describe('inference lanes', () => {
  it('upscales frames given at once in two lanes, each with the result one lane gives', async () => {
    const one = await loadFrameUpscaler(options);
    const expected = await Promise.all(frames.map((f) => one.upscale(f, 1, 19, 13))).finally(() => one.release());

    const two = await loadFrameUpscaler({ ...options, lanes: 2 });
    try {
      expect(two.lanes).toBe(2);
      const given = [...frames, ...frames, ...frames];
      const results = await Promise.all(given.map((f) => two.upscale(f, 1, 19, 13)));
      results.forEach((out, i) => expect(Buffer.from(out).equals(Buffer.from(expected[i % 2]!))).toBe(true));
      // The caller's frames are its own still (each lane got a copy).
      expect(frames[0]!.length).toBe(3 * 19 * 13);
    } finally {
      await two.release();
    }
    await expect(two.upscale(frames[0]!, 1, 19, 13)).rejects.toThrow(/released/);
  });

  it('rejects a frame of the wrong size without sending it to a lane', async () => {
    const upscaler = await loadFrameUpscaler(options);
    try {
      await expect(upscaler.upscale(new Uint8Array(10), 1, 19, 13)).rejects.toThrow(/10 bytes given, 741 expected/);
      expect((await upscaler.upscale(frames[0]!, 1, 19, 13)).length).toBe(3 * 38 * 26);
    } finally {
      await upscaler.release();
    }
  });

  it('fails to load a model that is not one, with onnxruntime\'s reason', async () => {
    await expect(loadFrameUpscaler({ ...options, model: new Uint8Array([1, 2, 3, 4]), lanes: 2 })).rejects.toThrow(/protobuf|parse|model/i);
  });

  it('keeps its process alive until a release ends, even when a frame in flight finishes meanwhile, and a release with frames queued in its lanes does not abort it', () => {
    // In a process of its own: jest's own handles would keep a drained event loop alive here.
    const onnx = path.join(__dirname, '..', '..', 'adapters', 'onnx.ts');
    const lanczos = path.join(__dirname, '..', '..', 'models', 'lanczos.ts');
    const script = `
      require(${JSON.stringify(require.resolve('tsx/cjs'))});
      const { loadFrameUpscaler } = require(${JSON.stringify(onnx)});
      const { buildLanczosGraph } = require(${JSON.stringify(lanczos)});
      (async () => {
        const logger = { info() {}, warn() {} };
        const model = buildLanczosGraph(2, 'test');
        const frame = new Uint8Array(3 * 640 * 360);
        // Released with runs still queued, a lane aborted its process about one time in three:
        // ten rounds make a miss unlikely.
        for (let round = 0; round < 10; round++) {
          const upscaler = await loadFrameUpscaler({ model, scale: 2, executionProvider: 'cpu', threads: 1, lanes: 2, cpuGraphOptimization: 'all', logger });
          // Idle: nothing is asked of it for a while, and the process stays only for the timer.
          await new Promise((resolve) => setTimeout(resolve, 50));
          const inFlight = Array.from({ length: 8 }, () => upscaler.upscale(frame, 1, 640, 360));
          inFlight.forEach((p) => p.catch(() => undefined));
          await upscaler.release();
          process.stdout.write('released ');
        }
      })();
    `;
    const out = execFileSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 60_000 });
    expect(out).toBe('released '.repeat(10));
  });
});
