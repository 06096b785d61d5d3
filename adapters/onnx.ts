/**
 * onnxruntime-node behind one small module (as ffmpeg is behind adapters/ffmpeg.ts): load a
 * model once per worker process, in one or more lanes (worker threads, adapters/onnx-lane.ts),
 * and upscale planar uint8 frames. Execution provider: CUDA when asked for or, with 'auto', when
 * its libraries load; otherwise CPU, said once in the log.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';
import { frameBytes, type CpuGraphOptimization, type FrameFormat } from '../core/models';
import { choosePrecision, type PrecisionChoice, type PrecisionSetting } from '../core/precision';
import { cpuHasVnni } from './cpu';
import type { Logger } from './logger';
import type { LaneData, LaneReply, LaneRequest } from './onnx-lane';
import { feeds, framesOf } from './onnx-frames';

export type ExecutionProviderSetting = 'auto' | 'cuda' | 'cpu';

export interface FrameUpscaler {
  readonly provider: 'cuda' | 'cpu';
  readonly scale: number;
  /** The frames its graph takes and gives (core/models.ts `FrameFormat`). */
  readonly frames: FrameFormat;
  /**
   * `frames`: `batch` frames in its format, back to back (gbrp: 3 planes of width × height
   * bytes each; yuv420p: one frame at a time). Resolves with the upscaled frames in the same
   * layout, `scale` times larger.
   */
  upscale(frames: Uint8Array, batch: number, width: number, height: number): Promise<Uint8Array>;
  /** Frames it upscales at once: keep this many in flight to keep it busy. */
  readonly lanes: number;
  release(): Promise<void>;
}

export interface LoadUpscalerOptions {
  /** An .onnx file, or the model's bytes. */
  model: string | Uint8Array;
  scale: number;
  executionProvider: ExecutionProviderSetting;
  /** onnxruntime threads for one frame's operators, in each lane. */
  threads: number;
  /** Frames upscaled at once, each by a session of its own in a thread of its own (default 1). */
  lanes?: number;
  /** CPU graph optimisation level: the registry's `cpuGraphOptimization` for the model. */
  cpuGraphOptimization: CpuGraphOptimization;
  logger: Logger;
}


/**
 * Whether onnxruntime-node's CUDA provider library is installed beside its binding (the GPU
 * image installs it; `ONNXRUNTIME_NODE_INSTALL=skip` leaves it out). Checked first so that
 * 'auto' on a CPU machine does not make onnxruntime print a load error.
 */
export function cudaProviderInstalled(): boolean {
  const binding = path.join(path.dirname(require.resolve('onnxruntime-node')), '..', 'bin', 'napi-v6', process.platform, process.arch);
  return fs.existsSync(path.join(binding, 'libonnxruntime_providers_cuda.so'));
}

/**
 * The precision a worker on this machine runs its models in, and why: UPFLOW_PRECISION, with
 * `auto` decided from whether inference will try CUDA.
 */
export function precisionHere(inference: { executionProvider: ExecutionProviderSetting; precision: PrecisionSetting }): PrecisionChoice {
  return choosePrecision(inference.precision, { gpu: triesCuda(inference.executionProvider), vnni: cpuHasVnni() });
}

/** Whether inference will try CUDA: asked for, or `auto` with its libraries installed. */
function triesCuda(executionProvider: ExecutionProviderSetting): boolean {
  return executionProvider === 'cuda' || (executionProvider === 'auto' && cudaProviderInstalled());
}

/** The CPU fallback is said once per process, not once per model loaded. */
let cpuFallbackLogged = false;

/**
 * How a slot upscales: `lanes` frames at once, each lane with `threadsPerLane` onnxruntime
 * threads (the slot's threads shared out). UPFLOW_INFERENCE_LANES unset: two on a CPU, at most
 * the threads (on 2 cores one thread each: one session's two threads left the cores idle at every
 * layer's join, and two lanes made the pipeline 7–19 % faster, docs/models.md); one with CUDA
 * (not measured on a GPU yet).
 */
