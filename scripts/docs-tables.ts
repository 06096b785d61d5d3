/**
 * `npm run docs`: regenerates every table of figures in docs/*.md from the figures files under
 * docs/bench/ (written by `npm run bench`, `upflow quality`, `npm run bench:load` and, with
 * UPFLOW_RECORD_FIGURES=1, the tests that measure), so that no figure in the docs is typed by
 * hand. A table sits between two marker comments naming its file and, for a file with several
 * tables, which one:
 *
 *   <!-- table: bench/models -->  …generated…  <!-- /table -->
 *   <!-- table: bench/grid#slots -->  …generated…  <!-- /table -->
 *
 * Each table comes with a line saying what measured it, when, at which commit and on which
 * machine (with its load, and plainly when the machine was loaded). `npm run docs -- --check` changes nothing and fails when a table
 * differs from its file (tests/unit/docs-tables.test.ts does the same).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { BenchResult, ModelsBenchReport } from '../cli/bench';
import type { GridBenchReport } from '../cli/bench-grid';
import type { ProfileBenchReport } from '../cli/bench-profile';
import type { EncoderBenchReport } from '../cli/bench-encoder';
import type { Spread } from '../cli/bench-grid-figures';
import type { FiguresHeader } from '../cli/figures-file';
import type { QualityFigures } from '../cli/quality';
import { CONTENT_KINDS, DEFAULT_MODEL_FOR } from '../core/content-kind';
import type { ModelId } from '../core/models';
import { PLAN_SLOWER, PLAN_SLOWER_FROM_EARLIER_TITLES } from '../core/switch-lead';
import { median } from '../core/statistics';
import { hindsightSwitch, keptPartSwitch, replayedPlan, segmentSecondsOf, switchAfterRule } from '../tests/browser/switch-hindsight';
import type { SwitchResult } from '../tests/browser/switch-result';
import type { EndpointFigures, LoadReport } from '../tests/e2e/load.bench';

export const DOCS_DIR = path.join(__dirname, '..', 'docs');

/** A figures file as read back: JSON writes NaN and Infinity as null. */
type Read<T> = T extends number ? number | null : T extends (infer U)[] ? Read<U>[] : T extends object ? { [K in keyof T]: Read<T[K]> } : T;

interface CrashResumeFigures extends FiguresHeader {
  settings: { clipSeconds: number; fps: number; width: number; height: number; model: string; segmentSeconds: number; killAfterSegments: number };
  killedAtContentSeconds: number;
  segmentsRecordedAtKill: number;
  resumedAtSegment: number;
  resumedAtSeconds: number;
  redoneContentSeconds: number;
  segmentsRemade: number;
  completeAfterKillSeconds: number;
  finalFrames: number;
  sourceFrames: number;
  worstAvOffsetMs: number;
  flashes: number;
}

interface Answered { status: number; ms: number }
interface RestartsFigures extends FiguresHeader {
  settings: { outageSeconds: number; segmentSeconds: number; upscaler: string };
  postgres?: { answers: Record<string, Answered>; downSeconds: number; startUpMs: number; segmentsEncodedMeanwhile: number; recordedAgainAfterMs: number };
  temporal?: {
    answers: Record<string, Answered>; downSeconds: number; startUpMs: number; segmentsRecordedMeanwhile: number;
    /** How long the dev server took to stop (SIGTERM; absent in files from before the test timed it). */
    stopMs?: number;
    triggerAnsweredAgainAfterMs: number; triggerAnsweredAgainStatus: number; refusedBefore: number;
  };
  api?: { restartMs: number };
}

type Outcome = 'refused' | 'failed' | 'upscaled' | 'hidden';
interface BadInputFigures extends FiguresHeader {
  settings: { upscaler: string; goodClipSeconds: number };
  cases: number;
  byOutcome: Record<Outcome, number>;
  held: Record<Outcome, number>;
  goodClip?: { state: string; chunksStarted: number; chunksRetried: number; segmentsRemade: number };
  outside?: { entriesChanged: number; workerRestarts: number; serverErrorsLogged: number };
}

// ---------------------------------------------------------------- formatting

const DASH = '–';
const isNumber = (n: number | null | undefined): n is number => typeof n === 'number' && Number.isFinite(n);
/** 116.9, 16.7, 0.31, 0.053: a figure with as many digits as it is worth. */
function figure(n: number | null | undefined): string {
  if (!isNumber(n)) return DASH;
  if (Math.abs(n) >= 100) return n.toFixed(0);
  if (Math.abs(n) >= 1 || n === 0) return n.toFixed(1);
  return n.toPrecision(2);
}
const fixed = (n: number | null | undefined, digits: number, unit = '') => (isNumber(n) ? `${n.toFixed(digits)}${unit}` : DASH);
const seconds = (n: number | null | undefined) => fixed(n, 2, ' s');
/** Content seconds per wall second: `1.21x`, `0.068x`. */
const rate = (n: number | null | undefined) => (isNumber(n) && Math.abs(n) < 0.1 && n !== 0 ? `${n.toPrecision(2)}x` : fixed(n, 2, 'x'));
const ms = (n: number | null | undefined) => fixed(n, 0, ' ms');
const percent = (ratio: number | null | undefined) => (isNumber(ratio) ? `${(ratio * 100).toFixed(1)} %` : DASH);
/** A median with its range when there were several runs: `2.31 s (2.10–2.80)`. */
function spreadSeconds(s: Read<Spread> | undefined): string {
  if (!s) return DASH;
  const values = s.values.filter(isNumber);
  return values.length > 1 && isNumber(s.min) && isNumber(s.max) ? `${seconds(s.median)} (${s.min.toFixed(2)}–${s.max.toFixed(2)})` : seconds(s.median);
}

function table(header: string[], rows: string[][], align: ('left' | 'right')[] = []): string {
  const rule = header.map((_, i) => (align[i] === 'right' ? '---:' : '---'));
  return [header, rule, ...rows].map((cells) => `| ${cells.join(' | ')} |`).join('\n');
}

/**
 * What measured a table's figures: the command, the day, the commit and the machine with its
 * load (the rest of the machine, its OS, Node and ffmpeg, is in the file).
 */
export function measuredBy(h: Read<FiguresHeader>, timed = true): string {
  const m = h.machine;
  const memory = isNumber(m.totalMemoryBytes) ? `, ${Math.round(m.totalMemoryBytes / 1024 ** 3)} GiB` : '';
  const load = (l: (number | null)[] | undefined) => (l && isNumber(l[0]) ? l[0].toFixed(1) : '?');
  const commit = h.commit ? `commit \`${h.commit.slice(0, 7)}${h.commit.endsWith('-dirty') ? '-dirty' : ''}\`` : 'no commit';
  const command = h.command ? `\`${h.command}\`` : 'a run that did not record its command';
  // A loaded machine changes timings, not what is computed (PSNR): only timed figures are marked.
  const loaded = timed && isLoaded(m)
    ? ' **A loaded machine** (load average above 1.5 × its cores): other work shared its cores, so these figures show the format and the order of magnitude, not what the machine can do.'
    : '';
  // Two CPUs named alike differ in what matters to int8: say which this was, where recorded.
  const vnni = typeof m.vnni === 'boolean' ? (m.vnni ? ' (VNNI)' : ' (no VNNI)') : '';
  return `*Measured by ${command} on ${h.date.slice(0, 10)} (${commit}): ${m.cpuModel}${vnni}, ${m.cores} cores${memory}; `
    + `load average ${load(m.loadAverageAtStart)} at the start, ${load(m.loadAverageAtEnd)} at the end.*${loaded}`;
}

/**
 * The machine ran other work beside the measurement: its 1-minute load average, at the start or
 * the end, above 1.5 × its cores. A measurement keeps every core busy itself (the end's figure
 * is mostly its own), so only load well beyond the cores is someone else's.
 */
export const LOADED_PER_CORE = 1.5;
export function isLoaded(m: Read<FiguresHeader>['machine']): boolean {
  const cores = m.cores;
  const loads = [m.loadAverageAtStart?.[0], m.loadAverageAtEnd?.[0]].filter(isNumber);
  return isNumber(cores) && loads.some((l) => l > LOADED_PER_CORE * cores);
}

// ---------------------------------------------------------------- the tables

type Render<T> = (figures: Read<T>) => string;

/** Several runs side by side: what measured each, numbered as the table's rows are. */
function runsMeasuredBy(files: Read<FiguresHeader>[]): string {
  return files.map((f, run) => `Run ${String(run + 1)}: ${measuredBy(f)}`).join('\n');
}

/**
 * Whole-pipeline runs in turns, a row per run and case with its grid: one model at two segment
 * lengths (HLS_SEGMENT_TIME for each), or two precisions run by run.
 */
const modelsRuns: Render<ModelsBenchReport[]> = (files) => {
  const rows = files.flatMap((f, run) => f.results.map((r) => [
    String(run + 1), `${String((f.settings as Record<string, unknown>).segmentSeconds)} s`, `\`${r.model}\``, r.precision ?? DASH,
    figure(r.pipelineFps), rate(r.realTime), seconds(r.firstSegmentSeconds),
  ]));
  return `${runsMeasuredBy(files)}\n\n`
    + table(['run', 'segments of', 'model', 'precision', 'pipeline fps', 'real-time', 'first segment'], rows, ['right', 'right', 'left', 'left', 'right', 'right', 'right']);
};

/** Each stage's CPU time a frame alone, as the models bench measured it (d93cae2 on). */
const stagesCpu = (c: Read<NonNullable<BenchResult['cpuMsPerFrame']>>) => `${fixed(c.decode, 1)} + ${fixed(c.inference, 1)} + ${fixed(c.encode, 1)} ms`;

/**
 * Whole-pipeline runs in turns at two commits whose streams differ in their frames (the same
 * model and precision on gbrp at one, yuv420p at the other): each stage's CPU time a frame
 * beside the pipeline's pace.
 */
const modelsFramesRuns: Render<ModelsBenchReport[]> = (files) => {
  const rows = files.flatMap((f, run) => f.results.map((r) => [
    String(run + 1), `\`${(f.commit ?? '?').slice(0, 7)}\``, `\`${r.model}\``, r.precision ?? DASH, r.frames ?? 'gbrp',
    r.cpuMsPerFrame ? stagesCpu(r.cpuMsPerFrame) : DASH, figure(r.pipelineFps), rate(r.realTime), seconds(r.firstSegmentSeconds),
  ]));
  return `${runsMeasuredBy(files)}\n\n`
    + table(['run', 'commit', 'model', 'precision', 'frames', 'CPU ms a frame', 'pipeline fps', 'real-time', 'first segment'], rows, ['right', 'left', 'left', 'left', 'left', 'right', 'right', 'right', 'right']);
};

/** The pipeline's frames a second ÷ what the cores allow for its stages' CPU time (d93cae2 on). */
const ofCoresBound = (r: Read<BenchResult>) => (isNumber(r.pipelineFps) && isNumber(r.coresBoundFps) ? r.pipelineFps / r.coresBoundFps : null);

/**
 * The same models in several runs, each stage's CPU time a frame set against the cores
 * (`coresBoundFps`): what the pipeline made of what the cores allow, and the most "efficiency"
 * (against the slowest stage alone) that bound leaves, for the rows whose CPU time was measured.
 */
