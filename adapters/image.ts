/**
 * Still images for `upflow upscale <image.png>` and the model tests: PNG files (pngjs) and the
 * frame layout the models take (planar G, B, R, as ffmpeg's gbrp).
 */
import fs from 'node:fs';
import { PNG } from 'pngjs';
import { GBRP_PLANE_FROM_RGB } from '../core/models';

export interface RgbImage {
  width: number;
  height: number;
  /** packed RGB, 8 bits per channel, row-major */
  data: Uint8Array;
}

export function readPng(file: string): RgbImage {
  let png: PNG;
  try {
    png = PNG.sync.read(fs.readFileSync(file));
  } catch (err) {
    throw new Error(`${file} is not a readable PNG image: ${(err as Error).message}`, { cause: err });
  }
  const { width, height } = png;
  const data = new Uint8Array(width * height * 3);
  // pngjs always gives RGBA; transparent pixels keep their colour (alpha is dropped).
  for (let p = 0; p < width * height; p++) {
    data[p * 3] = png.data[p * 4]!;
    data[p * 3 + 1] = png.data[p * 4 + 1]!;
    data[p * 3 + 2] = png.data[p * 4 + 2]!;
  }
  return { width, height, data };
}

export function encodePng(image: RgbImage): Buffer {
  const png = new PNG({ width: image.width, height: image.height, colorType: 2, inputColorType: 2, inputHasAlpha: false });
  png.data = Buffer.from(image.data.buffer, image.data.byteOffset, image.data.byteLength);
  return PNG.sync.write(png, { colorType: 2, inputColorType: 2, inputHasAlpha: false });
}

export function toPlanarGbr(image: RgbImage): Uint8Array {
  const n = image.width * image.height;
  const planes = new Uint8Array(n * 3);
  GBRP_PLANE_FROM_RGB.forEach((rgb, plane) => {
    for (let p = 0; p < n; p++) planes[plane * n + p] = image.data[p * 3 + rgb]!;
  });
  return planes;
}

export function fromPlanarGbr(planes: Uint8Array, width: number, height: number): RgbImage {
  const n = width * height;
  const data = new Uint8Array(n * 3);
  GBRP_PLANE_FROM_RGB.forEach((rgb, plane) => {
    for (let p = 0; p < n; p++) data[p * 3 + rgb] = planes[plane * n + p]!;
  });
  return { width, height, data };
}
