/**
 * Correctness of the Anime4K and Lanczos ONNX graphs: each graph, run by onnxruntime, against
 * an independent plain TypeScript implementation (tests/support/reference), within 1/255.
 */
import fs from 'node:fs';
import path from 'node:path';
import { buildAnime4kGraph, type Anime4kSize, type Anime4kWeightsJson } from '../../models/anime4k';
import { buildLanczosGraph, lanczosPhaseTaps } from '../../models/lanczos';
import type { RgbImage } from '../../adapters/image';
import { runGraph } from '../support/run-graph';
import { anime4kReference } from '../support/reference/anime4k';
import { structuredTestImage, maxAbsDifference } from '../support/images';

const websrDir = path.dirname(require.resolve('@websr/websr/package.json'));
const weightsFor = (size: Anime4kSize, variant: 'rl' | 'an'): Anime4kWeightsJson =>
  JSON.parse(fs.readFileSync(path.join(websrDir, 'weights', 'anime4k', `cnn-2x-${size}-${variant}.json`), 'utf8')) as Anime4kWeightsJson;

const run = (model: Uint8Array, image: RgbImage, scale: number) => runGraph(model, image, scale, { threads: 1, cpuGraphOptimization: 'extended' });

// Odd sizes so that border handling and the sub-pixel order cannot hide.
const image = structuredTestImage(19, 13);

describe.each([
  ['s', 'rl'], ['m', 'rl'], ['l', 'rl'],
  ['s', 'an'], ['m', 'an'], ['l', 'an'],
] as const)('anime4k-%s-%s', (size, variant) => {
  const weights = weightsFor(size, variant);
  const reference = anime4kReference(size, weights, image);

  it('matches the plain TypeScript reference within 1/255', async () => {
    const onnxOut = await run(buildAnime4kGraph(size, weights, 'test'), image, 2);
    expect(onnxOut.width).toBe(38);
    expect(onnxOut.height).toBe(26);
    expect(maxAbsDifference(onnxOut, reference)).toBeLessThanOrEqual(1);
  });

  it('differs from the reference when the weight layout is read wrongly (taps y-major)', async () => {
    const wrong = structuredClone(weights);
    for (const layer of Object.values(wrong.layers)) {
      if (!('weights' in layer) || layer.weights.length % (9 * 16) !== 0) continue;
      const w = [...layer.weights];
      for (let m = 0; m < w.length / 16; m++) {
        const tap = m % 9;
        const swapped = (m - tap) + (tap % 3) * 3 + Math.floor(tap / 3);
        for (let e = 0; e < 16; e++) layer.weights[swapped * 16 + e] = w[m * 16 + e]!;
      }
    }
    const onnxOut = await run(buildAnime4kGraph(size, wrong, 'test'), image, 2);
    expect(maxAbsDifference(onnxOut, reference)).toBeGreaterThan(1);
  });
});

describe('lanczos', () => {
  it.each([2, 4] as const)('x%i matches a direct separable Lanczos-3 with clamped edges within 1/255', async (scale) => {
    const onnxOut = await run(buildLanczosGraph(scale, 'test'), image, scale);
    const { width: w, height: h } = image;
    const expected = new Uint8Array(w * scale * h * scale * 3);
    const clamp = (v: number, n: number) => Math.min(n - 1, Math.max(0, v));
    for (let Y = 0; Y < h * scale; Y++) {
      const ty = lanczosPhaseTaps(scale, Y % scale);
      for (let X = 0; X < w * scale; X++) {
        const tx = lanczosPhaseTaps(scale, X % scale);
        for (let c = 0; c < 3; c++) {
          let sum = 0;
          for (let j = 0; j < 7; j++) {
            for (let i = 0; i < 7; i++) {
              const sx = clamp(Math.floor(X / scale) + i - 3, w);
              const sy = clamp(Math.floor(Y / scale) + j - 3, h);
              sum += ty[j]! * tx[i]! * image.data[(sy * w + sx) * 3 + c]!;
            }
          }
          expected[(Y * w * scale + X) * 3 + c] = Math.round(Math.min(255, Math.max(0, sum)));
        }
      }
    }
    expect(maxAbsDifference(onnxOut, { width: w * scale, height: h * scale, data: expected })).toBeLessThanOrEqual(1);
  });
});
