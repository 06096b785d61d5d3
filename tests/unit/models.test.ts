import { CONTENT_KINDS, DEFAULT_MODEL_FOR, contentKindOfGenres } from '../../core/content-kind';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MODELS, MODEL_IDS, frameBytes, modelPath, stepDownLadder, streamFrameFormat } from '../../core/models';
import { choosePrecision, describePrecision, precisionOfModel, precisionsOf } from '../../core/precision';
import { childrenCpuSeconds, cpuConvolutionBlockChannels, cpuHasVnni, cpuSecondsUsed } from '../../adapters/cpu';
import type { ModelsBenchReport } from '../../cli/bench';
import { figuresFile } from '../../cli/figures-file';
import { listModelsCommand } from '../../cli/models';
import { loadConfig } from '../../core/config';

describe('model registry', () => {
  it('keeps one scale along every step-down ladder, ending in a filter', () => {
    for (const id of MODEL_IDS) {
      const ladder = stepDownLadder(id);
      expect(new Set(ladder.map((m) => MODELS[m].scale))).toEqual(new Set([MODELS[id].scale]));
      expect(MODELS[ladder[ladder.length - 1]!].kind).toBe('filter');
    }
  });

  it('names a licence and source package for every learned model', () => {
    for (const id of MODEL_IDS) {
      const info = MODELS[id];
      if (info.kind === 'filter') continue;
      expect(info.source).toMatchObject({ package: expect.any(String), version: expect.any(String), licence: expect.any(String) });
    }
  });

  it('offers every Anime4K size in real-life and anime variants', () => {
    for (const size of ['s', 'm', 'l'] as const) {
      expect(MODELS[`anime4k-${size}-rl` as const].content).toBe('real-life');
      expect(MODELS[`anime4k-${size}-an` as const].content).toBe('anime');
    }
  });
});

describe('content kinds', () => {
  it('reads animation from Jellyfin genres (Animation, Anime; any case), and nothing from the others', () => {
    expect(contentKindOfGenres(['Comedy', 'Animation'])).toBe('animation');
    expect(contentKindOfGenres([' anime '])).toBe('animation');
    expect(contentKindOfGenres(['Drama', 'Animated Shorts'])).toBeUndefined();
    expect(contentKindOfGenres([])).toBeUndefined();
  });

  it('gives every kind a default that runs at video speed on a CPU and can step down to lanczos', () => {
    for (const kind of CONTENT_KINDS) {
      const info = MODELS[DEFAULT_MODEL_FOR[kind]];
      expect(info).toMatchObject({ scale: 2, suited: 'cpu', kind: 'cnn' });
      expect(stepDownLadder(info.id)).toContain('lanczos-x2');
    }
  });
});

describe('precision', () => {
  it('auto: fp16 on a GPU; fp32 on a CPU, but L in int8 where the CPU has VNNI (measured faster there), saying which; a set precision wins', () => {
    expect(choosePrecision('auto', { gpu: true, vnni: true })).toMatchObject({ precision: 'fp16', byModel: {} });
    const vnni = choosePrecision('auto', { gpu: false, vnni: true });
    expect(vnni).toEqual({
      precision: 'fp32',
      byModel: { 'anime4k-l-rl': 'int8', 'anime4k-l-an': 'int8' },
      reason: expect.stringMatching(/has VNNI, where int8 runs anime4k-l-rl and anime4k-l-an faster than float32 and S and M slower/),
    });
    expect(describePrecision(vnni)).toBe('fp32, anime4k-l-rl and anime4k-l-an in int8');
    expect(precisionsOf(vnni)).toEqual(['fp32', 'int8']);
    expect(MODEL_IDS.map((id) => `${id} ${precisionOfModel(id, vnni)}`)).toEqual(MODEL_IDS.map((id) => `${id} ${/^anime4k-l-/.test(id) ? 'int8' : 'fp32'}`));
    const noVnni = choosePrecision('auto', { gpu: false, vnni: false });
    expect(noVnni).toEqual({ precision: 'fp32', byModel: {}, reason: expect.stringMatching(/no VNNI/) });
    expect(describePrecision(noVnni)).toBe('fp32');
    expect(choosePrecision('int8', { gpu: true, vnni: false })).toEqual({ precision: 'int8', byModel: {}, reason: 'UPFLOW_PRECISION=int8' });
    // A set precision runs every model in it, L too.
    expect(precisionOfModel('anime4k-l-an', choosePrecision('fp32', { gpu: false, vnni: true }))).toBe('fp32');
  });

  it('runs a model without that precision (Lanczos) in fp32, and names each precision\'s file', () => {
    expect(precisionOfModel('anime4k-s-an', 'int8')).toBe('int8');
    expect(precisionOfModel('lanczos-x2', 'int8')).toBe('fp32');
    expect(precisionOfModel('realesrgan-x2', 'int8')).toBe('fp32');
    expect(precisionOfModel('realesrgan-x2', 'fp16')).toBe('fp16');
    expect(modelPath('/c/', 'anime4k-s-an', 'int8')).toBe('/c/models/anime4k-s-an.int8.onnx');
    expect(modelPath('/c', 'anime4k-s-an')).toBe('/c/models/anime4k-s-an.onnx');
    expect(modelPath('/c', 'anime4k-s-an', 'fp32', 'yuv420p')).toBe('/c/models/anime4k-s-an.yuv420p.onnx');
  });

  it('reads VNNI (AVX-512 VNNI or AVX-VNNI) and the convolution blocks from /proc/cpuinfo\'s flags, and nothing from a file it cannot read', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'upflow-cpu-'));
    const cpuinfo = (flags: string) => {
      fs.writeFileSync(path.join(dir, 'cpuinfo'), `processor\t: 0\nflags\t\t: fpu sse2 ${flags}\n\nprocessor\t: 1\n`);
      return path.join(dir, 'cpuinfo');
    };
    expect(cpuHasVnni(cpuinfo('avx2 avx512f avx512_vnni'))).toBe(true);
    expect(cpuHasVnni(cpuinfo('avx2 avx_vnni'))).toBe(true);
    expect(cpuHasVnni(cpuinfo('avx2 fma sha_ni'))).toBe(false);
    expect(cpuHasVnni(path.join(dir, 'missing'))).toBe(false);
    // onnxruntime's convolution blocks: 16 channels with AVX-512, else 8 (the yuv420p graphs are built for them).
    expect(cpuConvolutionBlockChannels(cpuinfo('avx2 avx512f avx512_vnni'))).toBe(16);
    expect(cpuConvolutionBlockChannels(cpuinfo('avx2 fma avx_vnni'))).toBe(8);
    expect(cpuConvolutionBlockChannels(path.join(dir, 'missing'))).toBe(8);
    fs.rmSync(dir, { recursive: true });
  });

  it("reads the CPU time of the children waited for from Linux's stat line, a command with spaces and parentheses included", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'upflow-stat-'));
    const stat = path.join(dir, 'stat');
    // pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime cutime cstime ...
    fs.writeFileSync(stat, '4242 (node (a) b) S 1 4242 4242 0 -1 4194304 100 0 0 0 250 40 1234 66 20 0 11 0 5 0\n');
    expect(childrenCpuSeconds(stat)).toBeCloseTo(13.0, 6);
    expect(childrenCpuSeconds(path.join(dir, 'missing'))).toBe(0);
    fs.rmSync(dir, { recursive: true });
    // This process's own time counts too: a busy loop adds to it.
    const before = cpuSecondsUsed();
    const until = Date.now() + 60;
    while (Date.now() < until);
    expect(cpuSecondsUsed() - before).toBeGreaterThan(0.03);
  });
});

