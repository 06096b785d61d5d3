/**
 * Anime4K CNN 2x (S, M, L) from @websr/websr's JSON weights → one ONNX graph each.
 *
 * websr's layout (read from its WGSL shaders): each layer is a list of column-major mat4x4,
 * one per (input chunk of 4 channels, tap); `kernels[g*taps + tap]`, tap = kx*3 + ky (x-major),
 * element `c*4 + r` maps input channel c of the chunk to output channel r. Hidden layers read
 * the CReLU of the previous output, concat(max(x,0), max(-x,0)), chunk by chunk in that order.
 * The S model ends in a 3x3 layer giving 4 sub-pixels of one residual shared by R, G and B;
 * M and L end in three 1x1 layers (R, G, B) over the CReLU of every earlier layer. The output
 * is a bilinear 2x of the input plus the residual (sub-pixel channel dx + 2*dy). Borders are
 * zero-padded for the convolutions and edge-clamped for the bilinear base.
 *
 * Each network is built in three precisions (`Anime4kPrecision`): float32, float16, and int8
 * QDQ (models/quantize.ts) for the layers, where the bilinear base stays float32; and, in
 * float32 and int8, on yuv420p frames for the stream (`buildAnime4kYuv420pGraph`).
 */
import { GBRP_PLANE_FROM_RGB, YUV601_FROM_RGB } from '../core/models';
import { OnnxGraph, framesIn, framesOut, pictureOut, weightsForPlanarInput, yuv420pIn, yuv420pOut } from './onnx-graph';
import { MIN_RANGE, qdqConv, quantize, uint8Quantization, type QuantizedTensor, type TensorRanges } from './quantize';

export interface Anime4kLayerJson {
  name: string;
  weights: number[];
  bias?: number[];
}

export interface Anime4kWeightsJson {
  name: string;
  layers: Record<string, Anime4kLayerJson | { type: string }>;
}

export type Anime4kSize = 's' | 'm' | 'l';

/** Which JSON layers make up each network, in websr's own names. */
interface Anime4kArchitecture {
  /** Output chunks of the first layer (3x3 over RGBA; alpha weights are zero). */
  first: string[];
  /** Hidden 3x3 layers, each a list of output chunks, reading the previous layer's CReLU. */
  hidden: string[][];
  /** 'shared': one 3x3 layer over the last CReLU, 4 sub-pixels added to R, G and B.
   *  'per-colour': three 1x1 layers (R, G, B) over the CReLU of every earlier layer. */
  last: { kind: 'shared'; layer: string } | { kind: 'per-colour'; layers: [string, string, string] };
}

const range = (n: number, from = 1) => Array.from({ length: n }, (_, i) => i + from);

export const ANIME4K_ARCHITECTURES: Record<Anime4kSize, Anime4kArchitecture> = {
  s: {
    first: ['conv2d_tf'],
    hidden: [['conv2d_1_tf'], ['conv2d_2_tf']],
    last: { kind: 'shared', layer: 'conv2d_last_tf' },
  },
  m: {
    first: ['conv2d_tf'],
    hidden: range(6).map((i) => [`conv2d_${i}_tf`]),
    last: { kind: 'per-colour', layers: ['conv2d_7_tf', 'conv2d_7_tf1', 'conv2d_7_tf2'] },
  },
  l: {
    first: ['conv2d_tf', 'conv2d_tf1'],
    hidden: range(6).map((i) => [`conv2d_${i}_tf`, `conv2d_${i}_tf1`]),
    last: { kind: 'per-colour', layers: ['conv2d_last_tf', 'conv2d_last_tf1', 'conv2d_last_tf2'] },
  },
};

interface ConvWeights {
  data: Float32Array;
  dims: [number, number, number, number];
  bias: Float32Array;
}

