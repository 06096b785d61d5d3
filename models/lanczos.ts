/**
 * Lanczos (a = 3) upscaling as a fixed-weight ONNX graph: the bottom step of rate control's
 * ladder, so the ONNX path can fall back to plain scaling from one segment to the next without
 * restarting the encoder. Separable: a vertical then a horizontal 7-tap grouped convolution
 * over an edge-padded frame, giving s² sub-pixel phases per colour in framesOut's order.
 */
import { OnnxGraph, framesIn, framesOut } from './onnx-graph';

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

export function buildLanczosGraph(scale: 2 | 4, docString: string): Uint8Array {
  const g = new OnnxGraph();
  const pixels = framesIn(g, 'frames');
  const padded = g.node('Pad', [pixels, g.int64s('pads_edge', [0, 0, LOBES, LOBES, 0, 0, LOBES, LOBES])], { mode: 'edge' }, 'edge_padded');
  const phases = Array.from({ length: scale }, (_, p) => lanczosPhaseTaps(scale, p));
  // Vertical: colour c → channels c*s + py.
  const vertical = new Float32Array(3 * scale * TAPS);
  for (let c = 0; c < 3; c++) for (let py = 0; py < scale; py++) vertical.set(phases[py]!, (c * scale + py) * TAPS);
  const rows = g.conv(padded, { data: vertical, dims: [3 * scale, 1, TAPS, 1] }, null, { group: 3, pads: [0, 0, 0, 0], hint: 'lanczos_v' });
  // Horizontal: channel c*s + py → (c*s + py)*s + px, i.e. colour, sub-row, sub-column.
  const horizontal = new Float32Array(3 * scale * scale * TAPS);
  for (let ch = 0; ch < 3 * scale; ch++) for (let px = 0; px < scale; px++) horizontal.set(phases[px]!, (ch * scale + px) * TAPS);
  const all = g.conv(rows, { data: horizontal, dims: [3 * scale * scale, 1, 1, TAPS] }, null, { group: 3 * scale, pads: [0, 0, 0, 0], hint: 'lanczos_h' });
  framesOut(g, all, scale, 'upscaled');
  return g.toBytes(`lanczos-x${scale}`, { input: 'frames', output: 'upscaled', scale, docString });
}
