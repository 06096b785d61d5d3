/**
 * `upflow quality`: how much detail each 2x model restores, for each kind of content: camera
 * photos (live action) and drawn frames (animation). Each image is downscaled by 2, upscaled
 * back with every 2x model, with bicubic and with nearest, and compared with the original by
 * PSNR; each kind's mean is set against bicubic and against lanczos-x2 (rate control's last
 * step), and each model's fp16 and int8 graphs against its fp32 one (and, where a model is built
 * in int8 on yuv420p frames, that graph against its fp32 one on the same frames). The resampling
 * and PSNR are plain TypeScript here so that the baseline does not depend on ffmpeg's or
 * onnxruntime's choices. The command writes its figures, with the machine and the settings, to
 * docs/bench/quality.json (the docs' tables).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Config } from '../core/config';
import { CONTENT_KINDS, type ContentKind } from '../core/content-kind';
import { MODELS, MODEL_IDS, type ModelId, type Precision } from '../core/models';
import { builtModelFile } from '../models/build';
import { encodePng, fromPlanarGbr, readPng, toPlanarGbr, toYuv420p, type RgbImage } from '../adapters/image';
import { loadFrameUpscaler } from '../adapters/onnx';
import type { Logger } from '../adapters/logger';
import { cliCommand, figuresFile, figuresHeader, writeFiguresFile, type FiguresHeader } from './figures-file';

const FIXTURES_DIR = path.join(__dirname, '..', 'tests', 'fixtures');
/** The quality set: camera photos for live action, drawn frames for animation (each folder's README gives sources and licences). */
export const QUALITY_SET_DIRS: Readonly<Record<ContentKind, string>> = {
  'live-action': path.join(FIXTURES_DIR, 'photos'),
  animation: path.join(FIXTURES_DIR, 'animation'),
};

/** Every registry model that doubles the size: Anime4K ×6, realesrgan-x2, lanczos-x2. */
export const QUALITY_MODELS: readonly ModelId[] = MODEL_IDS.filter((id) => MODELS[id].scale === 2);

/** The baselines, computed here: bicubic is the one the models must beat, nearest is the floor. */
export const BICUBIC = 'bicubic';
export const NEAREST = 'nearest';
export type QualityMethod = ModelId | typeof BICUBIC | typeof NEAREST;

/**
 * Pixels left out of PSNR along each edge of the 2x image: the usual SR benchmark "shave" of
 * the scale factor, where edge padding (clamped, mirrored or zero in the CNNs) decides the result.
 */
export const PSNR_BORDER = 2;

/** Keys' cubic convolution kernel with a = -0.5 (bicubic in MATLAB, Pillow and most SR papers). */
export function keysCubic(t: number, a = -0.5): number {
  const x = Math.abs(t);
  if (x <= 1) return (a + 2) * x ** 3 - (a + 3) * x ** 2 + 1;
  if (x < 2) return a * x ** 3 - 5 * a * x ** 2 + 8 * a * x - 4 * a;
  return 0;
}

type EdgeIndex = (i: number, n: number) => number;
const clampEdge: EdgeIndex = (i, n) => Math.min(n - 1, Math.max(0, i));
/** Half-sample symmetric: -1 → 0, -2 → 1; what MATLAB's imresize pads with. */
const mirrorEdge: EdgeIndex = (i, n) => (i < 0 ? Math.min(n - 1, -i - 1) : i >= n ? Math.max(0, 2 * n - 1 - i) : i);

/**
 * For each output index along one axis: the source indices and their weights. Pixel centres
 * are aligned (output x + 0.5 = (input x + 0.5) × scale), like the Anime4K bilinear base and
 * the Lanczos graph. Below scale 1 the kernel is stretched by 1/scale, so it low-passes before
 * it samples (antialiasing).
 */
function axisTaps(inSize: number, outSize: number, edge: EdgeIndex): { index: number[]; weight: number[] }[] {
  const scale = outSize / inSize;
  const stretch = Math.max(1, 1 / scale);
  const radius = 2 * stretch;
  return Array.from({ length: outSize }, (_, o) => {
    const centre = (o + 0.5) / scale - 0.5;
    const index: number[] = [];
    const weight: number[] = [];
    for (let i = Math.floor(centre - radius) + 1; i <= Math.floor(centre + radius); i++) {
      const w = keysCubic((i - centre) / stretch);
      if (w === 0) continue;
      index.push(edge(i, inSize));
      weight.push(w);
    }
    const sum = weight.reduce((s, w) => s + w, 0);
    return { index, weight: weight.map((w) => w / sum) };
  });
}

