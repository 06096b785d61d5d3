/** `upflow models`: the registry with what is built here; `upflow models build`: the converter. */
import fs from 'node:fs';
import path from 'node:path';
import type { Config } from '../core/config';
import { BENCH_SIZES, MODELS, MODEL_IDS, modelPath, type ModelId } from '../core/models';
import { buildModels, readManifest } from '../models/build';

export function listModelsCommand(config: Config, options: { json: boolean }): void {
  const rows = MODEL_IDS.map((id) => {
    const info = MODELS[id];
    return {
      ...info,
      built: fs.existsSync(modelPath(config.cacheDir, id)) && readManifest(config.cacheDir, id) !== undefined,
      file: modelPath(config.cacheDir, id),
    };
  });
  if (options.json) {
    process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
    return;
  }
  const fps = (figures: Partial<Record<string, number>>) => BENCH_SIZES.map((s) => (figures[s] === undefined ? '-' : figures[s]!.toFixed(figures[s]! < 1 ? 2 : 1)).padStart(6)).join('');
  process.stdout.write(`${'model'.padEnd(15)}${'scale'.padEnd(6)}${'kind'.padEnd(7)}${'for'.padEnd(5)}${'built'.padEnd(7)}${'licence'.padEnd(14)}${'source'.padEnd(22)}fps (CPU, 1 thread) ${BENCH_SIZES.join(' / ')}\n`);
  for (const r of rows) {
    const source = r.source ? `${r.source.package}@${r.source.version}` : '(fixed kernel)';
    process.stdout.write(
      `${r.id.padEnd(15)}${`x${r.scale}`.padEnd(6)}${r.kind.padEnd(7)}${r.suited.padEnd(5)}${(r.built ? 'yes' : 'no').padEnd(7)}${(r.source?.licence ?? '-').padEnd(14)}${source.padEnd(22)}${fps(r.measuredCpuFps)}\n`,
    );
  }
  process.stdout.write(`\nModel files: ${path.join(config.cacheDir, 'models')} (npm run models builds missing or stale ones).\nSet SRGAN_ENABLE=1 and UPFLOW_MODEL=<model> to upscale with one.\n`);
}

export async function buildModelsCommand(config: Config, options: { force: boolean; quiet: boolean; ids: ModelId[] }): Promise<void> {
  const reports = await buildModels({
    cacheDir: config.cacheDir,
    ids: options.ids.length > 0 ? options.ids : MODEL_IDS,
    force: options.force,
    onBuild: (id) => {
      if (!options.quiet) process.stderr.write(`upflow models: building ${id}\n`);
    },
  });
  const built = reports.filter((r) => r.built);
  if (!options.quiet || built.length > 0) {
    process.stderr.write(`upflow models: ${built.length} built, ${reports.length - built.length} up to date in ${path.join(config.cacheDir, 'models')}\n`);
  }
}
