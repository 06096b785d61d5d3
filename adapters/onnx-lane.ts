/**
 * One inference lane: a worker thread that holds its own onnxruntime session and upscales the
 * frames adapters/onnx.ts sends it, one at a time. onnxruntime-node runs a session synchronously
 * on the thread that calls it, so two frames can only be upscaled at once from two threads; and
 * the worker process's own thread stays free for the pipes to ffmpeg meanwhile.
 * Started by `startLane` in adapters/onnx.ts only; the messages are `LaneRequest`/`LaneReply`.
 */
import { parentPort, workerData } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';
import type { CpuGraphOptimization, FrameFormat } from '../core/models';
import { feeds, framesOf, upscaledFrame } from './onnx-frames';

export interface LaneData {
  /** An .onnx file, or the model's bytes. */
  model: string | Uint8Array;
  threads: number;
  cpuGraphOptimization: CpuGraphOptimization;
  /** Try CUDA first; `requireCuda`: fail instead of falling back to the CPU. */
  tryCuda: boolean;
  requireCuda: boolean;
}

export type LaneRequest =
  | { type: 'upscale'; id: number; frames: ArrayBuffer; batch: number; width: number; height: number }
  | { type: 'release' };

export type LaneReply =
  | { type: 'ready'; provider: 'cuda' | 'cpu'; frames: FrameFormat; cudaError?: string }
  | { type: 'failed'; message: string }
  | { type: 'done'; id: number; output: ArrayBuffer }
  | { type: 'error'; id: number; message: string }
  | { type: 'released' };

function firstLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0] ?? '';
}

function createSession(model: string | Uint8Array, options: ort.InferenceSession.SessionOptions): Promise<ort.InferenceSession> {
  return typeof model === 'string' ? ort.InferenceSession.create(model, options) : ort.InferenceSession.create(model, options);
}

async function load(data: LaneData): Promise<{ session: ort.InferenceSession; provider: 'cuda' | 'cpu'; cudaError?: string }> {
  const cpuOptions: ort.InferenceSession.SessionOptions = {
    executionProviders: ['cpu'],
    intraOpNumThreads: data.threads,
    interOpNumThreads: 1,
    graphOptimizationLevel: data.cpuGraphOptimization,
    // Idle intra-op threads sleep instead of spinning: the two ffmpeg processes need those cycles.
    extra: { session: { intra_op: { allow_spinning: '0' } } },
  };
  let cudaError: string | undefined;
  if (data.tryCuda) {
    try {
      const session = await createSession(data.model, { ...cpuOptions, executionProviders: [{ name: 'cuda' }, 'cpu'], graphOptimizationLevel: 'all' });
      return { session, provider: 'cuda' };
    } catch (err) {
      if (data.requireCuda) throw new Error(`UPFLOW_EXECUTION_PROVIDER=cuda but the CUDA execution provider did not load: ${firstLine(err)}`, { cause: err });
      cudaError = firstLine(err);
    }
  }
  return { session: await createSession(data.model, cpuOptions), provider: 'cpu', ...(cudaError ? { cudaError } : {}) };
}

function send(reply: LaneReply, transfer: ArrayBuffer[] = []): void {
  parentPort?.postMessage(reply, transfer);
}

async function serve(data: LaneData): Promise<void> {
  const { session, provider, cudaError } = await load(data);
  if (session.inputNames.length === 0 || session.outputNames.length === 0) throw new Error('the model has no input or output');
  const frames = framesOf(session);
  // onnxruntime-node starts a run on the next turn (setImmediate): a session released before then
  // aborts the whole process (measured: 6 of 30 releases with frames in flight). So a release
  // waits for the runs already asked for, and a frame asked for after it is refused.
  const running = new Set<Promise<void>>();
  let released = false;
  parentPort?.on('message', (request: LaneRequest) => {
    if (request.type === 'release') {
      released = true;
      void Promise.allSettled(running).then(() => session.release()).finally(() => send({ type: 'released' }));
      return;
    }
    const { id, batch, width, height } = request;
    if (released) {
      send({ type: 'error', id, message: 'the model was released' });
      return;
    }
    const run = Promise.resolve()
      .then(() => session.run(feeds(session, frames, request.frames, batch, width, height)))
      .then((result) => {
        const buffer = upscaledFrame(session, frames, result);
        send({ type: 'done', id, output: buffer }, [buffer]);
      })
      .catch((err: unknown) => send({ type: 'error', id, message: firstLine(err) }));
    running.add(run);
    void run.finally(() => running.delete(run));
  });
  send({ type: 'ready', provider, frames, ...(cudaError ? { cudaError } : {}) });
}

serve(workerData as LaneData).catch((err: unknown) => send({ type: 'failed', message: firstLine(err) }));