/** Separable bicubic resize: rows, then columns, in floating point; rounded to 8 bits once. */
function resizeBicubic(image: RgbImage, width: number, height: number, edge: EdgeIndex): RgbImage {
  const { width: w, height: h, data } = image;
  const across = axisTaps(w, width, edge);
  const down = axisTaps(h, height, edge);
  const rows = new Float64Array(h * width * 3);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < width; x++) {
      const { index, weight } = across[x]!;
      for (let c = 0; c < 3; c++) {
        let sum = 0;
        for (let k = 0; k < index.length; k++) sum += weight[k]! * data[(y * w + index[k]!) * 3 + c]!;
        rows[(y * width + x) * 3 + c] = sum;
      }
    }
  }
  const out = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    const { index, weight } = down[y]!;
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < 3; c++) {
        let sum = 0;
        for (let k = 0; k < index.length; k++) sum += weight[k]! * rows[(index[k]! * width + x) * 3 + c]!;
        out[(y * width + x) * 3 + c] = Math.round(Math.min(255, Math.max(0, sum)));
      }
    }
  }
  return { width, height, data: out };
}

/**
 * The degradation: bicubic ÷factor with the kernel stretched by the factor and mirrored edges,
 * as MATLAB's imresize does. SR papers make their low-resolution test images this way, so the
 * figures compare with theirs. A 2×2 average (tried) scores bicubic 0.16 dB higher and ranks
 * the models the same.
 */
export function downscaleBicubicAntialiased(image: RgbImage, factor = 2): RgbImage {
  if (image.width % factor !== 0 || image.height % factor !== 0) {
    throw new Error(`${image.width}x${image.height} is not divisible by ${factor}`);
  }
  return resizeBicubic(image, image.width / factor, image.height / factor, mirrorEdge);
}

/** The baseline: bicubic ×scale, edges clamped (as the models' bilinear base and Lanczos do). */
export function upscaleBicubic(image: RgbImage, scale = 2): RgbImage {
  return resizeBicubic(image, image.width * scale, image.height * scale, clampEdge);
}

/** The floor: each pixel repeated scale × scale times. */
export function upscaleNearest(image: RgbImage, scale = 2): RgbImage {
  const width = image.width * scale;
  const height = image.height * scale;
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const from = (Math.floor(y / scale) * image.width + Math.floor(x / scale)) * 3;
      data.set(image.data.subarray(from, from + 3), (y * width + x) * 3);
    }
  }
  return { width, height, data };
}

/** PSNR in dB over R, G and B (peak 255), leaving `border` pixels out along each edge. */
export function psnr(reference: RgbImage, test: RgbImage, border = PSNR_BORDER): number {
  if (reference.width !== test.width || reference.height !== test.height) {
    throw new Error(`sizes differ: ${reference.width}x${reference.height} vs ${test.width}x${test.height}`);
  }
  let squared = 0;
  let count = 0;
  for (let y = border; y < reference.height - border; y++) {
    for (let x = border; x < reference.width - border; x++) {
      for (let c = 0; c < 3; c++) {
        const i = (y * reference.width + x) * 3 + c;
        squared += (reference.data[i]! - test.data[i]!) ** 2;
        count++;
      }
    }
  }
  if (count === 0) throw new Error(`a border of ${border} leaves no pixels of ${reference.width}x${reference.height}`);
  return squared === 0 ? Infinity : 10 * Math.log10((255 * 255) / (squared / count));
}

/** One image of the quality set, with its ÷2 version. */
export interface QualityImage {
  name: string;
  kind: ContentKind;
  original: RgbImage;
  downscaled: RgbImage;
}

/** Each kind's images (PNG, sorted by name), kinds in CONTENT_KINDS order, each with its ÷2 version. */
export function loadQualityImages(dirs: Readonly<Record<ContentKind, string>> = QUALITY_SET_DIRS): QualityImage[] {
  return CONTENT_KINDS.flatMap((kind) => {
    const dir = dirs[kind];
    const files = fs.readdirSync(dir).filter((f) => f.endsWith('.png')).sort();
    if (files.length === 0) throw new Error(`no .png images in ${dir}`);
    return files.map((file) => {
      const original = readPng(path.join(dir, file));
      return { name: path.basename(file, '.png'), kind, original, downscaled: downscaleBicubicAntialiased(original) };
    });
  });
}

