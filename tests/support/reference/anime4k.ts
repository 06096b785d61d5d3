/**
 * Anime4K CNN 2x written plainly from websr's shaders (src/layers/anime4k/*.ts), as the
 * independent reference the ONNX graphs are checked against. It reads the published JSON as
 * the shaders do — a mat4x4 (column-major) per tap and input chunk, `result += M * v` — and
 * shares no code with the converter. Convolutions see zeros outside the image; the bilinear
 * base clamps to the edge (websr samples video frames with clamp-to-edge).
 */

type Vec4Map = Float32Array; // width × height × 4, row-major

interface LayerJson {
  weights: number[];
  bias?: number[];
}
export interface Anime4kJson {
  layers: Record<string, LayerJson | object>;
}

export interface RgbImage {
  width: number;
  height: number;
  /** packed RGB, 8 bits per channel */
  data: Uint8Array;
}

/** The shader's tap order: offsets (dx, dy) listed x-major. */
const OFFSETS: [number, number][] = [
  [-1, -1], [-1, 0], [-1, 1],
  [0, -1], [0, 0], [0, 1],
  [1, -1], [1, 0], [1, 1],
];

/** `mats[i] * v` for column-major mat4x4 number i. */
function mulAdd(result: Float64Array, mats: number[], i: number, v: ArrayLike<number>, vi: number): void {
  for (let c = 0; c < 4; c++) {
    const x = v[vi + c]!;
    if (x === 0) continue;
    for (let r = 0; r < 4; r++) result[r]! += mats[i * 16 + c * 4 + r]! * x;
  }
}

const relu = (m: Vec4Map) => m.map((v) => Math.max(v, 0));
const negRelu = (m: Vec4Map) => m.map((v) => Math.max(-v, 0));

/**
 * A 3x3 layer: `inputs[k]` is multiplied by mats[k*9 + tap] (the shaders' `kernels[i + 9k]`).
 * `inputs` are already activated (the caller lists them in the shader's order).
 */
function conv3x3(inputs: Vec4Map[], w: number, h: number, layer: LayerJson): Vec4Map {
  const out = new Float32Array(w * h * 4);
  const acc = new Float64Array(4);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      acc.fill(0);
      inputs.forEach((input, k) => {
        OFFSETS.forEach(([dx, dy], tap) => {
          const sx = x + dx;
          const sy = y + dy;
          if (sx < 0 || sy < 0 || sx >= w || sy >= h) return;
          mulAdd(acc, layer.weights, k * 9 + tap, input, (sy * w + sx) * 4);
        });
      });
      for (let r = 0; r < 4; r++) out[(y * w + x) * 4 + r] = acc[r]! + (layer.bias?.[r] ?? 0);
    }
  }
  return out;
}

/** A 1x1 layer: `inputs[k]` multiplied by mats[k]. */
function conv1x1(inputs: Vec4Map[], w: number, h: number, layer: LayerJson): Vec4Map {
  const out = new Float32Array(w * h * 4);
  const acc = new Float64Array(4);
  for (let p = 0; p < w * h; p++) {
    acc.fill(0);
    inputs.forEach((input, k) => mulAdd(acc, layer.weights, k, input, p * 4));
    for (let r = 0; r < 4; r++) out[p * 4 + r] = acc[r]! + (layer.bias?.[r] ?? 0);
  }
  return out;
}

function get(json: Anime4kJson, name: string): LayerJson {
  const l = json.layers[name];
  if (!l || !('weights' in l)) throw new Error(`layer ${name} missing`);
  return l as LayerJson;
}

