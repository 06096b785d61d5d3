/**
 * A small builder over the ONNX protobuf schema (onnx-proto): tensors, nodes and a graph with
 * uint8 NHWC frames in and out. The converters describe networks with it; they never write bytes.
 * A graph computes in float32 or float16 (its compute type): weights, constants and the pixels
 * the frames are cast to take that type, so one converter builds both precisions.
 */
import { setFloat16 } from '@petamoriken/float16';
import { onnx } from 'onnx-proto';
import { GBRP_PLANE_FROM_RGB, YUV420P_TENSORS as YUV420P } from '../core/models';

/** Opset 13 has every operator the converters use (Conv, Pad with an input, Clip with inputs, Round). */
const OPSET_VERSION = 13;

type AttributeValue = number | number[] | string;

/** The floating-point type a graph's weights and activations have. */
export type ComputeType = 'float32' | 'float16';

const { DataType } = onnx.TensorProto;

/** ONNX's element type for a compute type. */
export function onnxFloatType(type: ComputeType): onnx.TensorProto.DataType {
  return type === 'float16' ? DataType.FLOAT16 : DataType.FLOAT;
}

/** Little-endian IEEE half floats (round to nearest even), as ONNX stores FLOAT16 raw data. */
function float16Bytes(values: ArrayLike<number>): Uint8Array {
  const bytes = new Uint8Array(values.length * 2);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < values.length; i++) setFloat16(view, i * 2, values[i]!, true);
  return bytes;
}

const bytesOf = (data: ArrayBufferView) => new Uint8Array(data.buffer, data.byteOffset, data.byteLength);

export class OnnxGraph {
  private readonly nodes: onnx.INodeProto[] = [];
  private readonly initializers: onnx.ITensorProto[] = [];
  private counter = 0;
  readonly computeType: ComputeType;

  constructor(options: { computeType?: ComputeType } = {}) {
    this.computeType = options.computeType ?? 'float32';
  }

  /** A fresh value name; `hint` keeps graphs readable in Netron. */
  name(hint: string): string {
    this.counter += 1;
    return `${hint}_${this.counter}`;
  }

  private constant(hint: string, dataType: onnx.TensorProto.DataType, count: number, rawData: Uint8Array, dims: number[]): string {
    const expected = dims.reduce((a, b) => a * b, 1);
    if (count !== expected) throw new Error(`${hint}: ${count} values for dims [${dims.join(',')}]`);
    const name = this.name(hint);
    this.initializers.push({ name, dims, dataType, rawData });
    return name;
  }

  /** A constant of the compute type (weights, biases, scalars the network computes with). */
  floats(hint: string, values: ArrayLike<number>, dims: number[]): string {
    if (this.computeType === 'float16') return this.constant(hint, DataType.FLOAT16, values.length, float16Bytes(values), dims);
    return this.float32s(hint, values, dims);
  }

  /** A float32 constant whatever the compute type: opset 13's QuantizeLinear and DequantizeLinear take float32 scales only. */
  float32s(hint: string, values: ArrayLike<number>, dims: number[]): string {
    return this.constant(hint, DataType.FLOAT, values.length, bytesOf(Float32Array.from(values)), dims);
  }

  /** Quantized constants: int8 weights, int32 biases, uint8 / int8 zero points. */
  int8s(hint: string, values: Int8Array, dims: number[]): string {
    return this.constant(hint, DataType.INT8, values.length, bytesOf(values), dims);
  }

  uint8s(hint: string, values: Uint8Array, dims: number[]): string {
    return this.constant(hint, DataType.UINT8, values.length, bytesOf(values), dims);
  }

  int32s(hint: string, values: Int32Array, dims: number[]): string {
    return this.constant(hint, DataType.INT32, values.length, bytesOf(values), dims);
  }

  /** An int64 constant (shapes, pads). */
  int64s(hint: string, values: number[]): string {
    return this.constant(hint, DataType.INT64, values.length, bytesOf(BigInt64Array.from(values.map((v) => BigInt(v)))), [values.length]);
  }

