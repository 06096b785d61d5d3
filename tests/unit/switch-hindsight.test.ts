/** The bench's hindsight replay (tests/browser/switch-hindsight.ts): the script's rule on a recorded timeline. */
import fs from 'node:fs';
import path from 'node:path';
import { hindsightSwitch, keptPartSwitch, replayedSwitch, segmentSecondsOf } from '../browser/switch-hindsight';
import type { SwitchResult } from '../browser/switch-result';

// Playing from 0:00 0.3 s after play; 2 s segments made 3.0 s after play and every 1.7 s after; no rate until the second.
const made = [3.0, 4.7, 6.4, 8.1, 9.8, 11.5].map((afterPlaySeconds, i) => ({ index: 2 + i, startSeconds: 4 + 2 * i, afterPlaySeconds }));
const rates = [{ afterPlaySeconds: 0.5, rate: null }, { afterPlaySeconds: 4.8, rate: 1.2 }];
const timeline = { playing: { afterPlaySeconds: 0.3, position: 0 }, made, rates };

describe('hindsight replay of a switch', () => {
  it('switches once the viewer is into the part with what the rate asks for ahead', () => {
    expect(segmentSecondsOf(made)).toBe(2);
    // 4 s on: the viewer is 0.3 s into it at 4.6 s, with 1.6 s ahead; the second segment at 4.7 s
    // brings the rate (1.2x: 1.5 + 2 / 1.2 = 3.17 s needed) and puts 3.6 s ahead.
    expect(replayedSwitch(timeline, 4, 2)).toBeCloseTo(4.7, 5);
    // 6 s on: three segments made long before the viewer is 0.3 s into it, at 6.6 s.
    expect(replayedSwitch(timeline, 6, 2)).toBeCloseTo(6.6, 5);
    // 2 s on: the viewer is there before the first segment, and what lies ahead never reaches 3.2 s at 1.2x.
    expect(replayedSwitch(timeline, 2, 2)).toBeNull();
    expect(hindsightSwitch(timeline)).toEqual({ startSeconds: 4, switchSeconds: expect.closeTo(4.7, 5) });
  });

  it("replays a moved part as if kept: its own pace until the moved chunk's first segment, the moved chunk's after", () => {
    // From 36 s, 0.5 s after play; the part from 40 s made every 1.1 s, then moved on to 48 s 5.3 s after play,
    // whose chunk made its first segment at 7.0 s and then one every half second.
    const moved = {
      playing: { afterPlaySeconds: 0.5, position: 36 },
      made: [[40, 3.0], [41, 4.1], [42, 5.2], [48, 7.0], [49, 7.5], [50, 8.0]].map(([startSeconds, afterPlaySeconds], i) => ({ index: i, startSeconds: startSeconds!, afterPlaySeconds: afterPlaySeconds! })),
      rates: [{ afterPlaySeconds: 0.5, rate: null }, { afterPlaySeconds: 4.2, rate: 1.0 }, { afterPlaySeconds: 7.5, rate: 2.0 }],
      moves: [{ afterPlaySeconds: 5.3, fromSeconds: 40, toSeconds: 48 }],
    };
    // Kept: 43 s at 6.3 s (its own pace; the next, 7.4 s, would come after the moved chunk's first), then every
    // half second: 44 s at 6.8 s puts 2.7 s ahead of the viewer (at 42.3 s) against the 2.5 s 1.0x asks for.
    expect(keptPartSwitch(moved)).toBeCloseTo(6.8, 1);
    expect(keptPartSwitch({ ...moved, moves: [] })).toBeNull();
    expect(keptPartSwitch(timeline)).toBeNull();
  });

  it('replays each recorded run near the switch it measured', () => {
    const file = path.join(__dirname, '..', '..', 'docs', 'bench', 'jellyfin-08b40c5.json');
    const { results } = JSON.parse(fs.readFileSync(file, 'utf8')) as { results: SwitchResult[] };
    const replayed = results.filter((r) => r.timeline && r.switchSeconds !== null);
    expect(replayed.length).toBeGreaterThan(0);
    for (const r of replayed) {
      const t = r.timeline!;
      // After the first moment it could: the script's next poll (a quarter second near a switch) and the picture's move (a tenth or two).
      const late = r.switchSeconds! - replayedSwitch(t, t.made[0]!.startSeconds, segmentSecondsOf(t.made)!)!;
      expect(late).toBeGreaterThanOrEqual(0);
      expect(late).toBeLessThan(0.6);
    }
  });
});
