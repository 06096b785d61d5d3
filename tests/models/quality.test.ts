/**
 * Quality on natural photos (tests/fixtures/photos, 4 camera crops of 192×192): each is
 * downscaled ÷2 the way SR papers do it (MATLAB-style antialiased bicubic), upscaled back by
 * every 2x model and by bicubic, and compared with the original by PSNR (RGB, 2 px border left
 * out). The models are (re)built first if missing or stale, as `npm run models` would.
 *
 * Measured (onnxruntime 1.30, CPU), dB:
 *
 *   model           face   suit-patch  cat    coffee   mean   vs bicubic
 *   anime4k-l-an    32.40  27.98       31.32  30.21    30.48  +1.16
 *   anime4k-s-an    32.14  27.05       31.31  30.08    30.14  +0.83
 *   anime4k-l-rl    31.61  26.79       30.91  29.74    29.76  +0.45
 *   lanczos-x2      31.12  26.15       31.33  30.09    29.68  +0.36
 *   anime4k-s-rl    31.50  26.42       31.00  29.74    29.66  +0.35
 *   anime4k-m-rl    31.40  26.51       30.95  29.72    29.65  +0.33
 *   anime4k-m-an    31.30  26.63       30.71  29.54    29.54  +0.23
 *   bicubic         30.63  25.77       31.04  29.83    29.32   0
 *   realesrgan-x2   28.84  25.11       29.44  28.86    28.06  -1.25
 *   nearest         28.19  24.30       29.67  29.18    27.84  -1.48
 *
 * So the rule asserted below: every Anime4K CNN beats bicubic on the mean and on the two
 * astronaut crops (sharp, high-contrast detail). Per photo that is not true of all of them: on
 * the soft cat and coffee crops the three rl CNNs and m-an fall 0.04-0.33 dB short of bicubic
 * (only s-an and l-an beat it everywhere), so the per-photo check there is a bound, not a win.
 * The original anime weights (an) beat websr's real-life retraining (rl) in PSNR here. The GAN
 * realesrgan-x2 (trained on anime) paints flat areas and invented texture: below bicubic on
 * every photo, and below nearest on two; that is asserted too, so a change shows up.
 */
import { buildModels } from '../../models/build';
import { loadConfig } from '../../core/config';
import { createLogger } from '../../adapters/logger';
import type { RgbImage } from '../../adapters/image';
import {
  BICUBIC, CROP, CROP_PANELS, NEAREST, QUALITY_MODELS, downscaleBicubicAntialiased, measureQuality, psnr,
  qualityCrop, upscaleBicubic, type QualityMethod, type QualityReport,
} from '../../cli/quality';

const logger = createLogger({ level: 'silent' });

/** One row of `width` pixels, grey `background` but for one `value` at `at`, repeated `height` times. */
function impulseRows(width: number, height: number, at: number, value: number, background = 128): RgbImage {
  const data = new Uint8Array(width * height * 3).fill(background);
  for (let y = 0; y < height; y++) data.fill(value, (y * width + at) * 3, (y * width + at + 1) * 3);
  return { width, height, data };
}

const firstRowRed = (image: RgbImage) => Array.from({ length: image.width }, (_, x) => image.data[x * 3]!);

describe('resampling and PSNR', () => {
  it('downscales ÷2 with MATLAB imresize bicubic weights (-0.0117, -0.0352, 0.1133, 0.4336, …, pixel centres aligned)', () => {
    const out = downscaleBicubicAntialiased(impulseRows(16, 4, 8, 255));
    // Output column x is centred on input 2x + 0.5; the impulse at 8 is 0.5, 1.5, 2.5, 3.5 away from columns 4, 3, 5, 2.
    expect(firstRowRed(out)).toEqual([128, 128, 127, 142, 183, 124, 128, 128]);
  });

  it('upscales ×2 with Keys bicubic (a = -0.5), half-pixel centres, symmetric about the source pixel', () => {
    const out = upscaleBicubic(impulseRows(10, 3, 5, 255));
    // Source pixel 5 covers output 10 and 11; taps k(0.25) = 0.8672, k(0.75) = 0.2266, k(1.25) = -0.0703, k(1.75) = -0.0234.
    expect(firstRowRed(out).slice(6, 16)).toEqual([128, 125, 119, 157, 238, 238, 157, 119, 125, 128]);
  });

  it('keeps a flat image flat both ways, up to the edges', () => {
    const flat: RgbImage = { width: 12, height: 8, data: new Uint8Array(12 * 8 * 3).fill(77) };
    expect(downscaleBicubicAntialiased(flat).data.every((v) => v === 77)).toBe(true);
    expect(upscaleBicubic(flat).data.every((v) => v === 77)).toBe(true);
  });

  it('computes PSNR over RGB with peak 255 and leaves the border out', () => {
    const a: RgbImage = { width: 8, height: 8, data: new Uint8Array(8 * 8 * 3) };
    const b: RgbImage = { width: 8, height: 8, data: new Uint8Array(8 * 8 * 3).fill(1) };
    b.data.fill(255, 0, 8 * 3); // the top row: inside a border of 2, outside a border of 0
    expect(psnr(a, b, 2)).toBeCloseTo(20 * Math.log10(255), 10); // MSE 1
    expect(psnr(a, b, 0)).toBeLessThan(20);
    expect(psnr(a, a)).toBe(Infinity);
  });
});

