/**
 * Which numeric precision a worker runs its models in (UPFLOW_PRECISION). `auto` decides from
 * the machine: fp16 on a CUDA GPU, int8 on a CPU with VNNI (onnxruntime's int8 convolutions
 * need its dot products to pay), fp32 on other CPUs, where int8 measured slower (docs/models.md).
 */
import { MODELS, PRECISIONS, type ModelId, type Precision } from './models';

export const PRECISION_SETTINGS = ['auto', ...PRECISIONS] as const;
export type PrecisionSetting = (typeof PRECISION_SETTINGS)[number];

/** What `auto` looks at: where inference runs, and whether the CPU has VNNI. */
export interface InferenceMachine {
  gpu: boolean;
  vnni: boolean;
}

/** The worker's precision and the reason, for the one log line that says it. */
export function choosePrecision(setting: PrecisionSetting, machine: InferenceMachine): { precision: Precision; reason: string } {
  if (setting !== 'auto') return { precision: setting, reason: `UPFLOW_PRECISION=${setting}` };
  if (machine.gpu) return { precision: 'fp16', reason: 'auto: a CUDA GPU runs float16 at twice the rate of float32' };
  if (machine.vnni) return { precision: 'int8', reason: 'auto: this CPU has VNNI, which runs int8 convolutions faster than float32' };
  return { precision: 'fp32', reason: 'auto: this CPU has no VNNI, where int8 runs S and M slower than float32 and float16 no faster' };
}

/** The precision a model runs in: the worker's, where the model is built in it; fp32 otherwise (Lanczos has only fp32). */
export function precisionOfModel(id: ModelId, precision: Precision): Precision {
  return MODELS[id].precisions.includes(precision) ? precision : 'fp32';
}
