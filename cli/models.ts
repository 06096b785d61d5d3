/** `upflow models`: the registry with what is built here; `upflow models build`: the converter. */
import fs from 'node:fs';
import path from 'node:path';
import type { Config } from '../core/config';
import { MODELS, MODEL_IDS, modelPath, type FrameFormat, type ModelId, type Precision } from '../core/models';
import { describePrecision, precisionOfModel } from '../core/precision';
import { precisionHere } from '../adapters/onnx';
import { buildModels, readManifest } from '../models/build';
import type { ModelsBenchReport } from './bench';
import { figuresFile } from './figures-file';

/** The last `upflow bench --only models` of this repository (docs/bench/models.json), if there is one. */
function lastModelsBench(): ModelsBenchReport | undefined {
  try {
    return JSON.parse(fs.readFileSync(figuresFile('models'), 'utf8')) as ModelsBenchReport;
  } catch {
    return undefined;
  }
}

export function listModelsCommand(config: Config, options: { json: boolean }): void {
  const isBuilt = (id: ModelId, precision: Precision, frames: FrameFormat = 'gbrp') => fs.existsSync(modelPath(config.cacheDir, id, precision, frames)) && readManifest(config.cacheDir, id, precision, frames) !== undefined;
  // What a worker here would run: UPFLOW_PRECISION, `auto` decided as ModelSessions does.
  const here = precisionHere(config.inference);
  const bench = lastModelsBench();
  const rows = MODEL_IDS.map((id) => {
    const info = MODELS[id];
    const runsIn = precisionOfModel(id, here);
    return {
      ...info,
      built: isBuilt(id, 'fp32'),
      /** The precisions whose file is built here. */
      builtPrecisions: info.precisions.filter((p) => isBuilt(id, p)),
      /** Its graph on yuv420p frames in the precision it runs in here, which a stream uses where it can (core/models.ts streamFrameFormat), is built. */
      builtYuv420p: info.yuv420p.includes(runsIn) && isBuilt(id, runsIn, 'yuv420p'),
      /** The one a worker here runs it in. */
      precision: runsIn,
      file: modelPath(config.cacheDir, id, runsIn),
      /** What the last models bench measured for it in that precision (on the machine that file names). */
      measured: (bench?.results ?? [])
        .filter((r) => r.model === id && r.precision === runsIn)
        .map((r) => ({ size: r.size, inferenceFps: r.inferenceFps, realTime: r.realTime })),
    };
  });
  if (options.json) {
    process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
    return;
  }
  const figure = (n: number | null) => (n === null ? '-' : n.toFixed(n < 1 ? 2 : 1));
  const measured = (figures: (typeof rows)[number]['measured']) =>
    figures.map((m) => `${m.size} ${figure(m.inferenceFps)} fps, ${m.realTime === null ? '-' : `${m.realTime.toFixed(2)}x`}`).join('; ') || '-';
  process.stdout.write(`${'model'.padEnd(15)}${'scale'.padEnd(6)}${'kind'.padEnd(7)}${'for'.padEnd(5)}${'built'.padEnd(20)}${'runs in'.padEnd(9)}${'licence'.padEnd(14)}${'source'.padEnd(22)}measured: inference, real-time through the stack\n`);
  for (const r of rows) {
    const source = r.source ? `${r.source.package}@${r.source.version}` : '(fixed kernel)';
    process.stdout.write(
      `${r.id.padEnd(15)}${`x${r.scale}`.padEnd(6)}${r.kind.padEnd(7)}${r.suited.padEnd(5)}${([...r.builtPrecisions, ...(r.builtYuv420p ? ['yuv'] : [])].join(' ') || 'no').padEnd(20)}${r.precision.padEnd(9)}${(r.source?.licence ?? '-').padEnd(14)}${source.padEnd(22)}${measured(r.measured)}\n`,
    );
  }
  const where = bench ? `${bench.date.slice(0, 10)} on ${bench.machine.cpuModel}, ${bench.machine.cores} cores (\`${bench.command}\`)` : undefined;
  process.stdout.write(
    `\nMeasured: ${where ? `the last models bench, ${where}, in the precision each runs in here; \`npm run bench -- --only models\` measures this machine` : 'nothing yet (`npm run bench -- --only models` measures this machine)'}.\n` +
    `Precision here: ${describePrecision(here)} (${here.reason}); a model not built in it runs in fp32.\n` +
    '"yuv": also built on yuv420p frames in the precision it runs in here, which a stream uses when every model it may step down to has them (docs/models.md).\n' +
    `Model files: ${path.join(config.cacheDir, 'models')} (npm run models builds missing or stale ones).\n` +
    'Set SRGAN_ENABLE=1 to upscale with a model: UPFLOW_MODEL for every title, or unset for each content kind\'s default (docs/models.md).\n',
  );
}

export async function buildModelsCommand(config: Config, options: { force: boolean; quiet: boolean; ids: ModelId[] }): Promise<void> {
  const reports = await buildModels({
    cacheDir: config.cacheDir,
    ids: options.ids.length > 0 ? options.ids : MODEL_IDS,
    force: options.force,
    onBuild: (id, precision, frames) => {
      if (!options.quiet) process.stderr.write(`upflow models: building ${id} (${precision}${frames === 'gbrp' ? '' : `, ${frames} frames`})\n`);
    },
  });
  const built = reports.filter((r) => r.built);
  if (!options.quiet || built.length > 0) {
    process.stderr.write(`upflow models: ${built.length} built, ${reports.length - built.length} up to date in ${path.join(config.cacheDir, 'models')}\n`);
  }
}
