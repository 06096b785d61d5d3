/**
 * `upflow bench --only encoder`: what x264's lookahead costs a stream whose frames come at a
 * model's pace, and what it buys. For each lookahead, the chunk encoder (adapters/ffmpeg.ts, the
 * stream's own arguments) is fed real pictures (the project's images in a mosaic, panning, or
 * still with one tile moving; scaled up 2x as a model's frames are):
 * - paced at a model's speed, how long each segment closes after its last frame went in;
 * - as fast as it takes them, at several CRFs, the bytes and the PSNR against the frames.
 * PSNR against bytes says whether a lookahead is a worse encoder or the same one spending less.
 * The figures go to docs/bench/encoder.json, from which the docs' table is generated.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { makeMosaicClip, MODEL_MODE_LOOKAHEAD_FRAMES, segmentsPsnr, startFrameEncoder, type LookaheadFrames } from '../adapters/ffmpeg';
import type { StreamPlan } from '../core/domain';
import { median } from '../core/statistics';
import { cliCommand, figuresFile, figuresHeader, writeFiguresFile, type FiguresHeader } from './figures-file';

export const DEFAULT_ENCODER_JSON = figuresFile('encoder');

const REPOSITORY = path.join(__dirname, '..');
/** Pictures with a licence the project already ships (tests/fixtures/*\/README.md, models/calibration/README.md). */
const MOSAIC_IMAGE_DIRS = ['tests/fixtures/photos', 'tests/fixtures/animation', 'models/calibration'];

export const ENCODER_BENCH_SETTINGS = {
  width: 1280,
  height: 720,
  fps: 24,
  seconds: 8,
  segmentSeconds: 1,
  /** Frames a second into the paced encode: Anime4K S's pipeline on a 2-core CPU. */
  pacedFps: 30,
  preset: 'veryfast',
  /** The paced run's CRF: Upflow's default. */
  crf: 20,
  crfs: [17, 20, 23],
  lookaheads: ['preset', 5, MODEL_MODE_LOOKAHEAD_FRAMES, 0] as LookaheadFrames[],
  motions: ['pan', 'still'] as const,
};

type Motion = (typeof ENCODER_BENCH_SETTINGS.motions)[number];

/** A yuv420p frame of the bench's size. */
const FRAME_BYTES = (ENCODER_BENCH_SETTINGS.width * ENCODER_BENCH_SETTINGS.height * 3) / 2;

export interface RatePoint {
  crf: number;
  bytes: number;
  psnr: number;
}

export interface EncoderBenchResult {
  motion: Motion;
  lookahead: LookaheadFrames;
  /** Milliseconds from a segment's last frame written to the segment listed, each segment in order (the last, closed by the end, left out). */
  closeAfterLastFrameMs: number[];
  closeAfterLastFrameMedianMs: number;
  points: RatePoint[];
  /** The mean PSNR difference (dB) against the preset's lookahead at the same bytes (its points interpolated); null for the preset's own row, or where no bytes overlap. */
  psnrAtSameBytesDb: number | null;
}

/** docs/bench/encoder.json. */
export interface EncoderBenchReport extends FiguresHeader {
  settings: typeof ENCODER_BENCH_SETTINGS & { images: number };
  results: EncoderBenchResult[];
}

/**
 * The mean of `points`' PSNR minus the reference curve's at the same bytes, the reference read
 * piecewise linearly between its points; points outside its bytes are left out (no extrapolating).
 */
export function psnrAtSameBytes(points: readonly RatePoint[], reference: readonly RatePoint[]): number | null {
  const curve = [...reference].sort((a, b) => a.bytes - b.bytes);
  const differences: number[] = [];
  for (const p of points) {
    const above = curve.findIndex((r) => r.bytes >= p.bytes);
    if (above <= 0) {
      if (above === 0 && curve[0]!.bytes === p.bytes) differences.push(p.psnr - curve[0]!.psnr);
      continue;
    }
    const [lo, hi] = [curve[above - 1]!, curve[above]!];
    const psnr = lo.psnr + ((p.bytes - lo.bytes) / (hi.bytes - lo.bytes)) * (hi.psnr - lo.psnr);
    differences.push(p.psnr - psnr);
  }
  return differences.length ? differences.reduce((a, b) => a + b, 0) / differences.length : null;
}

function planFor(crf: number): StreamPlan {
  const s = ENCODER_BENCH_SETTINGS;
  return {
    upscaler: 'anime4k-s-an', ladder: ['anime4k-s-an'], modelScale: 2, scaleFactor: 2,
    inputWidth: s.width / 2, inputHeight: s.height / 2, outputWidth: s.width, outputHeight: s.height,
    encoder: 'libx264', preset: s.preset, crf, encoderThreads: 0,
    segmentSeconds: s.segmentSeconds, durationSeconds: s.seconds, fps: s.fps, keepAudio: false, toneMap: false,
  };
}

