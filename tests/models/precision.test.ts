/**
 * The fp16 and int8 variants of the Anime4K graphs (and Real-ESRGAN's fp16): each against the
 * plain TypeScript reference or the fp32 graph, int8 also on the quality set by PSNR (both kinds:
 * photos and drawings, cli/quality.ts); the int8 graph's QDQ form and its fusion into
 * QLinearConv; L's int8 graphs on yuv420p frames against their fp32 ones; `buildModels` writing
 * every precision.
 *
 * Measured (onnxruntime 1.30, CPU, AMD EPYC with AVX2 and no VNNI; calibration on
 * models/calibration/, photos and drawings), int8 against fp32 in mean PSNR (`upflow quality`,
 * docs/bench/quality.json) and against the reference per pixel, on the ÷2 images of each kind:
 *
 *   model          live action: dB   max  99th pct    animation: dB   max  99th pct
 *   anime4k-s-rl        -0.00         3      1            +0.00         4      1
 *   anime4k-m-rl        -0.00         3      1            +0.01         4      2
 *   anime4k-l-rl        -0.04        15      3            +0.04        15      4
 *   anime4k-s-an        -0.04         8      3            -0.09        11      4
 *   anime4k-m-an        -0.04         6      2            -0.08         7      3
 *   anime4k-l-an        -0.06         9      3            -0.01        12      4
 *
 * fp16 is within 1/255 of the reference on every pixel (as fp32 is), and Real-ESRGAN's fp16
 * within 1/255 of its fp32 graph. docs/models.md says why the bounds are what they are.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { onnx } from 'onnx-proto';
import { frameBytes, modelPath, stepDownLadder, type CpuGraphOptimization } from '../../core/models';
import { anime4kCalibrationTensors, buildAnime4kGraph, buildAnime4kYuv420pGraph, type Anime4kSize, type Anime4kWeightsJson } from '../../models/anime4k';
import { CALIBRATION_DIR, buildModels, readManifest } from '../../models/build';
import { calibrateRanges, type TensorRanges } from '../../models/quantize';
import { buildRealEsrganGraph, parseNcnnModel } from '../../models/realesrgan';
import { ensureRealEsrganWeights } from '../../models/realesrgan-weights';
import { loadConfig } from '../../core/config';
import { ModelSessions } from '../../activities/onnx-stream';
import { cpuHasVnni } from '../../adapters/cpu';
import { createLogger } from '../../adapters/logger';
import { readPng, type RgbImage } from '../../adapters/image';
import { loadQualityImages, meanOfKind, planesPsnr, psnr, qualityYuv420pFrames, upscaleYuv420p } from '../../cli/quality';
import { CONTENT_KINDS } from '../../core/content-kind';
import { runGraph } from '../support/run-graph';
import { anime4kReference } from '../support/reference/anime4k';
import { structuredTestImage, maxAbsDifference } from '../support/images';

const websrDir = path.dirname(require.resolve('@websr/websr/package.json'));
const weightsFor = (size: Anime4kSize, variant: 'rl' | 'an'): Anime4kWeightsJson =>
  JSON.parse(fs.readFileSync(path.join(websrDir, 'weights', 'anime4k', `cnn-2x-${size}-${variant}.json`), 'utf8')) as Anime4kWeightsJson;
const pngsIn = (dir: string): RgbImage[] => fs.readdirSync(dir).filter((f) => f.endsWith('.png')).sort().map((f) => readPng(path.join(dir, f)));

const run = (model: Uint8Array, image: RgbImage, scale: number, cpuGraphOptimization: CpuGraphOptimization = 'all') =>
  runGraph(model, image, scale, { threads: 2, cpuGraphOptimization });

const MODELS = [['s', 'rl'], ['m', 'rl'], ['l', 'rl'], ['s', 'an'], ['m', 'an'], ['l', 'an']] as const;

/** Absolute differences of every byte of each pair (every channel of every pixel): the max and the 99th percentile. */
function differenceStats(pairs: [Uint8Array, Uint8Array][]): { max: number; p99: number } {
  const counts = new Array<number>(256).fill(0);
  for (const [a, b] of pairs) for (let i = 0; i < a.length; i++) counts[Math.abs(a[i]! - b[i]!)]!++;
  const total = counts.reduce((sum, n) => sum + n, 0);
  let max = 255;
  while (max > 0 && counts[max] === 0) max--;
  // The value at sorted index ⌊0.99·total⌋.
  let seen = 0;
  const p99 = counts.findIndex((n) => (seen += n) > Math.floor(total * 0.99));
  return { max, p99 };
}