describe('quality on natural photos (÷2, then ×2)', () => {
  const cnns = QUALITY_MODELS.filter((id) => id.startsWith('anime4k-'));
  let report: QualityReport;
  const row = (method: QualityMethod) => report.rows.find((r) => r.method === method)!;
  /** `method` on each photo where it is not above `than` (+ margin): "photo: x dB vs y dB". */
  const notAbove = (method: QualityMethod, than: QualityMethod, photos: string[], margin = 0) =>
    photos.flatMap((photo) => {
      const i = report.photos.indexOf(photo);
      const [mine, theirs] = [row(method).psnr[i]!, row(than).psnr[i]!];
      return mine > theirs + margin ? [] : [`${method} on ${photo}: ${mine.toFixed(2)} dB vs ${than} ${theirs.toFixed(2)} dB`];
    });

  beforeAll(async () => {
    const { cacheDir } = loadConfig();
    await buildModels({ cacheDir, ids: QUALITY_MODELS });
    report = await measureQuality({ cacheDir, threads: 2, logger });
  });

  it('measures bicubic, nearest and every 2x model on every photo', () => {
    expect(report.photos).toEqual(['astronaut-face', 'astronaut-suit-patch', 'chelsea-cat-eye-fur', 'coffee-saucer-woodgrain']);
    expect(report.rows.map((r) => r.method).sort()).toEqual([BICUBIC, NEAREST, ...QUALITY_MODELS].sort());
    for (const r of report.rows) expect(r.psnr.every((v) => v > 20 && v < 40)).toBe(true);
  });

  it('every Anime4K CNN beats bicubic on the mean over the photos by more than 0.1 dB (measured +0.23 to +1.16)', () => {
    const short = cnns.filter((id) => !(row(id).gainOverBicubic > 0.1)).map((id) => `${id}: ${row(id).gainOverBicubic.toFixed(2)} dB`);
    expect(short).toEqual([]);
  });

  it('every Anime4K CNN beats bicubic on both astronaut crops (fine, high-contrast detail: +0.65 to +2.21 dB)', () => {
    expect(cnns.flatMap((id) => notAbove(id, BICUBIC, ['astronaut-face', 'astronaut-suit-patch']))).toEqual([]);
  });

  it('anime4k-s-an and anime4k-l-an beat bicubic on every photo', () => {
    expect((['anime4k-s-an', 'anime4k-l-an'] as const).flatMap((id) => notAbove(id, BICUBIC, report.photos))).toEqual([]);
  });

  it('on the soft crops (cat, coffee) no Anime4K CNN falls more than 0.5 dB below bicubic (rl and m-an: 0.04-0.33 dB below)', () => {
    expect(cnns.flatMap((id) => notAbove(id, BICUBIC, ['chelsea-cat-eye-fur', 'coffee-saucer-woodgrain'], -0.5))).toEqual([]);
  });

  it('lanczos-x2 beats bicubic on every photo: the harness ranks the fixed kernels as expected', () => {
    expect(notAbove('lanczos-x2', BICUBIC, report.photos)).toEqual([]);
  });

  it('realesrgan-x2, the anime-trained GAN, is below bicubic on every photo (-1.25 dB on the mean) but above nearest on the mean', () => {
    expect(notAbove(BICUBIC, 'realesrgan-x2', report.photos)).toEqual([]);
    expect(row('realesrgan-x2').mean).toBeGreaterThan(row(NEAREST).mean);
  });

  it('makes the side-by-side crop: the original and each panel, zoomed, with gaps', () => {
    const original = report.originals[report.photos.indexOf(CROP.photo)]!;
    const crop = qualityCrop(report);
    const panel = CROP.size * CROP.zoom;
    expect(crop.height).toBe(panel);
    expect(crop.width).toBe((CROP_PANELS.length + 1) * (panel + CROP.gap) - CROP.gap);
    // The first panel is the original's region, pixel for pixel doubled.
    const at = (image: RgbImage, x: number, y: number) => image.data[(y * image.width + x) * 3]!;
    expect(at(crop, 2 * 10 + 1, 2 * 20 + 1)).toBe(at(original, CROP.x + 10, CROP.y + 20));
  });
});
