/**
 * Which numeric precision a worker runs its models in (UPFLOW_PRECISION). `auto` decides from
 * the machine: fp16 on a CUDA GPU, fp32 on a CPU but for the models measured faster in int8 on a
 * CPU with VNNI (L; S and M lose there, onnxruntime's QLinearConv behind its blocked float
 * convolutions at their 8 channels a layer): docs/models.md.
 */
import { MODELS, MODEL_IDS, PRECISIONS, stepDownLadder, streamFrameFormat, type FrameFormat, type ModelId, type Precision } from './models';

export const PRECISION_SETTINGS = ['auto', ...PRECISIONS] as const;
export type PrecisionSetting = (typeof PRECISION_SETTINGS)[number];

/** What `auto` looks at: where inference runs; whether the CPU has VNNI. */
export interface InferenceMachine {
  gpu: boolean;
  vnni: boolean;
}

/** The precision a worker's models run in: one for all, but for the models `auto` runs in another. */
export interface PrecisionChoice {
  precision: Precision;
  /** Models that run in another precision than `precision` (auto on a CPU with VNNI: L in int8). */
  byModel: Partial<Record<ModelId, Precision>>;
  /** Why, for the one log line that says it. */
  reason: string;
}

export function choosePrecision(setting: PrecisionSetting, machine: InferenceMachine): PrecisionChoice {
  if (setting !== 'auto') return { precision: setting, byModel: {}, reason: `UPFLOW_PRECISION=${setting}` };
  if (machine.gpu) return { precision: 'fp16', byModel: {}, reason: 'auto: a CUDA GPU runs float16 at twice the rate of float32' };
  if (!machine.vnni) return { precision: 'fp32', byModel: {}, reason: 'auto: this CPU has no VNNI, where int8 runs no model faster than float32, and float16 no faster' };
  const int8 = MODEL_IDS.filter((id) => MODELS[id].int8OnVnni);
  return {
    precision: 'fp32',
    byModel: Object.fromEntries(int8.map((id) => [id, 'int8'])),
    reason: `auto: this CPU has VNNI, where int8 runs ${int8.join(' and ')} faster than float32 and S and M slower, and float16 no faster`,
  };
}

/** `fp32, anime4k-l-rl and anime4k-l-an in int8`: what a choice runs, for logs and `upflow models`. */
export function describePrecision(choice: PrecisionChoice): string {
  const others = [...new Set(Object.values(choice.byModel))].map((p) => {
    const ids = MODEL_IDS.filter((id) => choice.byModel[id] === p);
    return `${ids.join(' and ')} in ${p}`;
  });
  return [choice.precision, ...others].join(', ');
}

/** Every precision a choice runs some model in, its main one first. */
export function precisionsOf(choice: PrecisionChoice): Precision[] {
  return [...new Set([choice.precision, ...Object.values(choice.byModel)])];
}

/**
 * The precision a model runs in: the choice's for it (a bare precision: for every model), where
 * the model is built in it; fp32 otherwise (Lanczos has only fp32).
 */
export function precisionOfModel(id: ModelId, choice: Precision | Pick<PrecisionChoice, 'precision' | 'byModel'>): Precision {
  const wanted = typeof choice === 'string' ? choice : choice.byModel[id] ?? choice.precision;
  return MODELS[id].precisions.includes(wanted) ? wanted : 'fp32';
}

/** The frames a stream starting with `model` uses when its ladder runs in `precision` (the benches' cases). */
export function streamFramesIn(model: ModelId, width: number, height: number, precision: Precision): FrameFormat {
  return streamFrameFormat(stepDownLadder(model), width, height, (id) => precisionOfModel(id, precision));
}
