/**
 * `upflow quality`: how much detail each 2x model restores on natural photos. Each photo in
 * tests/fixtures/photos is downscaled by 2, upscaled back with every 2x model and with bicubic,
 * and compared with the original by PSNR. The resampling and PSNR are plain TypeScript here so
 * that the baseline does not depend on ffmpeg's or onnxruntime's choices. The command writes its
 * figures, with the machine and the settings, to docs/bench/quality.json (the docs' table).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Config } from '../core/config';
import { MODELS, MODEL_IDS, modelPath, type ModelId } from '../core/models';
import { encodePng, fromPlanarGbr, readPng, toPlanarGbr, type RgbImage } from '../adapters/image';
import { loadFrameUpscaler } from '../adapters/onnx';
import type { Logger } from '../adapters/logger';
import { cliCommand, figuresFile, figuresHeader, writeFiguresFile, type FiguresHeader } from './figures-file';

export const QUALITY_PHOTOS_DIR = path.join(__dirname, '..', 'tests', 'fixtures', 'photos');

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

export interface QualityPhoto {
  name: string;
  original: RgbImage;
  downscaled: RgbImage;
}

/** The fixture photos (PNG, sorted by name), each with its ÷2 version. */
export function loadQualityPhotos(dir = QUALITY_PHOTOS_DIR): QualityPhoto[] {
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.png')).sort();
  if (files.length === 0) throw new Error(`no .png photos in ${dir}`);
  return files.map((file) => {
    const original = readPng(path.join(dir, file));
    return { name: path.basename(file, '.png'), original, downscaled: downscaleBicubicAntialiased(original) };
  });
}

