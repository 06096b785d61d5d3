import {
  exactFps,
  frameAt,
  madeRanges,
  planGrid,
  segmentCutSeconds,
  segmentDurationSeconds,
  segmentFilename,
  segmentFrameCount,
  segmentIndexAt,
  segmentIndexOfFilename,
  segmentStartFrame,
  segmentStartSeconds,
} from '../../core/grid';
import { gridOf, MAX_SEGMENTS_PER_TITLE, planStream, titleSegmentSeconds } from '../../core/plan';

describe('the grid', () => {
  it('cuts a title into fixed segments, the last one shorter', () => {
    const grid = planGrid({ durationSeconds: 10, fps: 25, segmentSeconds: 3 });
    expect(grid.segmentCount).toBe(4);
    expect([0, 1, 2, 3].map((i) => segmentDurationSeconds(grid, i))).toEqual([3, 3, 3, 1]);
    expect([0, 1, 2, 3].map((i) => segmentStartFrame(grid, i))).toEqual([0, 75, 150, 225]);
    expect(segmentFrameCount(grid, 0)).toBe(75);
    expect(segmentFrameCount(grid, 3)).toBeUndefined();
  });

  it('puts boundaries on frames: the first frame at or after each multiple, at the exact NTSC rate', () => {
    const grid = planGrid({ durationSeconds: 60, fps: 23.976, segmentSeconds: 2 });
    expect(exactFps(23.976)).toBeCloseTo(24000 / 1001, 12);
    // 2 s × 23.976… = 47.95 frames: segment 1 starts at frame 48, 2.002 s.
    expect(segmentStartFrame(grid, 1)).toBe(48);
    expect(segmentStartSeconds(grid, 1)).toBeCloseTo(48 / (24000 / 1001), 9);
    // Cut a millisecond early, so a rounded timestamp still lands on the right side.
    expect(segmentCutSeconds(grid, 1)).toBeCloseTo(segmentStartSeconds(grid, 1) - 0.001, 9);
    // Far into a long title the exact rate matters: frame 172,800 is not where 23.976 fps puts it.
    const film = planGrid({ durationSeconds: 7300, fps: 23.976, segmentSeconds: 2 });
    expect(segmentStartFrame(film, 3600)).toBe(frameAt(7200, 23.976));
    expect(segmentStartFrame(film, 3600)).toBe(Math.ceil(7200 * (24000 / 1001) - 1e-6));
  });

  it('joins a sliver of a last segment to the one before', () => {
    const grid = planGrid({ durationSeconds: 6.2, fps: 25, segmentSeconds: 2 });
    expect(grid.segmentCount).toBe(3);
    expect(segmentDurationSeconds(grid, 2)).toBeCloseTo(2.2, 9);
    expect(planGrid({ durationSeconds: 0.3, fps: 25, segmentSeconds: 2 }).segmentCount).toBe(1);
    expect(planGrid({ durationSeconds: 6, fps: 25, segmentSeconds: 2 }).segmentCount).toBe(3);
  });

  it('finds the segment at a position, clamping outside the title', () => {
    const grid = planGrid({ durationSeconds: 60, fps: 23.976, segmentSeconds: 2 });
    expect(segmentIndexAt(grid, -5)).toBe(0);
    expect(segmentIndexAt(grid, Number.NaN)).toBe(0);
    expect(segmentIndexAt(grid, 2.001)).toBe(0); // segment 1 starts at 2.002 s
    expect(segmentIndexAt(grid, 2.003)).toBe(1);
    expect(segmentIndexAt(grid, 59.9)).toBe(29);
    expect(segmentIndexAt(grid, 1e9)).toBe(29);
  });

  it('refuses indexes outside the grid and nonsense inputs', () => {
    const grid = planGrid({ durationSeconds: 10, fps: 25, segmentSeconds: 3 });
    expect(() => segmentStartFrame(grid, 5)).toThrow(/outside the grid/);
    expect(() => segmentDurationSeconds(grid, 4)).toThrow(/outside the grid/);
    expect(() => segmentDurationSeconds(grid, 1.5)).toThrow(/outside the grid/);
    expect(() => planGrid({ durationSeconds: 0, fps: 25, segmentSeconds: 3 })).toThrow(/positive/);
  });

  it('names segment files by index and reads the index back', () => {
    expect(segmentFilename(42)).toBe('seg00042.ts');
    expect(segmentIndexOfFilename('seg00042.ts')).toBe(42);
    expect(segmentIndexOfFilename('seg123456.ts')).toBe(123456);
    expect(segmentIndexOfFilename('seg42.ts')).toBeUndefined();
    expect(segmentIndexOfFilename('../seg00042.ts')).toBeUndefined();
  });

  it('shows made segments as content-time ranges', () => {
    const grid = planGrid({ durationSeconds: 10, fps: 25, segmentSeconds: 2 });
    expect(madeRanges(grid, [true, true, false, false, true])).toEqual([[0, 4], [8, 10]]);
    expect(madeRanges(grid, [])).toEqual([]);
  });
});

describe("a title's segment length", () => {
  it('is HLS_SEGMENT_TIME unless the title would have more segments than its workflow history can hold', () => {
    expect(titleSegmentSeconds(600, 1)).toBe(1);
    expect(titleSegmentSeconds(6000, 1)).toBe(1);
    expect(titleSegmentSeconds(7200, 1)).toBe(1.2); // a 2-hour film
    expect(titleSegmentSeconds(3 * 3600, 1)).toBe(1.8);
    expect(titleSegmentSeconds(3 * 3600, 2)).toBe(2);
    expect(titleSegmentSeconds(12 * 3600, 2)).toBe(7.2);
    for (const seconds of [6001, 7200, 9999.5, 40_000]) {
      expect(planGrid({ durationSeconds: seconds, fps: 23.976, segmentSeconds: titleSegmentSeconds(seconds, 1) }).segmentCount).toBeLessThanOrEqual(MAX_SEGMENTS_PER_TITLE);
    }
  });

  it("is the plan's, so every step that cuts or lists segments uses it", () => {
    const film = { durationSeconds: 7200, fps: 23.976, width: 720, height: 480, videoCodec: 'mpeg2video', hasAudio: true, audioCodec: 'ac3' };
    const settings = { aiEnabled: false, model: 'anime4k-s-rl' as const, stepDownWindowSeconds: 8, stepDownBelowRate: 1, scaleFactor: 2, preset: 'veryfast', crf: 20, encoderThreads: 0, segmentSeconds: 1, hlsRetentionMs: 0, lookAheadSegments: 0 };
    const plan = planStream(film, settings);
    expect(plan.segmentSeconds).toBe(1.2);
    expect(gridOf(plan).segmentCount).toBe(6000);
  });
});