/** Runs cnn-2x-{s,m,l}; returns the residual planes as the display shader reads them. */
function network(size: 's' | 'm' | 'l', json: Anime4kJson, rgba: Vec4Map, w: number, h: number): { shared?: Vec4Map; perColour?: [Vec4Map, Vec4Map, Vec4Map] } {
  const L = (name: string) => get(json, name);
  if (size === 's') {
    const c0 = conv3x3([rgba], w, h, L('conv2d_tf'));
    const c1 = conv3x3([relu(c0), negRelu(c0)], w, h, L('conv2d_1_tf'));
    const c2 = conv3x3([relu(c1), negRelu(c1)], w, h, L('conv2d_2_tf'));
    return { shared: conv3x3([relu(c2), negRelu(c2)], w, h, L('conv2d_last_tf')) };
  }
  if (size === 'm') {
    const outs = [conv3x3([rgba], w, h, L('conv2d_tf'))];
    for (let i = 1; i <= 6; i++) {
      const prev = outs[i - 1]!;
      outs.push(conv3x3([relu(prev), negRelu(prev)], w, h, L(`conv2d_${i}_tf`)));
    }
    // Conv56x4: kernels[2i] · max(b_i, 0), kernels[2i+1] · max(-b_i, 0)
    const dense = outs.flatMap((b) => [relu(b), negRelu(b)]);
    return { perColour: [conv1x1(dense, w, h, L('conv2d_7_tf')), conv1x1(dense, w, h, L('conv2d_7_tf1')), conv1x1(dense, w, h, L('conv2d_7_tf2'))] };
  }
  // L: two 4-channel buffers per layer (tf, tf1).
  const a = [conv3x3([rgba], w, h, L('conv2d_tf'))];
  const b = [conv3x3([rgba], w, h, L('conv2d_tf1'))];
  for (let i = 1; i <= 6; i++) {
    // Conv16x4: kernels[i]·max(b0,0), [i+9]·max(b1,0), [i+18]·max(-b0,0), [i+27]·max(-b1,0)
    const inputs = [relu(a[i - 1]!), relu(b[i - 1]!), negRelu(a[i - 1]!), negRelu(b[i - 1]!)];
    a.push(conv3x3(inputs, w, h, L(`conv2d_${i}_tf`)));
    b.push(conv3x3(inputs, w, h, L(`conv2d_${i}_tf1`)));
  }
  // Conv112x4 (two halves summed by Concat2): kernels[4i]·max(tf_i,0), [4i+1]·max(tf1_i,0),
  // [4i+2]·max(-tf_i,0), [4i+3]·max(-tf1_i,0).
  const dense = a.flatMap((ai, i) => [relu(ai), relu(b[i]!), negRelu(ai), negRelu(b[i]!)]);
  const last = ['conv2d_last_tf', 'conv2d_last_tf1', 'conv2d_last_tf2'].map((n) => conv1x1(dense, w, h, L(n)));
  return { perColour: last as [Vec4Map, Vec4Map, Vec4Map] };
}

/** The display shader: bilinear 2x of the input (clamp to edge) + residual, clamped, to 8 bits. */
export function anime4kReference(size: 's' | 'm' | 'l', json: Anime4kJson, image: RgbImage): RgbImage {
  const { width: w, height: h } = image;
  const rgba = new Float32Array(w * h * 4);
  for (let p = 0; p < w * h; p++) {
    for (let c = 0; c < 3; c++) rgba[p * 4 + c] = image.data[p * 3 + c]! / 255;
    rgba[p * 4 + 3] = 1;
  }
  const residual = network(size, json, rgba, w, h);
  const W = w * 2;
  const H = h * 2;
  const out = new Uint8Array(W * H * 3);
  const clampX = (x: number) => Math.min(w - 1, Math.max(0, x));
  const clampY = (y: number) => Math.min(h - 1, Math.max(0, y));
  for (let Y = 0; Y < H; Y++) {
    for (let X = 0; X < W; X++) {
      // Texture coordinates of the output pixel's centre, in input texels.
      const fx = (X + 0.5) / 2 - 0.5;
      const fy = (Y + 0.5) / 2 - 0.5;
      const x0 = Math.floor(fx);
      const y0 = Math.floor(fy);
      const tx = fx - x0;
      const ty = fy - y0;
      const i = Math.floor(Y / 2) * w + Math.floor(X / 2);
      const sub = (X % 2) + (Y % 2) * 2; // the shader's c_index = x_floor + y_floor*2
      for (let c = 0; c < 3; c++) {
        const at = (x: number, y: number) => rgba[(clampY(y) * w + clampX(x)) * 4 + c]!;
        const bilinear =
          (1 - ty) * ((1 - tx) * at(x0, y0) + tx * at(x0 + 1, y0)) + ty * ((1 - tx) * at(x0, y0 + 1) + tx * at(x0 + 1, y0 + 1));
        const value = residual.shared ? residual.shared[i * 4 + sub]! : residual.perColour![c]![i * 4 + sub]!;
        out[(Y * W + X) * 3 + c] = Math.round(Math.min(1, Math.max(0, bilinear + value)) * 255);
      }
    }
  }
  return { width: W, height: H, data: out };
}