/** Upscales every image with one built model (one onnxruntime session, one image at a time: sizes may differ). */
export async function upscaleWithModel(cacheDir: string, id: ModelId, images: RgbImage[], threads: number, logger: Logger, precision: Precision = 'fp32'): Promise<RgbImage[]> {
  const file = builtModelFile(cacheDir, id, precision);
  const { scale, cpuGraphOptimization } = MODELS[id];
  const upscaler = await loadFrameUpscaler({ model: file, scale, executionProvider: 'cpu', threads, cpuGraphOptimization, logger });
  try {
    const results: RgbImage[] = [];
    for (const image of images) {
      const planes = await upscaler.upscale(toPlanarGbr(image), 1, image.width, image.height);
      results.push(fromPlanarGbr(planes, image.width * scale, image.height * scale));
    }
    return results;
  } finally {
    await upscaler.release();
  }
}

/** A video's yuv420p frame of an image (`toYuv420p`): its planes, back to back, and its size. */
export interface Yuv420pFrame {
  planes: Uint8Array;
  width: number;
  height: number;
}

/**
 * Each quality image's ÷2 version as a yuv420p frame (cut to even sizes), and the original's
 * yuv420p planes at twice that size: what a graph on yuv420p frames is scored on.
 */
export function qualityYuv420pFrames(images: readonly QualityImage[]): { low: Yuv420pFrame; original: Uint8Array }[] {
  return images.map((image) => {
    const low = toYuv420p(image.downscaled);
    const [width, height] = [2 * low.width, 2 * low.height];
    const data = new Uint8Array(width * height * 3);
    for (let y = 0; y < height; y++) data.set(image.original.data.subarray(y * image.original.width * 3, (y * image.original.width + width) * 3), y * width * 3);
    return { low, original: toYuv420p({ width, height, data }).planes };
  });
}

/** Upscales yuv420p frames with a graph on yuv420p frames (a built file, or its bytes), one at a time. */
export async function upscaleYuv420p(model: string | Uint8Array, frames: readonly Yuv420pFrame[], threads: number, logger: Logger): Promise<Uint8Array[]> {
  const upscaler = await loadFrameUpscaler({ model, scale: 2, executionProvider: 'cpu', threads, cpuGraphOptimization: 'all', logger });
  try {
    const results: Uint8Array[] = [];
    for (const frame of frames) results.push(await upscaler.upscale(frame.planes, 1, frame.width, frame.height));
    return results;
  } finally {
    await upscaler.release();
  }
}

/** PSNR in dB over every byte of two frames' planes (Y, U and V of yuv420p), peak 255. */
export function planesPsnr(reference: Uint8Array, test: Uint8Array): number {
  if (reference.length !== test.length) throw new Error(`sizes differ: ${reference.length} against ${test.length} bytes`);
  let squared = 0;
  for (let i = 0; i < reference.length; i++) squared += (reference[i]! - test[i]!) ** 2;
  return squared === 0 ? Infinity : 10 * Math.log10((255 * 255 * reference.length) / squared);
}

/** The mean of `scores` (one per image, in the images' order) over the images of `kind`. */
export function meanOfKind(images: readonly { kind: ContentKind }[], scores: readonly number[], kind: ContentKind): number {
  const own = scores.filter((_, i) => images[i]!.kind === kind);
  return own.reduce((sum, v) => sum + v, 0) / own.length;
}

/** A method's score on the images of one kind: the mean, and how far above the two fixed kernels. */
export interface KindScore {
  mean: number;
  /** mean − bicubic's mean, dB. */
  overBicubic: number;
  /** mean − lanczos-x2's mean, dB: what a CNN adds over the step rate control falls back to. */
  overLanczos: number;
}

export interface QualityRow {
  method: QualityMethod;
  /** dB, one per image, in the order of `QualityReport.images`. */
  psnr: number[];
  byKind: Record<ContentKind, KindScore>;
}

/** A model in another precision than fp32: its mean on each kind, and how far from its fp32 graph's. */
export interface PrecisionRow {
  model: ModelId;
  precision: Precision;
  byKind: Record<ContentKind, { mean: number; vsFp32: number }>;
}

export interface QualityReport {
  /** Image names, and each one's kind, in the same order. */
  images: string[];
  kinds: ContentKind[];
  border: number;
  rows: QualityRow[];
  /** Each model built in fp16 or int8, in that precision (the rows above are fp32). */
  precisionRows: PrecisionRow[];
  /**
   * Each model built on yuv420p frames in another precision than fp32, in it on the quality
   * set's yuv420p frames: PSNR over the planes against the originals' (`planesPsnr`), and how far
   * from its fp32 graph's on the same frames.
   */
  yuv420pRows: PrecisionRow[];
  /** The originals and the 2x images each method made of them: for the side-by-side crops. */
  originals: RgbImage[];
  upscaled: Map<QualityMethod, RgbImage[]>;
}

