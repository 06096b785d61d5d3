/**
 * Real-ESRGAN animevideov3 run plainly, as ncnn would run the .param/.bin, as the independent
 * reference the ONNX graphs are checked against. It shares no code with models/: a tiny ncnn
 * interpreter (the layer types these files use) written from ncnn's sources —
 * src/modelbin.cpp (weight tags), src/layer/convolution.cpp, prelu.cpp, pixelshuffle.cpp,
 * interp.cpp, binaryop.cpp — in float64 with direct loops. Input and output follow
 * realesrgan-ncnn-vulkan (src/realesrgan_preproc.comp, realesrgan_postproc.comp): RGB / 255 in,
 * floor(v·255 + 0.5) clamped to 0..255 out. The x2 network is the x4 one plus the layer that
 * `realesr-animevideov3-x2.param` appends: `Interp 0=3 1=0.5 2=0.5` (bicubic ×0.5).
 * Small images only: about 620 thousand multiply-adds per input pixel.
 */

export interface RgbImage {
  width: number;
  height: number;
  /** packed RGB, 8 bits per channel */
  data: Uint8Array;
}

/** c planes of h rows of w values: data[(c·h + y)·w + x]. */
interface Blob {
  c: number;
  h: number;
  w: number;
  data: Float64Array;
}

const blob = (c: number, h: number, w: number): Blob => ({ c, h, w, data: new Float64Array(c * h * w) });

interface Layer {
  type: string;
  name: string;
  bottoms: string[];
  tops: string[];
  params: Record<number, number>;
  /** ncnn weight blobs, in load order. */
  blobs: Float64Array[];
}

/** IEEE 754 binary16 → number. */
function fromHalf(bits: number): number {
  const e = (bits >> 10) & 31;
  const m = bits & 1023;
  const s = bits >> 15 ? -1 : 1;
  if (e === 0) return s * m * Math.pow(2, -24);
  if (e === 31) return m === 0 ? s * Infinity : NaN;
  return s * Math.pow(2, e - 15) * (1 + m / 1024);
}

/** ModelBin::load(w, type): type 0 starts with a tag, type 1 is raw float32. */
function makeModelBin(bin: Uint8Array) {
  const view = new DataView(bin.buffer, bin.byteOffset, bin.byteLength);
  let pos = 0;
  const raw = (n: number) => {
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) out[i] = view.getFloat32(pos + 4 * i, true);
    pos += 4 * n;
    return out;
  };
  return {
    load(n: number, type: 0 | 1): Float64Array {
      if (type === 1) return raw(n);
      const tag = view.getUint32(pos, true);
      pos += 4;
      if (tag === 0x01306b47) {
        const out = new Float64Array(n);
        for (let i = 0; i < n; i++) out[i] = fromHalf(view.getUint16(pos + 2 * i, true));
        pos += Math.ceil((2 * n) / 4) * 4; // alignSize(w * sizeof(unsigned short), 4)
        return out;
      }
      if (tag === 0) return raw(n);
      throw new Error(`reference: unsupported weight tag ${tag.toString(16)}`);
    },
    get position() {
      return pos;
    },
  };
}

function readNetwork(paramText: string, bin: Uint8Array): Layer[] {
  const lines = paramText.trim().split('\n');
  if (lines[0]!.trim() !== '7767517') throw new Error('reference: bad .param magic');
  const mb = makeModelBin(bin);
  const layers = lines.slice(2).map((line) => {
    const f = line.trim().split(/\s+/);
    const nb = Number(f[2]);
    const nt = Number(f[3]);
    const params: Record<number, number> = {};
    for (const kv of f.slice(4 + nb + nt)) {
      const [k, v] = kv.split('=');
      params[Number(k)] = Number(v);
    }
    const layer: Layer = { type: f[0]!, name: f[1]!, bottoms: f.slice(4, 4 + nb), tops: f.slice(4 + nb, 4 + nb + nt), params, blobs: [] };
    // Layer::load_model, in the order ncnn's Net::load_model calls them.
    if (layer.type === 'Convolution') {
      layer.blobs.push(mb.load(params[6]!, 0));
      if (params[5]) layer.blobs.push(mb.load(params[0]!, 1));
    } else if (layer.type === 'PReLU') {
      layer.blobs.push(mb.load(params[0]!, 1));
    }
    return layer;
  });
  if (mb.position !== bin.length) throw new Error(`reference: read ${mb.position} of ${bin.length} .bin bytes`);
  return layers;
}

