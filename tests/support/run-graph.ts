/** Runs an ONNX graph (bytes) on one image with onnxruntime's CPU provider, as the stream does. */
import type { CpuGraphOptimization } from '../../core/models';
import { fromPlanarGbr, toPlanarGbr, type RgbImage } from '../../adapters/image';
import { createLogger } from '../../adapters/logger';
import { loadFrameUpscaler } from '../../adapters/onnx';

const logger = createLogger({ level: 'silent' });

export async function runGraph(model: Uint8Array, image: RgbImage, scale: number, options: { threads: number; cpuGraphOptimization: CpuGraphOptimization }): Promise<RgbImage> {
  const upscaler = await loadFrameUpscaler({ model, scale, executionProvider: 'cpu', ...options, logger });
  try {
    const out = await upscaler.upscale(toPlanarGbr(image), 1, image.width, image.height);
    return fromPlanarGbr(out, image.width * scale, image.height * scale);
  } finally {
    await upscaler.release();
  }
}
