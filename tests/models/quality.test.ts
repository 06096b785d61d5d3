/**
 * Quality by content kind: camera photos (tests/fixtures/photos, live action) and cartoon
 * drawings (tests/fixtures/animation), 192×192 each. Each image is downscaled ÷2 the way SR
 * papers do it (MATLAB-style antialiased bicubic), upscaled back by every 2x model, by bicubic
 * and by nearest, and compared with the original by PSNR (RGB, 2 px border left out). Each
 * kind's mean is set against bicubic and against lanczos-x2, the kernel rate control falls back
 * to: a CNN must beat that one to earn its cost. The models are (re)built first if missing or
 * stale, as `npm run models` would. The measured figures are docs/bench/quality.json (the table
 * in docs/models.md); the bounds below are set from them with headroom, each stated.
 */
import { buildModels } from '../../models/build';
import { loadConfig } from '../../core/config';
import { createLogger } from '../../adapters/logger';
import type { RgbImage } from '../../adapters/image';
import { CONTENT_KINDS, DEFAULT_MODEL_FOR, type ContentKind } from '../../core/content-kind';
import {
  BICUBIC, CROP, CROPS, CROP_PANELS, LANCZOS, NEAREST, QUALITY_MODELS, downscaleBicubicAntialiased, measureQuality, psnr,
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

describe('quality by content kind (÷2, then ×2): camera photos and drawn frames', () => {
  const cnns = QUALITY_MODELS.filter((id) => id.startsWith('anime4k-'));
  let report: QualityReport;
  const row = (method: QualityMethod) => report.rows.find((r) => r.method === method)!;
  const score = (method: QualityMethod, kind: ContentKind) => row(method).byKind[kind];
  const imagesOf = (kind: ContentKind) => report.images.filter((_, i) => report.kinds[i] === kind);
  /** `method` on each image where it is not above `than` (+ margin): "image: x dB vs y dB". */
  const notAbove = (method: QualityMethod, than: QualityMethod, images: string[], margin = 0) =>
    images.flatMap((image) => {
      const i = report.images.indexOf(image);
      const [mine, theirs] = [row(method).psnr[i]!, row(than).psnr[i]!];
      return mine > theirs + margin ? [] : [`${method} on ${image}: ${mine.toFixed(2)} dB vs ${than} ${theirs.toFixed(2)} dB`];
    });
  /** Methods whose mean on `kind` is not above `than`'s by more than `margin`. */
  const shortOf = (methods: readonly QualityMethod[], kind: ContentKind, than: 'overBicubic' | 'overLanczos', margin: number) =>
    methods.filter((m) => !(score(m, kind)[than] > margin)).map((m) => `${m} on ${kind}: ${score(m, kind)[than].toFixed(2)} dB`);

  beforeAll(async () => {
    const { cacheDir } = loadConfig();
    await buildModels({ cacheDir, ids: QUALITY_MODELS, precisions: ['fp32'] });
    report = await measureQuality({ cacheDir, threads: 2, logger });
  });

  it('measures bicubic, nearest and every 2x model on every image of both kinds', () => {
    expect(imagesOf('live-action')).toEqual(['astronaut-face', 'astronaut-suit-patch', 'chelsea-cat-eye-fur', 'coffee-saucer-woodgrain']);
    expect(imagesOf('animation')).toEqual(['cat-head-whiskers', 'squirrel-glasses', 'troll-fangs', 'tux-hero-beak']);
    expect(report.rows.map((r) => r.method).sort()).toEqual([BICUBIC, NEAREST, ...QUALITY_MODELS].sort());
    for (const r of report.rows) expect(r.psnr.every((v) => v > 18 && v < 40)).toBe(true);
    expect(score(LANCZOS, 'animation').overLanczos).toBe(0);
  });

  // The point of a CNN: more than the fixed kernel rate control falls back to (measured +0.47 dB
  // on photos, +3.25 dB on drawings). A CNN swapped for lanczos, or wrongly converted, fails here.
  it.each([
    ['live-action', 0.3],
    ['animation', 2.5],
  ] as const)('the %s default beats lanczos-x2 on the mean of its kind by more than %s dB', (kind, margin) => {
    expect(shortOf([DEFAULT_MODEL_FOR[kind]], kind, 'overLanczos', margin)).toEqual([]);
  });

  it('every Anime4K CNN beats bicubic on the mean of each kind by more than 0.1 dB (measured +0.23 to +5.98)', () => {
    expect([...shortOf(cnns, 'live-action', 'overBicubic', 0.1), ...shortOf(cnns, 'animation', 'overBicubic', 0.1)]).toEqual([]);
  });

  it('on drawings every Anime4K CNN beats lanczos-x2 by more than 1 dB, on every image (measured +1.05 to +5.44 on the mean)', () => {
    expect(shortOf(cnns, 'animation', 'overLanczos', 1)).toEqual([]);
    expect(cnns.flatMap((id) => notAbove(id, LANCZOS, imagesOf('animation')))).toEqual([]);
  });

  it('on photos the anime weights beat the real-life retraining at every size (S +0.48, M −0.11, L +0.72 dB: M is the exception, within 0.2 dB)', () => {
    for (const size of ['s', 'l'] as const) expect(score(`anime4k-${size}-an`, 'live-action').mean).toBeGreaterThan(score(`anime4k-${size}-rl`, 'live-action').mean);
    expect(Math.abs(score('anime4k-m-an', 'live-action').mean - score('anime4k-m-rl', 'live-action').mean)).toBeLessThan(0.2);
  });

  it('every Anime4K CNN beats bicubic on both astronaut crops (fine, high-contrast detail: +0.65 to +2.21 dB)', () => {
    expect(cnns.flatMap((id) => notAbove(id, BICUBIC, ['astronaut-face', 'astronaut-suit-patch']))).toEqual([]);
  });

  it('anime4k-s-an and anime4k-l-an beat bicubic on every image', () => {
    expect((['anime4k-s-an', 'anime4k-l-an'] as const).flatMap((id) => notAbove(id, BICUBIC, report.images))).toEqual([]);
  });

  it('on the soft photos (cat, coffee) no Anime4K CNN falls more than 0.5 dB below bicubic (rl and m-an: 0.04-0.33 dB below)', () => {
    expect(cnns.flatMap((id) => notAbove(id, BICUBIC, ['chelsea-cat-eye-fur', 'coffee-saucer-woodgrain'], -0.5))).toEqual([]);
  });

  it('lanczos-x2 beats bicubic on every image: the harness ranks the fixed kernels as expected', () => {
    expect(notAbove(LANCZOS, BICUBIC, report.images)).toEqual([]);
  });

  it('realesrgan-x2, the anime-trained GAN, is below bicubic on every photo (-1.25 dB on the mean) and far above lanczos on drawings (+4.25)', () => {
    expect(notAbove(BICUBIC, 'realesrgan-x2', imagesOf('live-action'))).toEqual([]);
    expect(score('realesrgan-x2', 'animation').overLanczos).toBeGreaterThan(2);
  });

  it.each(CONTENT_KINDS)('makes the %s side-by-side crop: the original and each panel, zoomed, with gaps', (kind) => {
    const { image, x, y } = CROPS[kind];
    const original = report.originals[report.images.indexOf(image)]!;
    const crop = qualityCrop(report, kind);
    const panel = CROP.size * CROP.zoom;
    expect(crop.height).toBe(panel);
    expect(crop.width).toBe((CROP_PANELS.length + 1) * (panel + CROP.gap) - CROP.gap);
    // The first panel is the original's region, pixel for pixel doubled.
    const at = (picture: RgbImage, px: number, py: number) => picture.data[(py * picture.width + px) * 3]!;
    expect(at(crop, 2 * 10 + 1, 2 * 20 + 1)).toBe(at(original, x + 10, y + 20));
  });
});
