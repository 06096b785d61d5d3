import { readiness, secondsToReady, waitingPollMs } from '../../client-js/src/decide';
import type { ItemStatus } from '../../core/jellyfin-items';
import { planGrid, segmentDurationSeconds, segmentIndexAt, segmentStartSeconds } from '../../core/grid';
import {
  CATCH_UP_MARGIN_SECONDS, DEFAULT_MIN_BUFFERED_SECONDS, DEFAULT_POLL_INTERVAL_MS, LEGACY_SCRIPT_TIMING, describePartMove, legacyLeadSeconds, MAX_LEAD_SECONDS, movedPart, PLAN_SLOWER, PLAN_SLOWER_FROM_EARLIER_TITLES, POLL_PHASES, QUARTER_SECOND_POLLS, SCRIPT_TIMING, THREE_TENTHS_INTO_PART, neededAheadSeconds, plannedSwitch, predictedSwitchSeconds, soonerWithLead, type MakingSpeed,
} from '../../core/switch-lead';

describe('how much the script needs ahead of the viewer', () => {
  it('is its minimum, or the catch-up margin and the time to the next segment at the rate, or 30 s of upscaled play below real time', () => {
    expect(neededAheadSeconds(1.3, 4)).toBe(4);
    expect(neededAheadSeconds(null, 4)).toBe(4);
    expect(neededAheadSeconds(0.8, 4)).toBeCloseTo(6);
    expect(neededAheadSeconds(0.8, 10)).toBe(10);
    // One segment by default; at 4x the next comes in 0.5 s, at 1.1x in 1.8 s, at an unknown rate as at 1x.
    expect(neededAheadSeconds(4, DEFAULT_MIN_BUFFERED_SECONDS)).toBe(2);
    expect(neededAheadSeconds(1.1, DEFAULT_MIN_BUFFERED_SECONDS)).toBeCloseTo(1.5 + 2 / 1.1);
    expect(neededAheadSeconds(null, DEFAULT_MIN_BUFFERED_SECONDS)).toBe(3.5);
    expect(neededAheadSeconds(1.1, DEFAULT_MIN_BUFFERED_SECONDS, 6)).toBeCloseTo(1.5 + 6 / 1.1);
  });
});

