/**
 * Static int8 quantization in the QDQ form onnxruntime fuses into QLinearConv: each convolution
 * reads DequantizeLinear(uint8 activation), DequantizeLinear(int8 weights, per output channel,
 * symmetric) and DequantizeLinear(int32 bias, scale s_x·s_w[o]), and its output goes through
 * QuantizeLinear (uint8, per tensor). Activation scales come from calibration: the float32 graph
 * run on the calibration frames (models/calibration/) with its named intermediate tensors
 * exposed as extra outputs.
 */
import { onnx } from 'onnx-proto';
import { toPlanarGbr, toYuv420p, type RgbImage } from '../adapters/image';
import type { FrameFormat } from '../core/models';
import { probeFloatTensors } from '../adapters/onnx';
import type { OnnxGraph } from './onnx-graph';

/** A uint8 tensor per-tensor quantized: real = scale · (q − zeroPoint). */
export interface QuantizedTensor {
  name: string;
  scale: number;
  zeroPoint: number;
}

/** What calibration found a float tensor to span, by tensor name. */
export type TensorRanges = Record<string, { min: number; max: number }>;

/** The smallest range a scale is made from: a tensor that was all zeros still needs a valid scale. */
export const MIN_RANGE = 1e-6;

/** uint8 quantization of [min, max] (widened to hold 0 exactly, as ONNX's zero point needs). */
export function uint8Quantization(range: { min: number; max: number }): { scale: number; zeroPoint: number } {
  const min = Math.min(0, range.min);
  const max = Math.max(0, range.max);
  const scale = Math.max(max - min, MIN_RANGE) / 255;
  return { scale, zeroPoint: Math.min(255, Math.max(0, Math.round(-min / scale))) };
}

/**
 * Weights use 7 of int8's bits (−63..63), as onnxruntime's quantizer does with `reduce_range`:
 * on x86 without VNNI, MLAS multiplies uint8 by int8 with vpmaddubsw, which adds pairs of
 * products in int16 and saturates (255·127·2 > 32767). With −127..127 the int8 graphs here lost
 * 0.04-0.21 dB of PSNR on the quality photos and up to 35/255 on some pixels on this AVX2 CPU;
 * with −63..63 (255·63·2 < 32767) at most 0.06 dB. (onnxruntime/python/tools/quantization,
 * `reduce_range`: "should be used on non-VNNI machines".)
 */
const WEIGHT_LEVELS = 63;

/** Symmetric int8 per output channel (axis 0): w ≈ scales[o] · values, values in −63..63. */
export function quantizeWeightsPerChannel(data: Float32Array, outChannels: number): { values: Int8Array; scales: Float32Array } {
  const perChannel = data.length / outChannels;
  const values = new Int8Array(data.length);
  const scales = new Float32Array(outChannels);
  for (let o = 0; o < outChannels; o++) {
    const channel = data.subarray(o * perChannel, (o + 1) * perChannel);
    const largest = channel.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    // An all-zero channel quantizes to zeros under any scale; 1 keeps the scale valid.
    const scale = largest > 0 ? largest / WEIGHT_LEVELS : 1;
    scales[o] = scale;
    channel.forEach((v, i) => (values[o * perChannel + i] = Math.round(v / scales[o]!)));
  }
  return { values, scales };
}

export function quantize(g: OnnxGraph, input: string, quantization: { scale: number; zeroPoint: number }, hint: string): QuantizedTensor {
  const name = g.node('QuantizeLinear', [input, g.float32s(`${hint}_scale`, [quantization.scale], []), g.uint8s(`${hint}_zp`, Uint8Array.of(quantization.zeroPoint), [])], {}, hint);
  return { name, ...quantization };
}

/**
 * A DequantizeLinear of its own for each consumer: onnxruntime's QDQ selectors fuse a
 * DequantizeLinear into the one node it feeds, so a shared one would stay a separate pass.
 */