function opCounts(model: Uint8Array): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const node of onnx.ModelProto.decode(model).graph?.node ?? []) counts[node.opType ?? ''] = (counts[node.opType ?? ''] ?? 0) + 1;
  return counts;
}

/** The operators of the graph onnxruntime runs after its own optimisations (its fusions into QLinearConv). */
async function optimizedOpCounts(model: Uint8Array): Promise<Record<string, number>> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'upflow-int8-'));
  try {
    const optimized = path.join(dir, 'optimized.onnx');
    const session = await ort.InferenceSession.create(model, { graphOptimizationLevel: 'extended', optimizedModelFilePath: optimized });
    await session.release();
    return opCounts(fs.readFileSync(optimized));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** The quality set, both kinds: camera photos and drawn frames (cli/quality.ts); and the int8 calibration frames. */
const QUALITY_SET = loadQualityImages();
const CALIBRATION = pngsIn(CALIBRATION_DIR);

/** Mean PSNR over the quality set's images of each kind, in CONTENT_KINDS' order: `scores` one per image. */
const kindMeansOf = (scores: number[]) => CONTENT_KINDS.map((kind) => meanOfKind(QUALITY_SET, scores, kind));

/** What a wrong calibration is made of: one flat black frame. */
const BLACK_FRAME: RgbImage = { width: 192, height: 192, data: new Uint8Array(192 * 192 * 3) };

describe.each(MODELS)('anime4k-%s-%s fp16', (size, variant) => {
  // Odd sizes so that border handling and the sub-pixel order cannot hide.
  const image = structuredTestImage(19, 13);
  const weights = weightsFor(size, variant);

  it.each(['extended', 'all'] as const)('matches the plain TypeScript reference within 1/255 (optimisation level %s)', async (level) => {
    const fp16 = buildAnime4kGraph(size, weights, 'test', { precision: 'fp16' });
    expect(opCounts(fp16).Cast).toBe(3); // frames → float16, the sum → float32, the zero point
    const out = await run(fp16, image, 2, level);
    expect(maxAbsDifference(out, anime4kReference(size, weights, image))).toBeLessThanOrEqual(1);
  });
});

describe('anime4k int8 (QDQ)', () => {
  const photos = QUALITY_SET.map((image) => image.original);
  const lows = QUALITY_SET.map((image) => image.downscaled);
  // The per-pixel check against the (slow) TypeScript reference: the two images of each kind with
  // the sharpest edges, where rounding errors add up most (the same maxima as all eight, in half
  // the time).
  const referenceImages = ['astronaut-face', 'astronaut-suit-patch', 'cat-head-whiskers', 'squirrel-glasses'].map((name) => {
    const i = QUALITY_SET.findIndex((image) => image.name === name);
    if (i < 0) throw new Error(`no quality image ${name}`);
    return i;
  });
  const meanPsnr = (outs: RgbImage[]) => outs.reduce((sum, out, i) => sum + psnr(photos[i]!, out), 0) / outs.length;
  const kindMeans = (outs: RgbImage[]) => kindMeansOf(outs.map((out, i) => psnr(photos[i]!, out)));
  const upscaleAll = async (model: Uint8Array) => Promise.all(lows.map((low) => run(model, low, 2)));
  const int8For = async (size: Anime4kSize, weights: Anime4kWeightsJson, frames: RgbImage[]) => {
    const ranges = await calibrateRanges(buildAnime4kGraph(size, weights, 'test'), frames, anime4kCalibrationTensors(size), { threads: 2 });
    return buildAnime4kGraph(size, weights, 'test', { precision: 'int8', ranges });
  };

  it('calibration frames are not the quality photos', () => {
    expect(CALIBRATION.length).toBeGreaterThanOrEqual(4);
    const key = (image: RgbImage) => Buffer.from(image.data).toString('base64');
    const photoKeys = new Set(photos.map(key));
    expect(CALIBRATION.filter((c) => photoKeys.has(key(c)))).toEqual([]);
  });

  describe.each(MODELS)('anime4k-%s-%s', (size, variant) => {
    const weights = weightsFor(size, variant);
    let int8: Uint8Array;
    let int8Outs: RgbImage[];
    beforeAll(async () => {
      int8 = await int8For(size, weights, CALIBRATION);
      int8Outs = await upscaleAll(int8);
    });

    it('is within 0.1 dB of the fp32 graph in mean PSNR on each kind of the quality set (measured within 0.09)', async () => {
      const fp32 = kindMeans(await upscaleAll(buildAnime4kGraph(size, weights, 'test')));
      const int8 = kindMeans(int8Outs);
      for (const [k, v] of int8.entries()) expect(Math.abs(v - fp32[k]!)).toBeLessThan(0.1);
    });

    it('is within 20/255 of the reference on every pixel and within 5/255 on 99 % of them', () => {
      // Measured: max 3-15, 99th percentile 1-4 (the fp32 graph: max 1, 99th percentile 0). The
      // large ones are rare pixels on the sharpest edges (the astronaut crops, the drawings'
      // outlines), where 8-bit activations add up through up to 8 layers; the bounds leave a
      // little headroom over those.
      const stats = differenceStats(referenceImages.map((i) => [int8Outs[i]!.data, anime4kReference(size, weights, lows[i]!).data]));
      expect(stats.max).toBeLessThanOrEqual(20);
      expect(stats.p99).toBeLessThanOrEqual(5);
    });

    it('is QDQ: int8 weights, Quantize/DequantizeLinear pairs, every convolution but the bilinear base fused into QLinearConv', async () => {
      const layers = anime4kCalibrationTensors(size).length; // the CReLU layers and the residual
      // S's base is a Resize at the output size; M and L's, a float convolution making 12 phases.
      const floatConvs = size === 's' ? 0 : 1;
      const ops = opCounts(int8);
      expect(ops.Conv).toBe(layers + floatConvs);
      expect(ops.QuantizeLinear).toBe(layers + 1); // each layer's output, and the output bytes
      expect(ops.DequantizeLinear).toBeGreaterThanOrEqual(3 * layers); // input, weights and bias of each
      const int8Weights = (onnx.ModelProto.decode(int8).graph?.initializer ?? []).filter((t) => t.dataType === onnx.TensorProto.DataType.INT8 && (t.dims?.length ?? 0) === 4);
      expect(int8Weights).toHaveLength(layers);

      const fused = await optimizedOpCounts(int8);
      expect(fused.QLinearConv).toBe(layers);
      expect(fused.Conv ?? 0).toBe(floatConvs);
    });
  });

  it.each([['s', 'rl'], ['l', 'an']] as const)('anime4k-%s-%s calibrated on an all-black frame fails the 0.1 dB check by far', async (size, variant) => {
    const weights = weightsFor(size, variant);
    const fp32 = meanPsnr(await upscaleAll(buildAnime4kGraph(size, weights, 'test')));
    const wrong = meanPsnr(await upscaleAll(await int8For(size, weights, [BLACK_FRAME])));
    // Measured: 0.88 dB (s-rl), 1.82 dB (l-an) below fp32: ranges from one flat frame clip every edge.
    expect(fp32 - wrong).toBeGreaterThan(0.5);
  });

  it('rejects ranges that miss a layer', () => {
    const ranges: TensorRanges = { activation_0: { min: 0, max: 1 } };
    expect(() => buildAnime4kGraph('s', weightsFor('s', 'rl'), 'test', { precision: 'int8', ranges })).toThrow('no calibrated range for activation_1');
  });
});

/**
 * The int8 graphs on yuv420p frames (what a stream runs in int8: L with `auto` on a CPU with
 * VNNI) against the fp32 graphs on yuv420p frames, as the gbrp int8 graphs against theirs: the
 * quality set's images as a video's yuv420p frames (cut to even sizes), their planes' PSNR
 * against the originals' planes. Measured (AMD EPYC with AVX-512 VNNI), int8 against fp32:
 *
 *   model          live action: dB   drawings: dB   max  99th pct   black-frame calibration
 *   anime4k-s-rl        -0.01            -0.02         4      1       -0.91, -2.47 dB
 *   anime4k-m-rl        -0.00            -0.00         3      1
 *   anime4k-l-rl        -0.03            +0.01         9      2
 *   anime4k-s-an        -0.03            -0.06         9      2
 *   anime4k-m-an        -0.02            -0.05         6      2
 *   anime4k-l-an        -0.05            -0.06        10      2       -1.63, -6.80 dB
 */
describe('anime4k int8 on yuv420p frames', () => {
  const frames = qualityYuv420pFrames(QUALITY_SET);
  const upscaleAll = (model: Uint8Array) => upscaleYuv420p(model, frames.map((f) => f.low), 2, createLogger({ level: 'silent' }));
  const kindMeans = (outs: Uint8Array[]) => kindMeansOf(outs.map((out, i) => planesPsnr(frames[i]!.original, out)));
  const int8On = async (size: Anime4kSize, weights: Anime4kWeightsJson, calibrationImages: RgbImage[]) => buildAnime4kYuv420pGraph(size, weights, 'test', {
    int8: await calibrateRanges(buildAnime4kYuv420pGraph(size, weights, 'test'), calibrationImages, anime4kCalibrationTensors(size), { frames: 'yuv420p', threads: 2 }),
  });

  describe.each(MODELS)('anime4k-%s-%s', (size, variant) => {
    const weights = weightsFor(size, variant);
    let int8: Uint8Array;
    const outs = {} as { fp32: Uint8Array[]; int8: Uint8Array[] };
    beforeAll(async () => {
      int8 = await int8On(size, weights, CALIBRATION);
      outs.fp32 = await upscaleAll(buildAnime4kYuv420pGraph(size, weights, 'test'));
      outs.int8 = await upscaleAll(int8);
    });

    it('is within 0.1 dB of the fp32 graph in mean PSNR on each kind of the quality set', () => {
      const fp32 = kindMeans(outs.fp32);
      for (const [k, v] of kindMeans(outs.int8).entries()) expect(Math.abs(v - fp32[k]!)).toBeLessThan(0.1);
    });

    it('is within 20/255 of the fp32 graph on every sample and within 5/255 on 99 % of them', () => {
      // The same bounds as the gbrp int8 graphs against the reference (the fp32 graphs are within 1/255 of it).
      const stats = differenceStats(outs.int8.map((out, i) => [out, outs.fp32[i]!]));
      expect(stats.max).toBeLessThanOrEqual(20);
      expect(stats.p99).toBeLessThanOrEqual(5);
    });

    it('is QDQ, every layer but the first fused into QLinearConv; the first (and M and L\'s bilinear base of Y) float convolutions', async () => {
      const fused = await optimizedOpCounts(int8);
      expect(fused.QLinearConv).toBe(anime4kCalibrationTensors(size).length - 1);
      // S's base is a Resize; M and L's, a convolution making Y's 4 phases.
      expect(fused.Conv ?? 0).toBe(size === 's' ? 1 : 2);
    });
  });

  it.each([['s', 'rl'], ['l', 'an']] as const)('anime4k-%s-%s calibrated on an all-black frame fails the 0.1 dB check by far', async (size, variant) => {
    const weights = weightsFor(size, variant);
    const fp32 = kindMeans(await upscaleAll(buildAnime4kYuv420pGraph(size, weights, 'test')));
    const wrong = kindMeans(await upscaleAll(await int8On(size, weights, [BLACK_FRAME])));
    expect(Math.max(...wrong.map((v, k) => fp32[k]! - v))).toBeGreaterThan(0.5);
  });
});

describe('realesrgan fp16', () => {
  it.each([4, 2] as const)('x%i is within 1/255 of the fp32 graph', async (scale) => {
    const files = await ensureRealEsrganWeights(loadConfig().cacheDir);
    const model = parseNcnnModel(fs.readFileSync(files.param, 'utf8'), fs.readFileSync(files.bin));
    const image = structuredTestImage(19, 13);
    const fp32 = await run(buildRealEsrganGraph(scale, model, 'test'), image, scale);
    const fp16 = await run(buildRealEsrganGraph(scale, model, 'test', 'float16'), image, scale, 'extended');
    expect(maxAbsDifference(fp16, fp32)).toBeLessThanOrEqual(1);
  });
});

describe('buildModels with precisions', () => {
  let cacheDir: string;
  beforeAll(() => {
    cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'upflow-models-'));
  });
  afterAll(() => fs.rmSync(cacheDir, { recursive: true, force: true }));

  it('writes fp32, fp16 and int8 files, each with its manifest, and skips them when up to date', async () => {
    const first = await buildModels({ cacheDir, ids: ['anime4k-s-rl', 'lanczos-x2'] });
    expect(first.map((r) => `${r.id} ${r.precision} ${r.frames} ${r.built}`)).toEqual([
      'anime4k-s-rl fp32 gbrp true', 'anime4k-s-rl fp16 gbrp true', 'anime4k-s-rl int8 gbrp true', 'anime4k-s-rl fp32 yuv420p true', 'anime4k-s-rl int8 yuv420p true',
      'lanczos-x2 fp32 gbrp true', 'lanczos-x2 fp32 yuv420p true',
    ]);
    expect(path.basename(modelPath(cacheDir, 'anime4k-s-rl', 'fp32', 'yuv420p'))).toBe('anime4k-s-rl.yuv420p.onnx');
    expect(readManifest(cacheDir, 'anime4k-s-rl', 'fp32', 'yuv420p')).toMatchObject({ id: 'anime4k-s-rl', precision: 'fp32', frames: 'yuv420p' });
    expect(path.basename(modelPath(cacheDir, 'anime4k-s-rl', 'int8', 'yuv420p'))).toBe('anime4k-s-rl.int8.yuv420p.onnx');
    expect(readManifest(cacheDir, 'anime4k-s-rl', 'int8', 'yuv420p')).toMatchObject({ id: 'anime4k-s-rl', precision: 'int8', frames: 'yuv420p' });
    for (const precision of ['fp32', 'fp16', 'int8'] as const) {
      const file = modelPath(cacheDir, 'anime4k-s-rl', precision);
      expect(path.basename(file)).toBe(precision === 'fp32' ? 'anime4k-s-rl.onnx' : `anime4k-s-rl.${precision}.onnx`);
      expect(readManifest(cacheDir, 'anime4k-s-rl', precision)).toMatchObject({ id: 'anime4k-s-rl', precision, bytes: fs.statSync(file).size });
    }
    expect(opCounts(fs.readFileSync(modelPath(cacheDir, 'anime4k-s-rl', 'int8'))).QuantizeLinear).toBeGreaterThan(1);
    expect(fs.readdirSync(path.join(cacheDir, 'models')).filter((f) => f.endsWith('.tmp'))).toEqual([]);

    const again = await buildModels({ cacheDir, ids: ['anime4k-s-rl'], precisions: ['int8'] });
    expect(again).toEqual((['gbrp', 'yuv420p'] as const).map((frames) => ({ id: 'anime4k-s-rl', precision: 'int8', frames, built: false, bytes: fs.statSync(modelPath(cacheDir, 'anime4k-s-rl', 'int8', frames)).size })));
  });

  it('builds the fp32 file an int8 build calibrates on, when only int8 is asked for', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'upflow-models-'));
    try {
      const reports = await buildModels({ cacheDir: dir, ids: ['anime4k-m-an'], precisions: ['int8'] });
      expect(reports.map((r) => `${r.precision} ${r.frames}`)).toEqual(['int8 gbrp', 'int8 yuv420p']);
      expect(fs.existsSync(modelPath(dir, 'anime4k-m-an'))).toBe(true);
      expect(fs.existsSync(modelPath(dir, 'anime4k-m-an', 'fp16'))).toBe(false);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('UPFLOW_PRECISION=auto on this machine', () => {
  it('runs L in int8 where the CPU has VNNI (fp32 without), S and M in fp32, every stream on yuv420p frames', async () => {
    const config = loadConfig({ ...process.env, SRGAN_ENABLE: '1', UPFLOW_PRECISION: 'auto', UPFLOW_EXECUTION_PROVIDER: 'cpu' });
    const sessions = new ModelSessions(config, createLogger({ level: 'warn' }));
    try {
      const l = cpuHasVnni() ? 'int8' : 'fp32';
      expect((['anime4k-l-an', 'anime4k-l-rl', 'anime4k-m-an', 'anime4k-s-an'] as const).map((id) => sessions.precisionOf(id))).toEqual([l, l, 'fp32', 'fp32']);
      const plan = { ladder: stepDownLadder('anime4k-l-an'), inputWidth: 64, inputHeight: 36 };
      const frames = sessions.framesFor(plan);
      expect(frames).toBe('yuv420p');
      expect(sessions.framesFor({ ...plan, ladder: stepDownLadder('anime4k-s-an') })).toBe('yuv420p');
      // The graph a worker loads for it (models/build.ts built it at set-up) upscales a frame.
      const upscaler = await sessions.get('anime4k-l-an', frames);
      const out = await upscaler.upscale(new Uint8Array(frameBytes(frames, 64, 36)).fill(128), 1, 64, 36);
      expect(out.length).toBe(frameBytes(frames, 128, 72));
    } finally {
      await sessions.releaseAll();
    }
  });
});