  /** Adds one node and returns the name of its output (`exactName`, or a fresh one from `hint`). */
  node(opType: string, inputs: string[], attributes: Record<string, AttributeValue> = {}, hint = opType.toLowerCase(), exactName?: string): string {
    const output = exactName ?? this.name(hint);
    this.nodes.push({
      opType,
      input: inputs,
      output: [output],
      name: this.name(`${opType}`),
      attribute: Object.entries(attributes).map(([key, value]) => attribute(key, value)),
    });
    return output;
  }

  conv(input: string, weights: { data: ArrayLike<number>; dims: [number, number, number, number] }, bias: ArrayLike<number> | null, options: { pads?: number[]; group?: number; hint?: string } = {}): string {
    const [, , kh, kw] = weights.dims;
    const hint = options.hint ?? 'conv';
    const inputs = [input, this.floats(`${hint}_w`, weights.data, weights.dims)];
    if (bias) inputs.push(this.floats(`${hint}_b`, bias, [weights.dims[0]]));
    return this.node('Conv', inputs, {
      kernel_shape: [kh, kw],
      pads: options.pads ?? [(kh - 1) / 2, (kw - 1) / 2, (kh - 1) / 2, (kw - 1) / 2],
      group: options.group ?? 1,
    }, hint);
  }

  /**
   * Serialises the graph with one input and one output, both planar uint8 GBR frames
   * [batch, 3, height, width] with symbolic sizes, so one file serves every frame size.
   */
  toBytes(graphName: string, meta: { input: string; output: string; scale: number; docString: string }): Uint8Array {
    return this.serialise(graphName, meta.docString,
      [{ name: meta.input, dims: ['batch', 3, 'height', 'width'] }],
      [{ name: meta.output, dims: ['batch', 3, `height_x${meta.scale}`, `width_x${meta.scale}`] }]);
  }

  /**
   * Serialises a graph on yuv420p frames (`yuv420pIn`, `yuv420pOut`): inputs Y [1, 1, h, w] and
   * U, V [1, 2, h/2, w/2], outputs the same `scale` times larger; each pair, back to back, is one
   * frame as ffmpeg's yuv420p lays it out.
   */
  toBytesYuv420p(graphName: string, meta: { scale: number; docString: string }): Uint8Array {
    const s = meta.scale;
    return this.serialise(graphName, meta.docString,
      [{ name: YUV420P.y, dims: [1, 1, 'height', 'width'] }, { name: YUV420P.uv, dims: [1, 2, 'half_height', 'half_width'] }],
      [{ name: YUV420P.yOut, dims: [1, 1, `height_x${s}`, `width_x${s}`] }, { name: YUV420P.uvOut, dims: [1, 2, `half_height_x${s}`, `half_width_x${s}`] }]);
  }

