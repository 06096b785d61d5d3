/** Small test images and comparisons for the model tests. */
import type { RgbImage } from '../../adapters/image';

/** Gradients, hard edges, a diagonal line and fixed pseudo-random noise: exercises every tap. */
export function structuredTestImage(width: number, height: number): RgbImage {
  const data = new Uint8Array(width * height * 3);
  let seed = 12345;
  const noise = () => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return (seed / 2147483648) * 40 - 20;
  };
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const edge = x > width / 2 ? 200 : 30;
      const line = Math.abs(x - y) < 1 ? 255 : 0;
      const values = [
        (x * 255) / (width - 1),
        edge,
        line || (y * 255) / (height - 1),
      ];
      values.forEach((v, c) => (data[(y * width + x) * 3 + c] = Math.round(Math.min(255, Math.max(0, v + noise())))));
    }
  }
  return { width, height, data };
}

export function maxAbsDifference(a: RgbImage, b: RgbImage): number {
  if (a.width !== b.width || a.height !== b.height) throw new Error(`sizes differ: ${a.width}x${a.height} vs ${b.width}x${b.height}`);
  let max = 0;
  for (let i = 0; i < a.data.length; i++) max = Math.max(max, Math.abs(a.data[i]! - b.data[i]!));
  return max;
}