describe("a viewer's lead", () => {
  const grid = planGrid({ durationSeconds: 600, fps: 24, segmentSeconds: 2 });
  const sJellyfin: MakingSpeed = { firstSegmentSeconds: 3.5, rate: 1.1 };

  it('is none while nothing is known about the speed', () => {
    expect(plannedSwitch(undefined, 60, 2)).toBeUndefined();
    expect(plannedSwitch({ firstSegmentSeconds: 3, rate: 0 }, 60, 2)).toBeUndefined();
  });

  it('starts where the script switches soonest, not rounded up past it, with room for a slower making', () => {
    // Anime4K S measured on a title made alone (3 s to the first segment, 1.3x): from 6 s on,
    // switched as the viewer gets 0.1 s into the part, what a poll before saw made being enough
    // there. The script before switched 0.3 s in, at its next poll: 0.4 s after the viewer got
    // there with a tenth-of-a-second poll, 0.5 s with a quarter-second's.
    const sAlone: MakingSpeed = { firstSegmentSeconds: 3, rate: 1.3 };
    expect(plannedSwitch(sAlone, 0, 2)).toEqual({ startSeconds: 6, leadSeconds: 6, switchSeconds: expect.closeTo(6.1, 9) });
    expect(predictedSwitchSeconds(sAlone, 0, 6, 2)).toBeCloseTo(6.1, 9);
    expect(predictedSwitchSeconds(sAlone, 0, 6, 2, DEFAULT_MIN_BUFFERED_SECONDS, THREE_TENTHS_INTO_PART)).toBeCloseTo(6.4, 9);
    expect(plannedSwitch(sAlone, 0, 2, DEFAULT_MIN_BUFFERED_SECONDS, QUARTER_SECOND_POLLS)).toEqual({ startSeconds: 6, leadSeconds: 6, switchSeconds: 6.5 });
    // The rule before it (first segment + 4 s at the rate, rounded up to the grid) started at 8 s.
    const legacyStart = Math.ceil(legacyLeadSeconds(sAlone) / 2) * 2;
    expect(legacyStart).toBe(8);
    expect(predictedSwitchSeconds(sAlone, 0, legacyStart, 2)).toBeCloseTo(8.1, 9);
    // From 4 s, 4.625 s at the measured speed; but a making a fifth slower (a browser on the same
    // cores) would not get ahead of the viewer for more than half a minute.
    expect(predictedSwitchSeconds(sAlone, 0, 4, 2)).toBeCloseTo(4.625, 9);
    expect(predictedSwitchSeconds({ firstSegmentSeconds: 3 * PLAN_SLOWER, rate: 1.3 / PLAN_SLOWER }, 0, 4, 2)).toBeGreaterThan(30);
    // Mid-segment, the lead is to a segment's start.
    expect(plannedSwitch(sAlone, 37.1, 2)).toMatchObject({ startSeconds: 44, switchSeconds: expect.closeTo(7, 9) });
  });

  it('stops looking once the viewer would get into a part later than the best switch found: the same start as trying every one', () => {
    // Every start up to a minute on, as the plan tried them before it stopped early.
    const everyStart = (speed: MakingSpeed, viewer: number, segment: number, slowerBy: number) => {
      const slower = { firstSegmentSeconds: speed.firstSegmentSeconds * slowerBy, rate: speed.rate >= 1 ? Math.max(1, speed.rate / slowerBy) : speed.rate };
      let best: { startSeconds: number; switchSeconds: number } | undefined;
      for (let start = Math.floor(viewer / segment + 1e-9) * segment; start <= viewer + MAX_LEAD_SECONDS + 1e-9; start += segment) {
        const switchSeconds = Math.max(predictedSwitchSeconds(speed, viewer, start, segment), predictedSwitchSeconds(slower, viewer, start, segment));
        if (!best || switchSeconds < best.switchSeconds) best = { startSeconds: start, switchSeconds };
      }
      return best!;
    };
    for (const speed of [{ firstSegmentSeconds: 1.2, rate: 1.6 }, { firstSegmentSeconds: 0.7, rate: 4 }, { firstSegmentSeconds: 2, rate: 1.05 }]) {
      for (const [viewer, segment] of [[36.2, 1], [37.1, 2]] as const) {
        for (const slowerBy of [PLAN_SLOWER, PLAN_SLOWER_FROM_EARLIER_TITLES]) {
          const planned = plannedSwitch(speed, viewer, segment, DEFAULT_MIN_BUFFERED_SECONDS, SCRIPT_TIMING, slowerBy)!;
          const tried = everyStart(speed, viewer, segment, slowerBy);
          if (tried.switchSeconds === Infinity) continue; // then the plan takes the furthest start instead
          expect([speed, viewer, slowerBy, planned.startSeconds, planned.switchSeconds]).toEqual([speed, viewer, slowerBy, tried.startSeconds, tried.switchSeconds]);
        }
      }
    }
  });

  it("from earlier titles' speed, leaves room for a making half again as slow: a segment further on where that one would come too near", () => {
    // The bench's run at 9ff775b, direct from 36 s on the 1 s grid: the earlier title made alone
    // took 1.23 s to its first segment at 1.50x; beside the browser this one made about 1.05x
    // after 1.58 s, and the part planned at 1.25 from 39 s switched 9.08 s after play.
    const earlier: MakingSpeed = { firstSegmentSeconds: 1.23, rate: 1.5 };
    const besideTheBrowser: MakingSpeed = { firstSegmentSeconds: 1.58, rate: 1.05 };
    // Planned with the viewer 0.2 s on (the webhook, the trigger, the probe).
    const own = plannedSwitch(earlier, 36.2, 1)!;
    const fromEarlierTitles = plannedSwitch(earlier, 36.2, 1, DEFAULT_MIN_BUFFERED_SECONDS, SCRIPT_TIMING, PLAN_SLOWER_FROM_EARLIER_TITLES)!;
    expect(own.startSeconds).toBe(39);
    expect(fromEarlierTitles.startSeconds).toBe(40);
    // At the speed it really made, the nearer part switches after 8 s, the further one within 5 s.
    expect(predictedSwitchSeconds(besideTheBrowser, 36.2, own.startSeconds, 1)).toBeGreaterThan(8);
    expect(predictedSwitchSeconds(besideTheBrowser, 36.2, fromEarlierTitles.startSeconds, 1)).toBeLessThan(5);
    // Where the making is as fast as the earlier title's, the further part costs the second between the starts.
    expect(predictedSwitchSeconds(earlier, 36.2, fromEarlierTitles.startSeconds, 1) - predictedSwitchSeconds(earlier, 36.2, own.startSeconds, 1)).toBeCloseTo(1, 9);
  });

  it('polled once a second throughout (the script before, and workflows begun then), the same start switches later', () => {
    const sAlone: MakingSpeed = { firstSegmentSeconds: 3, rate: 1.3 };
    expect(plannedSwitch(sAlone, 0, 2, DEFAULT_MIN_BUFFERED_SECONDS, LEGACY_SCRIPT_TIMING)).toEqual({ startSeconds: 6, leadSeconds: 6, switchSeconds: 8.25 });
    expect(predictedSwitchSeconds(sAlone, 0, 6, 2, DEFAULT_MIN_BUFFERED_SECONDS, LEGACY_SCRIPT_TIMING)).toBe(7.25);
    expect(plannedSwitch(sAlone, 37.1, 2, DEFAULT_MIN_BUFFERED_SECONDS, LEGACY_SCRIPT_TIMING)).toMatchObject({ startSeconds: 44, switchSeconds: 8.5 });
  });

  it('is none when the making outruns the viewer from where they are, and at most a minute far below real time', () => {
    expect(plannedSwitch({ firstSegmentSeconds: 0.5, rate: 5 }, 60, 2)).toMatchObject({ startSeconds: 60, leadSeconds: 0 });
    expect(plannedSwitch({ firstSegmentSeconds: 4, rate: 0.05 }, 60, 2)).toMatchObject({ startSeconds: 120, leadSeconds: MAX_LEAD_SECONDS, switchSeconds: Infinity });
  });

  it('too near, the viewer is past the first segments before they are made, and the making gains on them slowly', () => {
    // From 4 s the viewer arrives at 4.3 s with [4, 6) made; the 3.3 s the script needs at 1.1x
    // (the catch-up margin and the 1.8 s to the next segment) comes only once 1.1x has gained
    // it back; from 2 s later still.
    expect(predictedSwitchSeconds(sJellyfin, 0, 4, 2)).toBeCloseTo(12.675, 9);
    expect(predictedSwitchSeconds(sJellyfin, 0, 2, 2)).toBeCloseTo(32.675, 9);
    // Below real time it never gains: only a start far enough on switches.
    expect(predictedSwitchSeconds({ firstSegmentSeconds: 4, rate: 0.78 }, 0, 4, 2)).toBe(Infinity);
  });

  it.each<[string, MakingSpeed]>([
    ['lanczos', { firstSegmentSeconds: 1.5, rate: 3 }],
    ['Anime4K S in the Jellyfin bench', sJellyfin],
    ['Anime4K S above real time', { firstSegmentSeconds: 4, rate: 1.3 }],
    ['Anime4K S below real time', { firstSegmentSeconds: 4, rate: 0.78 }],
    ['Anime4K M', { firstSegmentSeconds: 6, rate: 0.52 }],
  ])('%s: the script, polling at any phase, switches by the predicted time and does not stand still after', (_name, speed) => {
    for (const position of [61.3, 60, 36]) {
      const planned = plannedSwitch(speed, position, grid.segmentSeconds)!;
      const first = segmentIndexAt(grid, planned.startSeconds + grid.segmentSeconds / 2);
      expect(segmentStartSeconds(grid, first)).toBeCloseTo(planned.startSeconds, 1);
      // One slot makes from `first` at the speed; the viewer plays the original from `position`.
      const madeEnd = (t: number) => {
        let end = segmentStartSeconds(grid, first);
        for (let index = first, done = speed.firstSegmentSeconds; done <= t; done += segmentDurationSeconds(grid, index + 1) / speed.rate, index++) {
          end = segmentStartSeconds(grid, index) + segmentDurationSeconds(grid, index);
        }
        return end;
      };
      const statusAt = (t: number): ItemStatus => ({
        item_id: 'i', status: 'streaming', hls_url: '/hls/t/stream.m3u8', segments: 1, content_seconds: madeEnd(t) - segmentStartSeconds(grid, first),
        ready: madeEnd(t) > segmentStartSeconds(grid, first) ? [[segmentStartSeconds(grid, first), madeEnd(t)]] : [], duration_seconds: 600, segment_seconds: grid.segmentSeconds,
        // A chunk's first segment sets no rate (adapters/postgres.ts recordSegment): the status gives one from the second.
        rate: madeEnd(t) - segmentStartSeconds(grid, first) >= 2 * grid.segmentSeconds - 0.01 ? speed.rate : null, complete: false, progress_percent: 1,
        model: null, title_key: 't', job_id: null, queue_position: null,
      });
      for (const phase of [0, 0.1, 0.37, 0.5, 0.8, 0.99]) {
        let t = phase;
        for (let status = statusAt(t); readiness(status, position + t, DEFAULT_MIN_BUFFERED_SECONDS) !== 'ready'; status = statusAt(t)) {
          // The script's own rule for its next poll: every second, every tenth once the switch is a segment away.
          const nextPoll = waitingPollMs(status, position + t, { pollIntervalMs: DEFAULT_POLL_INTERVAL_MS, minBufferedSeconds: DEFAULT_MIN_BUFFERED_SECONDS }) / 1000;
          // Sooner, the viewer's arrival at a part this answer already makes ready: it switches then, without asking again.
          const toReady = secondsToReady(status, position + t, DEFAULT_MIN_BUFFERED_SECONDS);
          if (toReady !== undefined && toReady < nextPoll) {
            // (As the page's clock, a hair past the moment: the sum may round just short of it.)
            t += toReady + 1e-9;
            expect(readiness(status, position + t, DEFAULT_MIN_BUFFERED_SECONDS)).toBe('ready');
            break;
          }
          t += nextPoll;
        }
        // The prediction takes the unluckiest of POLL_PHASES phases: any other is within a step of one.
        expect(t).toBeLessThanOrEqual(planned.switchSeconds + DEFAULT_POLL_INTERVAL_MS / 1000 / POLL_PHASES + 1e-9);
        // Switched: the viewer plays the upscaled part on; they do not catch up (the script's fallback) before the next segment is made.
        const next = speed.firstSegmentSeconds + Math.ceil((t - speed.firstSegmentSeconds) * speed.rate / grid.segmentSeconds + 1e-9) * grid.segmentSeconds / speed.rate;
        for (let after = t; after < next - 0.01; after += 0.05) expect(madeEnd(after) - (position + after)).toBeGreaterThanOrEqual(CATCH_UP_MARGIN_SECONDS);
      }
    }
  });
});