export function inferenceLanesHere(inference: { executionProvider: ExecutionProviderSetting; threads: number; lanes?: number }): { lanes: number; threadsPerLane: number } {
  const lanes = inference.lanes ?? (triesCuda(inference.executionProvider) ? 1 : Math.min(2, inference.threads));
  return { lanes, threadsPerLane: Math.max(1, Math.floor(inference.threads / lanes)) };
}

/** tsx's require hook, so that a worker thread can load the lane's TypeScript as this process does. */
const LANE_BOOT = `require(${JSON.stringify(require.resolve('tsx/cjs'))}); require(${JSON.stringify(require.resolve('./onnx-lane'))});`;

interface Lane {
  run(frames: Uint8Array, batch: number, width: number, height: number): Promise<Uint8Array>;
  release(): Promise<void>;
}

/** Starts one lane's thread and waits until its session is loaded (or failed to). */
async function startLane(data: LaneData): Promise<{ lane: Lane; provider: 'cuda' | 'cpu'; frames: FrameFormat; cudaError?: string }> {
  const worker = new Worker(LANE_BOOT, { eval: true, workerData: data });
  const pending = new Map<number, { resolve(out: Uint8Array): void; reject(err: Error): void }>();
  let nextId = 0;
  let stopped: Error | undefined;
  const stop = (err: Error) => {
    stopped ??= err;
    for (const p of pending.values()) p.reject(stopped);
    pending.clear();
  };
  const ready = new Promise<{ provider: 'cuda' | 'cpu'; frames: FrameFormat; cudaError?: string }>((resolve, reject) => {
    worker.on('message', (reply: LaneReply) => {
      if (reply.type === 'ready') resolve({ provider: reply.provider, frames: reply.frames, ...(reply.cudaError ? { cudaError: reply.cudaError } : {}) });
      else if (reply.type === 'failed') reject(new Error(reply.message));
      else if (reply.type === 'done') {
        pending.get(reply.id)?.resolve(new Uint8Array(reply.output));
        pending.delete(reply.id);
        settled();
      } else if (reply.type === 'error') {
        pending.get(reply.id)?.reject(new Error(`upscale: ${reply.message}`));
        pending.delete(reply.id);
        settled();
      }
    });
    worker.on('error', (err) => {
      reject(err);
      stop(new Error(`the inference thread failed: ${err.message}`));
    });
    worker.on('exit', (code) => {
      reject(new Error(`the inference thread exited (${code}) before its model loaded`));
      stop(new Error(`the inference thread exited (${code})`));
    });
  });
  // An idle lane does not keep the process alive (a caller that never releases its model can
  // still exit); a lane at work, loading or releasing does (a frame that finishes while the
  // lane is being released must not let the process go before the release ends).
  let releasing = false;
  const settled = () => {
    if (pending.size === 0 && !releasing) worker.unref();
  };
  try {
    const loaded = await ready;
    settled();
    const lane: Lane = {
      run(frames, batch, width, height) {
        if (stopped) return Promise.reject(stopped);
        worker.ref();
        const id = nextId++;
        // A copy of the frames of its own, handed over to the thread (the caller keeps its buffer).
        const copy = new ArrayBuffer(frames.byteLength);
        new Uint8Array(copy).set(frames);
        return new Promise<Uint8Array>((resolve, reject) => {
          pending.set(id, { resolve, reject });
          worker.postMessage({ type: 'upscale', id, frames: copy, batch, width, height } satisfies LaneRequest, [copy]);
        });
      },
      async release() {
        releasing = true;
        if (!stopped) {
          worker.ref();
          const released = new Promise<void>((resolve) => {
            worker.on('message', (reply: LaneReply) => { if (reply.type === 'released') resolve(); });
            worker.once('exit', () => resolve());
          });
          worker.postMessage({ type: 'release' } satisfies LaneRequest);
          await released;
        }
        stop(new Error('the model was released'));
        await worker.terminate();
      },
    };
    return { lane, ...loaded };
  } catch (err) {
    await worker.terminate();
    throw err;
  }
}