/** The chunk encoder over the clip's `frames`; `pacedFps` writes them no faster than that and notes when each segment closed. */
async function encode(clip: string, frames: Buffer, workDir: string, o: { crf: number; lookahead: LookaheadFrames; pacedFps?: number }): Promise<{ segmentFiles: string[]; closeAfterLastFrameMs: number[] }> {
  const s = ENCODER_BENCH_SETTINGS;
  fs.rmSync(workDir, { recursive: true, force: true });
  fs.mkdirSync(workDir, { recursive: true });
  const count = frames.length / FRAME_BYTES;
  const framesPerSegment = s.fps * s.segmentSeconds;
  const list = path.join(workDir, 'segments.csv');
  const encoder = startFrameEncoder(
    // The clip is the source in name only: the plan keeps no audio, so the encoder reads nothing from it.
    { source: { path: clip }, plan: planFor(o.crf), fromSegment: 0, segmentPattern: 'seg%05d.ts', segmentList: 'segments.csv', frameWidth: s.width, frameHeight: s.height, frames: 'yuv420p', lookaheadFrames: o.lookahead },
    { cwd: workDir },
  );
  const lastFrameAt: number[] = [];
  const closedAt: number[] = [];
  // The segment list gains a line as each segment closes: read often, while the frames go in.
  const watch = o.pacedFps === undefined ? undefined : setInterval(() => {
    const lines = fs.existsSync(list) ? fs.readFileSync(list, 'utf8').split('\n').filter(Boolean).length : 0;
    while (closedAt.length < lines) closedAt.push(performance.now());
  }, 2);
  const startedAt = performance.now();
  try {
    for (let i = 0; i < count; i++) {
      if (o.pacedFps !== undefined) {
        const wait = startedAt + (i * 1000) / o.pacedFps - performance.now();
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      }
      await new Promise<void>((resolve, reject) => encoder.frames.write(frames.subarray(i * FRAME_BYTES, (i + 1) * FRAME_BYTES), (err) => (err ? reject(err) : resolve())));
      if ((i + 1) % framesPerSegment === 0) lastFrameAt.push(performance.now());
    }
    // Paced: the last segments close once the frames after them come, which never do; give them time to show they wait.
    if (o.pacedFps !== undefined) await new Promise((resolve) => setTimeout(resolve, 1000));
    encoder.frames.end();
    await encoder.done;
  } finally {
    if (watch) clearInterval(watch);
  }
  const segmentFiles = fs.readdirSync(workDir).filter((f) => f.endsWith('.ts')).sort().map((f) => path.join(workDir, f));
  // A segment closes when the next one's first frame comes out: the last one only at the end.
  const closeAfterLastFrameMs = lastFrameAt.slice(0, -1).flatMap((t, i) => (closedAt[i] === undefined ? [] : [Math.round(closedAt[i]! - t)]));
  return { segmentFiles, closeAfterLastFrameMs };
}

export async function encoderBenchCommand(options: { jsonFile: string; json: boolean }): Promise<EncoderBenchReport> {
  const s = ENCODER_BENCH_SETTINGS;
  const header = await figuresHeader(cliCommand());
  const images = MOSAIC_IMAGE_DIRS.flatMap((dir) => fs.readdirSync(path.join(REPOSITORY, dir)).filter((f) => f.endsWith('.png')).sort().map((f) => path.join(REPOSITORY, dir, f)));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'upflow-encoder-bench-'));
  const results: EncoderBenchResult[] = [];
  try {
    for (const motion of s.motions) {
      const clip = path.join(dir, `${motion}.yuv`);
      await makeMosaicClip({ images, file: clip, width: s.width, height: s.height, seconds: s.seconds, fps: s.fps, motion });
      const frames = fs.readFileSync(clip);
      const frameCount = frames.length / FRAME_BYTES;
      for (const lookahead of s.lookaheads) {
        if (!options.json) process.stderr.write(`bench encoder: ${motion}, lookahead ${String(lookahead)}\n`);
        const paced = await encode(clip, frames, path.join(dir, 'paced'), { crf: s.crf, lookahead, pacedFps: s.pacedFps });
        const points: RatePoint[] = [];
        for (const crf of s.crfs) {
          const made = await encode(clip, frames, path.join(dir, 'rate'), { crf, lookahead });
          const bytes = made.segmentFiles.reduce((sum, f) => sum + fs.statSync(f).size, 0);
          const { psnr, frames: compared } = await segmentsPsnr({ segmentFiles: made.segmentFiles, listFile: path.join(dir, 'psnr-list.txt'), reference: clip, width: s.width, height: s.height, fps: s.fps });
          if (compared !== frameCount) throw new Error(`bench encoder: PSNR compared ${compared} frames of ${frameCount}`);
          points.push({ crf, bytes, psnr });
        }
        results.push({ motion, lookahead, closeAfterLastFrameMs: paced.closeAfterLastFrameMs, closeAfterLastFrameMedianMs: median(paced.closeAfterLastFrameMs), points, psnrAtSameBytesDb: null });
      }
      fs.rmSync(clip, { force: true });
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  for (const r of results) {
    if (r.lookahead === 'preset') continue;
    const reference = results.find((x) => x.motion === r.motion && x.lookahead === 'preset');
    r.psnrAtSameBytesDb = reference ? psnrAtSameBytes(r.points, reference.points) : null;
  }
  const report: EncoderBenchReport = { ...header, settings: { ...s, images: images.length }, results };
  writeFiguresFile(options.jsonFile, report);
  if (options.json) process.stdout.write(`${JSON.stringify(report.results)}\n`);
  else {
    for (const r of results) {
      const points = r.points.map((p) => `CRF ${p.crf} ${(p.bytes / 1e6).toFixed(2)} MB ${p.psnr.toFixed(2)} dB`).join(', ');
      const same = r.psnrAtSameBytesDb === null ? '' : `; ${r.psnrAtSameBytesDb >= 0 ? '+' : ''}${r.psnrAtSameBytesDb.toFixed(2)} dB at the same bytes`;
      process.stdout.write(`${r.motion.padEnd(5)} lookahead ${String(r.lookahead).padEnd(6)} segment closes ${r.closeAfterLastFrameMedianMs} ms after its last frame; ${points}${same}\n`);
    }
    process.stderr.write(`bench encoder: figures written to ${options.jsonFile}\n`);
  }
  return report;
}