/** Upscales every image with one built model (one onnxruntime session, one image at a time: sizes may differ). */
export async function upscaleWithModel(cacheDir: string, id: ModelId, images: RgbImage[], threads: number, logger: Logger): Promise<RgbImage[]> {
  const file = modelPath(cacheDir, id);
  if (!fs.existsSync(file)) throw new Error(`model ${id} is not built (${file} missing): run \`npm run models\``);
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

export interface QualityRow {
  method: QualityMethod;
  /** dB, one per photo, in the order of `QualityReport.photos`. */
  psnr: number[];
  mean: number;
  /** mean − bicubic's mean, dB. */
  gainOverBicubic: number;
}

export interface QualityReport {
  photos: string[];
  border: number;
  rows: QualityRow[];
  /** The photos and the 2x images each method made of them: for the side-by-side crop. */
  originals: RgbImage[];
  upscaled: Map<QualityMethod, RgbImage[]>;
}

export interface MeasureQualityOptions {
  cacheDir: string;
  threads: number;
  logger: Logger;
  photosDir?: string;
  models?: readonly ModelId[];
  border?: number;
}

/** PSNR of bicubic, nearest and each 2x model against the original, for every photo. */
export async function measureQuality(options: MeasureQualityOptions): Promise<QualityReport> {
  const photos = loadQualityPhotos(options.photosDir);
  const border = options.border ?? PSNR_BORDER;
  const downscaled = photos.map((p) => p.downscaled);
  const upscaled = new Map<QualityMethod, RgbImage[]>([
    [BICUBIC, downscaled.map((image) => upscaleBicubic(image))],
    [NEAREST, downscaled.map((image) => upscaleNearest(image))],
  ]);
  for (const id of options.models ?? QUALITY_MODELS) {
    upscaled.set(id, await upscaleWithModel(options.cacheDir, id, downscaled, options.threads, options.logger));
  }
  const mean = (values: number[]) => values.reduce((s, v) => s + v, 0) / values.length;
  const scores = [...upscaled].map(([method, images]) => {
    const perPhoto = images.map((image, i) => psnr(photos[i]!.original, image, border));
    return { method, psnr: perPhoto, mean: mean(perPhoto) };
  });
  const bicubicMean = scores.find((s) => s.method === BICUBIC)!.mean;
  const rows = scores
    .map((s) => ({ ...s, gainOverBicubic: s.mean - bicubicMean }))
    .sort((a, b) => b.mean - a.mean);
  return { photos: photos.map((p) => p.name), border, rows, originals: photos.map((p) => p.original), upscaled };
}

export function formatQualityTable(report: QualityReport): string {
  const first = Math.max(...report.rows.map((r) => r.method.length)) + 2;
  const width = Math.max(...report.photos.map((p) => p.length)) + 2;
  const db = (v: number, signed = false) => `${signed && v >= 0 ? '+' : ''}${v.toFixed(2)}`;
  const header = `${'PSNR (dB)'.padEnd(first)}${report.photos.map((p) => p.padStart(width)).join('')}${'mean'.padStart(8)}${'vs bicubic'.padStart(12)}\n`;
  const lines = report.rows.map((r) =>
    `${r.method.padEnd(first)}${r.psnr.map((v) => db(v).padStart(width)).join('')}${db(r.mean).padStart(8)}${db(r.gainOverBicubic, true).padStart(12)}\n`);
  return header + lines.join('');
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

/** What the README's crop shows: the embroidered mission patch (small text, sharp edges), at 2x. */
export const CROP = { photo: 'astronaut-suit-patch', x: 16, y: 28, size: 96, zoom: 2, gap: 4 } as const;
export const CROP_PANELS: readonly QualityMethod[] = [BICUBIC, 'anime4k-s-rl', 'anime4k-l-rl', 'anime4k-l-an', 'realesrgan-x2'];

/** The side-by-side PNG: the original, then each of CROP_PANELS, the same region of one photo. */
export function qualityCrop(report: QualityReport): RgbImage {
  const index = report.photos.indexOf(CROP.photo);
  if (index < 0) throw new Error(`the crop's photo ${CROP.photo} is not among ${report.photos.join(', ')}`);
  const panels = [report.originals[index]!, ...CROP_PANELS.map((method) => {
    const image = report.upscaled.get(method)?.[index];
    if (!image) throw new Error(`no ${method} result to crop`);
    return image;
  })];
  return sideBySide(panels.map((image) => zoomedCrop(image, CROP.x, CROP.y, CROP.size, CROP.zoom)), CROP.gap);
}

export const DEFAULT_QUALITY_JSON = figuresFile('quality');

/** docs/bench/quality.json: one run of `upflow quality`. */
export interface QualityFigures extends FiguresHeader {
  settings: Record<string, unknown>;
  photos: string[];
  border: number;
  rows: QualityRow[];
}

export async function qualityCommand(config: Config, logger: Logger, options: { json: boolean; crop?: string; jsonFile: string }): Promise<void> {
  const header = await figuresHeader(cliCommand());
  const report = await measureQuality({ cacheDir: config.cacheDir, threads: config.inference.threads, logger });
  const figures: QualityFigures = {
    ...header,
    settings: {
      photosDir: path.relative(path.join(__dirname, '..'), QUALITY_PHOTOS_DIR),
      downscale: '÷2, bicubic with its kernel stretched by 2 (antialiased, mirrored edges: MATLAB imresize)',
      baseline: 'bicubic ×2 (Keys, a = -0.5, edges clamped)',
      psnr: 'R, G and B, peak 255, against the original',
      border: report.border,
      executionProvider: 'cpu',
      inferenceThreads: config.inference.threads,
    },
    photos: report.photos,
    border: report.border,
    rows: report.rows,
  };
  writeFiguresFile(options.jsonFile, figures);
  process.stderr.write(`upflow quality: figures written to ${options.jsonFile}\n`);
  if (options.json) {
    const { photos, border, rows } = report;
    process.stdout.write(`${JSON.stringify({ photos, border, rows }, null, 2)}\n`);
  } else {
    process.stdout.write(formatQualityTable(report));
    process.stdout.write(
      `\n${report.photos.length} photos (${QUALITY_PHOTOS_DIR}), each bicubic-downscaled ÷2 (antialiased, as MATLAB imresize) and upscaled back;\n` +
      `PSNR over RGB 0..255 against the original, ${report.border} px border left out. CPU, ${config.inference.threads} threads.\n`,
    );
  }
  if (options.crop) {
    const file = path.resolve(options.crop);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, encodePng(qualityCrop(report)));
    process.stderr.write(`upflow quality: wrote ${file} (${CROP.photo}, ${CROP.size}x${CROP.size} at (${CROP.x}, ${CROP.y}) shown at ${CROP.zoom}x: original, ${CROP_PANELS.join(', ')})\n`);
  }
}