/**
 * Loads the model into `lanes` inference threads (one session each, `threads` onnxruntime
 * threads each). `upscale` hands each call to the first idle lane, so a caller that keeps
 * `lanes` frames in flight keeps every lane busy; calls resolve independently, each with its
 * own frames.
 */
export async function loadFrameUpscaler(options: LoadUpscalerOptions): Promise<FrameUpscaler> {
  const tryCuda = triesCuda(options.executionProvider);
  if (options.executionProvider === 'auto' && !tryCuda && !cpuFallbackLogged) {
    cpuFallbackLogged = true;
    options.logger.info('no CUDA execution provider installed: upscaling on the CPU');
  }
  const data: LaneData = {
    model: options.model,
    threads: options.threads,
    cpuGraphOptimization: options.cpuGraphOptimization,
    tryCuda,
    requireCuda: options.executionProvider === 'cuda',
  };
  const laneCount = options.lanes ?? 1;
  const started = await Promise.allSettled(Array.from({ length: laneCount }, () => startLane(data)));
  const failure = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  const loaded = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  if (failure) {
    await Promise.allSettled(loaded.map((l) => l.lane.release()));
    throw failure.reason;
  }
  const [first] = loaded;
  if (!first) throw new Error('loadFrameUpscaler: no lane');
  if (first.cudaError) options.logger.warn({ err: first.cudaError }, 'the CUDA execution provider did not load: upscaling on the CPU');

  const idle: Lane[] = loaded.map((l) => l.lane);
  const waiting: { frames: Uint8Array; batch: number; width: number; height: number; resolve(out: Uint8Array): void; reject(err: unknown): void }[] = [];
  const dispatch = () => {
    while (idle.length > 0 && waiting.length > 0) {
      const lane = idle.shift() as Lane;
      const job = waiting.shift() as (typeof waiting)[number];
      lane.run(job.frames, job.batch, job.width, job.height)
        .then(job.resolve, job.reject)
        .finally(() => {
          idle.push(lane);
          dispatch();
        });
    }
  };
  return {
    provider: first.provider,
    scale: options.scale,
    frames: first.frames,
    lanes: laneCount,
    upscale(frames, batch, width, height) {
      const expected = batch * frameBytes(first.frames, width, height);
      if (frames.length !== expected) return Promise.reject(new Error(`upscale: ${frames.length} bytes given, ${expected} expected for ${batch} frame(s) of ${width}x${height}`));
      return new Promise<Uint8Array>((resolve, reject) => {
        waiting.push({ frames, batch, width, height, resolve, reject });
        dispatch();
      });
    },
    async release() {
      for (const job of waiting.splice(0)) job.reject(new Error('the model was released'));
      await Promise.allSettled(loaded.map((l) => l.lane.release()));
    },
  };
}

/**
 * Runs a float32 model on each frame (in the frames its graph takes: `FrameFormat`) and hands
 * `visit` the named float tensors it computed: int8 calibration reads activation ranges so.
 * CPU, `extended` optimisation: nothing fused away that a name points at.
 */
export async function probeFloatTensors(
  options: { model: Uint8Array; frames: readonly { planes: Uint8Array; width: number; height: number }[]; tensors: readonly string[]; threads: number },
  visit: (outputs: Record<string, Float32Array>) => void,
): Promise<void> {
  const session = await ort.InferenceSession.create(options.model, { executionProviders: ['cpu'], intraOpNumThreads: options.threads, graphOptimizationLevel: 'extended' });
  try {
    const format = framesOf(session);
    for (const frame of options.frames) {
      const outputs = await session.run(feeds(session, format, frame.planes.slice().buffer, 1, frame.width, frame.height), [...options.tensors]);
      visit(Object.fromEntries(options.tensors.map((name) => {
        const data = outputs[name]?.data;
        if (!(data instanceof Float32Array)) throw new Error(`${name} is not a float32 tensor`);
        return [name, data];
      })));
    }
  } finally {
    await session.release();
  }
}

