/** Where a frame's time goes, from the real onnxruntime's profiler (`upflow bench --only profile`). */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildLanczosGraph, buildLanczosYuv420pGraph } from '../../models/lanczos';
import { profileOperators } from '../../adapters/onnx';

/** Profiles `graph` from a folder of its own, which `check` may look into before it goes. */
async function profiled(graph: Uint8Array, check: (profile: Awaited<ReturnType<typeof profileOperators>>, dir: string) => void): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'upflow-profile-test-'));
  try {
    const model = path.join(dir, 'model.onnx');
    fs.writeFileSync(model, graph);
    check(await profileOperators({ model, threads: 1, cpuGraphOptimization: 'extended', width: 64, height: 36, runs: 3, dir }), dir);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

describe('operator profile', () => {
  it("times every node of a model's frame, the nodes adding up to no more than the frame", async () => {
    await profiled(buildLanczosGraph(2, 'test'), (profile, dir) => {
      expect(profile.runs).toBe(3);
      expect(profile.frames).toBe('gbrp');
      const ops = new Set(profile.operators.map((o) => o.op));
      expect(ops).toContain('Conv');
      expect(ops).toContain('DepthToSpace');
      const nodesMs = profile.operators.reduce((sum, o) => sum + o.ms, 0);
      expect(nodesMs).toBeGreaterThan(0);
      expect(nodesMs).toBeLessThanOrEqual(profile.runMs);
      // One profile file, in the folder given.
      expect(fs.readdirSync(dir).filter((f) => f.startsWith('onnxruntime-profile'))).toHaveLength(1);
    });
  });

  it('feeds a yuv420p graph its Y and U, V planes, as a stream runs it', async () => {
    await profiled(buildLanczosYuv420pGraph(2, 'test'), (profile) => {
      expect(profile.frames).toBe('yuv420p');
      expect(profile.runs).toBe(3);
      expect(profile.operators.map((o) => o.op)).toContain('Conv');
    });
  });
});
