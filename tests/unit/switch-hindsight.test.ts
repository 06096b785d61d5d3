/** The bench's hindsight replay (tests/browser/switch-hindsight.ts): the script's rule on a recorded timeline. */
import fs from 'node:fs';
import path from 'node:path';
import { hindsightSwitch, replayedSwitch, segmentSecondsOf } from '../browser/switch-hindsight';
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