describe('a viewer placed before any speed was known (no lead), once the title has measured itself', () => {
  const s = { firstSegmentSeconds: 4, rate: 0.78 };
  const lanczos = { firstSegmentSeconds: 1.5, rate: 3 };
  const barely = { firstSegmentSeconds: 2, rate: 1.1 };

  it('moves when nothing is made or being made for them', () => {
    expect(soonerWithLead(lanczos, 70, 2, undefined)).toBe(true);
  });

  it('moves below real time, where what is made from their position never gets ahead of them', () => {
    expect(soonerWithLead(s, 70, 2, 1)).toBe(true);
    expect(soonerWithLead(s, 70, 2, -2)).toBe(true);
  });

  it('stays when enough lies ahead already, or when it gets there sooner than the planned switch', () => {
    expect(soonerWithLead(s, 70, 2, neededAheadSeconds(s.rate, DEFAULT_MIN_BUFFERED_SECONDS))).toBe(false);
    // At 3x, 1 s ahead reaches the script's 2 s in 0.5 s; the planned switch is later.
    expect(soonerWithLead(lanczos, 70, 2, 1)).toBe(false);
    // At 1.1x, 1 s ahead takes 10 s more; planned anew it comes after about 5 s.
    expect(soonerWithLead(barely, 70, 2, 1)).toBe(true);
  });

  it('never moves without a speed to plan from', () => {
    expect(soonerWithLead({ firstSegmentSeconds: 4, rate: 0 }, 70, 2, undefined)).toBe(false);
  });
});

