/**
 * Lanczos (a = 3) upscaling as a fixed-weight ONNX graph: the bottom step of rate control's
 * ladder, so the ONNX path can fall back to plain scaling from one segment to the next without
 * restarting the encoder. Separable: a vertical then a horizontal 7-tap grouped convolution
 * over an edge-padded frame, giving s² sub-pixel phases per colour in framesOut's order.
 */
import { OnnxGraph, framesIn, framesOut, yuv420pIn, yuv420pPhasesOut } from './onnx-graph';

const LOBES = 3;
const TAPS = 2 * LOBES + 1; // a phase's centre lies within half a pixel of a source pixel

function lanczos(t: number): number {
  if (t === 0) return 1;
  if (Math.abs(t) >= LOBES) return 0;
  const pt = Math.PI * t;
  return (LOBES * Math.sin(pt) * Math.sin(pt / LOBES)) / (pt * pt);
}

/** Normalised taps for output phase p of scale s (half-pixel centres), over offsets -3..+3. */
export function lanczosPhaseTaps(scale: number, phase: number): number[] {
  const offset = (phase + 0.5) / scale - 0.5; // where the output pixel's centre falls, in source pixels
  const taps = Array.from({ length: TAPS }, (_, i) => lanczos(offset - (i - LOBES)));
  const sum = taps.reduce((a, b) => a + b, 0);
  return taps.map((t) => t / sum);
}

/** `channels` planes, edge-padded, → s² sub-pixel phases per plane in framesOut's order. */
function lanczosPhases(g: OnnxGraph, planes: string, channels: number, scale: number, hint: string): string {
  const padded = g.node('Pad', [planes, g.int64s(`${hint}_pads`, [0, 0, LOBES, LOBES, 0, 0, LOBES, LOBES])], { mode: 'edge' }, `${hint}_padded`);
  const phases = Array.from({ length: scale }, (_, p) => lanczosPhaseTaps(scale, p));
  // Vertical: plane c → channels c*s + py.
  const vertical = new Float32Array(channels * scale * TAPS);
  for (let c = 0; c < channels; c++) for (let py = 0; py < scale; py++) vertical.set(phases[py]!, (c * scale + py) * TAPS);
  const rows = g.conv(padded, { data: vertical, dims: [channels * scale, 1, TAPS, 1] }, null, { group: channels, pads: [0, 0, 0, 0], hint: `${hint}_v` });
  // Horizontal: channel c*s + py → (c*s + py)*s + px, i.e. plane, sub-row, sub-column.
  const horizontal = new Float32Array(channels * scale * scale * TAPS);
  for (let ch = 0; ch < channels * scale; ch++) for (let px = 0; px < scale; px++) horizontal.set(phases[px]!, (ch * scale + px) * TAPS);
  return g.conv(rows, { data: horizontal, dims: [channels * scale * scale, 1, 1, TAPS] }, null, { group: channels * scale, pads: [0, 0, 0, 0], hint: `${hint}_h` });
}

export function buildLanczosGraph(scale: 2 | 4, docString: string): Uint8Array {
  const g = new OnnxGraph();
  framesOut(g, lanczosPhases(g, framesIn(g, 'frames'), 3, scale, 'lanczos'), scale, 'upscaled');
  return g.toBytes(`lanczos-x${scale}`, { input: 'frames', output: 'upscaled', scale, docString });
}

/** The same filter on yuv420p frames: Y, and U and V at their own half size, each on its own. */
export function buildLanczosYuv420pGraph(scale: 2 | 4, docString: string): Uint8Array {
  const g = new OnnxGraph();
  const { y, uv } = yuv420pIn(g);
  yuv420pPhasesOut(g, lanczosPhases(g, y, 1, scale, 'lanczos_y'), lanczosPhases(g, uv, 2, scale, 'lanczos_uv'), scale);
  return g.toBytesYuv420p(`lanczos-x${scale}-yuv420p`, { scale, docString });
}
