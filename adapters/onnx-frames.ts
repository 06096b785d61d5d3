/**
 * A frame's tensors for a session and its output back as bytes, in the frames its graph takes
 * (core/models.ts `FrameFormat`): what an inference lane (adapters/onnx-lane.ts) runs and what the
 * operator profile (adapters/onnx.ts `profileOperators`) feeds, so both run a graph alike.
 */
import * as ort from 'onnxruntime-node';
import { YUV420P_TENSORS, frameBytes, type FrameFormat } from '../core/models';

/** The upscaled frames as an ArrayBuffer of their own, to hand over without a copy. */
function ownBuffer(data: Uint8Array): ArrayBuffer {
  if (data.byteOffset === 0 && data.byteLength === data.buffer.byteLength && data.buffer instanceof ArrayBuffer) return data.buffer;
  const copy = new ArrayBuffer(data.byteLength);
  new Uint8Array(copy).set(data);
  return copy;
}

/** The frames a graph takes: yuv420p when it has the Y and U, V inputs (core/models.ts), else gbrp. */
export function framesOf(session: ort.InferenceSession): FrameFormat {
  return session.inputNames.includes(YUV420P_TENSORS.y) && session.inputNames.includes(YUV420P_TENSORS.uv) ? 'yuv420p' : 'gbrp';
}

/** One frame's tensors, as views of the bytes it came in (no copy). */
export function feeds(session: ort.InferenceSession, frames: FrameFormat, bytes: ArrayBuffer, batch: number, width: number, height: number): Record<string, ort.Tensor> {
  if (frames === 'gbrp') return { [session.inputNames[0]!]: new ort.Tensor('uint8', new Uint8Array(bytes), [batch, 3, height, width]) };
  if (batch !== 1) throw new Error('a yuv420p graph takes one frame at a time');
  const luma = width * height;
  return {
    [YUV420P_TENSORS.y]: new ort.Tensor('uint8', new Uint8Array(bytes, 0, luma), [1, 1, height, width]),
    [YUV420P_TENSORS.uv]: new ort.Tensor('uint8', new Uint8Array(bytes, luma, frameBytes('yuv420p', width, height) - luma), [1, 2, height / 2, width / 2]),
  };
}

/** The upscaled frame as one ArrayBuffer of its own, to hand over without a copy (yuv420p: its two outputs joined). */
export function upscaledFrame(session: ort.InferenceSession, frames: FrameFormat, result: ort.InferenceSession.OnnxValueMapType): ArrayBuffer {
  const bytesOf = (name: string | undefined) => {
    const data = name === undefined ? undefined : result[name]?.data;
    if (!(data instanceof Uint8Array)) throw new Error('the model gave no uint8 output');
    return data;
  };
  if (frames === 'gbrp') return ownBuffer(bytesOf(session.outputNames[0]));
  const y = bytesOf(YUV420P_TENSORS.yOut);
  const uv = bytesOf(YUV420P_TENSORS.uvOut);
  const joined = new Uint8Array(y.byteLength + uv.byteLength);
  joined.set(y);
  joined.set(uv, y.byteLength);
  return joined.buffer;
}