function layer(weights: Anime4kWeightsJson, name: string): Required<Anime4kLayerJson> {
  const found = weights.layers[name];
  if (!found || !('weights' in found)) throw new Error(`${weights.name}: layer ${name} missing`);
  return { ...found, bias: found.bias ?? [0, 0, 0, 0] };
}

/**
 * websr mat4x4 lists → OIHW weights. Several JSON layers concatenate on the output axis
 * (L's `tf` and `tf1`). `dropAlpha`: the first layer reads RGBA, whose alpha weights are zero.
 */
export function toOihw(layers: Required<Anime4kLayerJson>[], kernel: 1 | 3, dropAlpha = false): ConvWeights {
  const taps = kernel * kernel;
  const mats = layers[0]!.weights.length / 16;
  const groups = mats / taps;
  if (!Number.isInteger(groups)) throw new Error(`${layers[0]!.name}: ${layers[0]!.weights.length} weights do not fit ${kernel}x${kernel} mat4x4 taps`);
  const inChannels = dropAlpha ? 3 : groups * 4;
  const outChannels = layers.length * 4;
  const data = new Float32Array(outChannels * inChannels * taps);
  const bias = new Float32Array(outChannels);
  layers.forEach((l, chunk) => {
    if (l.weights.length !== mats * 16) throw new Error(`${l.name}: expected ${mats * 16} weights`);
    for (let g = 0; g < groups; g++) {
      for (let kx = 0; kx < kernel; kx++) {
        for (let ky = 0; ky < kernel; ky++) {
          const tap = kx * kernel + ky;
          for (let c = 0; c < 4; c++) {
            for (let r = 0; r < 4; r++) {
              const value = l.weights[(g * taps + tap) * 16 + c * 4 + r]!;
              const i = g * 4 + c;
              if (dropAlpha && i === 3) {
                if (value !== 0) throw new Error(`${l.name}: non-zero alpha weight; the graph has no alpha input`);
                continue;
              }
              const o = chunk * 4 + r;
              data[((o * inChannels + i) * kernel + ky) * kernel + kx] = value;
            }
          }
        }
      }
    }
    l.bias.forEach((b, r) => (bias[chunk * 4 + r] = b));
  });
  return { data, dims: [outChannels, inChannels, kernel, kernel], bias };
}

/** A first layer over the frames' G, B, R planes on 0..255: the network was trained on R, G, B in 0..1. */
function gbrpInput(w: ConvWeights): Kernel {
  return { data: weightsForPlanarInput(w.data, w.dims, 255), dims: w.dims };
}

/** R, G, B (0..255) from BT.601 limited-range Y − 16, U − 128, V − 128: rows R, G, B; columns Y, U, V. */
export const RGB_FROM_YUV601 = [
  [255 / 219, 0, (255 / 112) * 0.701],
  [255 / 219, -(255 / 112) * 0.886 * (0.114 / 0.587), -(255 / 112) * 0.701 * (0.299 / 0.587)],
  [255 / 219, (255 / 112) * 0.886, 0],
] as const;

/** A first layer over Y − 16, U − 128, V − 128 (U and V upsampled to Y's size): BT.601's matrix folded into it. */
function yuvInput(w: ConvWeights): Kernel {
  const [outChannels, , kh, kw] = w.dims;
  const taps = kh * kw;
  const data = new Float32Array(w.data.length);
  for (let o = 0; o < outChannels; o++) {
    for (let plane = 0; plane < 3; plane++) {
      for (let t = 0; t < taps; t++) {
        let sum = 0;
        for (let rgb = 0; rgb < 3; rgb++) sum += w.data[(o * 3 + rgb) * taps + t]! * RGB_FROM_YUV601[rgb]![plane]!;
        data[(o * 3 + plane) * taps + t] = sum / 255;
      }
    }
  }
  return { data, dims: w.dims };
}

const scaled = (values: Float32Array, factor: number) => values.map((v) => v * factor);

