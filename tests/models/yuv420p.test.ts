/**
 * The graphs on yuv420p frames (core/models.ts `FrameFormat`) against the gbrp graphs as the
 * stream ran them before: a video's yuv420p frame converted to planar RGB by ffmpeg, the gbrp
 * graph, and back to yuv420p by ffmpeg. Both give the same picture up to rounding and the two
 * sides' chroma filters: measured 43.9–61 dB per plane on the quality set's photos and
 * animation frames (docs/models.md). The yuv420p graph runs through the real inference lane.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildAnime4kGraph, buildAnime4kYuv420pGraph, lastLayerBySumsOn, type Anime4kSize, type Anime4kWeightsJson } from '../../models/anime4k';
import { buildLanczosGraph, buildLanczosYuv420pGraph } from '../../models/lanczos';
import { createLogger } from '../../adapters/logger';
import { loadFrameUpscaler, type FrameUpscaler } from '../../adapters/onnx';
import { probeSource } from '../../adapters/ffmpeg';
import { sampleFrames } from '../../cli/bench-stages';
import { planesPsnr } from '../../cli/quality';
import { loadConfig } from '../../core/config';
import { planStream } from '../../core/plan';
import { upscaleSettings } from '../../services/title-workflows';

const logger = createLogger({ level: 'silent' });
const websrDir = path.dirname(require.resolve('@websr/websr/package.json'));
const weights = (size: Anime4kSize, variant: 'rl' | 'an') =>
  JSON.parse(fs.readFileSync(path.join(websrDir, 'weights', 'anime4k', `cnn-2x-${size}-${variant}.json`), 'utf8')) as Anime4kWeightsJson;

const FIXTURES = path.join(__dirname, '..', 'fixtures');
const FRAMES = ['photos', 'animation'].flatMap((kind) =>
  fs.readdirSync(path.join(FIXTURES, kind)).filter((f) => f.endsWith('.png')).map((f) => path.join(FIXTURES, kind, f)));

/** The lowest PSNR either plane group may have against the gbrp path. */
const MIN_PSNR_DB = 43;

const ffmpeg = (args: string[], input?: Buffer) => execFileSync('ffmpeg', ['-v', 'error', ...args, '-f', 'rawvideo', '-'], { input, maxBuffer: 1 << 28 });
const raw = (format: string, width: number, height: number) => ['-f', 'rawvideo', '-pix_fmt', format, '-s', `${width}x${height}`, '-i', '-'];

/**
 * The fixture as a video's frame would reach the decoder (yuv420p, even sizes), and ffmpeg's
 * gbrp of it: made once per fixture for every graph compared on it.
 */
const sourceFrames = new Map<string, { frame: Buffer; rgb: Buffer; width: number; height: number }>();
function sourceFrame(png: string): { frame: Buffer; rgb: Buffer; width: number; height: number } {
  let found = sourceFrames.get(png);
  if (!found) {
    const [width, height] = execFileSync('ffprobe', ['-v', 'error', '-show_entries', 'stream=width,height', '-of', 'csv=p=0', png], { encoding: 'utf8' }).trim().split(',').map((n) => Number(n) & ~1) as [number, number];
    const frame = ffmpeg(['-i', png, '-vf', `crop=${width}:${height}:0:0`, '-pix_fmt', 'yuv420p']);
    found = { frame, rgb: ffmpeg([...raw('yuv420p', width, height), '-pix_fmt', 'gbrp'], frame), width, height };
    sourceFrames.set(png, found);
  }
  return found;
}

const load = (model: Uint8Array) => loadFrameUpscaler({ model, scale: 2, executionProvider: 'cpu', threads: 1, cpuGraphOptimization: 'all', logger });

/** PSNR of the yuv420p graph's frame against the gbrp graph's, for Y and for U and V together. */
async function compare(gbrpGraph: FrameUpscaler, yuvGraph: FrameUpscaler, png: string, swapChroma = false): Promise<{ y: number; uv: number }> {
  const { frame, rgb, width, height } = sourceFrame(png);
  const luma = width * height;
  const viaRgb = ffmpeg([...raw('gbrp', 2 * width, 2 * height), '-pix_fmt', 'yuv420p'], Buffer.from(await gbrpGraph.upscale(rgb, 1, width, height)));
  const input = swapChroma ? Buffer.concat([frame.subarray(0, luma), frame.subarray(luma + luma / 4), frame.subarray(luma, luma + luma / 4)]) : frame;
  const direct = await yuvGraph.upscale(input, 1, width, height);
  expect(direct.length).toBe(viaRgb.length);
  const outLuma = 4 * luma;
  return { y: planesPsnr(viaRgb.subarray(0, outLuma), direct.subarray(0, outLuma)), uv: planesPsnr(viaRgb.subarray(outLuma), direct.subarray(outLuma)) };
}

