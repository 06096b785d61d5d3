import type { SegmentRecord } from '../../adapters/postgres';
import { decideResume, resumedList, type StreamHeartbeat } from '../../activities/stream-resume';

const plan = { firstSegmentSeconds: 2, segmentSeconds: 6, durationSeconds: 20 }; // cuts at 2, 8, 14
const segment = (index: number, startSeconds: number, durationSeconds: number): SegmentRecord => ({
  index, filename: `seg${String(index).padStart(5, '0')}.ts`, startSeconds, durationSeconds, bytes: 1000 + index, model: null, wallSeconds: 1,
});
const recorded = [segment(0, 0, 2), segment(1, 2, 6), segment(2, 8, 6)];
const heartbeat = (completeSegments: number): StreamHeartbeat => ({
  completeSegments, frames: 0, segments: completeSegments, contentSeconds: 9, durationSeconds: 20, rate: 1, fps: 25,
});
const allThere = (name: string) => recorded.find((s) => s.filename === name)?.bytes;

describe('decideResume', () => {
  it('resumes at the boundary after the last reported segment, keeping those before it', () => {
    const decision = decideResume(plan, heartbeat(2), recorded, allThere);
    expect(decision).toMatchObject({ resume: true, from: { seconds: 8, segment: 2 } });
    expect(decision.resume && decision.kept.map((s) => s.index)).toEqual([0, 1]);
  });

  it('trusts the heartbeat, not later records (written after the last heartbeat the server kept)', () => {
    expect(decideResume(plan, heartbeat(1), recorded, allThere)).toMatchObject({ resume: true, from: { seconds: 2, segment: 1 } });
  });

  it('makes the last segment again when every segment was reported', () => {
    const all = [...recorded, segment(3, 14, 6)];
    expect(decideResume(plan, heartbeat(4), all, (name) => all.find((s) => s.filename === name)?.bytes))
      .toMatchObject({ resume: true, from: { seconds: 14, segment: 3 } });
  });

  it('starts again when nothing was reported, or a kept segment is not as recorded', () => {
    expect(decideResume(plan, undefined, recorded, allThere)).toEqual({ resume: false, why: 'no complete segment was reported' });
    expect(decideResume(plan, heartbeat(0), recorded, allThere)).toMatchObject({ resume: false });
    expect(decideResume(plan, heartbeat(2), recorded, () => undefined)).toEqual({ resume: false, why: 'seg00000.ts is missing' });
    expect(decideResume(plan, heartbeat(2), recorded, (name) => (name === 'seg00001.ts' ? 5 : allThere(name))))
      .toEqual({ resume: false, why: 'seg00001.ts has 5 bytes, 1001 were recorded' });
    expect(decideResume(plan, heartbeat(2), [recorded[0]!], allThere)).toEqual({ resume: false, why: 'segment 1 is not recorded' });
  });

  it('starts again for a title of one segment', () => {
    expect(decideResume({ ...plan, durationSeconds: 1 }, heartbeat(1), recorded, allThere)).toEqual({ resume: false, why: 'the title is a single segment' });
  });
});

describe('resumedList', () => {
  it("numbers a resumed encode's segments on and starts its first at the boundary", () => {
    // ffmpeg lists the first segment of any encode from 0, later ones at content times.
    const csv = [
      { index: 0, filename: 'seg00002.ts', startSeconds: 0, durationSeconds: 14 },
      { index: 1, filename: 'seg00003.ts', startSeconds: 14, durationSeconds: 6 },
    ];
    expect(resumedList(csv, { seconds: 8, segment: 2 })).toEqual([
      { index: 2, filename: 'seg00002.ts', startSeconds: 8, durationSeconds: 6 },
      { index: 3, filename: 'seg00003.ts', startSeconds: 14, durationSeconds: 6 },
    ]);
  });

  it('leaves an encode from the start as ffmpeg listed it', () => {
    const csv = [{ index: 0, filename: 'seg00000.ts', startSeconds: 0, durationSeconds: 2 }];
    expect(resumedList(csv, { seconds: 0, segment: 0 })).toEqual(csv);
  });
});