/** Fixed 3x3 grouped kernel: bilinear 2x (half-pixel centres) as 4 sub-pixel phases per colour. */
export function bilinearPhaseKernel(): Float32Array {
  const taps = [[0.25, 0.75, 0], [0, 0.75, 0.25]]; // per phase d (0, 1), over offsets -1, 0, +1
  const data = new Float32Array(12 * 9);
  for (let colour = 0; colour < 3; colour++) {
    for (let dy = 0; dy < 2; dy++) {
      for (let dx = 0; dx < 2; dx++) {
        const o = colour * 4 + dy * 2 + dx;
        for (let ky = 0; ky < 3; ky++) for (let kx = 0; kx < 3; kx++) data[o * 9 + ky * 3 + kx] = taps[dy]![ky]! * taps[dx]![kx]!;
      }
    }
  }
  return data;
}

/** A grouped kernel [O, 1, k, k] (O/groups outputs per input plane) as a dense [O, groups, k, k] one. */
export function denseFromGrouped(grouped: Float32Array, groups: number, taps = 9): Float32Array {
  const outChannels = grouped.length / taps;
  const perGroup = outChannels / groups;
  const dense = new Float32Array(outChannels * groups * taps);
  for (let o = 0; o < outChannels; o++) {
    const plane = Math.floor(o / perGroup);
    dense.set(grouped.subarray(o * taps, (o + 1) * taps), (o * groups + plane) * taps);
  }
  return dense;
}

/**
 * A convolution followed by CReLU, concat(max(x, 0), max(-x, 0)), as one convolution with its
 * outputs doubled, [W; -W] and [b; -b], and a Relu: onnxruntime fuses the pair and keeps its
 * blocked (NCHWc) layout through it, where Neg, two Relus and a Concat each cost a pass and a
 * layout change. The same values exactly (max(-x, 0) = max((-W)*v - b, 0)); with the blocked
 * layout on, M and L run 1.3-1.5x faster on a 2-core CPU (docs/models.md).
 */
function doubledForCrelu(w: Kernel, bias: Float32Array): { data: Float32Array; dims: [number, number, number, number]; bias: Float32Array } {
  const [outChannels, inChannels, kh, kw] = w.dims;
  const data = new Float32Array(w.data.length * 2);
  data.set(w.data);
  data.set(w.data.map((v) => -v), w.data.length);
  const doubledBias = new Float32Array(bias.length * 2);
  doubledBias.set(bias);
  doubledBias.set(bias.map((v) => -v), bias.length);
  return { data, dims: [outChannels * 2, inChannels, kh, kw], bias: doubledBias };
}

type Kernel = { data: Float32Array; dims: readonly [number, number, number, number] };

/** Names every precision's graph gives the tensors int8 calibration measures: each layer's CReLU output, then the residual. */
export const activationName = (layer: number) => `activation_${layer}`;
export const RESIDUAL = 'residual';

export function anime4kCalibrationTensors(size: Anime4kSize): string[] {
  return [...range(1 + ANIME4K_ARCHITECTURES[size].hidden.length, 0).map(activationName), RESIDUAL];
}

/**
 * How one precision builds the network's layers; `A` is what flows between them (a float
 * tensor's name, or a quantized tensor). The residual is float, on the 0..255 scale.
 */
interface LayerBuilder<A> {
  input: A;
  convCrelu(input: A, w: Kernel, bias: Float32Array, layer: number): A;
  /** The last layer over `inputs` (the last CReLU output, or M and L's every one, concatenated). */
  residual(inputs: A[], w: Kernel, bias: Float32Array, pads: number[]): string;
}