/** Convolution::forward: zero padding (pad_value 0), weights [outch][inch][kh][kw]. */
function convolution(x: Blob, layer: Layer): Blob {
  const p = layer.params;
  const outch = p[0]!;
  const k = p[1]!;
  const pad = p[4] ?? 0;
  if ((p[3] ?? 1) !== 1 || (p[2] ?? 1) !== 1 || (p[9] ?? 0) !== 0) throw new Error('reference: only stride 1, dilation 1, no fused activation');
  const [weight, bias] = layer.blobs;
  const inch = x.c;
  const outH = x.h + 2 * pad - k + 1;
  const outW = x.w + 2 * pad - k + 1;
  const y = blob(outch, outH, outW);
  for (let o = 0; o < outch; o++) {
    for (let i = 0; i < outH; i++) {
      for (let j = 0; j < outW; j++) {
        let sum = bias ? bias[o]! : 0;
        for (let q = 0; q < inch; q++) {
          for (let ky = 0; ky < k; ky++) {
            const sy = i + ky - pad;
            if (sy < 0 || sy >= x.h) continue;
            for (let kx = 0; kx < k; kx++) {
              const sx = j + kx - pad;
              if (sx < 0 || sx >= x.w) continue;
              sum += x.data[(q * x.h + sy) * x.w + sx]! * weight![((o * inch + q) * k + ky) * k + kx]!;
            }
          }
        }
        y.data[(o * outH + i) * outW + j] = sum;
      }
    }
  }
  return y;
}

function prelu(x: Blob, layer: Layer): Blob {
  const slope = layer.blobs[0]!;
  const y = blob(x.c, x.h, x.w);
  for (let c = 0; c < x.c; c++) {
    for (let i = 0; i < x.h * x.w; i++) {
      const v = x.data[c * x.h * x.w + i]!;
      y.data[c * x.h * x.w + i] = v < 0 ? v * slope[c]! : v;
    }
  }
  return y;
}

/** PixelShuffle mode 0: output channel p, sub-position (sh, sw) reads channel p·r² + sh·r + sw. */
function pixelShuffle(x: Blob, layer: Layer): Blob {
  const r = layer.params[0]!;
  if ((layer.params[1] ?? 0) !== 0) throw new Error('reference: PixelShuffle mode 1 not implemented');
  const outc = x.c / (r * r);
  const y = blob(outc, x.h * r, x.w * r);
  for (let p = 0; p < outc; p++) {
    for (let sh = 0; sh < r; sh++) {
      for (let sw = 0; sw < r; sw++) {
        const q = p * r * r + sh * r + sw;
        for (let i = 0; i < x.h; i++) {
          for (let j = 0; j < x.w; j++) y.data[(p * y.h + i * r + sh) * y.w + j * r + sw] = x.data[(q * x.h + i) * x.w + j]!;
        }
      }
    }
  }
  return y;
}

/** interp.cpp cubic_coeffs (align_corner 0): source offsets and 4 weights per output position. */
function cubicCoeffs(w: number, outw: number): { ofs: number[]; alpha: number[][] } {
  const scale = w / outw;
  const ofs: number[] = [];
  const alpha: number[][] = [];
  for (let dx = 0; dx < outw; dx++) {
    let fx = Math.fround((dx + 0.5) * scale - 0.5);
    let sx = Math.floor(fx);
    fx -= sx;
    // interpolate_cubic, A = -0.75
    const A = -0.75;
    const fx0 = fx + 1;
    const fx1 = fx;
    const fx2 = 1 - fx;
    const a = [
      A * fx0 * fx0 * fx0 - 5 * A * fx0 * fx0 + 8 * A * fx0 - 4 * A,
      (A + 2) * fx1 * fx1 * fx1 - (A + 3) * fx1 * fx1 + 1,
      (A + 2) * fx2 * fx2 * fx2 - (A + 3) * fx2 * fx2 + 1,
      0,
    ];
    a[3] = 1 - a[0]! - a[1]! - a[2]!;
    if (sx <= -1) {
      sx = 1;
      a[0] = 1 - a[3]!;
      a[1] = a[3]!;
      a[2] = 0;
      a[3] = 0;
    }
    if (sx === 0) {
      sx = 1;
      a[0] = a[0]! + a[1]!;
      a[1] = a[2]!;
      a[2] = a[3]!;
      a[3] = 0;
    }
    if (sx === w - 2) {
      sx = w - 3;
      a[3] = a[2]! + a[3]!;
      a[2] = a[1]!;
      a[1] = a[0]!;
      a[0] = 0;
    }
    if (sx >= w - 1) {
      sx = w - 3;
      a[3] = 1 - a[0]!;
      a[2] = a[0]!;
      a[1] = 0;
      a[0] = 0;
    }
    ofs.push(sx);
    alpha.push(a);
  }
  return { ofs, alpha };
}

