import type { JobView } from '../../services';
import type { SegmentRecord } from '../../adapters/postgres';
import { auditPerformance, formatAudit } from '../../cli/audit';

const job = {
  id: 'job-1', titleKey: 'film-1234abcd', name: 'Film', state: 'complete', upscaler: 'anime4k-s-rl', frames: 0,
  source: { fps: 24, durationSeconds: 25 }, plan: null, firstSegmentAt: '2026-11-25T03:00:02.000Z', streamStartedAt: '2026-11-25T03:00:00.000Z',
} as unknown as JobView;

const segment = (index: number, durationSeconds: number, wallSeconds: number, model = 'anime4k-s-rl', precision: string | null = 'fp32'): SegmentRecord =>
  ({ index, filename: `segment_${index}.ts`, startSeconds: index * 6, durationSeconds, bytes: 1000, model, precision, wallSeconds });

describe('performance audit', () => {
  it('computes frames, fps, the real-time multiplier and a stable verdict from segment timings', () => {
    const audit = auditPerformance(job, [segment(0, 1, 2), segment(1, 6, 5), segment(2, 6, 5), segment(3, 6, 5), segment(4, 6, 5)]);
    expect(audit).toMatchObject({ frames: 25 * 24, segments: 5, contentSeconds: 25, wallSeconds: 22, stability: 'STABLE', slowSegments: 0, firstSegmentSeconds: 2 });
    expect(audit.realTime).toBeCloseTo(25 / 22);
    expect(audit.averageFps).toBeCloseTo(600 / 22);
    expect(audit.sampledFps).toEqual({ min: 28.8, median: 28.8, max: 28.8 });
    expect(audit.rateVariation).toBe(0);
    expect(formatAudit(audit)).toMatch(/^stability\s+STABLE \(rates vary by 0\.0 %\)$/m);
  });

  it('marks a stream whose per-segment rates spread over 20 % unstable and counts slow segments', () => {
    const audit = auditPerformance(job, [segment(0, 1, 3), segment(1, 6, 3), segment(2, 6, 8), segment(3, 6, 4, 'anime4k-s-rl'), segment(4, 6, 9)]);
    expect(audit.stability).toBe('UNSTABLE');
    expect(audit.slowSegments).toBe(2);
    expect(audit.rateVariation).toBeGreaterThan(0.2);
  });

  it('leaves a short last segment (pipeline drain) out of the judgement', () => {
    const audit = auditPerformance(job, [segment(0, 1, 2), segment(1, 6, 5), segment(2, 6, 5), segment(3, 6, 5), segment(4, 1, 0.25)]);
    expect(audit.stability).toBe('STABLE');
    expect(audit.rates).toEqual({ min: 1.2, median: 1.2, max: 1.2 });
  });

  it('does not judge fewer than three segments after the first', () => {
    expect(auditPerformance(job, [segment(0, 1, 2), segment(1, 6, 5), segment(2, 6, 5)]).stability).toBe('TOO FEW SEGMENTS');
  });

  it('breaks the figures down by model and precision when rate control stepped down', () => {
    const audit = auditPerformance(job, [segment(0, 1, 2, 'anime4k-m-rl'), segment(1, 6, 12, 'anime4k-m-rl'), segment(2, 6, 4), segment(3, 6, 4), segment(4, 6, 3, 'lanczos-x2'), segment(5, 6, 3, 'anime4k-s-rl', null)]);
    expect(audit.models).toEqual([
      { model: 'anime4k-m-rl fp32', segments: 2, contentSeconds: 7, realTime: 0.5 },
      { model: 'anime4k-s-rl fp32', segments: 2, contentSeconds: 12, realTime: 1.5 },
      { model: 'lanczos-x2 fp32', segments: 1, contentSeconds: 6, realTime: 2 },
      // Recorded before precisions were: the model alone.
      { model: 'anime4k-s-rl', segments: 1, contentSeconds: 6, realTime: 2 },
    ]);
    expect(formatAudit(audit)).toMatch(/^model\s+anime4k-m-rl fp32 \(2 segments, 0\.50x\), anime4k-s-rl fp32/m);
  });
});