/** `lastLayerBySums`: M and L's last layer summed layer by layer (`residualBySums`; one frame at a time only). */
function floatLayers(g: OnnxGraph, pixels: string, options: { lastLayerBySums?: boolean } = {}): LayerBuilder<string> {
  return {
    input: pixels,
    convCrelu(input, w, bias, layer) {
      const doubled = doubledForCrelu(w, bias);
      const both = g.conv(input, doubled, doubled.bias, { hint: `conv${layer}` });
      return g.node('Relu', [both], {}, 'crelu', activationName(layer));
    },
    residual(inputs, w, bias, pads) {
      if (options.lastLayerBySums && inputs.length > 1) return residualBySums(g, inputs, w, bias);
      const all = inputs.length === 1 ? inputs[0]! : g.node('Concat', inputs, { axis: 1 }, 'dense');
      return g.node('Conv', [all, g.floats('residual_w', w.data, [...w.dims]), g.floats('residual_b', bias, [w.dims[0]])], {
        kernel_shape: [w.dims[2], w.dims[3]],
        pads,
        group: 1,
      }, 'residual', RESIDUAL);
    },
  };
}

/**
 * Whether the yuv420p graph sums M or L's last layer layer by layer (`residualBySums`) on a CPU
 * whose convolutions run in blocks of `blockChannels`: where a layer's channels (its CReLU
 * doubles its outputs: M 8, L 16) fill less than a block. S's last layer reads one layer only.
 */
export function lastLayerBySumsOn(size: Anime4kSize, blockChannels: number): boolean {
  const arch = ANIME4K_ARCHITECTURES[size];
  return arch.last.kind === 'per-colour' && arch.first.length * 4 * 2 < blockChannels;
}

/**
 * M and L's last 1×1 layer over every earlier layer's CReLU, for one frame: a matrix product per
 * layer, each added to the sum so far (Gemm's C), instead of one convolution over their Concat.
 * Where a layer's channels fill less than one of onnxruntime's blocks (M's 8 in AVX-512's 16),
 * each layer's output comes back to plain layout for the next layer to read; the Concat then
 * copied every one once more and the last convolution took the copy back into blocks, a quarter
 * of M's frame. A product reads each output where it lies: M 60.6–64.2 → 49.3–51.2 ms a frame
 * (one thread, 640×360, four rounds in turns), the picture within 1 in 255 (the same sums in
 * another order). L's 16 fill a block and stay in it: 82.1–85.0 → 86.9–89.0 ms, not taken.
 */
function residualBySums(g: OnnxGraph, inputs: string[], w: Kernel, bias: Float32Array): string {
  const [outChannels, inChannels, kh, kw] = w.dims;
  if (kh !== 1 || kw !== 1 || inChannels % inputs.length !== 0) throw new Error(`residual by sums: expected a 1×1 layer over ${inputs.length} equal layers, got [${w.dims.join(',')}]`);
  const perLayer = inChannels / inputs.length;
  let sum = g.floats('residual_b', bias, [outChannels, 1]);
  inputs.forEach((input, layer) => {
    const part = new Float32Array(outChannels * perLayer);
    for (let o = 0; o < outChannels; o++) part.set(w.data.subarray(o * inChannels + layer * perLayer, o * inChannels + (layer + 1) * perLayer), o * perLayer);
    // [1, perLayer, h, w] as [perLayer, h·w]: the same bytes.
    const flat = g.node('Reshape', [input, g.int64s(`layer${layer}_flat`, [perLayer, -1])], {}, `layer${layer}_flat`);
    sum = g.node('Gemm', [g.floats(`residual_w${layer}`, part, [outChannels, perLayer]), flat, sum], {}, `residual_sum${layer}`);
  });
  const size = g.node('Slice', [g.node('Shape', [inputs[0]!], {}, 'layer_shape'), g.int64s('size_from', [2]), g.int64s('size_to', [4])], {}, 'layer_size');
  const shape = g.node('Concat', [g.int64s('residual_nc', [1, outChannels]), size], { axis: 0 }, 'residual_shape');
  return g.node('Reshape', [sum, shape], {}, 'residual', RESIDUAL);
}

/** A CReLU output in the int8 graph: uint8, and the factor the layer's outputs were scaled by. */
interface ScaledActivation {
  tensor: QuantizedTensor;
  gain: number;
}