describe("a viewer's planned part, once the title's own speed is measured", () => {
  // Run 7 (docs/benchmarks.md): planned from an earlier title made alone at 1.65x, the part
  // started 3 s ahead; beside Chromium this title made S at about real time.
  const earlier = { firstSegmentSeconds: 1.116, rate: 1.65 };
  const own = { firstSegmentSeconds: 2, rate: 1.0 };
  const polls = { ...SCRIPT_TIMING, rateFromSegment: 0 };
  // 4 s after play: the viewer at 3.5 s, segments 3 and 4 made, the next a second away.
  const runSeven = { startSeconds: 3, progress: { madeSegments: 2, nextSegmentInSeconds: 1 } };

  it('moves further on when the part stays too near the viewer to ever switch them', () => {
    expect(predictedSwitchSeconds(own, 3.5, 3, 1, DEFAULT_MIN_BUFFERED_SECONDS, polls, runSeven.progress)).toBe(Infinity);
    const moved = movedPart(own, 3.5, 1, runSeven, polls);
    expect(moved).toBeDefined();
    expect(moved!.startSeconds).toBeGreaterThan(3.5 + neededAheadSeconds(own.rate, DEFAULT_MIN_BUFFERED_SECONDS, 1));
    expect(moved!.switchSeconds).toBeLessThan(8);
  });

  it('keeps the part when the making runs as planned, or enough is made ahead already', () => {
    const planned = plannedSwitch(earlier, 0.5, 1, DEFAULT_MIN_BUFFERED_SECONDS, polls)!;
    // The first two segments came when planned: the part goes on as planned.
    const onTrack = { madeSegments: 2, nextSegmentInSeconds: 1 / earlier.rate };
    const at = 0.5 + earlier.firstSegmentSeconds + 1 / earlier.rate;
    expect(movedPart(earlier, at, 1, { startSeconds: planned.startSeconds, progress: onTrack }, polls)).toBeUndefined();
    expect(movedPart(own, 3.5, 1, { startSeconds: 3, progress: { madeSegments: 4, nextSegmentInSeconds: 0.5 } }, polls)).toBeUndefined();
  });

  it('keeps it when a move gains less than a start-up costs, and far below real time, where no start switches', () => {
    // Made from 4 s with the viewer at 3.5 s at 1.3x: the part gains on them and switches soon.
    expect(movedPart({ firstSegmentSeconds: 2, rate: 1.3 }, 3.5, 1, { startSeconds: 4, progress: { madeSegments: 1, nextSegmentInSeconds: 0.5 } }, polls)).toBeUndefined();
    expect(movedPart({ firstSegmentSeconds: 4, rate: 0.3 }, 3.5, 1, runSeven, polls)).toBeUndefined();
  });

  it('keeps it near real time, where a rate a tenth faster than the first samples said gets the part ahead soon', () => {
    // 2.3 s ahead, 2.45 s needed at 1.05x: at 1.155x the part gets there in a few seconds.
    const nearlyThere = { startSeconds: 40, progress: { madeSegments: 2, nextSegmentInSeconds: 0.95 } };
    expect(movedPart({ firstSegmentSeconds: 2.7, rate: 1.05 }, 39.7, 1, nearlyThere, polls)).toBeUndefined();
    // Below real time the part falls back however the rate errs by a tenth: moved.
    expect(movedPart({ firstSegmentSeconds: 2.7, rate: 0.85 }, 39.7, 1, nearlyThere, polls)).toBeDefined();
  });

  it('is recorded with the figures it was judged by', () => {
    const moved = movedPart(own, 3.5, 1, runSeven, polls)!;
    // Kept, at a rate a tenth faster (1.1x), it gains on the viewer slowly.
    expect(moved.keptSwitchSeconds).toBeCloseTo(11.1, 1);
    const move = {
      viewer: 'jellyfin:tv', viewerSeconds: 3.5, fromSeconds: 3, toSeconds: moved.startSeconds, speed: own, plannedFrom: earlier,
      keptSwitchSeconds: moved.keptSwitchSeconds, switchSeconds: moved.switchSeconds,
    };
    expect(describePartMove(move)).toBe("moved jellyfin:tv's part from 3.0 s to 8.0 s, the viewer at 3.5 s: this title makes 1.00x (planned from 1.65x); kept, the part was predicted to switch them in 11.1 s, moved in 4.6 s");
    expect(describePartMove({ ...move, keptSwitchSeconds: null, plannedFrom: null })).toContain('makes 1.00x; kept, the part was predicted to switch them not within a minute');
  });

  it('predicts a part with nothing made and its chunk starting now as a new part', () => {
    for (const start of [4, 6, 8]) {
      expect(predictedSwitchSeconds(own, 3.5, start, 1, DEFAULT_MIN_BUFFERED_SECONDS, polls, { madeSegments: 0, nextSegmentInSeconds: own.firstSegmentSeconds }))
        .toBe(predictedSwitchSeconds(own, 3.5, start, 1, DEFAULT_MIN_BUFFERED_SECONDS, polls));
    }
  });
});