const modelsCores: Render<ModelsBenchReport[]> = (files) => {
  // x264's threads (UPFLOW_ENCODER_THREADS) as a column where the runs differ in them.
  const encoderThreads = (f: Read<ModelsBenchReport>) => {
    const n = (f.settings as Record<string, unknown>).encoderThreads;
    return n === 0 || n === undefined ? "x264's choice" : String(n);
  };
  const byThreads = new Set(files.map(encoderThreads)).size > 1;
  const rows = files.flatMap((f, run) => f.results.filter((r) => r.cpuMsPerFrame && isNumber(r.pipelineFps)).map((r) => {
    const slowest = Math.min(r.inferenceFps ?? Infinity, r.decodeFps ?? Infinity, r.encodeFps ?? Infinity);
    const bound = r.coresBoundFps ?? null;
    return [
      String(run + 1), ...(byThreads ? [encoderThreads(f)] : []), `\`${r.model}\``, stagesCpu(r.cpuMsPerFrame!), figure(slowest), figure(bound),
      isNumber(bound) && Number.isFinite(slowest) ? fixed(Math.min(1, bound / slowest), 2) : DASH, figure(r.pipelineFps), fixed(r.efficiency, 2),
      fixed(ofCoresBound(r), 2), rate(r.realTime),
    ];
  }));
  return `${runsMeasuredBy(files)}\n\n`
    + table(['run', ...(byThreads ? ['x264 threads'] : []), 'model', 'CPU a frame (decode + infer + encode)', 'slowest stage alone, fps', 'the cores allow, fps', 'efficiency at most', 'pipeline fps', 'efficiency', 'of what the cores allow', 'real-time'],
      rows, ['right', ...(byThreads ? ['left'] as const : []), 'left', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right']);
};

/** One model's whole pipeline at several x264 presets (SRGAN_FFMPEG_PRESET), a run each: what a faster encoder gives back to the model. */
const modelsByPreset: Render<ModelsBenchReport[]> = (files) => {
  const rows = files.flatMap((f) => f.results.map((r) => [
    `\`${String((f.settings as Record<string, unknown>).preset)}\``, `\`${r.model}\``, r.precision ?? DASH,
    figure(r.inferenceFps), figure(r.encodeFps), figure(r.pipelineFps), fixed(r.efficiency, 2), rate(r.realTime), seconds(r.firstSegmentSeconds),
  ]));
  return `${runsMeasuredBy(files)}\n\n`
    + table(['x264 preset', 'model', 'precision', 'infer fps', 'encode fps', 'pipeline fps', 'efficiency', 'real-time', 'first segment'], rows, ['left', 'left', 'left', 'right', 'right', 'right', 'right', 'right', 'right']);
};

/**
 * M's yuv420p graph with its last layer over the Concat of every layer and summed layer by layer,
 * run in turns: which graph a run had is in its figures file's name (`models-m-concat-…`,
 * `models-m-sums-…`), which its command records.
 */
const modelsLastLayer: Render<ModelsBenchReport[]> = (files) => {
  const rows = files.flatMap((f, run) => f.results.map((r) => [
    String(run + 1), /models-m-sums-/.test(f.command ?? '') ? 'summed per layer' : 'over the Concat', `\`${r.model}\``,
    figure(r.inferenceFps), figure(r.decodeFps), figure(r.encodeFps), figure(r.pipelineFps), rate(r.realTime), seconds(r.firstSegmentSeconds),
  ]));
  return `${runsMeasuredBy(files)}\n\n`
    + table(['run', 'last layer', 'model', 'infer fps', 'decode fps', 'encode fps', 'pipeline fps', 'real-time', 'first segment'], rows, ['right', 'left', 'left', 'right', 'right', 'right', 'right', 'right', 'right']);
};

/**
 * What the docs hold the whole pipeline to on a 2-core CPU, 360p → 720p, fp32 streams
 * (docs/benchmarks.md#the-targets): each a figure of one model's row in the models bench, at
 * least or at most an aim.
 */
interface PipelineTarget {
  what: string;
  model: ModelId;
  value: (r: Read<BenchResult>) => number | null | undefined;
  /** None for a figure shown beside the targets to explain them. */
  aim?: number;
  atMost?: boolean;
  show: (n: number | null | undefined) => string;
}
const PIPELINE_TARGETS: readonly PipelineTarget[] = [
  { what: 'real-time, `anime4k-s-an`', model: 'anime4k-s-an', value: (r) => r.realTime, aim: 1.5, show: rate },
  { what: 'real-time, `anime4k-m-an`', model: 'anime4k-m-an', value: (r) => r.realTime, aim: 1.0, show: rate },
  { what: 'first segment after the trigger, S', model: 'anime4k-s-an', value: (r) => r.firstSegmentSeconds, aim: 2.5, atMost: true, show: seconds },
  { what: 'first segment after the trigger, M', model: 'anime4k-m-an', value: (r) => r.firstSegmentSeconds, aim: 2.5, atMost: true, show: seconds },
  { what: 'efficiency (pipeline ÷ slowest stage alone), S', model: 'anime4k-s-an', value: (r) => r.efficiency, aim: 0.9, show: (n) => fixed(n, 2) },
  { what: 'efficiency, M', model: 'anime4k-m-an', value: (r) => r.efficiency, aim: 0.9, show: (n) => fixed(n, 2) },
  { what: 'of what the cores allow, S', model: 'anime4k-s-an', value: ofCoresBound, show: (n) => fixed(n, 2) },
  { what: 'of what the cores allow, M', model: 'anime4k-m-an', value: ofCoresBound, show: (n) => fixed(n, 2) },
];

/** Every run's 360p fp32 rows set against the targets: the spread, the median and how many runs met each. */
const modelsTargets: Render<ModelsBenchReport[]> = (files) => {
  const rows = PIPELINE_TARGETS.map((t) => {
    const values = files.flatMap((f) => f.results
      .filter((r) => r.size === '360p' && (r.precision ?? 'fp32') === 'fp32' && r.model === t.model)
      .map(t.value).filter(isNumber));
    const { aim } = t;
    const measured = values.length === 0 ? DASH : `${t.show(Math.min(...values))} – ${t.show(Math.max(...values))}`;
    const met = aim === undefined ? DASH : `${String(values.filter((v) => (t.atMost ? v <= aim : v >= aim)).length)} of ${String(values.length)} runs`;
    return [t.what, aim === undefined ? DASH : `${t.atMost ? '≤' : '≥'} ${t.show(aim)}`, measured, t.show(values.length > 0 ? median(values) : null), met];
  });
  return `${runsMeasuredBy(files)}\n\n`
    + table(['target', 'aim', 'measured, lowest – highest', 'median', 'met'], rows, ['left', 'right', 'right', 'right', 'right']);
};

const modelsTable: Render<ModelsBenchReport> = (f) => {
  const pipeline = (r: Read<BenchResult>) => (r.skipped ? `skipped: ${r.skipped}` : figure(r.pipelineFps));
  // Files from before yuv420p graphs name no frames: the stream then ran on gbrp.
  const frames = (r: Read<BenchResult>) => (r.model === 'ffmpeg' ? DASH : r.frames ?? 'gbrp');
  // Files from before the stages' CPU time was measured have no such columns.
  const withCpu = f.results.some((r) => r.cpuMsPerFrame);
  const cpu = (r: Read<BenchResult>) => (r.cpuMsPerFrame ? stagesCpu(r.cpuMsPerFrame) : DASH);
  const rows = f.results.map((r) => [
    r.size, r.model === 'ffmpeg' ? 'ffmpeg (one process)' : `\`${r.model}\``, r.precision ?? DASH, frames(r), r.output,
    figure(r.inferenceFps), figure(r.decodeFps), figure(r.encodeFps), pipeline(r),
    fixed(r.efficiency, 2), ...(withCpu ? [cpu(r), figure(r.coresBoundFps), fixed(ofCoresBound(r), 2)] : []), rate(r.realTime), seconds(r.firstSegmentSeconds),
  ]);
  const s = f.settings as Record<string, unknown>;
  return `${measuredBy(f)} Clips of ${String(s.clipSeconds)} s at ${String(s.clipFps)} fps; x264 \`${String(s.preset)}\` CRF ${String(s.crf)}; `
    + `${String(s.inferenceThreads)} inference thread(s)${s.inferenceLanes === undefined ? '' : ` in ${String(s.inferenceLanes)} lane(s)`}, execution provider \`${String(s.executionProvider)}\`; segments of ${String(s.segmentSeconds)} s${s.ffmpegSegmentSeconds === undefined || s.ffmpegSegmentSeconds === s.segmentSeconds ? '' : ` (ffmpeg alone: ${String(s.ffmpegSegmentSeconds)} s)`}.\n\n`
    + table(
      ['input', 'model', 'precision', 'frames', 'output', 'infer fps', 'decode fps', 'encode fps', 'pipeline fps', 'efficiency',
        ...(withCpu ? ['CPU a frame (decode + infer + encode)', 'the cores allow', 'of that'] : []), 'real-time', 'first segment'],
      rows,
      ['left', 'left', 'left', 'left', 'left', 'right', 'right', 'right', 'right', 'right', ...(withCpu ? ['right', 'right', 'right'] as const : []), 'right', 'right'],
    );
};

/** Operators below this share of a frame are left out of the profile table's list. */
const PROFILE_SHOWN_SHARE = 0.02;

const profileTable: Render<ProfileBenchReport> = (f) => {
  const rows = f.results.map((r) => {
    const frameMs = r.frameMs ?? 0;
    const shown = r.operators.filter((o) => frameMs > 0 && (o.ms ?? 0) / frameMs >= PROFILE_SHOWN_SHARE);
    const list = shown.map((o) => `${o.op}${(o.nodes ?? 1) > 1 ? ` ×${String(o.nodes)}` : ''} ${fixed(o.ms, 1)} (${fixed((100 * (o.ms ?? 0)) / frameMs, 0, ' %')})`).join(', ');
    return [`\`${r.model}\``, r.precision, r.frames ?? 'gbrp', fixed(r.frameMs, 1, ' ms'), list];
  });
  return `${measuredBy(f)} One ${String(f.settings.size)} frame at a time through one CPU session of ${String(f.settings.threads)} thread(s) (as each inference lane runs), `
    + `onnxruntime's profiler on, the mean of ${String(f.settings.runs)} frames; operators that took ${String(PROFILE_SHOWN_SHARE * 100)} % of a frame or more, in ms a frame. `
    + '`ReorderOutput` is a change of layout out of the blocked one the convolutions run in.\n\n'
    + table(['model', 'precision', 'frames', 'a frame', 'where the time goes'], rows, ['left', 'left', 'left', 'right', 'left']);
};

const encoderTable: Render<EncoderBenchReport> = (f) => {
  const st = f.settings;
  const lookahead = (l: number | string | null) => (l === 'preset' ? `the preset's (${String(st.preset)})` : `${String(l)} frames`);
  // Files from before presets were compared hold lookahead rows only.
  const rows = f.results.filter((r) => (r.compare ?? 'lookahead') === 'lookahead').map((r) => [
    r.motion, lookahead(r.lookahead), fixed(r.closeAfterLastFrameMedianMs, 0, ' ms'),
    ...st.crfs.map((crf) => {
      const p = r.points.find((x) => x.crf === crf);
      return p ? `${fixed((p.bytes ?? 0) / 1e6, 2, ' MB')}, ${fixed(p.psnr, 2, ' dB')}` : DASH;
    }),
    r.lookahead === 'preset' ? DASH : fixed(r.psnrAtSameBytesDb, 2, ' dB'),
  ]);
  return `${measuredBy(f)} ${String(st.seconds)} s of ${String(st.width)}×${String(st.height)} at ${String(st.fps)} fps made from the project's ${String(st.images)} images `
    + `(a mosaic scaled up 2x: *pan*, a window panning across it; *still*, a still window with one picture moving over it), through the chunk encoder's own arguments `
    + `(x264 \`${String(st.preset)}\`, segments of ${String(st.segmentSeconds)} s). A segment's close: fed at ${String(st.pacedFps)} frames a second (S's pace), CRF ${String(st.crf)}, the median time from its last frame written to the segment listed. `
    + 'Bytes and PSNR against the frames: fed as fast as x264 takes them. *At the same bytes*: the mean PSNR difference against the preset\'s lookahead where its bytes reach (its points read linearly in between).\n\n'
    + table(['clip', 'x264 lookahead', 'a segment closes after its last frame', ...st.crfs.map((crf) => `CRF ${String(crf)}`), 'at the same bytes'], rows, ['left', 'left', 'right', ...st.crfs.map(() => 'right' as const), 'right']);
};

/** x264's presets at the stream's lookahead with a model (`--encoder-compare preset`): the CPU time each saves and what it costs in bytes. */
const encoderPresets: Render<EncoderBenchReport> = (f) => {
  const st = f.settings;
  const rows = f.results.filter((r) => r.compare === 'preset').map((r) => {
    const atCrf = r.points.find((p) => p.crf === st.crf);
    return [
      r.motion, `\`${String(r.preset)}\``, fixed(r.cpuMsPerFrame, 1, ' ms'), fixed(r.closeAfterLastFrameMedianMs, 0, ' ms'),
      atCrf ? `${fixed((atCrf.bytes ?? 0) / 1e6, 2, ' MB')}, ${fixed(atCrf.psnr, 2, ' dB')}` : DASH,
      r.preset === st.preset ? DASH : fixed(r.psnrAtSameBytesDb, 2, ' dB'),
    ];
  });
  return `${measuredBy(f)} ${String(st.seconds)} s of ${String(st.width)}×${String(st.height)} at ${String(st.fps)} fps made from the project's ${String(st.images)} images (the clips of the lookahead table above), `
    + `through the chunk encoder's own arguments with a model's lookahead of ${String(f.results.find((r) => r.compare === 'preset')?.lookahead ?? DASH)} frames. `
    + `*CPU a frame*: x264's process and the feeding, at CRF ${String(st.crf)}, fed as fast as x264 takes the frames. A segment's close: fed at ${String(st.pacedFps)} frames a second. `
    + `*At the same bytes*: the mean PSNR difference against \`${String(st.preset)}\` where its bytes reach, from CRF ${String(st.presetCrfs?.[0])} to ${String(st.presetCrfs?.[st.presetCrfs.length - 1])}.\n\n`
    + table(['clip', 'x264 preset', 'CPU a frame', 'a segment closes after its last frame', `CRF ${String(st.crf)}`, 'at the same bytes'], rows, ['left', 'left', 'right', 'right', 'right', 'right']);
};

/** How x264 places B-frames at the stream's preset and lookahead with a model (`--encoder-compare b-frames`), run by run: the CPU time fixed B-frames save and what they do to the bytes. */
const encoderBFrames: Render<EncoderBenchReport[]> = (files) => {
  const rows = files.flatMap((f, run) => f.results.filter((r) => r.compare === 'b-frames').map((r) => {
    const atCrf = r.points.find((p) => p.crf === f.settings.crf);
    return [
      String(run + 1), r.motion, r.bFrames === 'fixed' ? 'fixed (`b-adapt=0`)' : "the preset's analysis", fixed(r.cpuMsPerFrame, 1, ' ms'), fixed(r.closeAfterLastFrameMedianMs, 0, ' ms'),
      atCrf ? `${fixed((atCrf.bytes ?? 0) / 1e6, 2, ' MB')}, ${fixed(atCrf.psnr, 2, ' dB')}` : DASH,
      r.bFrames === 'fixed' ? fixed(r.psnrAtSameBytesDb, 2, ' dB') : DASH,
    ];
  }));
  const st = files[0]!.settings;
  return `${runsMeasuredBy(files)}\n\nThe clips of the lookahead table above, x264 \`${String(st.preset)}\` with a model's lookahead of ${String(files[0]!.results.find((r) => r.compare === 'b-frames')?.lookahead ?? DASH)} frames; *CPU a frame* and a segment's close as in the presets' table; *at the same bytes*: against the preset's analysis, from CRF ${String(st.presetCrfs?.[0])} to ${String(st.presetCrfs?.[st.presetCrfs.length - 1])}.\n\n`
    + table(['run', 'clip', 'B-frames', 'CPU a frame', 'a segment closes after its last frame', `CRF ${String(st.crf)}`, 'at the same bytes'], rows, ['right', 'left', 'left', 'right', 'right', 'right', 'right']);
};

/** The same profile run several times in turns: each model's frame time per run, to see the spread. */
const profileRuns: Render<ProfileBenchReport[]> = (files) => {
  const key = (r: Read<ProfileBenchReport>['results'][number]) => `${r.model} ${r.precision} ${r.frames ?? 'gbrp'}`;
  const keys = [...new Set(files.flatMap((f) => f.results.map(key)))];
  const rows = keys.map((k) => {
    const [model, precision, frames] = k.split(' ');
    return [`\`${model!}\``, precision!, frames!, ...files.map((f) => fixed(f.results.find((r) => key(r) === k)?.frameMs ?? null, 1, ' ms'))];
  });
  return `${runsMeasuredBy(files)}\n\nOne frame on one thread, onnxruntime's profiler on, a frame's mean time per run:\n\n`
    + table(['model', 'precision', 'frames', ...files.map((_, run) => `run ${String(run + 1)}`)], rows, ['left', 'left', 'left', ...files.map(() => 'right' as const)]);
};

function gridCaption(f: Read<GridBenchReport>): string {
  const s = f.settings as Record<string, unknown>;
  const clip = s.clip as { width: number; height: number; fps: number } | undefined;
  return `${measuredBy(f)} A ${String(s.clipSeconds)} s clip${clip ? `, ${clip.width}×${clip.height} at ${clip.fps} fps,` : ''} upscaled ×2 in segments of ${String(s.segmentSeconds)} s; `
    + `median of ${String(s.repeats)} run(s), range in brackets when there were more.`;
}

const gridTrigger: Render<GridBenchReport> = (f) => {
  if (!f.trigger) return `${gridCaption(f)}\n\nThis run left the trigger part out.`;
  const rows = Object.entries(f.trigger.summary).flatMap(([upscaler, s]) => (s ? [[
    upscaler === 'ffmpeg' ? 'ffmpeg only' : `\`${upscaler}\``,
    spreadSeconds(s.firstTriggerSeconds), spreadSeconds(s.secondTriggerSeconds), spreadSeconds(s.seekSeconds),
    `${seconds(s.firstTriggerToChunkStartSeconds.median)} / ${seconds(s.secondTriggerToChunkStartSeconds.median)}`,
    `${seconds(s.seekToVictimStoppedSeconds.median)} / ${seconds(s.seekToChunkClaimedSeconds.median)}`,
  ]] : []));
  return `${gridCaption(f)}\n\n${table(
    ['upscaler', 'first trigger after start-up', 'second trigger', 'seek', 'trigger → chunk start (first / second)', 'seek → slot freed / claimed'],
    rows,
    ['left', 'right', 'right', 'right', 'right', 'right'],
  )}`;
};

/**
 * The default segment length's evidence: the trigger part run once per length (`HLS_SEGMENT_TIME`),
 * each file a row per upscaler. Shorter segments reach a viewer sooner and cost bytes (a keyframe
 * each) and requests.
 */
const segmentLength: Render<GridBenchReport[]> = (files) => {
  const rows = files.flatMap((f) => Object.entries(f.trigger?.summary ?? {}).flatMap(([upscaler, s]) => (s ? [[
    `${String((f.settings as Record<string, unknown>).segmentSeconds)} s`,
    upscaler === 'ffmpeg' ? 'ffmpeg only' : `\`${upscaler}\``,
    spreadSeconds(s.firstTriggerSeconds), spreadSeconds(s.seekSeconds),
    s.segmentBytesPerSecond ? `${fixed((s.segmentBytesPerSecond.median ?? NaN) / 1000, 0, ' kB')}` : '–',
  ]] : [])));
  return `${files.map((f) => gridCaption(f)).join('\n')}\n\n${table(
    ['segment length', 'upscaler', 'first trigger after start-up', 'seek', 'bytes per content second'],
    rows,
    ['right', 'left', 'right', 'right', 'right'],
  )}`;
};

const gridSlots: Render<GridBenchReport> = (f) => {
  if (!f.slots) return `${gridCaption(f)}\n\nThis run left the slots part out.`;
  const slots = f.slots;
  const rows = Object.entries(slots.rateBySlots).map(([count, s]) => [
    count, rate(s.median), s.values.map((v) => rate(v)).join(', '),
    slots.runs.filter((r) => String(r.slots) === count).map((r) => String(r.maxConcurrentChunks)).join(', '),
  ]);
  return `${gridCaption(f)} ffmpeg only, ${slots.encoderThreads} x264 thread per chunk, nobody watching.\n\n`
    + `${table(['slots', 'rate', 'runs', 'chunks at once'], rows, ['right', 'right', 'right', 'right'])}\n\n`
    + `Two slots ÷ one: **${fixed(slots.ratio, 2)}** (the issue's target: at least ${String(slots.target)}).`;
};

const gridStartCost: Render<GridBenchReport> = (f) => {
  if (!f.startCost) return `${gridCaption(f)}\n\nThis run left the start-cost part out.`;
  const startCost = f.startCost;
  const rows = Object.entries(startCost.summary).flatMap(([upscaler, s]) => (s ? [[
    upscaler === 'ffmpeg' ? 'ffmpeg only' : `\`${upscaler}\``, spreadSeconds(s.firstSeconds), spreadSeconds(s.steadySeconds), spreadSeconds(s.startCostSeconds),
  ]] : []));
  return `${gridCaption(f)}\n\n${table(['upscaler', 'first segment', 'steady segment', 'start cost'], rows, ['left', 'right', 'right', 'right'])}`
    + (isNumber(startCost.modelLoadSeconds) ? `\n\nLoading the model the first time (before these chunks): ${seconds(startCost.modelLoadSeconds)}.` : '');
};

const gridScaling: Render<GridBenchReport> = (f) => {
  if (!f.scaling) return `${gridCaption(f)}\n\nThis run left the scaling part out.`;
  const sc = f.scaling;
  const rows = sc.models.map((m) => [
    `\`${m.model}\``, figure(m.inferenceFps), rate(m.singleSlotRate),
    m.rates.map((r) => `${r.slots}: ${rate(r.rate)}`).join(', '), isNumber(m.slotsForRealTime) ? String(m.slotsForRealTime) : 'never',
  ]);
  return `${gridCaption(f)} The model's inputs: C = ${String(sc.chunkContentSeconds)} s (\`MAX_CHUNK_SECONDS\`), `
    + `s = ${seconds(sc.startCostSeconds)} (${sc.startCostFrom}${sc.measuredStartCostSeconds !== sc.startCostSeconds ? `; measured ${seconds(sc.measuredStartCostSeconds)}, counted as 0` : ''}), `
    + `r₁ = inference fps ÷ ${String(sc.clipFps)}, ${String(sc.inferenceThreads)} inference thread(s)${sc.inferenceLanes === undefined ? '' : ` in ${String(sc.inferenceLanes)} lane(s)`}.\n\n`
    + table(['model', 'infer fps', 'r₁', 'rate with K slots', 'K for real time'], rows, ['left', 'right', 'right', 'left', 'right']);
};

const qualityTable: Render<QualityFigures> = (f) => {
  const method = (m: string) => (m === 'bicubic' ? 'bicubic (baseline)' : m === 'nearest' ? 'nearest (floor)' : `\`${m}\``);
  const gain = (v: number | null) => (isNumber(v) ? (Math.abs(v) < 0.005 ? '0' : `${v > 0 ? '+' : '−'}${Math.abs(v).toFixed(2)}`) : DASH);
  const tables = CONTENT_KINDS.map((kind) => {
    const own = f.kinds.flatMap((k, i) => (k === kind ? [i] : []));
    const images = own.map((i) => f.images[i]!);
    const rows = [...f.rows]
      .sort((x, y) => (y.byKind[kind].mean ?? -Infinity) - (x.byKind[kind].mean ?? -Infinity))
      .map((r) => [method(r.method), ...own.map((i) => fixed(r.psnr[i] ?? null, 2)), fixed(r.byKind[kind].mean, 2), gain(r.byKind[kind].overBicubic), gain(r.byKind[kind].overLanczos)]);
    return `**${kind === 'animation' ? 'Animation' : 'Live action'}** (${images.length} images), default \`${DEFAULT_MODEL_FOR[kind]}\`:\n\n`
      + table(['PSNR (dB)', ...images, 'mean', 'vs bicubic', 'vs lanczos'], rows, ['left', ...images.map(() => 'right' as const), 'right', 'right', 'right']);
  });
  return `${measuredBy(f, false)} PSNR in dB, ${f.border} px border left out.\n\n${tables.join('\n\n')}`;
};

/** Each model in another precision than fp32: each kind's mean, and how far from its fp32 graph's. */
function precisionRowsTable(rows: Read<QualityFigures['precisionRows']>): string {
  const delta = (v: number | null) => (isNumber(v) ? (Math.abs(v) < 0.0005 ? '0.000' : `${v > 0 ? '+' : '−'}${Math.abs(v).toFixed(3)}`) : DASH);
  const cells = rows.map((r) => [`\`${r.model}\``, r.precision, ...CONTENT_KINDS.flatMap((kind) => [fixed(r.byKind[kind].mean, 2), delta(r.byKind[kind].vsFp32)])]);
  const kindName = (kind: string) => (kind === 'animation' ? 'animation' : 'live action');
  return table(['model', 'precision', ...CONTENT_KINDS.flatMap((kind) => [`${kindName(kind)} mean`, 'vs fp32'])], cells, ['left', 'left', ...CONTENT_KINDS.flatMap(() => ['right', 'right'] as const)]);
}

/** Each model's fp16 and int8 graphs against its fp32 graph, on the same images. */
const qualityPrecision: Render<QualityFigures> = (f) =>
  `${measuredBy(f, false)} Mean PSNR in dB on each kind's images, and the difference from the same model's fp32 graph.\n\n${precisionRowsTable(f.precisionRows ?? [])}`;

/** The graphs on yuv420p frames in another precision than fp32, against their fp32 ones on the same frames. */
const qualityPrecisionYuv420p: Render<QualityFigures> = (f) =>
  `${measuredBy(f, false)} The ÷2 images as yuv420p frames (BT.601, limited range): mean PSNR in dB over the Y, U and V planes against the original's, on each kind, and the difference from the same model's fp32 graph on yuv420p frames.\n\n${precisionRowsTable(f.yuv420pRows ?? [])}`;

type LoadFigures = LoadReport & FiguresHeader;

const loadEndpoints: Render<LoadFigures> = (f) => {
  const row = (e: Read<EndpointFigures>) => [
    e.endpoint === 'all' ? 'all' : `\`${e.endpoint}\``, String(e.requests), figure(e.rps), ms(e.p50Ms), ms(e.p99Ms), ms(e.maxMs), e.errors === undefined ? '' : String(e.errors), String(e.non2xx),
  ];
  return `${measuredBy(f)} ${f.plan.players} players, ${String(f.appliedRps)} requests/s applied in ${f.plan.loadedWindows} windows of ${f.plan.windowSeconds} s; segments of ${figure(f.segmentKilobytes)} KB.\n\n`
    + table(['endpoint', 'requests', 'req/s', 'p50', 'p99', 'max', 'errors', 'non-2xx'], [...f.endpoints.map(row), row(f.total)],
      ['left', 'right', 'right', 'right', 'right', 'right', 'right', 'right']);
};

const loadStream: Render<LoadFigures> = (f) => {
  const cores = (c: Record<string, number | null>) => Object.entries(c).map(([part, n]) => `${part} ${fixed(n, 2)}`).join(', ');
  const rows = [
    ['the stream\'s rate, unloaded windows', rate(f.unloadedRate)],
    ['the stream\'s rate, loaded windows', rate(f.loadedRate)],
    ['each loaded window ÷ the unloaded ones either side', f.localRatios.map((r) => percent(r)).join(', ')],
    ['median of those', percent(f.ratio)],
    ['95 % upper confidence bound of their mean', percent(f.ratioUpperBound)],
    ['cores used, unloaded', cores(f.cores.unloaded)],
    ['cores used, loaded', cores(f.cores.loaded)],
  ];
  return `${measuredBy(f)}\n\n${table(['measure', 'value'], rows)}`;
};

const crashResume: Render<CrashResumeFigures> = (f) => {
  const s = f.settings;
  const rows = [
    ['killed at', `${fixed(f.killedAtContentSeconds, 1, ' s')} of content, ${f.segmentsRecordedAtKill} segments recorded`],
    ['the retried chunk went on at', `segment ${f.resumedAtSegment} (${fixed(f.resumedAtSeconds, 1, ' s')})`],
    ['content made twice', fixed(f.redoneContentSeconds, 1, ' s')],
    ['segments made twice', String(f.segmentsRemade)],
    ['complete after the kill', fixed(f.completeAfterKillSeconds, 0, ' s')],
    ['final file', `${f.finalFrames} of ${f.sourceFrames} frames`],
    ['worst A/V offset', `${fixed(f.worstAvOffsetMs, 1, ' ms')} over ${f.flashes} flashes`],
  ];
  return `${measuredBy(f)} A ${s.clipSeconds} s ${s.width}×${s.height} ${s.fps} fps clip, \`${s.model}\`, segments of ${s.segmentSeconds} s; `
    + `the worker killed with SIGKILL once ${s.killAfterSegments} segments were recorded.\n\n${table(['measure', 'value'], rows)}`;
};

const restarts: Render<RestartsFigures> = (f) => {
  const answers = (a: Record<string, Read<Answered>>) => Object.entries(a).map(([route, x]) => `${route} ${String(x.status)} in ${ms(x.ms)}`).join(', ');
  const rows: string[][] = [];
  if (f.postgres) {
    const p = f.postgres;
    rows.push([`Postgres stopped for ${fixed(p.downSeconds, 1, ' s')}`, answers(p.answers), `${String(p.segmentsEncodedMeanwhile)} segments encoded meanwhile`,
      `segments recorded again ${ms(p.recordedAgainAfterMs)} after its start-up (${ms(p.startUpMs)})`]);
  }
  if (f.temporal) {
    const t = f.temporal;
    const stop = isNumber(t.stopMs) ? ` (its stop took ${fixed(t.stopMs / 1000, 1, ' s')})` : '';
    rows.push([`Temporal stopped for ${fixed(t.downSeconds, 1, ' s')}${stop}`, answers(t.answers), `${String(t.segmentsRecordedMeanwhile)} segments recorded meanwhile`,
      `a trigger answered ${String(t.triggerAnsweredAgainStatus)} ${ms(t.triggerAnsweredAgainAfterMs)} after its start-up (${ms(t.startUpMs)}; ${String(t.refusedBefore)} refused before)`]);
  }
  if (f.api) rows.push(['the API killed (SIGKILL) and started again', DASH, 'the stream went on', `answering again after ${ms(f.api.restartMs)}`]);
  return `${measuredBy(f)} ${f.settings.upscaler}, segments of ${f.settings.segmentSeconds} s.\n\n`
    + table(['outage', 'answers while it lasted', 'the stream meanwhile', 'back'], rows);
};

const badInput: Render<BadInputFigures> = (f) => {
  const outcomes: [Outcome, string][] = [
    ['refused', 'refused with a 4xx and the reason, nothing started'],
    ['failed', 'a job that fails with the reason in Postgres and Temporal'],
    ['hidden', 'an HLS request outside the title\'s folder: a 4xx, not one byte'],
    ['upscaled', 'odd but valid media upscaled right'],
  ];
  const rows = outcomes.map(([kind, what]) => [what, String(f.byOutcome[kind]), String(f.held[kind])]);
  rows.push(['all', String(f.cases), String(Object.values(f.held).reduce<number>((sum, n) => sum + (n ?? 0), 0))]);
  const after: string[][] = [];
  if (f.goodClip) after.push(['the good clip', `${f.goodClip.state}; ${f.goodClip.chunksStarted} chunk(s), ${f.goodClip.chunksRetried} retried, ${f.goodClip.segmentsRemade} segment(s) made twice`]);
  if (f.outside) {
    after.push(['entries changed outside the data folder', String(f.outside.entriesChanged)]);
    after.push(['worker restarts', String(f.outside.workerRestarts)]);
    after.push(['answers of 500 or more in the API\'s log', String(f.outside.serverErrorsLogged)]);
  }
  return `${measuredBy(f)} ${f.settings.upscaler}; every case sent at once while a ${f.settings.goodClipSeconds} s good clip streams.\n\n`
    + `${table(['outcome expected', 'cases', 'held'], rows, ['left', 'right', 'right'])}`
    + (after.length > 0 ? `\n\n${table(['after the barrage', 'found'], after)}` : '');
};

interface JellyfinFigures extends FiguresHeader {
  settings: { clip: { seconds: number; width: number; height: number; fps: number }; watchSeconds: number; scriptConfig: { minBufferedSeconds?: number }; warmUp?: boolean };
  results: SwitchResult[];
}

type Timeline = NonNullable<SwitchResult['timeline']>;

/** A timeline whose times were all written as numbers (JSON writes NaN as null), so that it can be replayed. */
function replayable(t: Read<Timeline>): t is Timeline {
  return t.playing !== null && isNumber(t.playing.position) && isNumber(t.playing.afterPlaySeconds)
    && t.made.every((m) => isNumber(m.startSeconds) && isNumber(m.afterPlaySeconds)) && t.rates.every((r) => isNumber(r.afterPlaySeconds));
}

/** A row whose timeline replays, its earlier speed (if any) all numbers. */
function replayableRow(r: Read<SwitchResult>): r is Read<SwitchResult> & Pick<SwitchResult, 'timeline' | 'switchSeconds' | 'startSeconds'> {
  const t = r.timeline;
  return t !== undefined && replayable(t) && (t.earlierSpeed === null || (isNumber(t.earlierSpeed.firstSegmentSeconds) && isNumber(t.earlierSpeed.rate)));
}

/** A row's grid: as the bench recorded it, or (older files) as its first two segments show it. */
function gridSegmentSeconds(r: Read<SwitchResult>): number | null {
  return r.segmentSeconds ?? (r.timeline && replayable(r.timeline) ? segmentSecondsOf(r.timeline.made) : null);
}

const jellyfinSwitch: Render<JellyfinFigures> = (f) => {
  const { clip, watchSeconds, scriptConfig, warmUp } = f.settings;
  const rows = f.results.map((r) => [
    r.upscaler, r.mode ?? 'direct', r.startSeconds ? `${String(r.startSeconds)} s` : '0:00', fixed(gridSegmentSeconds(r), 0, ' s'), seconds(r.firstSegmentSeconds), fixed(r.madeFromSeconds ?? null, 1, ' s'), r.switchSeconds === null ? 'no switch' : seconds(r.switchSeconds), fixed(r.positionAtSwitch, 1, ' s'), fixed(r.switchedIntoFromSeconds ?? null, 1, ' s'), r.modelAtSwitch ?? (r.switchSeconds === null || r.modelAtSwitch === undefined ? DASH : 'ffmpeg'), seconds(r.switchGapSeconds),
    `${fixed(r.advancedSeconds, 1, ' s')} of ${String(r.watchedSeconds)} s`, `${String(r.stalls)} (${fixed(r.stalledSeconds, 1, ' s')})`, String(r.fallbacksToOriginal), rate(r.upscaleRate), String(r.consoleErrors),
  ]);
  return `${measuredBy(f)} A ${String(clip.seconds)} s ${String(clip.width)}×${String(clip.height)} clip at ${String(clip.fps)} fps; `
    + `the script's \`minBufferedSeconds\` ${scriptConfig.minBufferedSeconds === undefined ? 'at its default' : `= ${String(scriptConfig.minBufferedSeconds)}`}; `
    + `${warmUp ? 'each Upflow had made a 10 s title of the same size first (the lead is planned from it)' : 'each Upflow fresh, as on a new install (no earlier title to plan a lead from)'}; then ${String(watchSeconds)} s of watching.\n\n`
    + table(['upscaler', 'play', 'play from', 'segments of', 'first segment', 'made from', 'switch', 'at position', 'part from', 'model there', 'switch gap', 'played', 'stalls after', 'fallbacks', 'rate', 'console errors'], rows,
      ['left', 'left', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'left', 'right', 'right', 'right', 'right', 'right', 'right']);
};

/** The grid a run's model rows ran on (they share it): its first model row's. */
function modelGrid(f: Read<JellyfinFigures>): number | null {
  const row = f.results.find((r) => !r.upscaler.startsWith('ffmpeg'));
  return row ? gridSegmentSeconds(row) : null;
}

/** The upscaler's short name, e.g. `anime4k-s-an` or `ffmpeg`. */
const upscalerName = (r: Read<SwitchResult>) => r.upscaler.split(' ')[0]!;
/** A bench row as the tables name it: `anime4k-s-an transcode 36 s`. */
const playLabel = (r: Read<SwitchResult>) => `${upscalerName(r)} ${r.mode ?? 'direct'} ${r.startSeconds ? `${String(r.startSeconds)} s` : '0:00'}`;

/** Several runs of the same Jellyfin bench side by side: per run, each row's switch and the part it went into. */
const jellyfinRuns: Render<JellyfinFigures[]> = (files) => {
  const labels = [...new Set(files.flatMap((f) => f.results.map(playLabel)))];
  const rows = files.map((f, run) => [
    String(run + 1),
    // The grid the model's rows ran on: HLS_SEGMENT_TIME's default with a model changed from 2 s to 1 s.
    fixed(modelGrid(f), 0, ' s'),
    ...labels.map((l) => {
      const r = f.results.find((result) => playLabel(result) === l);
      if (!r || r.switchSeconds === null) return r ? 'no switch' : DASH;
      return `${seconds(r.switchSeconds)} (${fixed(r.switchedIntoFromSeconds ?? null, 0, ' s')})`;
    }),
  ]);
  return `${runsMeasuredBy(files)}\n\nPlay → upscaled picture (where the part switched into starts):\n\n`
    + table(['run', 'model\'s segments', ...labels], rows, ['right', 'right', ...labels.map(() => 'right' as const)]);
};

/**
 * What led to each switch (SwitchResult.timeline), run by run: the speed the part was planned
 * from (the earlier title's, made alone), the viewed title's own start to its first segment
 * (Chromium beside it), where the part started, when its first segments were
 * made and the rate the status gave between the first and the second, the rate beside Chromium
 * after, the switch, and the best part start known afterwards (tests/browser/switch-hindsight.ts).
 * All in seconds after play.
 */
const jellyfinTimeline: Render<JellyfinFigures[]> = (files) => {
  const rows = files.flatMap((f) => f.results.flatMap((r) => {
    const t = r.timeline;
    if (!t) return [];
    const [first, second, third] = t.made;
    const last = t.made[t.made.length - 1];
    const at = (x: { afterPlaySeconds: number | null } | undefined) => x?.afterPlaySeconds ?? NaN;
    // Between the first segment and the second (from 0.3 s after the first, by when the status has it): what it said the rate was.
    const early = t.rates.filter((x) => at(x) > at(first) + 0.3 && at(x) < at(second));
    const earlyRate = early.length > 0 ? early[early.length - 1]!.rate : undefined;
    // From the second segment to the last listed: content made per second of wall time.
    const after = second && last && last !== second ? ((last.startSeconds ?? NaN) - (second.startSeconds ?? NaN)) / (at(last) - at(second)) : null;
    const best = replayable(t) ? hindsightSwitch(t) : null;
    return [[
      `\`${(f.commit ?? '').slice(0, 7)}\``, playLabel(r),
      t.earlierSpeed ? `${seconds(t.earlierSpeed.firstSegmentSeconds)}, ${rate(t.earlierSpeed.rate)}` : DASH,
      seconds(t.firstSegmentFromStreamStart),
      fixed(r.madeFromSeconds ?? null, 0, ' s'), seconds(first?.afterPlaySeconds), seconds(second?.afterPlaySeconds), seconds(third?.afterPlaySeconds),
      earlyRate === undefined ? DASH : earlyRate === null ? 'none' : rate(earlyRate), rate(after),
      // A part moved on: when, and from where to where (from the job's events; files from before the bench read them have none).
      t.moves === undefined ? DASH : t.moves.length === 0 ? 'none' : t.moves.map((m) => `${seconds(m.afterPlaySeconds)}: ${fixed(m.fromSeconds, 0, ' s')} → ${fixed(m.toSeconds, 0, ' s')}`).join(', '),
      r.switchSeconds === null ? 'no switch' : `${seconds(r.switchSeconds)} (${fixed(r.switchedIntoFromSeconds ?? null, 0, ' s')})`,
      best ? `${seconds(best.switchSeconds)} (${fixed(best.startSeconds, 0, ' s')})` : DASH,
      keptAfterMove(r),
    ]];
  }));
  return `${files.map((f) => measuredBy(f)).join('\n')}\n\n`
    + table(['commit', 'play', 'planned from (first segment, rate)', 'its own first segment', 'part from', '1st segment', '2nd', '3rd', 'status rate after the 1st', 'rate after', 'part moved', 'switch (part from)', 'best start, known after', 'part kept, known after'], rows,
      ['left', 'left', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right']);
};

/**
 * A moved part's switch had it been kept (`keptPartSwitch`), for the timeline table; "another
 * model" where rate control had stepped the title down by the moved part's segments, whose pace
 * then says nothing of the model the kept part was made with.
 */
function keptAfterMove(r: Read<SwitchResult>): string {
  const t = r.timeline;
  if (!t || (t.moves ?? []).length === 0 || !replayable(t)) return DASH;
  if (r.modelAtSwitch && r.modelAtSwitch !== upscalerName(r)) return 'another model';
  return seconds(keptPartSwitch(t));
}

/**
 * The model Upflow made where each S row's watch ended, run by run: how many rows stepped the
 * title down (the job's events, recorded since the bench read them), how many ended on their own
 * model, and how many watched a rate above 2x at the end, which S alone does not reach on this
 * machine and Lanczos does (about 3x): the sign of a step-down in files from before.
 */
const jellyfinModelAtEnd: Render<JellyfinFigures[]> = (files) => {
  const aboveTwice = (r: Read<SwitchResult>) => isNumber(r.upscaleRate) && r.upscaleRate > 2;
  const rows = files.map((f, run) => {
    const model = f.results.filter((r) => upscalerName(r) !== 'ffmpeg');
    const recorded = model.every((r) => r.stepDowns !== undefined);
    const count = (keep: (r: Read<SwitchResult>) => boolean) => String(model.filter(keep).length);
    return [String(run + 1), String(model.length),
      recorded ? count((r) => (r.stepDowns ?? []).length > 0) : DASH,
      // b938cec's run read no model where a watch reached the clip's end (mended at 6d704e3).
      recorded ? `${count((r) => r.modelAtEnd === upscalerName(r))}${model.some((r) => !r.modelAtEnd) ? ` (${count((r) => !r.modelAtEnd)} not read)` : ''}` : DASH,
      count(aboveTwice)];
  });
  return `${runsMeasuredBy(files)}\n\n`
    + table(['run', 'rows with a model', 'stepped down', 'ended on their model', 'rate above 2x at the end'], rows, ['right', 'right', 'right', 'right', 'right']);
};

/** A set of switches (Infinity: none) as the summaries count them: how many, within 5 s, within 5.2 s, the median of those that came. */
function switchCounts(switches: readonly number[]): string[] {
  const within = (limit: number) => String(switches.filter((x) => x <= limit).length);
  return [String(switches.length), within(5), within(5.2), seconds(median(switches))];
}

/**
 * The runs together: per upscaler and grid, how many rows switched within the issue's 5 s (and
 * within 5.2 s), the median (of the rows that switched) and the range; the counts the docs'
 * prose would otherwise type. And the median time from the moment the script's rule held to the
 * picture (`switchAfterRule`: its poll or its own timer, the request, the new source), over
 * the rows whose part was not moved.
 */
const jellyfinSummary: Render<JellyfinFigures[]> = (files) => {
  const groups = new Map<string, { upscaler: string; grid: number | null | undefined; switches: number[]; afterRule: number[] }>();
  for (const f of files) {
    for (const r of f.results) {
      const key = `${upscalerName(r)} ${String(r.segmentSeconds)}`;
      const group = groups.get(key) ?? { upscaler: upscalerName(r), grid: r.segmentSeconds, switches: [], afterRule: [] };
      group.switches.push(r.switchSeconds ?? Infinity);
      const afterRule = replayableRow(r) ? switchAfterRule(r) : null;
      if (afterRule !== null) group.afterRule.push(afterRule);
      groups.set(key, group);
    }
  }
  const rows = [...groups.values()].map(({ upscaler, grid, switches, afterRule }) => {
    const finite = switches.filter(Number.isFinite).sort((a, b) => a - b);
    return [upscaler, fixed(grid ?? null, 0, ' s'), ...switchCounts(switches),
      finite.length > 0 ? `${seconds(finite[0])}–${seconds(finite[finite.length - 1])}` : DASH,
      afterRule.length > 0 ? seconds(median(afterRule)) : DASH];
  });
  return `${files.map((f) => measuredBy(f)).join('\n')}\n\n`
    + table(['upscaler', 'segments of', 'rows', 'switched within 5 s', 'within 5.2 s', 'median', 'range', 'rule → picture (median)'], rows, ['left', 'right', 'right', 'right', 'right', 'right', 'right', 'right']);
};

/** Where a switch's first seconds went, in runs that recorded when the job was registered and its stream started; a row per play, by run. */
const jellyfinStartUp: Render<JellyfinFigures[]> = (files) => {
  const rows = files.flatMap((f) => f.results.flatMap((r) => {
    const t = r.timeline;
    if (!t || t.registeredAfterPlaySeconds === undefined) return [];
    return [[
      `\`${(f.commit ?? DASH).slice(0, 7)}\``, playLabel(r),
      seconds(t.playing?.afterPlaySeconds), seconds(t.registeredAfterPlaySeconds), seconds(t.streamStartedAfterPlaySeconds), seconds(t.made[0]?.afterPlaySeconds),
      r.switchSeconds === null ? 'no switch' : seconds(r.switchSeconds),
    ]];
  }));
  return `${files.map((f) => measuredBy(f)).join('\n')}\n\n`
    + table(['run', 'play', 'picture moving', 'job registered', 'stream started', '1st segment', 'switch'], rows, ['left', 'left', 'right', 'right', 'right', 'right', 'right']);
};

/** How much slower than the earlier title the plan is replayed at: the own speed's margin, the earlier titles', and either side. */
const REPLAYED_SLOWER = [PLAN_SLOWER, 1.35, PLAN_SLOWER_FROM_EARLIER_TITLES, 1.75];

/**
 * The plan replayed at several margins over every row with an earlier speed and a recorded
 * making (tests/browser/switch-hindsight.ts `replayedPlan`): the switch is the moment the
 * script's rule would hold plus the runs' median time from that moment to the picture.
 */
const jellyfinPlanReplay: Render<JellyfinFigures[]> = (files) => {
  const results = files.flatMap((f) => f.results).filter(replayableRow);
  const after = median(results.flatMap((r) => { const gap = switchAfterRule(r); return gap === null ? [] : [gap]; }));
  // Each row's plan replayed once at each margin, in REPLAYED_SLOWER's order.
  const replays = results.map((r) => ({ r, byMargin: REPLAYED_SLOWER.map((slowerBy) => replayedPlan(r, slowerBy)) }));
  const upscalers = [...new Set(results.map(upscalerName))];
  const rows = upscalers.flatMap((upscaler) => REPLAYED_SLOWER.map((slowerBy, margin) => {
    const switches = replays.filter(({ r }) => upscalerName(r) === upscaler).flatMap(({ byMargin }) => {
      const replay = byMargin[margin];
      if (!replay) return [];
      return [replay.ruleHoldsSeconds === null ? Infinity : replay.ruleHoldsSeconds + after];
    });
    const label = slowerBy === PLAN_SLOWER ? `${String(slowerBy)} (this title's speed)` : slowerBy === PLAN_SLOWER_FROM_EARLIER_TITLES ? `${String(slowerBy)} (earlier titles' speed)` : String(slowerBy);
    return [upscaler, label, ...switchCounts(switches), String(switches.filter((x) => !Number.isFinite(x)).length)];
  }));
  // How faithful the replay is: where the replayed plan at the runs' own margin put the part, against where the run did.
  const ownMargin = REPLAYED_SLOWER.indexOf(PLAN_SLOWER);
  const replayedAtOwnMargin = replays.flatMap(({ r, byMargin }) => {
    const replay = byMargin[ownMargin];
    const partFrom = r.timeline?.moves?.[0]?.fromSeconds ?? r.timeline?.made[0]?.startSeconds;
    return replay && partFrom !== undefined ? [Math.abs(replay.startSeconds - partFrom) < 1e-6] : [];
  });
  return `${files.map((f) => measuredBy(f)).join('\n')}\n\n`
    + `Each row with an earlier title's speed and a recorded making; from the rule holding to the picture: ${seconds(after)} (the median of the runs' own parts). `
    + `Replayed at 1.25, the plan put the part where the run did in ${String(replayedAtOwnMargin.filter(Boolean).length)} rows of ${String(replayedAtOwnMargin.length)} `
    + '(the viewer\'s position when the plan ran and the polls of older runs differ a little): compare the margins with each other, not with the runs.\n\n'
    + table(['upscaler', 'planned as if slower by', 'rows', 'switched within 5 s', 'within 5.2 s', 'median', 'no switch within the recorded segments'], rows, ['left', 'left', 'right', 'right', 'right', 'right', 'right']);
};

/** Every table the docs may hold, by marker name: `<figures file>` or `<figures file>#<part>`. */
// The figures files are JSON read back: their shape is the writer's type, checked by the writer.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const TABLES: Record<string, Render<any>> = {
  'bench/models': modelsTable,
  'bench/profile': profileTable,
  'bench/encoder': encoderTable,
  // The same measurements on a CPU with VNNI, where int8 was expected to pay.
  'bench/models-vnni': modelsTable,
  'bench/profile-vnni': profileTable,
  'bench/models-s-seg2a+bench/models-s-seg1a+bench/models-s-seg2b+bench/models-s-seg1b#segment-length': modelsRuns,
  'bench/models-vnni-s-run1+bench/models-vnni-s-run2#runs': modelsRuns,
  // S and M since x264 looks 3 frames ahead with a model.
  'bench/models-lookahead3-run1+bench/models-lookahead3-run2#runs': modelsRuns,
  // Anime4K M at three x264 presets: whether a faster encoder would bring M to real time.
  'bench/models-m-preset-veryfast+bench/models-m-preset-superfast+bench/models-m-preset-ultrafast#presets': modelsByPreset,
  // M's last layer summed per layer against its Concat (c530ca6), in turns.
  'bench/models-m-concat-run1+bench/models-m-sums-run1+bench/models-m-concat-run2+bench/models-m-sums-run2+bench/models-m-concat-run3+bench/models-m-sums-run3+bench/models-m-concat-run4+bench/models-m-sums-run4+bench/models-m-concat-run5+bench/models-m-sums-run5#last-layer': modelsLastLayer,
  'bench/profile-vnni-run1+bench/profile-vnni-run2+bench/profile-vnni-run3#runs': profileRuns,
  // Each stage's CPU time a frame against the cores (d93cae2 on): the table, then S and M three times more.
  'bench/models-vnni-d93cae2': modelsTable,
  'bench/models-vnni-d93cae2+bench/models-cores-run1+bench/models-cores-run2+bench/models-cores-run3#cores': modelsCores,
  // x264 on one thread beside the model against x264's choice, in turns (UPFLOW_ENCODER_THREADS).
  'bench/models-x264-auto-1+bench/models-x264-one-1+bench/models-x264-auto-2+bench/models-x264-one-2#cores': modelsCores,
  // Every run at the default settings since the stages' CPU time was measured, set against the targets.
  'bench/models-vnni-d93cae2+bench/models-cores-run1+bench/models-cores-run2+bench/models-cores-run3+bench/models-x264-auto-1+bench/models-x264-auto-2+bench/models-0cd5457+bench/models-targets-run1+bench/models-targets-run2+bench/models-targets-run3+bench/models-722834c+bench/models#targets': modelsTargets,
  // L in fp32 against int8 on a CPU with VNNI, in turns: why `auto` runs L in int8 there.
  'bench/models-l-int8-run1+bench/models-l-int8-run2+bench/models-l-int8-run3#runs': modelsRuns,
  // L in int8 on yuv420p frames (b94a382) against on gbrp (fba414b), in turns.
  'bench/models-l-int8-yuv-run1+bench/models-l-int8-gbrp-run1+bench/models-l-int8-yuv-run2+bench/models-l-int8-gbrp-run2+bench/models-l-int8-yuv-run3+bench/models-l-int8-gbrp-run3': modelsFramesRuns,
  // The graphs the streams run (M's and L's yuv420p ones) profiled.
  'bench/profile-vnni-yuv420p': profileTable,
  // Every graph as its stream runs it since int8 has yuv420p graphs (b94a382).
  'bench/profile-vnni-int8-yuv420p': profileTable,
  // x264's presets at a model's lookahead: what a faster one gives back to the model, and its bytes.
  'bench/encoder-presets': encoderPresets,
  // x264's B-frames placed by its analysis or fixed, beside a model, in three runs.
  'bench/encoder-bframes-run1+bench/encoder-bframes-run2+bench/encoder-bframes-run3': encoderBFrames,
  'bench/grid#trigger': gridTrigger,
  'bench/grid#slots': gridSlots,
  // The same part at 1 s segments: what the shorter segment costs a whole title.
  'bench/grid-1s-slots': gridSlots,
  'bench/grid#start-cost': gridStartCost,
  'bench/grid#scaling': gridScaling,
  'bench/grid-1s+bench/grid-2s+bench/grid-3s#segment-length': segmentLength,
  'bench/quality': qualityTable,
  'bench/quality#precision': qualityPrecision,
  'bench/quality#precision-yuv420p': qualityPrecisionYuv420p,
  'bench/load#endpoints': loadEndpoints,
  'bench/load#stream': loadStream,
  'bench/crash-resume': crashResume,
  'bench/restarts': restarts,
  'bench/bad-input': badInput,
  'bench/jellyfin': jellyfinSwitch,
  'bench/jellyfin-cold': jellyfinSwitch,
  // The same bench with the script switching on one segment ahead (commit a888551), kept to compare.
  'bench/jellyfin-min-buffered-2': jellyfinSwitch,
  // The same bench at the commit before a new install's first title moved its viewer (kept to compare).
  'bench/jellyfin-cold-before': jellyfinSwitch,
  // S and L (int8 on yuv420p under auto here) in one run: what L's pace does to the switch.
  'bench/jellyfin-sl-09083ff': jellyfinSwitch,
  // Every full run since the frames went on yuv420p: how much one run tells, and what each change since did.
  'bench/jellyfin-2d06b7c+bench/jellyfin-19ac723+bench/jellyfin-19ac723b+bench/jellyfin-87a52d8+bench/jellyfin-d7c9aec+bench/jellyfin-f094a11+bench/jellyfin-915c4ac+bench/jellyfin+bench/jellyfin-0875475+bench/jellyfin-1f8e5c6+bench/jellyfin-89c5784+bench/jellyfin-a7d9e7b+bench/jellyfin-448eb1b#runs': jellyfinRuns,
  // Every run with a timeline, S alone or the whole bench: why each switch came when it did.
  'bench/jellyfin-s-66d60f4+bench/jellyfin-s-f33caa9+bench/jellyfin-s-7461858+bench/jellyfin-08cadb8+bench/jellyfin-87a52d8+bench/jellyfin-08b40c5+bench/jellyfin-s-d7c9aec+bench/jellyfin-d7c9aec+bench/jellyfin-f094a11+bench/jellyfin-915c4ac+bench/jellyfin-s-132decd+bench/jellyfin-s-a3425a2+bench/jellyfin-s-9099f12+bench/jellyfin+bench/jellyfin-s-1aef70c+bench/jellyfin-s-4e8f0cb+bench/jellyfin-s-7f8a3fd+bench/jellyfin-s-12a4d90+bench/jellyfin-s-9ff775b+bench/jellyfin-s-3698b5a+bench/jellyfin-s-3698b5a-b+bench/jellyfin-s-3698b5a-c+bench/jellyfin-s-f5b5415+bench/jellyfin-s-f5b5415-b+bench/jellyfin-s-f5b5415-c+bench/jellyfin-s-f5b5415-d+bench/jellyfin-0875475+bench/jellyfin-s-0875475+bench/jellyfin-s-0875475-b+bench/jellyfin-s-b938cec+bench/jellyfin-s-6d704e3+bench/jellyfin-s-6d704e3-b+bench/jellyfin-s-6d704e3-c+bench/jellyfin-1f8e5c6+bench/jellyfin-s-fc12ba0+bench/jellyfin-s-fc12ba0-b+bench/jellyfin-s-f6e2210+bench/jellyfin-89c5784+bench/jellyfin-s-5dd70d1+bench/jellyfin-a7d9e7b+bench/jellyfin-448eb1b+bench/jellyfin-s-448eb1b+bench/jellyfin-s-448eb1b-b+bench/jellyfin-s-448eb1b-c#timeline': jellyfinTimeline,
  // The runs on the 1 s grid of a model together: how often S switched within 5 s.
  'bench/jellyfin-f094a11+bench/jellyfin-915c4ac+bench/jellyfin+bench/jellyfin-s-132decd+bench/jellyfin-s-a3425a2+bench/jellyfin-s-9099f12+bench/jellyfin-s-1aef70c+bench/jellyfin-s-4e8f0cb+bench/jellyfin-s-7f8a3fd+bench/jellyfin-s-12a4d90+bench/jellyfin-s-9ff775b+bench/jellyfin-s-3698b5a+bench/jellyfin-s-3698b5a-b+bench/jellyfin-s-3698b5a-c+bench/jellyfin-s-f5b5415+bench/jellyfin-s-f5b5415-b+bench/jellyfin-s-f5b5415-c+bench/jellyfin-s-f5b5415-d+bench/jellyfin-0875475+bench/jellyfin-s-0875475+bench/jellyfin-s-0875475-b+bench/jellyfin-s-b938cec+bench/jellyfin-s-6d704e3+bench/jellyfin-s-6d704e3-b+bench/jellyfin-s-6d704e3-c+bench/jellyfin-1f8e5c6+bench/jellyfin-s-fc12ba0+bench/jellyfin-s-fc12ba0-b+bench/jellyfin-s-f6e2210+bench/jellyfin-89c5784+bench/jellyfin-s-5dd70d1+bench/jellyfin-a7d9e7b+bench/jellyfin-448eb1b+bench/jellyfin-s-448eb1b+bench/jellyfin-s-448eb1b-b+bench/jellyfin-s-448eb1b-c#summary': jellyfinSummary,
  // The runs since x264 looks 3 frames ahead with a model (7f8a3fd), on their own.
  'bench/jellyfin-s-7f8a3fd+bench/jellyfin-s-12a4d90+bench/jellyfin-s-9ff775b#summary': jellyfinSummary,
  // The runs since earlier titles' speed is planned half again as slow (3698b5a), on their own.
  'bench/jellyfin-s-3698b5a+bench/jellyfin-s-3698b5a-b+bench/jellyfin-s-3698b5a-c#summary': jellyfinSummary,
  // The runs since the script switches a tenth of a second into a part, on the viewer's arrival (f5b5415, 0875475), on their own.
  'bench/jellyfin-s-f5b5415+bench/jellyfin-s-f5b5415-b+bench/jellyfin-s-f5b5415-c+bench/jellyfin-s-f5b5415-d+bench/jellyfin-0875475+bench/jellyfin-s-0875475+bench/jellyfin-s-0875475-b#summary': jellyfinSummary,
  // The runs since rate control judges 8 s of content (b938cec), on their own.
  'bench/jellyfin-s-b938cec+bench/jellyfin-s-6d704e3+bench/jellyfin-s-6d704e3-b+bench/jellyfin-s-6d704e3-c+bench/jellyfin-1f8e5c6+bench/jellyfin-s-fc12ba0+bench/jellyfin-s-fc12ba0-b+bench/jellyfin-s-f6e2210+bench/jellyfin-89c5784+bench/jellyfin-s-5dd70d1+bench/jellyfin-a7d9e7b+bench/jellyfin-448eb1b+bench/jellyfin-s-448eb1b+bench/jellyfin-s-448eb1b-b+bench/jellyfin-s-448eb1b-c#summary': jellyfinSummary,
  // The runs since a stepped-down title tries its better model again (5dd70d1), on their own.
  'bench/jellyfin-s-5dd70d1+bench/jellyfin-a7d9e7b+bench/jellyfin-448eb1b+bench/jellyfin-s-448eb1b+bench/jellyfin-s-448eb1b-b+bench/jellyfin-s-448eb1b-c#summary': jellyfinSummary,
  // Every run on the 1 s grid of a model: what its watches ended on, and how often rate control stepped S down.
  'bench/jellyfin-f094a11+bench/jellyfin-915c4ac+bench/jellyfin+bench/jellyfin-s-132decd+bench/jellyfin-s-a3425a2+bench/jellyfin-s-9099f12+bench/jellyfin-s-1aef70c+bench/jellyfin-s-4e8f0cb+bench/jellyfin-s-7f8a3fd+bench/jellyfin-s-12a4d90+bench/jellyfin-s-9ff775b+bench/jellyfin-s-3698b5a+bench/jellyfin-s-3698b5a-b+bench/jellyfin-s-3698b5a-c+bench/jellyfin-s-f5b5415+bench/jellyfin-s-f5b5415-b+bench/jellyfin-s-f5b5415-c+bench/jellyfin-s-f5b5415-d+bench/jellyfin-0875475+bench/jellyfin-s-0875475+bench/jellyfin-s-0875475-b+bench/jellyfin-s-b938cec+bench/jellyfin-s-6d704e3+bench/jellyfin-s-6d704e3-b+bench/jellyfin-s-6d704e3-c+bench/jellyfin-1f8e5c6+bench/jellyfin-s-fc12ba0+bench/jellyfin-s-fc12ba0-b+bench/jellyfin-s-f6e2210+bench/jellyfin-89c5784+bench/jellyfin-s-5dd70d1+bench/jellyfin-a7d9e7b+bench/jellyfin-448eb1b+bench/jellyfin-s-448eb1b+bench/jellyfin-s-448eb1b-b+bench/jellyfin-s-448eb1b-c#model-at-end': jellyfinModelAtEnd,
  // Where the first seconds of a switch went (the job registered, its stream started).
  'bench/jellyfin-s-4e8f0cb+bench/jellyfin-s-7f8a3fd+bench/jellyfin-s-12a4d90+bench/jellyfin-s-9ff775b#start-up': jellyfinStartUp,
  // The runs on the 1 s grid, their plans replayed at several margins: why earlier titles' speed is planned half again as slow.
  'bench/jellyfin-f094a11+bench/jellyfin-915c4ac+bench/jellyfin+bench/jellyfin-s-132decd+bench/jellyfin-s-a3425a2+bench/jellyfin-s-9099f12+bench/jellyfin-s-1aef70c+bench/jellyfin-s-4e8f0cb+bench/jellyfin-s-7f8a3fd+bench/jellyfin-s-12a4d90+bench/jellyfin-s-9ff775b#plan-replay': jellyfinPlanReplay,
};

/** How each figures file is made again, for the message when one is missing. */
const MADE_BY: Record<string, string> = {
  'bench/models': 'npm run bench -- --only models',
  'bench/profile': 'npm run bench -- --only profile --size 360p --precision fp32 int8 fp16',
  'bench/encoder': 'npm run bench -- --only encoder',
  'bench/models-s-seg2a': 'HLS_SEGMENT_TIME=2 npm run bench -- --only models --size 360p --seconds 20 --model anime4k-s-an --precision fp32 --models-json docs/bench/models-s-seg2a.json',
  'bench/models-s-seg1a': 'HLS_SEGMENT_TIME=1 npm run bench -- --only models --size 360p --seconds 20 --model anime4k-s-an --precision fp32 --models-json docs/bench/models-s-seg1a.json',
  'bench/models-s-seg2b': 'the seg2a run again, into docs/bench/models-s-seg2b.json',
  'bench/models-s-seg1b': 'the seg1a run again, into docs/bench/models-s-seg1b.json',
  'bench/models-vnni-s-run1': 'npm run bench -- --only models --size 360p --seconds 10 --model anime4k-s-an --precision fp32 int8 --models-json docs/bench/models-vnni-s-run1.json, on a CPU with VNNI',
  'bench/models-vnni-s-run2': 'the same again, into docs/bench/models-vnni-s-run2.json',
  'bench/models-lookahead3-run1': 'npm run bench -- --only models --size 360p --seconds 10 --model anime4k-s-an anime4k-m-an --precision fp32 --models-json docs/bench/models-lookahead3-run1.json, on a CPU with VNNI',
  'bench/models-lookahead3-run2': 'the same again, into docs/bench/models-lookahead3-run2.json',
  'bench/models-m-preset-veryfast': 'SRGAN_FFMPEG_PRESET=veryfast npm run bench -- --only models --size 360p --seconds 10 --model anime4k-m-an --precision fp32 --models-json docs/bench/models-m-preset-veryfast.json, on a CPU with VNNI',
  'bench/models-m-preset-superfast': 'the same with SRGAN_FFMPEG_PRESET=superfast, into docs/bench/models-m-preset-superfast.json',
  'bench/models-m-preset-ultrafast': 'the same with SRGAN_FFMPEG_PRESET=ultrafast, into docs/bench/models-m-preset-ultrafast.json',
  'bench/models-m-concat-run1': 'UPFLOW_CACHE_DIR=<a cache whose models were built for blocks of 8> node bin/upflow.js bench --only models --size 360p --seconds 10 --model anime4k-m-an --precision fp32 --models-json docs/bench/models-m-concat-run1.json (and run2 to run5), in turns with the runs below',
  'bench/models-m-concat-run2': 'as models-m-concat-run1',
  'bench/models-m-concat-run3': 'as models-m-concat-run1',
  'bench/models-m-concat-run4': 'as models-m-concat-run1',
  'bench/models-m-concat-run5': 'as models-m-concat-run1',
  'bench/models-m-sums-run1': 'node bin/upflow.js bench --only models --size 360p --seconds 10 --model anime4k-m-an --precision fp32 --models-json docs/bench/models-m-sums-run1.json (and run2 to run5) on a CPU with AVX-512, in turns with the runs above',
  'bench/models-m-sums-run2': 'as models-m-sums-run1',
  'bench/models-m-sums-run3': 'as models-m-sums-run1',
  'bench/models-m-sums-run4': 'as models-m-sums-run1',
  'bench/models-m-sums-run5': 'as models-m-sums-run1',
  'bench/profile-vnni-run1': 'npm run bench -- --only profile --size 360p --model anime4k-s-an anime4k-m-an anime4k-l-an --precision fp32 int8 --profile-json docs/bench/profile-vnni-run1.json, on a CPU with VNNI',
  'bench/profile-vnni-run2': 'the same again, into docs/bench/profile-vnni-run2.json',
  'bench/profile-vnni-run3': 'the same again, into docs/bench/profile-vnni-run3.json',
  'bench/models-vnni': 'npm run bench -- --only models --size 360p --seconds 10 --precision fp32 int8 fp16 --models-json docs/bench/models-vnni.json, on a CPU with VNNI',
  'bench/models-vnni-d93cae2': 'npm run bench -- --only models --size 360p --seconds 10 --models-json docs/bench/models-vnni-d93cae2.json, on a CPU with VNNI',
  'bench/models-cores-run1': 'npm run bench -- --only models --size 360p --seconds 10 --model anime4k-s-an anime4k-m-an --models-json docs/bench/models-cores-run1.json, after the models-vnni-d93cae2 run',
  'bench/models-cores-run2': 'the same again, into docs/bench/models-cores-run2.json',
  'bench/models-cores-run3': 'the same again, into docs/bench/models-cores-run3.json',
  'bench/models-x264-auto-1': 'npm run bench -- --only models --size 360p --seconds 10 --model anime4k-s-an anime4k-m-an --models-json docs/bench/models-x264-auto-1.json',
  'bench/models-x264-one-1': 'UPFLOW_ENCODER_THREADS=1 and the same, into docs/bench/models-x264-one-1.json',
  'bench/models-x264-auto-2': 'the auto-1 run again, into docs/bench/models-x264-auto-2.json',
  'bench/models-x264-one-2': 'the one-1 run again, into docs/bench/models-x264-one-2.json',
  'bench/models-l-int8-run1': 'npm run bench -- --only models --size 360p --seconds 10 --model anime4k-l-an --precision fp32 int8 --models-json docs/bench/models-l-int8-run1.json, on a CPU with VNNI',
  'bench/models-l-int8-run2': 'the same again, into docs/bench/models-l-int8-run2.json',
  'bench/models-l-int8-run3': 'the same again, into docs/bench/models-l-int8-run3.json',
  'bench/profile-vnni-int8-yuv420p': 'npm run bench -- --only profile --size 360p --precision fp32 int8 fp16 --profile-json docs/bench/profile-vnni-int8-yuv420p.json, on a CPU with VNNI',
  'bench/jellyfin-sl-09083ff': 'npm run bench:jellyfin -- --upscalers anime4k-s-an,anime4k-l-an --json-file docs/bench/jellyfin-sl-09083ff.json, on a CPU with VNNI',
  'bench/models-l-int8-yuv-run1': 'npm run bench -- --only models --size 360p --seconds 10 --model anime4k-l-an --precision fp32 int8 --models-json docs/bench/models-l-int8-yuv-run1.json at 01b42cb, on a CPU with VNNI',
  'bench/models-l-int8-gbrp-run1': 'the same at fba414b (int8 streams on gbrp frames; UPFLOW_CACHE_DIR of its own for its model files), into docs/bench/models-l-int8-gbrp-run1.json',
  'bench/models-l-int8-yuv-run2': 'the same as models-l-int8-yuv-run1 again, into docs/bench/models-l-int8-yuv-run2.json',
  'bench/models-l-int8-gbrp-run2': 'the same as models-l-int8-gbrp-run1 again, into docs/bench/models-l-int8-gbrp-run2.json',
  'bench/models-l-int8-yuv-run3': 'the same as models-l-int8-yuv-run1 again, into docs/bench/models-l-int8-yuv-run3.json',
  'bench/models-l-int8-gbrp-run3': 'the same as models-l-int8-gbrp-run1 again, into docs/bench/models-l-int8-gbrp-run3.json',
  'bench/models-0cd5457': 'npm run bench -- --only models --size 360p --seconds 10 --precision fp32 int8 fp16 --models-json docs/bench/models-0cd5457.json (it wrote docs/bench/models.json, since moved here)',
  'bench/models-targets-run1': 'npm run bench -- --only models --size 360p --seconds 10 --model anime4k-s-an anime4k-m-an --models-json docs/bench/models-targets-run1.json',
  'bench/models-targets-run2': 'the same again, into docs/bench/models-targets-run2.json',
  'bench/models-targets-run3': 'the same again, into docs/bench/models-targets-run3.json',
  'bench/models-722834c': 'npm run bench -- --only models --size 360p --seconds 10 --precision fp32 int8 fp16 (it wrote docs/bench/models.json, since moved here)',
  'bench/encoder-bframes-run1': 'npm run bench -- --only encoder --encoder-compare b-frames --encoder-json docs/bench/encoder-bframes-run1.json',
  'bench/encoder-bframes-run2': 'the same again, into docs/bench/encoder-bframes-run2.json',
  'bench/encoder-bframes-run3': 'the same again, into docs/bench/encoder-bframes-run3.json',
  'bench/encoder-presets': 'npm run bench -- --only encoder --encoder-compare preset --encoder-json docs/bench/encoder-presets.json',
  'bench/profile-vnni-yuv420p': 'npm run bench -- --only profile --size 360p --profile-json docs/bench/profile-vnni-yuv420p.json, on a CPU with VNNI',
  'bench/profile-vnni': 'npm run bench -- --only profile --size 360p --precision fp32 int8 fp16 --profile-json docs/bench/profile-vnni.json, on a CPU with VNNI',
  'bench/grid': 'npm run bench -- --only grid',
  'bench/grid-1s': 'HLS_SEGMENT_TIME=1 npm run bench -- --only grid --grid-parts trigger --grid-json docs/bench/grid-1s.json',
  'bench/grid-2s': 'HLS_SEGMENT_TIME=2 npm run bench -- --only grid --grid-parts trigger --grid-json docs/bench/grid-2s.json',
  'bench/grid-3s': 'HLS_SEGMENT_TIME=3 npm run bench -- --only grid --grid-parts trigger --grid-json docs/bench/grid-3s.json',
  'bench/grid-1s-slots': 'HLS_SEGMENT_TIME=1 npm run bench -- --only grid --grid-parts slots --grid-json docs/bench/grid-1s-slots.json',
  'bench/quality': 'npx upflow quality',
  'bench/load': 'npm run bench:load',
  'bench/crash-resume': 'UPFLOW_RECORD_FIGURES=1 npx jest tests/e2e/crash-resume.test.ts',
  'bench/restarts': 'UPFLOW_RECORD_FIGURES=1 npx jest tests/e2e/restarts.test.ts',
  'bench/bad-input': 'UPFLOW_RECORD_FIGURES=1 npx jest tests/e2e/bad-input.test.ts',
  'bench/jellyfin': 'npm run bench:jellyfin',
  'bench/jellyfin-cold': 'npm run bench:jellyfin -- --cold --seconds 120 --upscalers anime4k-s-an --json-file docs/bench/jellyfin-cold.json',
  'bench/jellyfin-cold-before': 'the same at commit 4bedd4b, with --json-file docs/bench/jellyfin-cold-before.json',
  'bench/jellyfin-min-buffered-2': 'npm run bench:jellyfin at commit a888551 (minBufferedSeconds 2 by default), with --json-file docs/bench/jellyfin-min-buffered-2.json',
  'bench/jellyfin-2d06b7c': 'npm run bench:jellyfin at commit 2d06b7c, with --json-file docs/bench/jellyfin-2d06b7c.json',
  'bench/jellyfin-19ac723': 'npm run bench:jellyfin at commit 19ac723, with --json-file docs/bench/jellyfin-19ac723.json',
  'bench/jellyfin-19ac723b': 'npm run bench:jellyfin at commit 19ac723 again, with --json-file docs/bench/jellyfin-19ac723b.json',
  'bench/jellyfin-s-66d60f4': 'npm run bench:jellyfin -- --upscalers anime4k-s-an at commit 66d60f4, with --json-file docs/bench/jellyfin-s-66d60f4.json',
  'bench/jellyfin-s-f33caa9': 'npm run bench:jellyfin -- --upscalers anime4k-s-an at commit f33caa9, with --json-file docs/bench/jellyfin-s-f33caa9.json',
  'bench/jellyfin-s-7461858': 'npm run bench:jellyfin -- --upscalers anime4k-s-an at commit 7461858, with --json-file docs/bench/jellyfin-s-7461858.json',
  'bench/jellyfin-s-b938cec': 'npm run bench:jellyfin -- --upscalers anime4k-s-an at commit b938cec, with --json-file docs/bench/jellyfin-s-b938cec.json',
  'bench/jellyfin-s-6d704e3': 'npm run bench:jellyfin -- --upscalers anime4k-s-an at commit 6d704e3, with --json-file docs/bench/jellyfin-s-6d704e3.json',
  'bench/jellyfin-s-6d704e3-b': 'the same again, into docs/bench/jellyfin-s-6d704e3-b.json',
  'bench/jellyfin-s-6d704e3-c': 'the same again, into docs/bench/jellyfin-s-6d704e3-c.json',
  'bench/jellyfin-1f8e5c6': 'npm run bench:jellyfin at commit 1f8e5c6, with --json-file docs/bench/jellyfin-1f8e5c6.json',
  'bench/jellyfin-s-fc12ba0': 'npm run bench:jellyfin -- --upscalers anime4k-s-an at commit fc12ba0, with --json-file docs/bench/jellyfin-s-fc12ba0.json',
  'bench/jellyfin-s-fc12ba0-b': 'the same again, into docs/bench/jellyfin-s-fc12ba0-b.json',
  'bench/jellyfin-s-f6e2210': 'npm run bench:jellyfin -- --upscalers anime4k-s-an at commit f6e2210, with --json-file docs/bench/jellyfin-s-f6e2210.json',
  'bench/jellyfin-s-5dd70d1': 'npm run bench:jellyfin -- --upscalers anime4k-s-an at commit 5dd70d1, with --json-file docs/bench/jellyfin-s-5dd70d1.json',
  'bench/jellyfin-89c5784': 'npm run bench:jellyfin at commit 89c5784, with --json-file docs/bench/jellyfin-89c5784.json',
  'bench/jellyfin-a7d9e7b': 'npm run bench:jellyfin at commit a7d9e7b, with --json-file docs/bench/jellyfin-a7d9e7b.json',
  'bench/jellyfin-448eb1b': 'npm run bench:jellyfin at commit 448eb1b, with --json-file docs/bench/jellyfin-448eb1b.json',
  'bench/jellyfin-s-448eb1b': 'npm run bench:jellyfin -- --upscalers anime4k-s-an at commit 448eb1b, with --json-file docs/bench/jellyfin-s-448eb1b.json',
  'bench/jellyfin-s-448eb1b-b': 'the same again, into docs/bench/jellyfin-s-448eb1b-b.json',
  'bench/jellyfin-s-448eb1b-c': 'the same again, into docs/bench/jellyfin-s-448eb1b-c.json',
  'bench/jellyfin-08cadb8': 'npm run bench:jellyfin at commit 08cadb8, with --json-file docs/bench/jellyfin-08cadb8.json',
  'bench/jellyfin-08b40c5': 'npm run bench:jellyfin at commit 08b40c5, with --json-file docs/bench/jellyfin-08b40c5.json',
  'bench/jellyfin-87a52d8': 'npm run bench:jellyfin at commit 87a52d8, with --json-file docs/bench/jellyfin-87a52d8.json',
  'bench/jellyfin-d7c9aec': 'npm run bench:jellyfin at commit d7c9aec (2 s segments with a model), with --json-file docs/bench/jellyfin-d7c9aec.json',
  'bench/jellyfin-915c4ac': 'npm run bench:jellyfin at commit 915c4ac (a tenth-of-a-second poll near a switch), with --json-file docs/bench/jellyfin.json, kept as docs/bench/jellyfin-915c4ac.json',
  'bench/jellyfin-f094a11': 'npm run bench:jellyfin at commit f094a11 (1 s segments with a model, a quarter-second poll near a switch), with --json-file docs/bench/jellyfin-f094a11.json',
  'bench/jellyfin-s-132decd': 'npm run bench:jellyfin -- --upscalers anime4k-s-an at commit 132decd, with --json-file docs/bench/jellyfin-s-132decd.json',
  'bench/jellyfin-s-d7c9aec': 'npm run bench:jellyfin -- --upscalers anime4k-s-an at commit d7c9aec, with --json-file docs/bench/jellyfin-s-d7c9aec.json',
  'bench/jellyfin-s-a3425a2': 'npm run bench:jellyfin -- --upscalers anime4k-s-an at commit a3425a2 (a planned part moved when the title runs slower), with --json-file docs/bench/jellyfin-s-a3425a2.json',
  'bench/jellyfin-s-4e8f0cb': 'npm run bench:jellyfin -- --upscalers anime4k-s-an at commit 4e8f0cb (when the job was registered and its stream started), with --json-file docs/bench/jellyfin-s-4e8f0cb.json',
  'bench/jellyfin-s-7f8a3fd': 'npm run bench:jellyfin -- --upscalers anime4k-s-an at commit 7f8a3fd (x264 looks 3 frames ahead with a model), with --json-file docs/bench/jellyfin-s-7f8a3fd.json',
  'bench/jellyfin-s-12a4d90': 'npm run bench:jellyfin -- --upscalers anime4k-s-an at commit 12a4d90, with --json-file docs/bench/jellyfin-s-12a4d90.json',
  'bench/jellyfin-s-9ff775b': 'npm run bench:jellyfin -- --upscalers anime4k-s-an at commit 9ff775b, with --json-file docs/bench/jellyfin-s-9ff775b.json',
  'bench/jellyfin-s-3698b5a': 'npm run bench:jellyfin -- --upscalers anime4k-s-an at commit 3698b5a (the speed of earlier titles planned half again as slow), with --json-file docs/bench/jellyfin-s-3698b5a.json',
  'bench/jellyfin-s-3698b5a-b': 'the same again, into docs/bench/jellyfin-s-3698b5a-b.json',
  'bench/jellyfin-s-3698b5a-c': 'the same again, into docs/bench/jellyfin-s-3698b5a-c.json',
  'bench/jellyfin-s-f5b5415': 'npm run bench:jellyfin -- --upscalers anime4k-s-an at commit f5b5415 (the script switches 0.1 s into a part, on arrival), with --json-file docs/bench/jellyfin-s-f5b5415.json',
  'bench/jellyfin-s-f5b5415-b': 'the same again, into docs/bench/jellyfin-s-f5b5415-b.json',
  'bench/jellyfin-s-f5b5415-c': 'the same again, into docs/bench/jellyfin-s-f5b5415-c.json',
  'bench/jellyfin-s-f5b5415-d': 'the same again, into docs/bench/jellyfin-s-f5b5415-d.json',
  'bench/jellyfin-0875475': 'npm run bench:jellyfin at commit 0875475 (the script switches 0.1 s into a part, on arrival; both upscalers), with --json-file docs/bench/jellyfin-0875475.json',
  'bench/jellyfin-s-0875475': 'npm run bench:jellyfin -- --upscalers anime4k-s-an at commit 0875475, with --json-file docs/bench/jellyfin-s-0875475.json',
  'bench/jellyfin-s-0875475-b': 'the same again, into docs/bench/jellyfin-s-0875475-b.json',
  'bench/jellyfin-s-1aef70c': 'npm run bench:jellyfin -- --upscalers anime4k-s-an at commit 1aef70c (part moves read from the job), with --json-file docs/bench/jellyfin-s-1aef70c.json',
  'bench/jellyfin-s-9099f12': 'npm run bench:jellyfin -- --upscalers anime4k-s-an at commit 9099f12 (the kept part judged a tenth faster), with --json-file docs/bench/jellyfin-s-9099f12.json',
};

const MARKED_TABLE = /(<!-- table: ([\w/#+-]+) -->)[\s\S]*?(<!-- \/table -->)/g;

/** The figures files a marker names: `bench/grid#slots` → bench/grid; `bench/a+bench/b#t` → bench/a and bench/b. */
export function filesOf(name: string): string[] {
  return name.split('#')[0]!.split('+');
}

/**
 * The figures behind a marker name, read from `docsDir` (`bench/grid#slots` → docs/bench/grid.json);
 * a marker naming several files gets them as a list, in its order.
 */
export function readFigures(docsDir: string, name: string): unknown {
  const figures = filesOf(name).map((fileName) => {
    const file = path.join(docsDir, `${fileName}.json`);
    if (!fs.existsSync(file)) throw new Error(`${path.relative(process.cwd(), file)} is missing: run \`${MADE_BY[fileName] ?? '?'}\` to measure it`);
    return JSON.parse(fs.readFileSync(file, 'utf8')) as unknown;
  });
  return figures.length === 1 ? figures[0] : figures;
}

/** `markdown` with every marked table generated again from its figures. `where` names the page in errors. */
export function renderTables(markdown: string, figuresOf: (name: string) => unknown, where = 'the page'): string {
  return markdown.replace(MARKED_TABLE, (_all, open: string, name: string, close: string) => {
    const render = TABLES[name];
    if (!render) throw new Error(`${where}: no table named ${name} (known: ${Object.keys(TABLES).join(', ')})`);
    return `${open}\n${render(figuresOf(name))}\n${close}`;
  });
}

/** The marker names a page uses, in order. */
export function tablesIn(markdown: string): string[] {
  return [...markdown.matchAll(MARKED_TABLE)].map((m) => m[2]!);
}

export interface PageTables {
  file: string;
  before: string;
  after: string;
}

/** Every page of `docsDir` with tables, as it is and as the figures make it. Writes nothing. */
export function generatePages(docsDir = DOCS_DIR): PageTables[] {
  return fs.readdirSync(docsDir)
    .filter((name) => name.endsWith('.md'))
    .sort()
    .map((name) => {
      const file = path.join(docsDir, name);
      const before = fs.readFileSync(file, 'utf8');
      return { file, before, after: renderTables(before, (table) => readFigures(docsDir, table), name) };
    })
    .filter((page) => tablesIn(page.before).length > 0);
}

function main(): void {
  const check = process.argv.includes('--check');
  const stale: string[] = [];
  for (const page of generatePages()) {
    if (page.after === page.before) continue;
    stale.push(path.relative(process.cwd(), page.file));
    if (!check) fs.writeFileSync(page.file, page.after);
  }
  if (check && stale.length > 0) {
    process.stderr.write(`tables that differ from their figures in ${stale.join(', ')}: run \`npm run docs\`\n`);
    process.exit(1);
  }
  process.stdout.write(stale.length === 0 ? 'every table matches its figures\n' : `tables regenerated in ${stale.join(', ')}\n`);
}

if (require.main === module) main();
