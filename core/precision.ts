/**
 * Which numeric precision a worker runs its models in (UPFLOW_PRECISION). `auto` decides from
 * the machine: fp16 on a CUDA GPU, fp32 on a CPU. int8 measured slower than fp32 for S and M on
 * CPUs with VNNI and without (onnxruntime's QLinearConv loses to its blocked float convolutions
 * at these few channels, and int8 has no yuv420p graphs): docs/models.md.
 */
import { MODELS, PRECISIONS, type ModelId, type Precision } from './models';

export const PRECISION_SETTINGS = ['auto', ...PRECISIONS] as const;
export type PrecisionSetting = (typeof PRECISION_SETTINGS)[number];

/** What `auto` looks at: where inference runs; whether the CPU has VNNI, for the log line. */
export interface InferenceMachine {
  gpu: boolean;
  vnni: boolean;
}

/** The worker's precision and the reason, for the one log line that says it. */
export function choosePrecision(setting: PrecisionSetting, machine: InferenceMachine): { precision: Precision; reason: string } {
  if (setting !== 'auto') return { precision: setting, reason: `UPFLOW_PRECISION=${setting}` };
  if (machine.gpu) return { precision: 'fp16', reason: 'auto: a CUDA GPU runs float16 at twice the rate of float32' };
  const vnni = machine.vnni ? 'this CPU has VNNI, and still' : 'this CPU has no VNNI, where';
  return { precision: 'fp32', reason: `auto: ${vnni} int8 runs S and M slower than float32, and float16 no faster` };
}

/** The precision a model runs in: the worker's, where the model is built in it; fp32 otherwise (Lanczos has only fp32). */
export function precisionOfModel(id: ModelId, precision: Precision): Precision {
  return MODELS[id].precisions.includes(precision) ? precision : 'fp32';
}