export interface MeasureQualityOptions {
  cacheDir: string;
  threads: number;
  logger: Logger;
  setDirs?: Readonly<Record<ContentKind, string>>;
  border?: number;
}

/** The fixed kernel every CNN must beat: the model rate control steps down to last. */
export const LANCZOS = 'lanczos-x2';

/** PSNR of bicubic, nearest and each 2x model against the original, for every image, and each kind's means. */
export async function measureQuality(options: MeasureQualityOptions): Promise<QualityReport> {
  const images = loadQualityImages(options.setDirs);
  const border = options.border ?? PSNR_BORDER;
  const downscaled = images.map((p) => p.downscaled);
  const upscaled = new Map<QualityMethod, RgbImage[]>([
    [BICUBIC, downscaled.map((image) => upscaleBicubic(image))],
    [NEAREST, downscaled.map((image) => upscaleNearest(image))],
  ]);
  for (const id of QUALITY_MODELS) {
    upscaled.set(id, await upscaleWithModel(options.cacheDir, id, downscaled, options.threads, options.logger));
  }
  const scores = new Map([...upscaled].map(([method, made]) => [method, made.map((image, i) => psnr(images[i]!.original, image, border))]));
  const kindMean = (values: number[], kind: ContentKind) => meanOfKind(images, values, kind);
  const rows = [...scores].map(([method, perImage]): QualityRow => ({
    method,
    psnr: perImage,
    byKind: Object.fromEntries(CONTENT_KINDS.map((kind) => {
      const mean = kindMean(perImage, kind);
      return [kind, { mean, overBicubic: mean - kindMean(scores.get(BICUBIC)!, kind), overLanczos: mean - kindMean(scores.get(LANCZOS)!, kind) }];
    })) as Record<ContentKind, KindScore>,
  }));
  const overall = (row: QualityRow) => CONTENT_KINDS.reduce((s, kind) => s + row.byKind[kind].mean, 0);
  rows.sort((a, b) => overall(b) - overall(a));
  const precisionRows: PrecisionRow[] = [];
  for (const id of QUALITY_MODELS) {
    for (const precision of MODELS[id].precisions.filter((p) => p !== 'fp32')) {
      const made = await upscaleWithModel(options.cacheDir, id, downscaled, options.threads, options.logger, precision);
      const perImage = made.map((image, i) => psnr(images[i]!.original, image, border));
      precisionRows.push({
        model: id,
        precision,
        byKind: Object.fromEntries(CONTENT_KINDS.map((kind) => {
          const mean = kindMean(perImage, kind);
          return [kind, { mean, vsFp32: mean - kindMean(scores.get(id)!, kind) }];
        })) as PrecisionRow['byKind'],
      });
    }
  }
  const yuvFrames = qualityYuv420pFrames(images);
  const yuv420pRows: PrecisionRow[] = [];
  for (const id of QUALITY_MODELS) {
    const others = MODELS[id].yuv420p.filter((p) => p !== 'fp32');
    if (others.length === 0) continue;
    const scoresIn = async (precision: Precision) => {
      const made = await upscaleYuv420p(builtModelFile(options.cacheDir, id, precision, 'yuv420p'), yuvFrames.map((f) => f.low), options.threads, options.logger);
      return made.map((planes, i) => planesPsnr(yuvFrames[i]!.original, planes));
    };
    const fp32 = await scoresIn('fp32');
    for (const precision of others) {
      const perImage = await scoresIn(precision);
      yuv420pRows.push({
        model: id,
        precision,
        byKind: Object.fromEntries(CONTENT_KINDS.map((kind) => {
          const mean = kindMean(perImage, kind);
          return [kind, { mean, vsFp32: mean - kindMean(fp32, kind) }];
        })) as PrecisionRow['byKind'],
      });
    }
  }
  return { images: images.map((p) => p.name), kinds: images.map((p) => p.kind), border, rows, precisionRows, yuv420pRows, originals: images.map((p) => p.original), upscaled };
}

