/** Reading onnxruntime's profile: per-node means over the runs after the first, and per-operator sums. */
import { summariseOrtProfile, type OrtProfileEvent } from '../../adapters/onnx';
import { byOperator } from '../../cli/bench-profile';

const run = (ts: number, dur: number): OrtProfileEvent => ({ cat: 'Session', name: 'model_run', ts, dur });
const kernel = (node: string, op: string, ts: number, dur: number): OrtProfileEvent => ({ cat: 'Node', name: `${node}_kernel_time`, ts, dur, args: { op_name: op } });

describe('operator profile', () => {
  const events: OrtProfileEvent[] = [
    { cat: 'Session', name: 'session_initialization', ts: 0, dur: 500 },
    // The first run allocates: slow, and left out.
    run(1000, 9000), kernel('conv1', 'Conv', 1100, 6000), kernel('resize', 'Resize', 7200, 2000),
    run(20_000, 3000), kernel('conv1', 'Conv', 20_100, 1800), kernel('conv2', 'Conv', 21_950, 400), kernel('resize', 'Resize', 22_400, 500),
    { cat: 'Node', name: 'conv1_fence_before', ts: 20_050, dur: 1, args: { op_name: 'Conv' } },
    run(30_000, 3400), kernel('conv1', 'Conv', 30_100, 2200), kernel('conv2', 'Conv', 32_350, 400), kernel('resize', 'Resize', 32_800, 500),
  ];

  it('gives each node its mean time a run over the runs after the first, slowest first', () => {
    const profile = summariseOrtProfile(events);
    expect(profile.runs).toBe(2);
    expect(profile.runMs).toBeCloseTo(3.2);
    expect(profile.operators).toEqual([
      { node: 'conv1', op: 'Conv', ms: 2 },
      { node: 'resize', op: 'Resize', ms: 0.5 },
      { node: 'conv2', op: 'Conv', ms: 0.4 },
    ]);
  });

  it('sums the nodes of each operator', () => {
    expect(byOperator(summariseOrtProfile(events).operators)).toEqual([
      { op: 'Conv', nodes: 2, ms: 2.4 },
      { op: 'Resize', nodes: 1, ms: 0.5 },
    ]);
  });

  it('says nothing ran when only the first run was profiled', () => {
    expect(summariseOrtProfile(events.slice(0, 4))).toEqual({ runs: 0, runMs: 0, operators: [] });
  });
});