/** What an int8 graph's first layer reads: the uint8 frames themselves, or float planes. */
type Int8Input = ScaledActivation | { planes: string; gain: 1 };

/**
 * QDQ layers. The first convolution reads the uint8 frames themselves (scale 1, zero point 0:
 * frames are exact bytes, and the 1/255 is already in its weights), or, on yuv420p frames, float
 * planes in a float32 convolution (`buildAnime4kYuv420pGraph` says why). Each CReLU layer's weights
 * and bias are scaled by 1/max, its calibrated max (and the weights that read it by max: the
 * same function, as Relu commutes with a positive factor), so that every activation spans 0..1
 * and has one uint8 scale, 1/255, zero point 0: M and L's last layer then reads the CReLU
 * outputs concatenated as uint8, with no requantizing. (Scaling each channel to its own max
 * instead, tried, did no better: within ±0.03 dB of PSNR on the quality photos.) The residual is uint8 with its own
 * calibrated range and zero point.
 */
function int8Layers(g: OnnxGraph, frames: { bytes: string } | { planes: string }, ranges: TensorRanges): LayerBuilder<Int8Input> {
  const rangeOf = (tensor: string) => {
    const found = ranges[tensor];
    if (!found) throw new Error(`int8: no calibrated range for ${tensor}`);
    return found;
  };
  const unit = { scale: 1 / 255, zeroPoint: 0 };
  const compensated = (w: Kernel, gain: number): Kernel => ({ data: w.data.map((v) => v / gain), dims: w.dims });
  return {
    input: 'bytes' in frames ? { tensor: { name: frames.bytes, scale: 1, zeroPoint: 0 }, gain: 1 } : { planes: frames.planes, gain: 1 },
    convCrelu(input, w, bias, layer) {
      const doubled = doubledForCrelu(compensated(w, input.gain), bias);
      // A layer that was all zeros on the calibration frames is left unscaled.
      const { max } = rangeOf(activationName(layer));
      const gain = max > MIN_RANGE ? 1 / max : 1;
      const scaledWeights = { data: doubled.data.map((v) => v * gain), dims: doubled.dims };
      const scaledBias = doubled.bias.map((b) => b * gain);
      const both = 'planes' in input
        ? g.conv(input.planes, scaledWeights, scaledBias, { hint: `conv${layer}` })
        : qdqConv(g, input.tensor, scaledWeights, scaledBias, { hint: `conv${layer}` });
      // Relu before a zero-point-0 QuantizeLinear: onnxruntime drops it (the clamp at 0 is the same).
      const relu = g.node('Relu', [both], {}, 'crelu', activationName(layer));
      return { tensor: quantize(g, relu, unit, `activation${layer}_q`), gain };
    },
    residual(inputs, w, bias, pads) {
      // The weights reading layer l's outputs (input channels of its block) undo its gain.
      const [, inChannels, kh, kw] = w.dims;
      const perLayer = inChannels / inputs.length;
      const data = w.data.map((v, j) => v / inputs[Math.floor((Math.floor(j / (kh * kw)) % inChannels) / perLayer)]!.gain);
      const tensors = inputs.map((input) => {
        if ('planes' in input) throw new Error('int8: a residual over the frames themselves');
        return input.tensor;
      });
      // One scale for every layer: the uint8 outputs concatenate as they are.
      const all = tensors.length === 1 ? tensors[0]! : { ...unit, name: g.node('Concat', tensors.map((t) => t.name), { axis: 1 }, 'dense') };
      const conv = qdqConv(g, all, { data, dims: w.dims }, bias, { pads, hint: 'residual_conv' });
      const quantized = quantize(g, conv, uint8Quantization(rangeOf(RESIDUAL)), 'residual_q');
      return g.node('DequantizeLinear', [quantized.name, g.float32s('residual_scale', [quantized.scale], []), g.uint8s('residual_zp', Uint8Array.of(quantized.zeroPoint), [])], {}, 'residual', RESIDUAL);
    },
  };
}