/** A kind's rows, best mean first: that kind's images, its mean, and the gains over bicubic and lanczos. */
export function rowsOfKind(report: QualityReport, kind: ContentKind): { images: string[]; rows: { method: QualityMethod; psnr: number[]; score: KindScore }[] } {
  const own = report.kinds.flatMap((k, i) => (k === kind ? [i] : []));
  return {
    images: own.map((i) => report.images[i]!),
    rows: report.rows
      .map((r) => ({ method: r.method, psnr: own.map((i) => r.psnr[i]!), score: r.byKind[kind] }))
      .sort((x, y) => y.score.mean - x.score.mean),
  };
}

export function formatQualityTable(report: QualityReport): string {
  const db = (v: number, signed = false) => `${signed && v >= 0 ? '+' : ''}${v.toFixed(2)}`;
  const first = Math.max(...report.rows.map((r) => r.method.length)) + 2;
  return CONTENT_KINDS.map((kind) => {
    const { images, rows } = rowsOfKind(report, kind);
    const width = Math.max(...images.map((p) => p.length)) + 2;
    const header = `${kind}\n${'PSNR (dB)'.padEnd(first)}${images.map((p) => p.padStart(width)).join('')}${'mean'.padStart(8)}${'vs bicubic'.padStart(12)}${'vs lanczos'.padStart(12)}\n`;
    const lines = rows.map((r) =>
      `${r.method.padEnd(first)}${r.psnr.map((v) => db(v).padStart(width)).join('')}${db(r.score.mean).padStart(8)}${db(r.score.overBicubic, true).padStart(12)}${db(r.score.overLanczos, true).padStart(12)}\n`);
    return header + lines.join('');
  }).join('\n');
}

export function formatPrecisionTable(report: QualityReport, rows: readonly PrecisionRow[] = report.precisionRows): string {
  const db = (v: number, signed = false) => `${signed && v >= 0 ? '+' : ''}${v.toFixed(2)}`;
  const header = `${'model'.padEnd(16)}${'precision'.padEnd(11)}${CONTENT_KINDS.map((kind) => `${kind} mean`.padStart(18) + 'vs fp32'.padStart(9)).join('')}\n`;
  return header + rows.map((r) =>
    `${r.model.padEnd(16)}${r.precision.padEnd(11)}${CONTENT_KINDS.map((kind) => db(r.byKind[kind].mean).padStart(18) + `${r.byKind[kind].vsFp32 >= 0 ? '+' : ''}${r.byKind[kind].vsFp32.toFixed(3)}`.padStart(9)).join('')}\n`).join('');
}

/** Columns [x, x + size) and rows [y, y + size) of an image, each pixel shown zoom × zoom. */
export function zoomedCrop(image: RgbImage, x: number, y: number, size: number, zoom: number): RgbImage {
  const side = size * zoom;
  const data = new Uint8Array(side * side * 3);
  for (let Y = 0; Y < side; Y++) {
    for (let X = 0; X < side; X++) {
      const from = ((y + Math.floor(Y / zoom)) * image.width + x + Math.floor(X / zoom)) * 3;
      data.set(image.data.subarray(from, from + 3), (Y * side + X) * 3);
    }
  }
  return { width: side, height: side, data };
}

/** Panels of equal height left to right, `gap` white columns between them. */
export function sideBySide(panels: RgbImage[], gap: number): RgbImage {
  const height = panels[0]!.height;
  const width = panels.reduce((w, p) => w + p.width, 0) + gap * (panels.length - 1);
  const data = new Uint8Array(width * height * 3).fill(255);
  let left = 0;
  for (const panel of panels) {
    if (panel.height !== height) throw new Error('panels differ in height');
    for (let y = 0; y < height; y++) data.set(panel.data.subarray(y * panel.width * 3, (y + 1) * panel.width * 3), (y * width + left) * 3);
    left += panel.width + gap;
  }
  return { width, height, data };
}

/**
 * What the docs' crops show, one per kind, each at 2x: the embroidered mission patch (small
 * text, sharp edges) of a photo, and the line art of a drawn frame.
 */
export const CROPS: Readonly<Record<ContentKind, { image: string; x: number; y: number }>> = {
  'live-action': { image: 'astronaut-suit-patch', x: 16, y: 28 },
  animation: { image: 'squirrel-glasses', x: 40, y: 20 },
};
export const CROP = { size: 96, zoom: 2, gap: 4 } as const;
/** bicubic, lanczos, then each kind's default and the models people compare it with. */
export const CROP_PANELS: readonly QualityMethod[] = [BICUBIC, LANCZOS, 'anime4k-s-rl', 'anime4k-s-an', 'anime4k-l-an', 'realesrgan-x2'];

