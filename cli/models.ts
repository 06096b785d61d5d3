/** `upflow models`: the registry with what is built here; `upflow models build`: the converter. */
import fs from 'node:fs';
import path from 'node:path';
import type { Config } from '../core/config';
import { BENCH_SIZES, MODELS, MODEL_IDS, modelPath, type ModelId, type Precision } from '../core/models';
import { precisionOfModel } from '../core/precision';
import { precisionHere } from '../adapters/onnx';
import { buildModels, readManifest } from '../models/build';

export function listModelsCommand(config: Config, options: { json: boolean }): void {
  const isBuilt = (id: ModelId, precision: Precision) => fs.existsSync(modelPath(config.cacheDir, id, precision)) && readManifest(config.cacheDir, id, precision) !== undefined;
  // What a worker here would run: UPFLOW_PRECISION, `auto` decided as ModelSessions does.
  const here = precisionHere(config.inference);
  const rows = MODEL_IDS.map((id) => {
    const info = MODELS[id];
    const runsIn = precisionOfModel(id, here.precision);
    return {
      ...info,
      built: isBuilt(id, 'fp32'),
      /** The precisions whose file is built here. */
      builtPrecisions: info.precisions.filter((p) => isBuilt(id, p)),
      /** The one a worker here runs it in. */
      precision: runsIn,
      file: modelPath(config.cacheDir, id, runsIn),
    };
  });
  if (options.json) {
    process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
    return;
  }
  const fps = (figures: Partial<Record<string, number>>) => BENCH_SIZES.map((s) => (figures[s] === undefined ? '-' : figures[s]!.toFixed(figures[s]! < 1 ? 2 : 1)).padStart(6)).join('');
  process.stdout.write(`${'model'.padEnd(15)}${'scale'.padEnd(6)}${'kind'.padEnd(7)}${'for'.padEnd(5)}${'built'.padEnd(16)}${'runs in'.padEnd(9)}${'licence'.padEnd(14)}${'source'.padEnd(22)}fps (CPU, 1 thread, fp32) ${BENCH_SIZES.join(' / ')}\n`);
  for (const r of rows) {
    const source = r.source ? `${r.source.package}@${r.source.version}` : '(fixed kernel)';
    process.stdout.write(
      `${r.id.padEnd(15)}${`x${r.scale}`.padEnd(6)}${r.kind.padEnd(7)}${r.suited.padEnd(5)}${(r.builtPrecisions.join(' ') || 'no').padEnd(16)}${r.precision.padEnd(9)}${(r.source?.licence ?? '-').padEnd(14)}${source.padEnd(22)}${fps(r.measuredCpuFps)}\n`,
    );
  }
  process.stdout.write(
    `\nPrecision here: ${here.precision} (${here.reason}); a model not built in it runs in fp32.\n` +
    `Model files: ${path.join(config.cacheDir, 'models')} (npm run models builds missing or stale ones).\n` +
    'Set SRGAN_ENABLE=1 to upscale with a model: UPFLOW_MODEL for every title, or unset for each content kind\'s default (docs/models.md).\n',
  );
}

export async function buildModelsCommand(config: Config, options: { force: boolean; quiet: boolean; ids: ModelId[] }): Promise<void> {
  const reports = await buildModels({
    cacheDir: config.cacheDir,
    ids: options.ids.length > 0 ? options.ids : MODEL_IDS,
    force: options.force,
    onBuild: (id, precision) => {
      if (!options.quiet) process.stderr.write(`upflow models: building ${id} (${precision})\n`);
    },
  });
  const built = reports.filter((r) => r.built);
  if (!options.quiet || built.length > 0) {
    process.stderr.write(`upflow models: ${built.length} built, ${reports.length - built.length} up to date in ${path.join(config.cacheDir, 'models')}\n`);
  }
}