/**
 * The network's layers in any precision: the residual (float, 0..255 scale; planes G, B, R, or
 * S's 4 shared sub-pixels). `firstInput` turns the first layer's weights over R, G, B (0..1) into
 * weights over what the graph feeds it: by default the frames' G, B, R planes on 0..255.
 * `outputGain`: what S's residual's 0..1 scale becomes (255: 0..255); `outputMap`: a linear map
 * of M and L's 12 outputs folded into their last layer.
 */
function anime4kResidual<A>(size: Anime4kSize, weights: Anime4kWeightsJson, layers: LayerBuilder<A>, firstInput: (rgb: ConvWeights) => Kernel = gbrpInput, outputGain = 255, outputMap?: number[][]): string {
  const arch = ANIME4K_ARCHITECTURES[size];
  const first = toOihw(arch.first.map((n) => layer(weights, n)), 3, true);
  const activations = [layers.convCrelu(layers.input, firstInput(first), first.bias, 0)];
  arch.hidden.forEach((names, i) => {
    const w = toOihw(names.map((n) => layer(weights, n)), 3);
    activations.push(layers.convCrelu(activations[activations.length - 1]!, w, w.bias, i + 1));
  });

  // Residual on the 0..255 scale: the last layer's weights and bias × 255.
  if (arch.last.kind === 'shared') {
    const w = toOihw([layer(weights, arch.last.layer)], 3);
    return layers.residual([activations[activations.length - 1]!], { data: scaled(w.data, outputGain), dims: w.dims }, scaled(w.bias, outputGain), [1, 1, 1, 1]);
  }
  // websr's colours are R, G, B; the frame planes G, B, R.
  const colours = arch.last.layers;
  const w = toOihw(GBRP_PLANE_FROM_RGB.map((rgb) => layer(weights, colours[rgb])), 1);
  const last = outputMap ? mapOutputs(w, outputMap) : w;
  return layers.residual(activations, { data: scaled(last.data, 255), dims: last.dims }, scaled(last.bias, 255), [0, 0, 0, 0]);
}

/** A 1×1 layer followed by a linear map of its outputs (`map[new][old]`), as one 1×1 layer. */
function mapOutputs(w: ConvWeights, map: number[][]): ConvWeights {
  const [outChannels, inChannels] = w.dims;
  const data = new Float32Array(map.length * inChannels);
  const bias = new Float32Array(map.length);
  map.forEach((row, o) => {
    if (row.length !== outChannels) throw new Error(`output map: ${row.length} columns for ${outChannels} outputs`);
    row.forEach((k, old) => {
      if (k === 0) return;
      for (let i = 0; i < inChannels; i++) data[o * inChannels + i]! += k * w.data[old * inChannels + i]!;
      bias[o]! += k * w.bias[old]!;
    });
  });
  return { data, dims: [map.length, inChannels, 1, 1], bias };
}

/**
 * M and L's 12 detail phases (planes G, B, R × 4 sub-pixels) → Y's 4 sub-pixels, then U and V
 * each the mean of the 4 (4:2:0 at twice the size: one chroma sample per input pixel).
 */
function yuvDetailMap(): number[][] {
  const rows: number[][] = [];
  const row = (coefficient: (rgb: number, phase: number) => number) =>
    Array.from({ length: 12 }, (_, channel) => coefficient(GBRP_PLANE_FROM_RGB[Math.floor(channel / 4)]!, channel % 4));
  for (let phase = 0; phase < 4; phase++) rows.push(row((rgb, p) => (p === phase ? YUV601_FROM_RGB[0][rgb]! : 0)));
  rows.push(row((rgb) => YUV601_FROM_RGB[1][rgb]! / 4), row((rgb) => YUV601_FROM_RGB[2][rgb]! / 4));
  return rows;
}