export function dequantize(g: OnnxGraph, input: QuantizedTensor, hint = 'dq'): string {
  return g.node('DequantizeLinear', [input.name, g.float32s(`${hint}_scale`, [input.scale], []), g.uint8s(`${hint}_zp`, Uint8Array.of(input.zeroPoint), [])], {}, hint);
}

/**
 * A convolution in QDQ form with a float output (the caller quantizes it, after a Relu or not):
 * int8 weights per output channel, an int32 bias on the scale s_x · s_w[o] so that the integer
 * accumulator adds it directly.
 */
export function qdqConv(g: OnnxGraph, input: QuantizedTensor, weights: { data: Float32Array; dims: readonly [number, number, number, number] }, bias: Float32Array, options: { pads?: number[]; hint: string }): string {
  const [outChannels, , kh, kw] = weights.dims;
  const { values, scales } = quantizeWeightsPerChannel(weights.data, outChannels);
  const { hint } = options;
  const w = g.node('DequantizeLinear', [
    g.int8s(`${hint}_w_q`, values, [...weights.dims]),
    g.float32s(`${hint}_w_scale`, scales, [outChannels]),
    g.int8s(`${hint}_w_zp`, new Int8Array(outChannels), [outChannels]),
  ], { axis: 0 }, `${hint}_w`);
  const biasScales = scales.map((s) => s * input.scale);
  const b = g.node('DequantizeLinear', [
    g.int32s(`${hint}_b_q`, Int32Array.from(bias, (v, o) => Math.round(v / biasScales[o]!)), [outChannels]),
    g.float32s(`${hint}_b_scale`, biasScales, [outChannels]),
    g.int32s(`${hint}_b_zp`, new Int32Array(outChannels), [outChannels]),
  ], { axis: 0 }, `${hint}_b`);
  return g.node('Conv', [dequantize(g, input, `${hint}_x`), w, b], {
    kernel_shape: [kh, kw],
    pads: options.pads ?? [(kh - 1) / 2, (kw - 1) / 2, (kh - 1) / 2, (kw - 1) / 2],
    group: 1,
  }, hint);
}

/** The model with `tensors` (float values it computes anyway) added as graph outputs. */
export function withProbeOutputs(model: Uint8Array, tensors: readonly string[]): Uint8Array {
  const decoded = onnx.ModelProto.decode(model);
  const graph = decoded.graph;
  if (!graph) throw new Error('the model has no graph');
  const produced = new Set((graph.node ?? []).flatMap((n) => n.output ?? []));
  const missing = tensors.filter((t) => !produced.has(t));
  if (missing.length > 0) throw new Error(`the model computes no tensor named ${missing.join(', ')}`);
  graph.output = [...(graph.output ?? []), ...tensors.map((name) => onnx.ValueInfoProto.create({ name, type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT } } }))];
  return onnx.ModelProto.encode(decoded).finish();
}

/**
 * Min and max of the named float tensors of a float32 model over the calibration images, as the
 * frames it takes (`frames`: gbrp by default; yuv420p for a graph on the video's planes). The
 * plain extremes: clipping to a high percentile (99.9 to 99.999, from a histogram; tried) lost
 * 0.01-0.46 dB more PSNR on the quality photos, and widening the ranges by 1.25-1.6 changed
 * nothing measurable.
 */
export async function calibrateRanges(model: Uint8Array, images: readonly RgbImage[], tensors: readonly string[], options: { threads?: number; frames?: FrameFormat } = {}): Promise<TensorRanges> {
  const ranges: TensorRanges = Object.fromEntries(tensors.map((t) => [t, { min: Infinity, max: -Infinity }]));
  const frames = images.map((image) => (options.frames === 'yuv420p' ? toYuv420p(image) : { planes: toPlanarGbr(image), width: image.width, height: image.height }));
  await probeFloatTensors({ model: withProbeOutputs(model, tensors), frames, tensors, threads: options.threads ?? 1 }, (outputs) => {
    for (const tensor of tensors) {
      const range = ranges[tensor]!;
      for (const v of outputs[tensor]!) {
        if (v < range.min) range.min = v;
        if (v > range.max) range.max = v;
      }
    }
  });
  return ranges;
}
