import { allMade, chooseVictim, claimRange, needsSlotNow, viewerPlaysInto, type ChunkInFlight, type PlayHead, type TitleWork } from '../../core/chunk-scheduler';

const settings = { maxChunkSegments: 10, lookAheadSegments: 30, coverSegments: 1, comfortSegments: 8, minSplitSegments: 3 };

function work(count: number, options: { made?: number[]; chunks?: ChunkInFlight[]; heads?: PlayHead[] } = {}): TitleWork {
  const made = Array.from({ length: count }, (_, i) => options.made?.includes(i) ?? false);
  return { segmentCount: count, made, chunks: options.chunks ?? [], heads: options.heads ?? [] };
}

const head = (segment: number, at: number, urgent = true, id = `viewer-${segment}`): PlayHead => ({ id, segment, at, urgent });
const chunk = (id: string, nextSegment: number, endSegment: number): ChunkInFlight => ({ id, nextSegment, endSegment });

describe('chunk scheduler', () => {
  it('with nobody watching, makes the title in order, a bounded chunk at a time', () => {
    expect(claimRange(work(100), settings)).toEqual({ fromSegment: 0, endSegment: 10, reason: 'rest', shorten: [] });
    // A second slot takes the next range; a made segment ends a range early.
    expect(claimRange(work(100, { chunks: [chunk('a', 0, 10)], made: [15] }), settings))
      .toEqual({ fromSegment: 10, endSegment: 15, reason: 'rest', shorten: [] });
  });

  it('starts where the viewer is: a trigger at 40 % makes the segment at 40 % first', () => {
    expect(claimRange(work(60, { heads: [head(24, 1000)] }), settings)).toMatchObject({ fromSegment: 24, endSegment: 34, reason: 'waiting' });
  });

  it('leapfrogs ahead of one viewer with more slots, then does the rest after the viewer, then before', () => {
    const heads = [head(24, 1000, false)];
    const second = claimRange(work(60, { heads, chunks: [chunk('a', 24, 34)] }), settings);
    expect(second).toMatchObject({ fromSegment: 34, endSegment: 44, reason: 'ahead' });
    const allAhead = [chunk('a', 24, 34), chunk('b', 34, 44), chunk('c', 44, 54)];
    expect(claimRange(work(60, { heads, chunks: allAhead }), { ...settings, lookAheadSegments: 40 })).toMatchObject({ fromSegment: 54, endSegment: 60, reason: 'ahead' });
    expect(claimRange(work(60, { heads, chunks: allAhead }), settings)).toMatchObject({ fromSegment: 54, reason: 'rest' });
    const restAfter = claimRange(work(60, { heads, chunks: [...allAhead, chunk('d', 54, 60)] }), settings);
    expect(restAfter).toMatchObject({ fromSegment: 0, endSegment: 10, reason: 'rest' });
    const shortLookAhead = { ...settings, lookAheadSegments: 5 };
    expect(claimRange(work(60, { heads, chunks: [chunk('a', 24, 29)] }), shortLookAhead)).toMatchObject({ fromSegment: 29, reason: 'rest' });
  });

  it('skips what is made: a viewer resuming inside made segments gets the first missing one', () => {
    const w = work(20, { made: [5, 6, 7], heads: [head(5, 1)] });
    expect(claimRange(w, settings)).toMatchObject({ fromSegment: 8, reason: 'waiting' });
  });

  it('serves the newest viewer first, and a waiting player before a viewer who is only watching', () => {
    const two = work(100, { heads: [head(10, 1), head(70, 2)] });
    expect(claimRange(two, settings)).toMatchObject({ fromSegment: 70, reason: 'waiting' });
    const waiting = work(100, { heads: [head(10, 5, true), head(70, 9, false)] });
    expect(claimRange(waiting, settings)).toMatchObject({ fromSegment: 10, reason: 'waiting' });
  });

  it('leaves a segment to the chunk that reaches it next, and cuts short one that would reach it late', () => {
    const near = work(100, { chunks: [chunk('a', 40, 50)], heads: [head(41, 1)] });
    expect(needsSlotNow(near, settings)).toBe(false);
    expect(claimRange(near, settings)).toMatchObject({ fromSegment: 50, reason: 'ahead' });
    // A seek to 47 inside a chunk that is at 40: it would take 7 segments to get there.
    const late = work(100, { chunks: [chunk('a', 40, 50)], heads: [head(47, 2)] });
    expect(needsSlotNow(late, settings)).toBe(true);
    expect(claimRange(late, settings)).toEqual({ fromSegment: 47, endSegment: 57, reason: 'waiting', shorten: [{ chunkId: 'a', endSegment: 47 }] });
  });

  it('splits the chunk with the most left when nothing is unclaimed, so every slot works on a short title', () => {
    expect(claimRange(work(20, { made: [0, 1], chunks: [chunk('a', 2, 10), chunk('b', 10, 20)] }), settings))
      .toEqual({ fromSegment: 15, endSegment: 20, reason: 'split', shorten: [{ chunkId: 'b', endSegment: 15 }] });
    // Too little left to be worth a slot's start.
    expect(claimRange(work(20, { made: [...Array(15).keys()], chunks: [chunk('a', 15, 20)] }), settings)).toBeUndefined();
  });

  it('answers nothing once every segment is made or claimed', () => {
    expect(claimRange(work(3, { made: [0, 1, 2] }), settings)).toBeUndefined();
    expect(claimRange(work(3, { made: [0], chunks: [chunk('a', 1, 3)] }), settings)).toBeUndefined();
    expect(allMade(work(3, { made: [0, 1, 2] }))).toBe(true);
    expect(allMade(work(3, { made: [0, 2] }))).toBe(false);
  });

  it('picks as victim the chunk farthest from every viewer; never one close ahead of a viewer', () => {
    const w = work(200, {
      chunks: [chunk('ahead-of-viewer', 52, 60), chunk('near', 80, 90), chunk('far', 170, 180)],
      heads: [head(50, 1, false), head(120, 2)],
    });
    expect(chooseVictim(w, { ...settings, lookAheadSegments: 20 })?.id).toBe('far');
    const busy = work(200, { chunks: [chunk('a', 52, 60)], heads: [head(50, 1, false), head(120, 2)] });
    expect(chooseVictim(busy, settings)).toBeUndefined();
    expect(chooseVictim(work(200, { chunks: [chunk('x', 5, 10)], heads: [head(100, 1)] }), settings)?.id).toBe('x');
  });

  it('takes a slot from a viewer with a comfortable lead for a viewer who waits', () => {
    const w = work(200, { chunks: [chunk('a', 40, 60), chunk('b', 70, 80)], heads: [head(30, 1, false), head(65, 1, false), head(120, 2)] });
    // a is 10 segments ahead of its viewer, b 5: a hands over.
    expect(chooseVictim(w, settings)).toEqual({ id: 'a', nextSegment: 40, endSegment: 60 });
    const close = work(200, { chunks: [chunk('a', 35, 60)], heads: [head(30, 1, false), head(120, 2)] });
    expect(chooseVictim(close, settings)).toBeUndefined();
  });

  it('a viewer who paused does not move on: a chunk ahead of them works for nobody, and stops for them', () => {
    // Their part was started a lead ahead (at 37) while they played; they paused at 30 and wait there.
    const paused: PlayHead = { ...head(30, 2), paused: true };
    const w = work(200, { chunks: [chunk('lead', 37, 60)], heads: [paused] });
    expect(needsSlotNow(w, settings)).toBe(true);
    expect(chooseVictim(w, settings)?.id).toBe('lead');
    // Playing, the same viewer keeps it: 7 segments ahead is close.
    expect(chooseVictim(work(200, { chunks: [chunk('lead', 37, 60)], heads: [head(30, 2)] }), settings)).toBeUndefined();
    // At their own segment it works for them.
    expect(chooseVictim(work(200, { chunks: [chunk('here', 30, 60)], heads: [paused] }), settings)).toBeUndefined();
  });

  it('knows which segment a viewer plays into next: the end of the made run from their head', () => {
    // A viewer at 10 with 10–13 made: they play into 14, not into 20 (a gap) nor 12 (made).
    const w = work(40, { made: [10, 11, 12, 13], heads: [head(10, 1000, false)] });
    expect(viewerPlaysInto(w, 14)).toBe(true);
    expect(viewerPlaysInto(w, 20)).toBe(false);
    expect(viewerPlaysInto(w, 12)).toBe(false);
    // Where they are and nothing is made: that segment; what lies before a head: no one.
    expect(viewerPlaysInto(work(40, { heads: [head(25, 1000)] }), 25)).toBe(true);
    expect(viewerPlaysInto(work(40, { heads: [head(25, 1000)] }), 3)).toBe(false);
    // Nobody watching: nothing is played into; a paused viewer still plays on later.
    expect(viewerPlaysInto(work(40, { made: [0, 1] }), 2)).toBe(false);
    expect(viewerPlaysInto(work(40, { made: [0, 1], heads: [{ ...head(0, 1000, false), paused: true }] }), 2)).toBe(true);
  });
});