/** The side-by-side PNG of one kind: the original, then each of CROP_PANELS, the same region of one image. */
export function qualityCrop(report: QualityReport, kind: ContentKind): RgbImage {
  const { image, x, y } = CROPS[kind];
  const index = report.images.indexOf(image);
  if (index < 0) throw new Error(`the crop's image ${image} is not among ${report.images.join(', ')}`);
  const panels = [report.originals[index]!, ...CROP_PANELS.map((method) => {
    const made = report.upscaled.get(method)?.[index];
    if (!made) throw new Error(`no ${method} result to crop`);
    return made;
  })];
  return sideBySide(panels.map((panel) => zoomedCrop(panel, x, y, CROP.size, CROP.zoom)), CROP.gap);
}

/** Where `upflow quality --crops <dir>` writes a kind's crop. */
export const cropFile = (dir: string, kind: ContentKind) => path.join(dir, `quality-crop-${kind}.png`);

export const DEFAULT_QUALITY_JSON = figuresFile('quality');

/** docs/bench/quality.json: one run of `upflow quality`. */
export interface QualityFigures extends FiguresHeader {
  settings: Record<string, unknown>;
  images: string[];
  kinds: ContentKind[];
  border: number;
  rows: QualityRow[];
  precisionRows: PrecisionRow[];
  /** Absent in files written before the int8 graphs on yuv420p frames. */
  yuv420pRows?: PrecisionRow[];
}

export async function qualityCommand(config: Config, logger: Logger, options: { json: boolean; crops?: string; jsonFile: string }): Promise<void> {
  const header = await figuresHeader(cliCommand());
  const report = await measureQuality({ cacheDir: config.cacheDir, threads: config.inference.threads, logger });
  const repository = path.join(__dirname, '..');
  const figures: QualityFigures = {
    ...header,
    settings: {
      setDirs: Object.fromEntries(CONTENT_KINDS.map((kind) => [kind, path.relative(repository, QUALITY_SET_DIRS[kind])])),
      downscale: '÷2, bicubic with its kernel stretched by 2 (antialiased, mirrored edges: MATLAB imresize)',
      baseline: 'bicubic ×2 (Keys, a = -0.5, edges clamped)',
      psnr: 'R, G and B, peak 255, against the original',
      yuv420p: 'the ÷2 images as BT.601 limited-range yuv420p frames (cut to even sizes); PSNR over Y, U and V, peak 255, against the original\'s yuv420p planes, no border',
      border: report.border,
      executionProvider: 'cpu',
      inferenceThreads: config.inference.threads,
    },
    images: report.images,
    kinds: report.kinds,
    border: report.border,
    rows: report.rows,
    precisionRows: report.precisionRows,
    yuv420pRows: report.yuv420pRows,
  };
  writeFiguresFile(options.jsonFile, figures);
  process.stderr.write(`upflow quality: figures written to ${options.jsonFile}\n`);
  if (options.json) {
    const { images, kinds, border, rows } = report;
    process.stdout.write(`${JSON.stringify({ images, kinds, border, rows }, null, 2)}\n`);
  } else {
    process.stdout.write(formatQualityTable(report));
    process.stdout.write(`\n${formatPrecisionTable(report)}`);
    process.stdout.write(`\nOn yuv420p frames (PSNR over the Y, U and V planes against the originals'; vs the fp32 graph on the same frames):\n${formatPrecisionTable(report, report.yuv420pRows)}`);
    process.stdout.write(
      `\n${report.images.length} images (${CONTENT_KINDS.map((kind) => QUALITY_SET_DIRS[kind]).join(', ')}), each bicubic-downscaled ÷2 (antialiased, as MATLAB imresize) and upscaled back;\n` +
      `PSNR over RGB 0..255 against the original, ${report.border} px border left out. CPU, ${config.inference.threads} threads.\n`,
    );
  }
  if (options.crops) {
    const dir = path.resolve(options.crops);
    fs.mkdirSync(dir, { recursive: true });
    for (const kind of CONTENT_KINDS) {
      const file = cropFile(dir, kind);
      fs.writeFileSync(file, encodePng(qualityCrop(report, kind)));
      const { image, x, y } = CROPS[kind];
      process.stderr.write(`upflow quality: wrote ${file} (${image}, ${CROP.size}x${CROP.size} at (${x}, ${y}) shown at ${CROP.zoom}x: original, ${CROP_PANELS.join(', ')})\n`);
    }
  }
}
