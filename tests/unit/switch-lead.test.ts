import { readiness } from '../../client-js/src/decide';
import type { ItemStatus } from '../../core/jellyfin-items';
import { firstSegmentFrom, planGrid, segmentDurationSeconds, segmentIndexAt, segmentStartSeconds } from '../../core/grid';
import { DEFAULT_MIN_BUFFERED_SECONDS, leadSeconds, MAX_LEAD_SECONDS, neededAheadSeconds, soonerWithLead, type MakingSpeed } from '../../core/switch-lead';

describe('how much the script needs ahead of the viewer', () => {
  it('is its minimum at or above real time, and 30 s of upscaled play below it', () => {
    expect(neededAheadSeconds(1.3, 4)).toBe(4);
    expect(neededAheadSeconds(null, 4)).toBe(4);
    expect(neededAheadSeconds(0.8, 4)).toBeCloseTo(6);
    expect(neededAheadSeconds(0.8, 10)).toBe(10);
  });
});

describe("a viewer's lead", () => {
  const grid = planGrid({ durationSeconds: 600, fps: 24, segmentSeconds: 2 });

  it('is none while nothing is known about the speed', () => {
    expect(leadSeconds(undefined)).toBe(0);
    expect(leadSeconds({ firstSegmentSeconds: 3, rate: 0 })).toBe(0);
  });

  it('covers the first segment and what the script needs at the rate', () => {
    // Anime4K S at 1.3x: 4 s to the first segment, then the script's 4 s at 1.3x.
    expect(leadSeconds({ firstSegmentSeconds: 4, rate: 1.3 })).toBeCloseTo(4 + 4 / 1.3);
    // Below real time the script needs more ahead (30 s of play at 0.78x: 6.6 s), and the viewer gains while it switches.
    expect(leadSeconds({ firstSegmentSeconds: 4, rate: 0.78 })).toBeCloseTo(4 + (30 * 0.22 + 1.5 * 0.22) / 0.78);
    expect(leadSeconds({ firstSegmentSeconds: 4, rate: 0.05 })).toBe(MAX_LEAD_SECONDS);
  });

  it('starts at the first segment the viewer reaches no sooner than the lead, within the title', () => {
    expect(firstSegmentFrom(grid, 68)).toBe(34); // the segment starting at 68 s
    expect(firstSegmentFrom(grid, 67.5)).toBe(34); // the next start, 68 s
    expect(segmentStartSeconds(grid, firstSegmentFrom(grid, 68.3))).toBeGreaterThanOrEqual(68.3);
    expect(firstSegmentFrom(grid, 625)).toBe(grid.segmentCount - 1);
    expect(firstSegmentFrom(grid, 0)).toBe(segmentIndexAt(grid, 0));
  });

  it.each<[string, MakingSpeed]>([
    ['lanczos', { firstSegmentSeconds: 1.5, rate: 3 }],
    ['Anime4K S above real time', { firstSegmentSeconds: 4, rate: 1.3 }],
    ['Anime4K S below real time', { firstSegmentSeconds: 4, rate: 0.78 }],
    ['Anime4K M', { firstSegmentSeconds: 6, rate: 0.52 }],
  ])('%s: when the viewer reaches the lead, the script finds enough made there and switches', (_name, speed) => {
    const position = 61.3;
    const lead = leadSeconds(speed);
    const first = firstSegmentFrom(grid, position + lead);
    // The viewer plays the original from `position`; one slot makes from `first` at the speed.
    const arrival = segmentStartSeconds(grid, first) - position;
    expect(arrival).toBeGreaterThanOrEqual(lead);
    expect(arrival).toBeLessThan(lead + grid.segmentSeconds);
    // From just after the viewer's arrival there (hls.js must not load the segment before it),
    // through the script's poll and the switch.
    for (const after of [0.3, 0.75, 1.5]) {
      const now = arrival + after;
      let end = segmentStartSeconds(grid, first);
      for (let index = first, done = speed.firstSegmentSeconds; done <= now; done += segmentDurationSeconds(grid, index + 1) / speed.rate, index++) {
        end = segmentStartSeconds(grid, index) + segmentDurationSeconds(grid, index);
      }
      const status: ItemStatus = {
        item_id: 'i', status: 'streaming', hls_url: '/hls/t/stream.m3u8', segments: 1, content_seconds: end - segmentStartSeconds(grid, first),
        ready: [[segmentStartSeconds(grid, first), end]], duration_seconds: 600, rate: speed.rate, complete: false, progress_percent: 1,
        model: null, title_key: 't', job_id: null, queue_position: null,
      };
      expect(readiness(status, position + now, DEFAULT_MIN_BUFFERED_SECONDS)).toBe('ready');
    }
  });
});

describe('a viewer placed before any speed was known (no lead), once the title has measured itself', () => {
  const s = { firstSegmentSeconds: 4, rate: 0.78 };
  const lanczos = { firstSegmentSeconds: 1.5, rate: 3 };
  const barely = { firstSegmentSeconds: 2, rate: 1.1 };

  it('moves a lead on when nothing is made or being made for them', () => {
    expect(soonerWithLead(lanczos, undefined)).toBe(true);
  });

  it('moves below real time, where what is made from their position never gets ahead of them', () => {
    expect(soonerWithLead(s, 1)).toBe(true);
    expect(soonerWithLead(s, -2)).toBe(true);
  });

  it('stays when enough lies ahead already, or when it gets there sooner than a lead would', () => {
    expect(soonerWithLead(s, neededAheadSeconds(s.rate, DEFAULT_MIN_BUFFERED_SECONDS))).toBe(false);
    // At 3x, 1 s ahead reaches the script's 4 s in 1.5 s; a lead is 2.8 s.
    expect(soonerWithLead(lanczos, 1)).toBe(false);
    // At 1.1x, 1 s ahead takes 30 s more; a lead is 2 + 4 / 1.1 = 5.6 s.
    expect(soonerWithLead(barely, 1)).toBe(true);
  });

  it('never moves without a speed to size the lead from', () => {
    expect(soonerWithLead({ firstSegmentSeconds: 4, rate: 0 }, undefined)).toBe(false);
  });
});