  private serialise(graphName: string, docString: string, inputs: { name: string; dims: (string | number)[] }[], outputs: { name: string; dims: (string | number)[] }[]): Uint8Array {
    const frameType = (dims: (string | number)[]): onnx.ITypeProto => ({
      tensorType: {
        elemType: onnx.TensorProto.DataType.UINT8,
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    });
    const model = onnx.ModelProto.create({
      irVersion: 7,
      producerName: 'upflow-models',
      opsetImport: [{ domain: '', version: OPSET_VERSION }],
      docString,
      graph: {
        name: graphName,
        node: this.nodes,
        initializer: this.initializers,
        input: inputs.map((i) => ({ name: i.name, type: frameType(i.dims) })),
        output: outputs.map((o) => ({ name: o.name, type: frameType(o.dims) })),
      },
    });
    return onnx.ModelProto.encode(model).finish();
  }
}

function attribute(name: string, value: AttributeValue): onnx.IAttributeProto {
  const { AttributeType } = onnx.AttributeProto;
  if (typeof value === 'string') return { name, type: AttributeType.STRING, s: new TextEncoder().encode(value) };
  if (Array.isArray(value)) return { name, type: AttributeType.INTS, ints: value };
  if (Number.isInteger(value)) return { name, type: AttributeType.INT, i: value };
  return { name, type: AttributeType.FLOAT, f: value };
}

/**
 * OIHW weights of a first layer whose input channels are R, G, B, reordered to read the frames'
 * G, B, R planes; each weight divided by `divisor` (255 folds the 0..255 scale in).
 */
export function weightsForPlanarInput(weights: Float32Array, dims: readonly number[], divisor = 1): Float32Array {
  const [outChannels = 0, , kh = 1, kw = 1] = dims;
  const taps = kh * kw;
  const data = new Float32Array(weights.length);
  for (let o = 0; o < outChannels; o++) {
    GBRP_PLANE_FROM_RGB.forEach((rgb, plane) => {
      for (let t = 0; t < taps; t++) data[(o * 3 + plane) * taps + t] = weights[(o * 3 + rgb) * taps + t]! / divisor;
    });
  }
  return data;
}

/**
 * The frame plumbing every model shares, kept inside the graph so JavaScript only moves
 * buffers. Frames are planar uint8 GBR (ffmpeg's `gbrp`: the G plane, then B, then R), in and
 * out: planar keeps the sub-pixel interleave a single uint8 DepthToSpace, where packed RGB
 * would cost a 6-D transpose three times slower than the smallest network (measured with
 * onnxruntime 1.30 on the 2-core CPU). `phases` holds, per colour plane in G, B, R order, s²
 * sub-pixel planes (row-major sub-positions) on the 0..255 scale.
 */
export function framesIn(g: OnnxGraph, input: string): string {
  return g.node('Cast', [input], { to: onnxFloatType(g.computeType) }, 'pixels');
}

export function framesOut(g: OnnxGraph, phases: string, scale: number, output: string): void {
  g.node('DepthToSpace', [quantizedBytes(g, phases)], { blocksize: scale, mode: 'CRD' }, 'frames_out', output);
}

/** A yuv420p frame's planes as the compute type: Y [1, 1, h, w] and U, V [1, 2, h/2, w/2], 0..255. */
export function yuv420pIn(g: OnnxGraph): { y: string; uv: string } {
  return { y: framesIn(g, YUV420P.y), uv: framesIn(g, YUV420P.uv) };
}

/**
 * Y and U, V planes at the output size (0..255 scale) → the output frame, each plane kept to
 * its limited range (Y 16..235, U and V 16..240) as the gbrp graphs' clamp to 0..255 in R, G and
 * B keeps it: a sharpened edge's overshoot past black or white stays black or white.
 */
export function yuv420pOut(g: OnnxGraph, y: string, uv: string): void {
  limitedRange(g, quantizedBytes(g, y), 235, YUV420P.yOut);
  limitedRange(g, quantizedBytes(g, uv), 240, YUV420P.uvOut);
}

/** Sub-pixel phases of Y (`s²` planes) and of U, V (`2·s²`) → the output frame, as `yuv420pOut`. */
export function yuv420pPhasesOut(g: OnnxGraph, y: string, uv: string, scale: number): void {
  limitedRange(g, g.node('DepthToSpace', [quantizedBytes(g, y)], { blocksize: scale, mode: 'CRD' }, 'y_frame'), 235, YUV420P.yOut);
  limitedRange(g, g.node('DepthToSpace', [quantizedBytes(g, uv)], { blocksize: scale, mode: 'CRD' }, 'uv_frame'), 240, YUV420P.uvOut);
}

function limitedRange(g: OnnxGraph, bytes: string, max: number, output: string): void {
  g.node('Clip', [bytes, g.uint8s('range_min', Uint8Array.of(16), []), g.uint8s('range_max', Uint8Array.of(max), [])], {}, 'limited', output);
}

/** Planes already at the output size (G, B, R on the 0..255 scale) → the output frames. */
export function pictureOut(g: OnnxGraph, planes: string, output: string): void {
  quantizedBytes(g, planes, output);
}

function quantizedBytes(g: OnnxGraph, values: string, output?: string): string {
  // Opset 13's QuantizeLinear reads float32 only: a float16 graph casts its sum back first.
  const sum = g.computeType === 'float32' ? values : g.node('Cast', [values], { to: DataType.FLOAT }, 'values_f32');
  // QuantizeLinear with scale 1 rounds and saturates to 0..255 in one vectorised pass.
  const zeroPoint = g.node('Cast', [g.float32s('zero', [0], [])], { to: DataType.UINT8 }, 'zero_u8');
  return g.node('QuantizeLinear', [sum, g.float32s('unit', [1], []), zeroPoint], {}, 'bytes', output);
}
