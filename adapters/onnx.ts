/**
 * onnxruntime-node behind one small module (as ffmpeg is behind adapters/ffmpeg.ts): load a
 * model once per worker process, upscale planar uint8 frames. Execution provider: CUDA when
 * asked for or, with 'auto', when its libraries load; otherwise CPU, said once in the log.
 */
import fs from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import type { CpuGraphOptimization, Precision } from '../core/models';
import { choosePrecision, type PrecisionSetting } from '../core/precision';
import type { Logger } from './logger';

export type ExecutionProviderSetting = 'auto' | 'cuda' | 'cpu';

export interface FrameUpscaler {
  readonly provider: 'cuda' | 'cpu';
  readonly scale: number;
  /**
   * `frames`: `batch` planar frames (3 planes of width × height bytes each), back to back.
   * Resolves with the upscaled frames in the same layout, `scale` times larger.
   */
  upscale(frames: Uint8Array, batch: number, width: number, height: number): Promise<Uint8Array>;
  release(): Promise<void>;
}

export interface LoadUpscalerOptions {
  /** An .onnx file, or the model's bytes. */
  model: string | Uint8Array;
  scale: number;
  executionProvider: ExecutionProviderSetting;
  /** Threads for one frame's operators: the cores this worker owns. */
  threads: number;
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
 * Whether this CPU has VNNI, the dot-product instructions onnxruntime's int8 convolutions use
 * (AVX-512 VNNI or AVX-VNNI). Without them int8 runs no faster than float here: measured slower
 * on an AVX2-only EPYC (docs/models.md). `/proc/cpuinfo` is Linux's; elsewhere, no.
 */
export function cpuHasVnni(cpuinfo = '/proc/cpuinfo'): boolean {
  try {
    const flags = /^flags\s*:(.*)$/m.exec(fs.readFileSync(cpuinfo, 'utf8'))?.[1]?.split(/\s+/) ?? [];
    return flags.includes('avx512_vnni') || flags.includes('avx_vnni');
  } catch {
    return false;
  }
}

/**
 * The precision a worker on this machine runs its models in, and why: UPFLOW_PRECISION, with
 * `auto` decided from whether inference will try CUDA and from the CPU's VNNI.
 */
export function precisionHere(inference: { executionProvider: ExecutionProviderSetting; precision: PrecisionSetting }): { precision: Precision; reason: string } {
  const { executionProvider } = inference;
  return choosePrecision(inference.precision, { gpu: executionProvider === 'cuda' || (executionProvider === 'auto' && cudaProviderInstalled()), vnni: cpuHasVnni() });
}

function createSession(model: string | Uint8Array, options: ort.InferenceSession.SessionOptions): Promise<ort.InferenceSession> {
  return typeof model === 'string' ? ort.InferenceSession.create(model, options) : ort.InferenceSession.create(model, options);
}

/** The CPU fallback is said once per process, not once per model loaded. */
let cpuFallbackLogged = false;

export async function loadFrameUpscaler(options: LoadUpscalerOptions): Promise<FrameUpscaler> {
  const cpuOptions: ort.InferenceSession.SessionOptions = {
    executionProviders: ['cpu'],
    intraOpNumThreads: options.threads,
    interOpNumThreads: 1,
    graphOptimizationLevel: options.cpuGraphOptimization,
    // Idle intra-op threads sleep instead of spinning: the two ffmpeg processes need those cycles.
    extra: { session: { intra_op: { allow_spinning: '0' } } },
  };
  let session: ort.InferenceSession | undefined;
  let provider: 'cuda' | 'cpu' = 'cpu';
  const tryCuda = options.executionProvider === 'cuda' || (options.executionProvider === 'auto' && cudaProviderInstalled());
  if (options.executionProvider === 'auto' && !tryCuda && !cpuFallbackLogged) {
    cpuFallbackLogged = true;
    options.logger.info('no CUDA execution provider installed: upscaling on the CPU');
  }
  if (tryCuda) {
    try {
      session = await createSession(options.model, {
        ...cpuOptions,
        executionProviders: [{ name: 'cuda' }, 'cpu'],
        graphOptimizationLevel: 'all',
      });
      provider = 'cuda';
    } catch (err) {
      if (options.executionProvider === 'cuda') {
        throw new Error(`UPFLOW_EXECUTION_PROVIDER=cuda but the CUDA execution provider did not load: ${(err as Error).message.split('\n')[0]}`, { cause: err });
      }
      options.logger.warn({ err: (err as Error).message.split('\n')[0] }, 'the CUDA execution provider did not load: upscaling on the CPU');
    }
  }
  session ??= await createSession(options.model, cpuOptions);
  const loaded = session;
  const [inputName] = loaded.inputNames;
  const [outputName] = loaded.outputNames;
  if (!inputName || !outputName) throw new Error('the model has no input or output');

  return {
    provider,
    scale: options.scale,
    async upscale(frames, batch, width, height) {
      const expected = batch * 3 * width * height;
      if (frames.length !== expected) throw new Error(`upscale: ${frames.length} bytes given, ${expected} expected for ${batch} frame(s) of ${width}x${height}`);
      const input = new ort.Tensor('uint8', frames, [batch, 3, height, width]);
      const result = await loaded.run({ [inputName]: input });
      const output = result[outputName];
      if (!output || !(output.data instanceof Uint8Array)) throw new Error('upscale: the model gave no uint8 output');
      return output.data;
    },
    async release() {
      await loaded.release();
    },
  };
}

/**
 * Runs a float32 model on each frame (uint8 planar GBR, as every model here takes) and hands
 * `visit` the named float tensors it computed: int8 calibration reads activation ranges so.
 * CPU, `extended` optimisation: nothing fused away that a name points at.
 */
export async function probeFloatTensors(
  options: { model: Uint8Array; frames: readonly { planes: Uint8Array; width: number; height: number }[]; tensors: readonly string[]; threads: number },
  visit: (outputs: Record<string, Float32Array>) => void,
): Promise<void> {
  const session = await ort.InferenceSession.create(options.model, { executionProviders: ['cpu'], intraOpNumThreads: options.threads, graphOptimizationLevel: 'extended' });
  const [inputName] = session.inputNames;
  try {
    if (!inputName) throw new Error('the model has no input');
    for (const frame of options.frames) {
      const outputs = await session.run({ [inputName]: new ort.Tensor('uint8', frame.planes, [1, 3, frame.height, frame.width]) }, [...options.tensors]);
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