/**
 * Three precisions of one network, all taking and giving the same uint8 frames: 'fp32';
 * 'fp16', the same graph with float16 weights and arithmetic; 'int8', QDQ with the ranges
 * calibration measured of `anime4kCalibrationTensors` on the fp32 graph.
 */
export type Anime4kPrecision = { precision: 'fp32' | 'fp16' } | { precision: 'int8'; ranges: TensorRanges };

export function buildAnime4kGraph(size: Anime4kSize, weights: Anime4kWeightsJson, docString: string, variant: Anime4kPrecision = { precision: 'fp32' }): Uint8Array {
  const arch = ANIME4K_ARCHITECTURES[size];
  const g = new OnnxGraph({ computeType: variant.precision === 'fp16' ? 'float16' : 'float32' });
  const pixels = framesIn(g, 'frames'); // NCHW, 0..255, of the compute type
  const residual = variant.precision === 'int8' ? anime4kResidual(size, weights, int8Layers(g, { bytes: 'frames' }, variant.ranges)) : anime4kResidual(size, weights, floatLayers(g, pixels));
  if (arch.last.kind === 'shared') {
    // S's 4 sub-pixels become one plane at the output size, added to a bilinear base made there
    // and broadcast over the colours. Measured (one thread, 640×360, same bytes): 46.6 → 41.6 ms
    // a frame against a 12-phase base moved by one uint8 DepthToSpace, whose layout changes and
    // 12-channel shuffle were 40 % of S's frame.
    const detail = g.node('DepthToSpace', [residual], { blocksize: 2, mode: 'CRD' }, 'detail');
    // Linear with half-pixel centres clamps at the borders: the edge-clamped bilinear 2x.
    const base = g.node('Resize', [pixels, '', g.float32s('x2_scales', [1, 1, 2, 2], [4])], { mode: 'linear', coordinate_transformation_mode: 'half_pixel' }, 'bilinear');
    pictureOut(g, g.node('Add', [base, detail], {}, 'sum'), 'upscaled');
  } else {
    // M and L's 12 phases: onnxruntime folds the Add into the last convolution, which the
    // picture-sized tail above cannot use (measured 85.5 → 87.8 ms a frame for M that way).
    const padded = g.node('Pad', [pixels, g.int64s('pads_edge', [0, 0, 1, 1, 0, 0, 1, 1])], { mode: 'edge' }, 'edge_padded');
    // A dense 3→12 kernel (zeros across colours) runs faster than the grouped one on CPU.
    const base = g.conv(padded, { data: denseFromGrouped(bilinearPhaseKernel(), 3), dims: [12, 3, 3, 3] }, null, { pads: [0, 0, 0, 0], hint: 'bilinear' });
    framesOut(g, g.node('Add', [base, residual], {}, 'phases'), 2, 'upscaled');
  }
  return g.toBytes(`anime4k-cnn-2x-${size}`, { input: 'frames', output: 'upscaled', scale: 2, docString });
}

/**
 * A network on yuv420p frames, for the stream: fp32, or int8 with the ranges calibration
 * measured of `anime4kCalibrationTensors` on the fp32 yuv420p graph (yuv420p frames in). The
 * network reads R, G, B made from the planes by BT.601's matrix, folded into its first layer (U
 * and V upsampled to Y's size first). S's detail is one plane added to R, G and B alike, which on
 * the video's planes changes Y alone (by 219/255 of it, limited range): it goes onto a bilinear
 * 2x of Y, and U and V are upscaled bilinearly on their own (one thread, 640×360: 34 against 38
 * ms a frame). M and L's detail differs per colour: their last 1×1 layer gives Y's 4 sub-pixels
 * and U and V at the input's size (the 4 sub-pixels' mean, as 4:2:0 at twice the size has one
 * chroma sample per input pixel) instead of 12 colour phases. No colour conversion on either
 * side of the model.
 *
 * In int8 every layer but the first is the gbrp graph's QDQ layer. The first stays float32 over
 * the float planes: folded into it, BT.601's U and V weights (up to 2.02 per step, against Y's
 * 1.16) set each output channel's int8 scale and left Y's weights, where the detail is, a few
 * levels of 63. With it in int8 (the planes as bytes, each padded with its black) L lost
 * 0.16–0.27 dB of Y's PSNR on the drawings; in float32 0.01–0.18 dB, and no slower within this
 * machine's noise (docs/models.md). The bilinear bases and the sums stay float32, as on gbrp.
 */
