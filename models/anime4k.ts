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
 */
import { GBRP_PLANE_FROM_RGB } from '../core/models';
import { OnnxGraph, framesIn, framesOut, weightsForPlanarInput } from './onnx-graph';

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

/** Reorders a first layer's RGB input channels to the frames' G, B, R planes. */
function planarInput(w: ConvWeights): ConvWeights {
  return { ...w, data: weightsForPlanarInput(w.data, w.dims) };
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
function convCrelu(g: OnnxGraph, input: string, w: { data: Float32Array; dims: readonly [number, number, number, number] }, bias: Float32Array, hint: string): string {
  const [outChannels, ...rest] = w.dims;
  const data = new Float32Array(w.data.length * 2);
  data.set(w.data);
  data.set(w.data.map((v) => -v), w.data.length);
  const doubledBias = new Float32Array(bias.length * 2);
  doubledBias.set(bias);
  doubledBias.set(bias.map((v) => -v), bias.length);
  const both = g.conv(input, { data, dims: [outChannels * 2, ...rest] }, doubledBias, { hint });
  return g.node('Relu', [both], {}, 'crelu');
}

export function buildAnime4kGraph(size: Anime4kSize, weights: Anime4kWeightsJson, docString: string): Uint8Array {
  const arch = ANIME4K_ARCHITECTURES[size];
  const g = new OnnxGraph();
  const pixels = framesIn(g, 'frames'); // float NCHW, 0..255

  // The network was trained on 0..1 input: fold the 1/255 into the first layer's weights.
  const first = planarInput(toOihw(arch.first.map((n) => layer(weights, n)), 3, true));
  const activations = [convCrelu(g, pixels, { data: scaled(first.data, 1 / 255), dims: first.dims }, first.bias, 'conv0')];
  arch.hidden.forEach((names, i) => {
    const w = toOihw(names.map((n) => layer(weights, n)), 3);
    activations.push(convCrelu(g, activations[activations.length - 1]!, w, w.bias, `conv${i + 1}`));
  });

  // Residual on the 0..255 scale: the last layer's weights and bias × 255.
  let residual: string;
  if (arch.last.kind === 'shared') {
    const w = toOihw([layer(weights, arch.last.layer)], 3);
    const shared = g.conv(activations[activations.length - 1]!, { data: scaled(w.data, 255), dims: w.dims }, scaled(w.bias, 255), { hint: 'residual' });
    residual = g.node('Reshape', [shared, g.int64s('shape_1_4', [0, 1, 4, -1])], {}, 'residual_shared'); // [N, 1, 4, H*W]
  } else {
    const colours = arch.last.layers;
    // websr's colours are R, G, B; the frame planes G, B, R.
    const w = toOihw(GBRP_PLANE_FROM_RGB.map((rgb) => layer(weights, colours[rgb])), 1);
    const all = g.node('Concat', activations, { axis: 1 }, 'dense');
    residual = g.conv(all, { data: scaled(w.data, 255), dims: w.dims }, scaled(w.bias, 255), { hint: 'residual', pads: [0, 0, 0, 0] });
  }

  const padded = g.node('Pad', [pixels, g.int64s('pads_edge', [0, 0, 1, 1, 0, 0, 1, 1])], { mode: 'edge' }, 'edge_padded');
  // A dense 3→12 kernel (zeros across colours) runs faster than the grouped one on CPU.
  const base = g.conv(padded, { data: denseFromGrouped(bilinearPhaseKernel(), 3), dims: [12, 3, 3, 3] }, null, { pads: [0, 0, 0, 0], hint: 'bilinear' });
  let phases: string;
  if (arch.last.kind === 'shared') {
    // [N, 3, 4, H*W] + [N, 1, 4, H*W] broadcasts the one residual over the colours.
    const added = g.node('Add', [g.node('Reshape', [base, g.int64s('shape_3_4', [0, 3, 4, -1])]), residual], {}, 'added');
    const phaseShape = g.node('Mul', [g.node('Shape', [pixels]), g.int64s('x4_channels', [1, 4, 1, 1])], {}, 'phase_shape');
    phases = g.node('Reshape', [added, phaseShape], {}, 'phases');
  } else {
    phases = g.node('Add', [base, residual], {}, 'phases');
  }
  framesOut(g, phases, 2, 'upscaled');
  return g.toBytes(`anime4k-cnn-2x-${size}`, { input: 'frames', output: 'upscaled', scale: 2, docString });
}