/** Interp: 1 = nearest (x·(1/scale), truncated), 3 = bicubic (taps sx-1 .. sx+2). */
function interp(x: Blob, layer: Layer): Blob {
  const p = layer.params;
  const type = p[0] ?? 0;
  const hs = p[1] ?? 1;
  const ws = p[2] ?? 1;
  if (p[3] || p[4] || p[6]) throw new Error('reference: only Interp by scale, align_corner 0');
  const outH = Math.floor(x.h * hs);
  const outW = Math.floor(x.w * ws);
  const y = blob(x.c, outH, outW);
  if (type === 1) {
    const invH = Math.fround(1 / hs);
    const invW = Math.fround(1 / ws);
    for (let c = 0; c < x.c; c++) {
      for (let i = 0; i < outH; i++) {
        const sy = Math.min(Math.trunc(i * invH), x.h - 1);
        for (let j = 0; j < outW; j++) {
          const sx = Math.min(Math.trunc(j * invW), x.w - 1);
          y.data[(c * outH + i) * outW + j] = x.data[(c * x.h + sy) * x.w + sx]!;
        }
      }
    }
    return y;
  }
  if (type === 3) {
    const cx = cubicCoeffs(x.w, outW);
    const cy = cubicCoeffs(x.h, outH);
    for (let c = 0; c < x.c; c++) {
      for (let i = 0; i < outH; i++) {
        for (let j = 0; j < outW; j++) {
          let sum = 0;
          for (let ty = 0; ty < 4; ty++) {
            for (let tx = 0; tx < 4; tx++) {
              const sy = cy.ofs[i]! - 1 + ty;
              const sx = cx.ofs[j]! - 1 + tx;
              const wgt = cy.alpha[i]![ty]! * cx.alpha[j]![tx]!;
              if (wgt !== 0) sum += wgt * x.data[(c * x.h + sy) * x.w + sx]!;
            }
          }
          y.data[(c * outH + i) * outW + j] = sum;
        }
      }
    }
    return y;
  }
  throw new Error(`reference: Interp type ${type} not implemented`);
}

function binaryAdd(a: Blob, b: Blob, layer: Layer): Blob {
  if ((layer.params[0] ?? 0) !== 0) throw new Error('reference: only BinaryOp add');
  if (a.c !== b.c || a.h !== b.h || a.w !== b.w) throw new Error('reference: BinaryOp operands differ in shape');
  const y = blob(a.c, a.h, a.w);
  for (let i = 0; i < y.data.length; i++) y.data[i] = a.data[i]! + b.data[i]!;
  return y;
}

function run(layers: Layer[], input: Blob): Blob {
  const blobs = new Map<string, Blob>();
  const get = (name: string) => {
    const found = blobs.get(name);
    if (!found) throw new Error(`reference: blob ${name} not computed`);
    return found;
  };
  let lastTop = '';
  for (const layer of layers) {
    const x = layer.type === 'Input' ? input : get(layer.bottoms[0]!);
    let y: Blob;
    switch (layer.type) {
      case 'Input':
      case 'Split':
        for (const top of layer.tops) blobs.set(top, x);
        lastTop = layer.tops[0]!;
        continue;
      case 'Convolution':
        y = convolution(x, layer);
        break;
      case 'PReLU':
        y = prelu(x, layer);
        break;
      case 'PixelShuffle':
        y = pixelShuffle(x, layer);
        break;
      case 'Interp':
        y = interp(x, layer);
        break;
      case 'BinaryOp':
        y = binaryAdd(x, get(layer.bottoms[1]!), layer);
        break;
      default:
        throw new Error(`reference: layer type ${layer.type} not implemented`);
    }
    blobs.set(layer.tops[0]!, y);
    lastTop = layer.tops[0]!;
  }
  return get(lastTop);
}

/**
 * Upscales `image` ×4 with the x4 .param/.bin, or ×2 with the same network followed by the
 * bicubic ×0.5 that the x2 .param appends.
 */
export function realEsrganReference(paramText: string, bin: Uint8Array, image: RgbImage, scale: 2 | 4): RgbImage {
  const layers = readNetwork(paramText, bin);
  if (scale === 2) {
    const last = layers[layers.length - 1]!;
    const x4 = last.tops[0]!;
    last.tops[0] = `${x4}_x4`;
    layers.push({ type: 'Interp', name: 'Resize_x2', bottoms: [`${x4}_x4`], tops: [x4], params: { 0: 3, 1: 0.5, 2: 0.5 }, blobs: [] });
  }
  const { width: w, height: h } = image;
  const input = blob(3, h, w);
  for (let c = 0; c < 3; c++) {
    for (let p = 0; p < w * h; p++) input.data[c * w * h + p] = image.data[p * 3 + c]! * (1 / 255);
  }
  const out = run(layers, input);
  if (out.c !== 3 || out.w !== w * scale || out.h !== h * scale) throw new Error(`reference: output ${out.c}x${out.h}x${out.w}`);
  const data = new Uint8Array(out.w * out.h * 3);
  for (let c = 0; c < 3; c++) {
    for (let p = 0; p < out.w * out.h; p++) {
      data[p * 3 + c] = Math.min(255, Math.max(0, Math.floor(out.data[c * out.w * out.h + p]! * 255 + 0.5)));
    }
  }
  return { width: out.w, height: out.h, data };
}