export function buildAnime4kYuv420pGraph(size: Anime4kSize, weights: Anime4kWeightsJson, docString: string, options: { lastLayerBySums?: boolean; int8?: TensorRanges } = {}): Uint8Array {
  const g = new OnnxGraph();
  const { y, uv } = yuv420pIn(g);
  const x2 = (planes: string, hint: string) => g.node('Resize', [planes, '', g.float32s(`${hint}_scales`, [1, 1, 2, 2], [4])], { mode: 'linear', coordinate_transformation_mode: 'half_pixel' }, hint);
  // Offsets first, so that the convolutions' zero padding is black, as on the gbrp frames.
  const centredY = g.node('Sub', [y, g.floats('black_y', [16], [])], {}, 'y_centred');
  const centredUv = g.node('Sub', [uv, g.floats('grey_uv', [128], [])], {}, 'uv_centred');
  const planes = g.node('Concat', [centredY, x2(centredUv, 'uv_full')], { axis: 1 }, 'yuv_full');
  const residual = (outputGain: number, outputMap?: number[][]) => options.int8
    ? anime4kResidual(size, weights, int8Layers(g, { planes }, options.int8), yuvInput, outputGain, outputMap)
    : anime4kResidual(size, weights, floatLayers(g, planes, { lastLayerBySums: options.lastLayerBySums }), yuvInput, outputGain, outputMap);
  if (ANIME4K_ARCHITECTURES[size].last.kind === 'shared') {
    // The detail on Y's scale: a step of d in R, G and B alike is 219/255 of d in limited-range Y.
    const detail = g.node('DepthToSpace', [residual(219)], { blocksize: 2, mode: 'CRD' }, 'detail');
    yuv420pOut(g, g.node('Add', [x2(y, 'y_base'), detail], {}, 'y_sum'), x2(uv, 'uv_base'));
  } else {
    const detail = residual(255, yuvDetailMap());
    const channels = (from: number, to: number, hint: string) => g.node('Slice', [detail, g.int64s(`${hint}_from`, [from]), g.int64s(`${hint}_to`, [to]), g.int64s(`${hint}_axis`, [1])], {}, hint);
    // Y's bilinear 2x as 4 sub-pixel phases (edge-clamped), where the detail's phases add.
    const padded = g.node('Pad', [y, g.int64s('pads_edge', [0, 0, 1, 1, 0, 0, 1, 1])], { mode: 'edge' }, 'y_padded');
    const yBase = g.conv(padded, { data: bilinearPhaseKernel().subarray(0, 4 * 9), dims: [4, 1, 3, 3] }, null, { pads: [0, 0, 0, 0], hint: 'y_base' });
    const yPhases = g.node('Add', [yBase, channels(0, 4, 'y_detail')], {}, 'y_phases');
    const yFull = g.node('DepthToSpace', [yPhases], { blocksize: 2, mode: 'CRD' }, 'y_sum');
    yuv420pOut(g, yFull, g.node('Add', [x2(uv, 'uv_base'), channels(4, 6, 'uv_detail')], {}, 'uv_sum'));
  }
  return g.toBytesYuv420p(`anime4k-cnn-2x-${size}${options.int8 ? '-int8' : ''}-yuv420p`, { scale: 2, docString });
}