describe.each([
  ['anime4k-s-rl', () => buildAnime4kGraph('s', weights('s', 'rl'), 'test'), () => buildAnime4kYuv420pGraph('s', weights('s', 'rl'), 'test')],
  ['anime4k-s-an', () => buildAnime4kGraph('s', weights('s', 'an'), 'test'), () => buildAnime4kYuv420pGraph('s', weights('s', 'an'), 'test')],
  ['anime4k-m-an', () => buildAnime4kGraph('m', weights('m', 'an'), 'test'), () => buildAnime4kYuv420pGraph('m', weights('m', 'an'), 'test')],
  // As built on a CPU with AVX-512 (models/build.ts): its last layer summed layer by layer.
  ['anime4k-m-an, last layer by sums', () => buildAnime4kGraph('m', weights('m', 'an'), 'test'), () => buildAnime4kYuv420pGraph('m', weights('m', 'an'), 'test', { lastLayerBySums: true })],
  ['anime4k-l-rl', () => buildAnime4kGraph('l', weights('l', 'rl'), 'test'), () => buildAnime4kYuv420pGraph('l', weights('l', 'rl'), 'test')],
  ['lanczos-x2', () => buildLanczosGraph(2, 'test'), () => buildLanczosYuv420pGraph(2, 'test')],
] as const)('%s on yuv420p frames', (_id, gbrp, yuv) => {
  const graphs = {} as { gbrp: FrameUpscaler; yuv: FrameUpscaler };
  beforeAll(async () => {
    [graphs.gbrp, graphs.yuv] = await Promise.all([load(gbrp()), load(yuv())]);
    expect([graphs.gbrp.frames, graphs.yuv.frames]).toEqual(['gbrp', 'yuv420p']);
  });
  afterAll(() => Promise.all([graphs.gbrp?.release(), graphs.yuv?.release()]));

  it.each(FRAMES.map((f) => [path.basename(f), f]))(`gives the gbrp path's picture within ${MIN_PSNR_DB} dB: %s`, async (_name, png) => {
    const { y, uv } = await compare(graphs.gbrp, graphs.yuv, png);
    expect(y).toBeGreaterThanOrEqual(MIN_PSNR_DB);
    expect(uv).toBeGreaterThanOrEqual(MIN_PSNR_DB);
  }, 30_000);

  it('tells a frame whose U and V planes are swapped', async () => {
    const colourful = FRAMES.find((f) => f.endsWith('squirrel-glasses.png'))!;
    const { uv } = await compare(graphs.gbrp, graphs.yuv, colourful, true);
    expect(uv).toBeLessThan(MIN_PSNR_DB);
  }, 30_000);
});

it("sums the last layer layer by layer only for M on a CPU with blocks of 16 channels (M's layers give 8, L's 16; S's last layer reads one)", () => {
  expect((['s', 'm', 'l'] as const).map((size) => [lastLayerBySumsOn(size, 16), lastLayerBySumsOn(size, 8)])).toEqual([[false, false], [true, false], [false, false]]);
});

it('the decoder gives yuv420p frames in limited range, a full-range source too (white: Y 235)', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'upflow-range-'));
  try {
    const clip = path.join(dir, 'full-range.webm');
    // VP9 keeps yuv420p tagged full range: its decoder hands out 0..255 as it is.
    execFileSync('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'color=white:s=64x64:r=24', '-t', '1', '-vf', 'scale=out_range=pc,format=yuv420p', '-c:v', 'libvpx-vp9', '-color_range', 'pc', clip]);
    const source = await probeSource({ path: clip });
    const plan = planStream(source, { ...upscaleSettings(loadConfig({})), aiEnabled: true, model: 'anime4k-s-rl', scaleFactor: 2 });
    const [frame] = await sampleFrames(clip, plan, 0, 'yuv420p', 1);
    expect([frame![0], frame![64 * 64]]).toEqual([235, 128]);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}, 30_000);
