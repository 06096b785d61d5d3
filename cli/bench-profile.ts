/**
 * `upflow bench --only profile`: where a frame's time goes inside each model, from
 * onnxruntime's own profiler: a frame of the bench size through one CPU session with one thread
 * (as each inference lane runs), in the graph a stream of the model runs (yuv420p or gbrp
 * frames, as the models bench's), the time of every node summed per operator. The figures go to
 * docs/bench/profile.json, from which the docs' table is generated (scripts/docs-tables.ts).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MODELS, type BenchSize, type FrameFormat, type ModelId, type Precision } from '../core/models';
import { streamFramesIn } from '../core/precision';
import { profileOperators, type OperatorTime } from '../adapters/onnx';
import { BENCH_INPUTS } from './bench';
import { builtModelFile } from '../models/build';
import { cliCommand, figuresFile, figuresHeader, writeFiguresFile, type FiguresHeader } from './figures-file';

export const DEFAULT_PROFILE_JSON = figuresFile('profile');
/** The models a profile looks into unless told: the Anime4K sizes and their fallback. */
export const DEFAULT_PROFILE_MODELS: ModelId[] = ['lanczos-x2', 'anime4k-s-an', 'anime4k-m-an', 'anime4k-l-an'];
/** One thread: what each of a CPU slot's lanes has (adapters/onnx.ts `inferenceLanesHere`). */
const PROFILE_THREADS = 1;

/** One operator type's time in a model's frame. */
export interface OperatorShare {
  op: string;
  /** Nodes of that operator in the optimised graph. */
  nodes: number;
  /** Milliseconds a frame. */
  ms: number;
}

export interface ModelProfile {
  model: ModelId;
  precision: Precision;
  /** The frames its graph takes (absent in files written before: gbrp). */
  frames?: FrameFormat;
  input: string;
  /** Milliseconds a frame in all, as onnxruntime timed each run. */
  frameMs: number;
  /** Each operator type, slowest first. */
  operators: OperatorShare[];
  /** Each node, slowest first. */
  nodes: OperatorTime[];
}

/** docs/bench/profile.json. */
export interface ProfileBenchReport extends FiguresHeader {
  settings: { size: BenchSize; runs: number; threads: number; precisions: Precision[] };
  results: ModelProfile[];
}

/** Nodes summed per operator type, slowest first. */
export function byOperator(nodes: readonly OperatorTime[]): OperatorShare[] {
  const shares = new Map<string, OperatorShare>();
  for (const n of nodes) {
    const share = shares.get(n.op) ?? { op: n.op, nodes: 0, ms: 0 };
    share.nodes += 1;
    share.ms += n.ms;
    shares.set(n.op, share);
  }
  return [...shares.values()].sort((a, b) => b.ms - a.ms);
}

/** Each model in each precision it is built in, one after the other. */
export async function profileBenchCommand(options: { models: readonly ModelId[]; size: BenchSize; runs: number; precisions: Precision[]; cacheDir: string; jsonFile: string; json: boolean }): Promise<ProfileBenchReport> {
  const header = await figuresHeader(cliCommand());
  const { width, height } = BENCH_INPUTS[options.size];
  const results: ModelProfile[] = [];
  const cases = options.precisions.flatMap((precision) => options.models.filter((model) => MODELS[model].precisions.includes(precision)).map((model) => ({ model, precision })));
  for (const { model, precision } of cases) {
    const frames = streamFramesIn(model, width, height, precision);
    if (!options.json) process.stderr.write(`bench profile: ${model} ${precision} on ${frames}, ${options.runs} frames of ${width}x${height}\n`);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'upflow-profile-'));
    try {
      const profile = await profileOperators({
        model: builtModelFile(options.cacheDir, model, precision, frames),
        threads: PROFILE_THREADS,
        cpuGraphOptimization: MODELS[model].cpuGraphOptimization,
        width,
        height,
        runs: options.runs,
        dir,
      });
      results.push({ model, precision, frames: profile.frames, input: `${width}x${height}`, frameMs: profile.runMs, operators: byOperator(profile.operators), nodes: profile.operators });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }
  const report: ProfileBenchReport = { ...header, settings: { size: options.size, runs: options.runs, threads: PROFILE_THREADS, precisions: options.precisions }, results };
  writeFiguresFile(options.jsonFile, report);
  if (options.json) process.stdout.write(`${JSON.stringify(report.results)}\n`);
  else {
    for (const r of results) {
      process.stdout.write(`\n${r.model} ${r.precision} ${r.frames ?? 'gbrp'} ${r.input}: ${r.frameMs.toFixed(1)} ms a frame\n`);
      for (const o of r.operators) process.stdout.write(`  ${o.op.padEnd(16)} ${String(o.nodes).padStart(3)} node(s) ${o.ms.toFixed(2).padStart(7)} ms ${((100 * o.ms) / r.frameMs).toFixed(0).padStart(3)} %\n`);
    }
    process.stderr.write(`bench profile: figures written to ${options.jsonFile}\n`);
  }
  return report;
}