/** One node's time in a frame, from onnxruntime's own profiler. */
export interface OperatorTime {
  /** The node's name in the optimised graph (`activation_1_nchwc`, `Resize_25`, …). */
  node: string;
  /** Its operator (`Conv`, `Resize`, `DepthToSpace`, `ReorderOutput` for a layout change, …). */
  op: string;
  /** Milliseconds a frame, the mean over the profiled runs. */
  ms: number;
}

export interface OperatorProfile {
  /** Runs the means are over (the first, which allocates, is left out). */
  runs: number;
  /** Milliseconds a run took in all, the mean. */
  runMs: number;
  /** Every node that ran, slowest first. */
  operators: OperatorTime[];
}

/** An event of onnxruntime's profile file (Chrome trace format). */
export interface OrtProfileEvent {
  cat: string;
  name: string;
  ts: number;
  dur: number;
  args?: { op_name?: string };
}

/**
 * Per-node means of an onnxruntime profile: the `<node>_kernel_time` events of each
 * `model_run` but the first, which pays for allocating its buffers.
 */
export function summariseOrtProfile(events: readonly OrtProfileEvent[]): OperatorProfile {
  const runs = events.filter((e) => e.cat === 'Session' && e.name === 'model_run').sort((a, b) => a.ts - b.ts).slice(1);
  const inRun = (e: OrtProfileEvent) => runs.some((r) => e.ts >= r.ts && e.ts <= r.ts + r.dur);
  const totals = new Map<string, OperatorTime>();
  for (const e of events) {
    if (e.cat !== 'Node' || !e.name.endsWith('_kernel_time') || !inRun(e)) continue;
    const node = e.name.slice(0, -'_kernel_time'.length);
    const entry = totals.get(node) ?? { node, op: e.args?.op_name ?? '?', ms: 0 };
    entry.ms += e.dur / 1000;
    totals.set(node, entry);
  }
  const count = Math.max(1, runs.length);
  return {
    runs: runs.length,
    runMs: runs.reduce((sum, r) => sum + r.dur, 0) / 1000 / count,
    operators: [...totals.values()].map((t) => ({ ...t, ms: t.ms / count })).sort((a, b) => b.ms - a.ms),
  };
}

/**
 * Where a frame's time goes inside a model: `runs` frames of width × height (after one that
 * allocates), in the frames its graph takes, through one CPU session with onnxruntime's profiler
 * on, summed per node. The profile file is written under `dir` and read back.
 */
export async function profileOperators(options: { model: string; threads: number; cpuGraphOptimization: CpuGraphOptimization; width: number; height: number; runs: number; dir: string }): Promise<OperatorProfile & { frames: FrameFormat }> {
  const prefix = path.join(options.dir, 'onnxruntime-profile');
  const session = await ort.InferenceSession.create(options.model, {
    executionProviders: ['cpu'],
    intraOpNumThreads: options.threads,
    graphOptimizationLevel: options.cpuGraphOptimization,
    enableProfiling: true,
    profileFilePrefix: prefix,
  });
  let frames: FrameFormat;
  try {
    frames = framesOf(session);
    const frame = new Uint8Array(frameBytes(frames, options.width, options.height));
    // A picture with detail everywhere (zeros could take faster paths).
    for (let i = 0; i < frame.length; i++) frame[i] = (i * 7919) % 251;
    const input = feeds(session, frames, frame.buffer, 1, options.width, options.height);
    for (let i = 0; i < options.runs + 1; i++) await session.run(input);
    session.endProfiling();
  } finally {
    await session.release();
  }
  const written = fs.readdirSync(options.dir).filter((name) => name.startsWith('onnxruntime-profile') && name.endsWith('.json'));
  if (written.length !== 1) throw new Error(`onnxruntime wrote ${written.length} profile files in ${options.dir}`);
  return { ...summariseOrtProfile(JSON.parse(fs.readFileSync(path.join(options.dir, written[0]!), 'utf8')) as OrtProfileEvent[]), frames };
}
