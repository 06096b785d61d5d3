/** `upflow upscale <image.png> --model <id> --output <file.png>`: one still, to look at a model's result. */
import fs from 'node:fs';
import path from 'node:path';
import type { Config } from '../core/config';
import { MODELS, type ModelId } from '../core/models';
import { builtModelFile } from '../models/build';
import { encodePng, fromPlanarGbr, readPng, toPlanarGbr } from '../adapters/image';
import { loadFrameUpscaler } from '../adapters/onnx';
import type { Logger } from '../adapters/logger';

export function isStillImage(file: string): boolean {
  return path.extname(file).toLowerCase() === '.png';
}

export async function upscaleImageCommand(file: string, options: { model: ModelId; output?: string; json: boolean }, config: Config, logger: Logger): Promise<number> {
  const model = MODELS[options.model];
  const onnxFile = builtModelFile(config.cacheDir, options.model);
  const image = readPng(file);
  const output = path.resolve(options.output ?? path.join(config.outputDir, `${path.basename(file, path.extname(file))}.${options.model}.png`));
  const upscaler = await loadFrameUpscaler({ model: onnxFile, scale: model.scale, cpuGraphOptimization: model.cpuGraphOptimization, executionProvider: config.inference.executionProvider, threads: config.inference.threads, logger });
  try {
    const started = performance.now();
    const planes = await upscaler.upscale(toPlanarGbr(image), 1, image.width, image.height);
    const seconds = (performance.now() - started) / 1000;
    const result = fromPlanarGbr(planes, image.width * model.scale, image.height * model.scale);
    fs.mkdirSync(path.dirname(output), { recursive: true });
    fs.writeFileSync(output, encodePng(result));
    const summary = { input: file, output, model: options.model, width: result.width, height: result.height, seconds, provider: upscaler.provider };
    process.stdout.write(options.json
      ? `${JSON.stringify({ event: 'complete', ...summary })}\n`
      : `${image.width}x${image.height} → ${result.width}x${result.height} with ${model.title} in ${seconds.toFixed(2)} s (${upscaler.provider}): ${output}\n`);
    return 0;
  } finally {
    await upscaler.release();
  }
}
