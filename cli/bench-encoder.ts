/**
 * `upflow bench --only encoder`: what x264's lookahead costs a stream whose frames come at a
 * model's pace, and what it buys; and what a faster x264 preset, or B-frames placed without
 * x264's analysis, saves in CPU time beside a model and costs in bytes. For each lookahead (at the
 * stream's preset), each preset and each B-frame placement (at the stream's lookahead with a
 * model), the chunk encoder (adapters/ffmpeg.ts, the stream's own arguments) is
 * fed real pictures (the project's images in a mosaic, panning, or still with one tile moving;
 * scaled up 2x as a model's frames are):
 * - paced at a model's speed, how long each segment closes after its last frame went in;
 * - as fast as it takes them, at several CRFs, the bytes and the PSNR against the frames, and at
 *   the stream's CRF the CPU time a frame (`cpuSecondsUsed`: x264's process and the feeding).
 * PSNR against bytes says whether a setting is a worse encoder or the same one spending less.
 * The figures go to docs/bench/encoder.json, from which the docs' table is generated.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { makeMosaicClip, MODEL_MODE_LOOKAHEAD_FRAMES, segmentsPsnr, startFrameEncoder, type BFramePlacement, type LookaheadFrames } from '../adapters/ffmpeg';
import type { StreamPlan } from '../core/domain';
import { median } from '../core/statistics';
import { cpuMsPerFrameSince, cpuSecondsUsed } from '../adapters/cpu';
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
  /** The presets compared, at the stream's lookahead with a model; the first is the stream's (`preset`). */
  presets: ['veryfast', 'superfast', 'ultrafast'],
  /** The presets' CRFs: the faster ones spend far more bytes at a CRF, so their curves meet the stream's preset's only higher up. */
  presetCrfs: [17, 20, 23, 26, 29, 32],
  /** The B-frame placements compared, at the stream's preset and lookahead with a model; the first is the preset's own. */
  bFrames: ['adaptive', 'fixed'] as BFramePlacement[],
  motions: ['pan', 'still'] as const,
  compare: ['lookahead', 'preset', 'b-frames'] as EncoderComparison[],
};

/**
 * What a row varies: x264's lookahead at the stream's preset, the preset at the stream's
 * lookahead with a model, or how x264 places B-frames at both.
 */
export type EncoderComparison = 'lookahead' | 'preset' | 'b-frames';

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
  /** Absent in files written before presets were compared: lookahead. */
  compare?: EncoderComparison;
  /** x264's preset (absent in files written before: the settings' `preset`). */
  preset?: string;
  lookahead: LookaheadFrames;
  /** How x264 placed B-frames (absent in files written before they were compared: adaptive). */
  bFrames?: BFramePlacement;
  /** CPU milliseconds a frame at the stream's CRF, fed as fast as x264 takes them (absent in files written before). */
  cpuMsPerFrame?: number;
  /** Milliseconds from a segment's last frame written to the segment listed, each segment in order (the last, closed by the end, left out). */
  closeAfterLastFrameMs: number[];
  closeAfterLastFrameMedianMs: number;
  points: RatePoint[];
  /** The mean PSNR difference (dB) against the reference row at the same bytes (its points interpolated): the preset's own lookahead, the stream's preset, or adaptive B-frames; null for the reference itself, or where no bytes overlap. */
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

function planFor(crf: number, preset: string): StreamPlan {
  const s = ENCODER_BENCH_SETTINGS;
  return {
    upscaler: 'anime4k-s-an', ladder: ['anime4k-s-an'], modelScale: 2, scaleFactor: 2,
    inputWidth: s.width / 2, inputHeight: s.height / 2, outputWidth: s.width, outputHeight: s.height,
    encoder: 'libx264', preset, crf, encoderThreads: 0,
    segmentSeconds: s.segmentSeconds, durationSeconds: s.seconds, fps: s.fps, keepAudio: false, toneMap: false,
  };
}