describe('upflow models', () => {
  it("shows the last models bench's figures for each model in the precision it runs in here, typed nowhere else", () => {
    const written: string[] = [];
    const write = jest.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
      written.push(String(chunk));
      return true;
    });
    try {
      listModelsCommand(loadConfig({}), { json: true });
    } finally {
      write.mockRestore();
    }
    const rows = JSON.parse(written.join('')) as { id: string; precision: string; measured: { size: string; inferenceFps: number | null; realTime: number | null }[] }[];
    const bench = JSON.parse(fs.readFileSync(figuresFile('models'), 'utf8')) as ModelsBenchReport;
    for (const row of rows) {
      const expected = bench.results.filter((r) => r.model === row.id && r.precision === row.precision).map((r) => ({ size: r.size, inferenceFps: r.inferenceFps, realTime: r.realTime }));
      expect([row.id, row.measured]).toEqual([row.id, expected]);
    }
    expect(rows.find((r) => r.id === 'anime4k-s-an')!.measured.length).toBeGreaterThan(0);
  });
});

describe('the frames a stream uses', () => {
  const fp32 = () => 'fp32' as const;
  it('are yuv420p when every model of the ladder has that form in the precision it runs in, and the frames have even sizes', () => {
    expect(streamFrameFormat(stepDownLadder('anime4k-s-an'), 640, 360, fp32)).toBe('yuv420p');
    expect(streamFrameFormat(stepDownLadder('anime4k-s-rl'), 640, 360, fp32)).toBe('yuv420p');
    expect(streamFrameFormat(stepDownLadder('anime4k-l-an'), 640, 360, fp32)).toBe('yuv420p');
    // Real-ESRGAN has no yuv420p graph: its whole ladder, L, M, S and Lanczos with it, stays on gbrp.
    expect(streamFrameFormat(stepDownLadder('realesrgan-x2'), 640, 360, fp32)).toBe('gbrp');
    expect(streamFrameFormat(stepDownLadder('realesrgan-x4'), 640, 360, fp32)).toBe('gbrp');
    expect(streamFrameFormat(stepDownLadder('anime4k-s-an'), 641, 360, fp32)).toBe('gbrp');
    expect(streamFrameFormat(stepDownLadder('anime4k-s-an'), 640, 361, fp32)).toBe('gbrp');
    // `auto` on a CPU with VNNI: L in int8, its step-downs in fp32; or every model in int8 (Lanczos has fp32 only).
    expect(streamFrameFormat(stepDownLadder('anime4k-l-an'), 640, 360, (id) => (id === 'anime4k-l-an' ? 'int8' : 'fp32'))).toBe('yuv420p');
    expect(streamFrameFormat(stepDownLadder('anime4k-l-an'), 640, 360, (id) => (id === 'lanczos-x2' ? 'fp32' : 'int8'))).toBe('yuv420p');
    // fp16 has no graphs on yuv420p.
    expect(streamFrameFormat(stepDownLadder('anime4k-l-an'), 640, 360, (id) => (id === 'anime4k-l-an' ? 'fp16' : 'fp32'))).toBe('gbrp');
    expect(streamFrameFormat([], 640, 360, fp32)).toBe('gbrp');
  });
  it('weigh 3 bytes a pixel in gbrp, 1.5 in yuv420p', () => {
    expect(frameBytes('gbrp', 640, 360)).toBe(691_200);
    expect(frameBytes('yuv420p', 640, 360)).toBe(345_600);
  });
});
