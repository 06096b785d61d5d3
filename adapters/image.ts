/**
 * Still images for `upflow upscale <image.png>` and the model tests: PNG files (pngjs) and the
 * frame layouts the models take (planar G, B, R, as ffmpeg's gbrp; or yuv420p).
 */
import fs from 'node:fs';
import { PNG } from 'pngjs';
import { GBRP_PLANE_FROM_RGB, YUV601_FROM_RGB } from '../core/models';

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

/**
 * The image as a video's yuv420p frame (BT.601, limited range; U and V from each 2×2 block's
 * mean colour), cut to even sizes: what int8 calibration runs a yuv420p graph on.
 */
export function toYuv420p(image: RgbImage): { planes: Uint8Array; width: number; height: number } {
  const width = image.width & ~1;
  const height = image.height & ~1;
  const luma = width * height;
  const planes = new Uint8Array(luma + luma / 2);
  const rgbAt = (x: number, y: number, c: number) => image.data[(y * image.width + x) * 3 + c]!;
  const level = (row: readonly number[], rgb: (c: number) => number, offset: number) => Math.min(255, Math.max(0, Math.round(offset + row[0]! * rgb(0) + row[1]! * rgb(1) + row[2]! * rgb(2))));
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) planes[y * width + x] = level(YUV601_FROM_RGB[0], (c) => rgbAt(x, y, c), 16);
  for (let y = 0; y < height / 2; y++) {
    for (let x = 0; x < width / 2; x++) {
      const mean = (c: number) => (rgbAt(2 * x, 2 * y, c) + rgbAt(2 * x + 1, 2 * y, c) + rgbAt(2 * x, 2 * y + 1, c) + rgbAt(2 * x + 1, 2 * y + 1, c)) / 4;
      planes[luma + y * (width / 2) + x] = level(YUV601_FROM_RGB[1], mean, 128);
      planes[luma + luma / 4 + y * (width / 2) + x] = level(YUV601_FROM_RGB[2], mean, 128);
    }
  }
  return { planes, width, height };
}