/** The chunk encoder over the clip's `frames`; `pacedFps` writes them no faster than that and notes when each segment closed. */
async function encode(clip: string, frames: Buffer, workDir: string, o: { crf: number; preset: string; lookahead: LookaheadFrames; bFrames: BFramePlacement; pacedFps?: number }): Promise<{ segmentFiles: string[]; closeAfterLastFrameMs: number[]; cpuMsPerFrame: number }> {
  const s = ENCODER_BENCH_SETTINGS;
  fs.rmSync(workDir, { recursive: true, force: true });
  fs.mkdirSync(workDir, { recursive: true });
  const count = frames.length / FRAME_BYTES;
  const framesPerSegment = s.fps * s.segmentSeconds;
  const list = path.join(workDir, 'segments.csv');
  const encoder = startFrameEncoder(
    // The clip is the source in name only: the plan keeps no audio, so the encoder reads nothing from it.
    { source: { path: clip }, plan: planFor(o.crf, o.preset), fromSegment: 0, segmentPattern: 'seg%05d.ts', segmentList: 'segments.csv', frameWidth: s.width, frameHeight: s.height, frames: 'yuv420p', lookaheadFrames: o.lookahead, bFrames: o.bFrames },
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
  const cpuBefore = cpuSecondsUsed();
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
  const cpuMsPerFrame = cpuMsPerFrameSince(cpuBefore, count);
  const segmentFiles = fs.readdirSync(workDir).filter((f) => f.endsWith('.ts')).sort().map((f) => path.join(workDir, f));
  // A segment closes when the next one's first frame comes out: the last one only at the end.
  const closeAfterLastFrameMs = lastFrameAt.slice(0, -1).flatMap((t, i) => (closedAt[i] === undefined ? [] : [Math.round(closedAt[i]! - t)]));
  return { segmentFiles, closeAfterLastFrameMs, cpuMsPerFrame };
}

export async function encoderBenchCommand(options: { jsonFile: string; json: boolean; compare?: readonly EncoderComparison[] }): Promise<EncoderBenchReport> {
  const s = ENCODER_BENCH_SETTINGS;
  const compared = options.compare ?? s.compare;
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
      const adaptive: BFramePlacement = 'adaptive';
      const rows = compared.flatMap((compare): { compare: EncoderComparison; preset: string; lookahead: LookaheadFrames; bFrames: BFramePlacement }[] => {
        if (compare === 'lookahead') return s.lookaheads.map((lookahead) => ({ compare, preset: s.preset, lookahead, bFrames: adaptive }));
        if (compare === 'preset') return s.presets.map((preset) => ({ compare, preset, lookahead: MODEL_MODE_LOOKAHEAD_FRAMES, bFrames: adaptive }));
        return s.bFrames.map((bFrames) => ({ compare, preset: s.preset, lookahead: MODEL_MODE_LOOKAHEAD_FRAMES, bFrames }));
      });
      for (const { compare, preset, lookahead, bFrames } of rows) {
        if (!options.json) process.stderr.write(`bench encoder: ${motion}, preset ${preset}, lookahead ${String(lookahead)}, B-frames ${bFrames}\n`);
        const paced = await encode(clip, frames, path.join(dir, 'paced'), { crf: s.crf, preset, lookahead, bFrames, pacedFps: s.pacedFps });
        const points: RatePoint[] = [];
        let cpuMsPerFrame = NaN;
        for (const crf of compare === 'lookahead' ? s.crfs : s.presetCrfs) {
          const made = await encode(clip, frames, path.join(dir, 'rate'), { crf, preset, lookahead, bFrames });
          if (crf === s.crf) cpuMsPerFrame = made.cpuMsPerFrame;
          const bytes = made.segmentFiles.reduce((sum, f) => sum + fs.statSync(f).size, 0);
          const { psnr, frames: compared } = await segmentsPsnr({ segmentFiles: made.segmentFiles, listFile: path.join(dir, 'psnr-list.txt'), reference: clip, width: s.width, height: s.height, fps: s.fps });
          if (compared !== frameCount) throw new Error(`bench encoder: PSNR compared ${compared} frames of ${frameCount}`);
          points.push({ crf, bytes, psnr });
        }
        results.push({ motion, compare, preset, lookahead, bFrames, cpuMsPerFrame, closeAfterLastFrameMs: paced.closeAfterLastFrameMs, closeAfterLastFrameMedianMs: median(paced.closeAfterLastFrameMs), points, psnrAtSameBytesDb: null });
      }
      fs.rmSync(clip, { force: true });
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  for (const r of results) {
    const isReference = (x: EncoderBenchResult) => (r.compare === 'lookahead' ? x.lookahead === 'preset' : r.compare === 'b-frames' ? x.bFrames === 'adaptive' : x.preset === s.preset);
    const reference = results.find((x) => x.motion === r.motion && x.compare === r.compare && isReference(x));
    r.psnrAtSameBytesDb = reference && reference !== r ? psnrAtSameBytes(r.points, reference.points) : null;
  }
  const report: EncoderBenchReport = { ...header, settings: { ...s, compare: [...compared], images: images.length }, results };
  writeFiguresFile(options.jsonFile, report);
  if (options.json) process.stdout.write(`${JSON.stringify(report.results)}\n`);
  else {
    for (const r of results) {
      const points = r.points.map((p) => `CRF ${p.crf} ${(p.bytes / 1e6).toFixed(2)} MB ${p.psnr.toFixed(2)} dB`).join(', ');
      const same = r.psnrAtSameBytesDb === null ? '' : `; ${r.psnrAtSameBytesDb >= 0 ? '+' : ''}${r.psnrAtSameBytesDb.toFixed(2)} dB at the same bytes`;
      process.stdout.write(`${r.motion.padEnd(5)} ${(r.preset ?? s.preset).padEnd(9)} lookahead ${String(r.lookahead).padEnd(6)} B-frames ${(r.bFrames ?? 'adaptive').padEnd(9)}${(r.cpuMsPerFrame ?? NaN).toFixed(1)} CPU ms a frame; segment closes ${r.closeAfterLastFrameMedianMs} ms after its last frame; ${points}${same}\n`);
    }
    process.stderr.write(`bench encoder: figures written to ${options.jsonFile}\n`);
  }
  return report;
}
