/**
 * Which segments a free worker slot makes next: the scheduler's decisions, a pure function the
 * title workflow applies (as it applies rate control), unit-tested without Temporal.
 *
 * A chunk is a run of consecutive segments one worker slot makes with one decoder → model →
 * encoder pipeline. The workflow keeps a ticket (a gpu-queue activity) waiting for a free slot;
 * when one starts it *claims* a range here, decided at that moment from what is made, what
 * other chunks are making and where the viewers are:
 *
 * 1. a player waiting for a segment, or a viewer who just arrived (the trigger's position, a
 *    seek), newest first: the first missing segment at that position, unless a chunk reaches it
 *    within `coverSegments` (a chunk that would reach it later is cut short there);
 * 2. ahead of each play head, newest first, up to `lookAheadSegments`: the first segment no
 *    chunk has claimed — so several slots leapfrog each other ahead of one viewer;
 * 3. the rest of the title: after the newest play head, then from the start;
 * 4. nothing left unclaimed: half of what the chunk with the most left has yet to make (that
 *    chunk stops halfway), so a short title, or its end, is not left to one slot.
 *
 * When a slot is wanted for (1) and none is free, a chunk that serves no play head, or one far
 * ahead of its viewer, stops (`chooseVictim`): at once, not at its next boundary, because a
 * viewer waiting for the picture counts for more than the part of a segment it was making
 * (measured: waiting for the boundary added up to a whole segment's time to a seek). What it
 * made is kept.
 */

export interface ChunkInFlight {
  id: string;
  /** The next segment this chunk completes (its range's first until one is done). */
  nextSegment: number;
  /** Exclusive end of its range: it stops on reaching it (a later claim may lower it). */
  endSegment: number;
}

export interface PlayHead {
  /** A viewer (Jellyfin's device or user), or `player` for segment requests. */
  id: string;
  /** The segment at the viewer's position, or the segment a player asked for. */
  segment: number;
  /** When it was last reported (ms, workflow time); stale heads are dropped by the caller. */
  at: number;
  /** Someone waits for this segment now: a player's request, a trigger's or a seek's position. */
  urgent: boolean;
  /** The viewer paused: they do not move on, so only their own segment works for them. */
  paused?: boolean;
}

export interface SchedulerSettings {
  /** The most segments one claim takes: a bound on how long a slot stays away from new viewers. */
  maxChunkSegments: number;
  /** How far ahead of a play head slots work before the rest of the title. */
  lookAheadSegments: number;
  /** A chunk this close (in segments) to a wanted segment will make it soon enough. */
  coverSegments: number;
  /**
   * A chunk this far (in segments) ahead of its nearest viewer has given them a comfortable
   * lead: when another viewer waits and no slot is free, it hands its slot over at its next
   * boundary (and gets one back when its viewer needs it).
   */
  comfortSegments: number;
  /** A chunk is split only when both halves get at least this many segments. */
  minSplitSegments: number;
}

/**
 * The longest run of content one claim takes (seconds): how long a slot may stay away from a
 * new viewer's part of the title. The workflow's `maxChunkSegments` comes from it, and the
 * bench's model of K slots (cli/bench-grid.ts) takes it as the chunk length.
 */
export const MAX_CHUNK_SECONDS = 60;

export interface TitleWork {
  segmentCount: number;
  made: readonly boolean[];
  chunks: readonly ChunkInFlight[];
  heads: readonly PlayHead[];
}

export type ClaimReason = 'waiting' | 'ahead' | 'rest' | 'split';

export interface Claim {
  fromSegment: number;
  /** Exclusive. */
  endSegment: number;
  reason: ClaimReason;
  /** Chunks that would reach `fromSegment` too late stop before it instead. */
  shorten: { chunkId: string; endSegment: number }[];
}

/** Heads that matter, the most pressing first: waiting ones, then the newest. */
function byPressure(heads: readonly PlayHead[]): PlayHead[] {
  return [...heads].sort((a, b) => Number(b.urgent) - Number(a.urgent) || b.at - a.at);
}

function chunkOver(chunks: readonly ChunkInFlight[], segment: number): ChunkInFlight | undefined {
  return chunks.find((c) => c.nextSegment <= segment && segment < c.endSegment);
}

function firstMissingFrom(work: Pick<TitleWork, 'segmentCount' | 'made'>, from: number, until = work.segmentCount): number | undefined {
  for (let i = Math.max(0, from); i < Math.min(until, work.segmentCount); i++) if (!work.made[i]) return i;
  return undefined;
}

/** Missing and claimed by no chunk. */
function isFree(work: TitleWork, segment: number, chunks = work.chunks): boolean {
  return !work.made[segment] && chunkOver(chunks, segment) === undefined;
}

function firstFreeIn(work: TitleWork, from: number, until: number): number | undefined {
  for (let i = Math.max(0, from); i < Math.min(until, work.segmentCount); i++) if (isFree(work, i)) return i;
  return undefined;
}

function claimFrom(work: TitleWork, from: number, reason: ClaimReason, settings: SchedulerSettings, chunks = work.chunks, shorten: Claim['shorten'] = []): Claim {
  let end = from + 1;
  while (end < work.segmentCount && end - from < settings.maxChunkSegments && isFree(work, end, chunks)) end++;
  return { fromSegment: from, endSegment: end, reason, shorten };
}

/** Where a waiting player or newly arrived viewer needs a chunk that no running one provides, if anywhere. */
function urgentNeed(work: TitleWork, settings: SchedulerSettings): { segment: number; late?: ChunkInFlight } | undefined {
  for (const head of byPressure(work.heads)) {
    if (!head.urgent) break;
    const segment = firstMissingFrom(work, head.segment);
    if (segment === undefined) continue;
    const chunk = chunkOver(work.chunks, segment);
    if (chunk && segment - chunk.nextSegment <= settings.coverSegments) continue;
    return { segment, late: chunk };
  }
  return undefined;
}

/** The range a slot that has just become free should make, or undefined when every segment is made or claimed. */
export function claimRange(work: TitleWork, settings: SchedulerSettings): Claim | undefined {
  const need = urgentNeed(work, settings);
  if (need) {
    // A chunk that would get there too late hands that part over and stops before it.
    const chunks = need.late ? work.chunks.map((c) => (c === need.late ? { ...c, endSegment: need.segment } : c)) : work.chunks;
    const shorten = need.late ? [{ chunkId: need.late.id, endSegment: need.segment }] : [];
    return claimFrom(work, need.segment, 'waiting', settings, chunks, shorten);
  }
  const heads = byPressure(work.heads);
  for (const head of heads) {
    const segment = firstFreeIn(work, head.segment, head.segment + settings.lookAheadSegments);
    if (segment !== undefined) return claimFrom(work, segment, 'ahead', settings);
  }
  const newest = heads[0]?.segment ?? 0;
  const segment = firstFreeIn(work, newest, work.segmentCount) ?? firstFreeIn(work, 0, newest);
  if (segment !== undefined) return claimFrom(work, segment, 'rest', settings);
  return splitLongest(work, settings);
}

/** The second half of what the chunk with the most left has yet to make, when both halves are worth a slot. */
function splitLongest(work: TitleWork, settings: SchedulerSettings): Claim | undefined {
  const longest = work.chunks.reduce<ChunkInFlight | undefined>((best, c) => (!best || c.endSegment - c.nextSegment > best.endSegment - best.nextSegment ? c : best), undefined);
  if (!longest) return undefined;
  const left = longest.endSegment - longest.nextSegment;
  if (left < 2 * settings.minSplitSegments) return undefined;
  // The first half keeps the segment in progress; the split point must not be made already.
  const mid = longest.nextSegment + Math.ceil(left / 2);
  const from = firstMissingFrom(work, mid, longest.endSegment);
  if (from === undefined) return undefined;
  return { fromSegment: from, endSegment: longest.endSegment, reason: 'split', shorten: [{ chunkId: longest.id, endSegment: from }] };
}

/** True when `claimRange` would answer 'waiting': a slot is wanted at once. */
export function needsSlotNow(work: TitleWork, settings: SchedulerSettings): boolean {
  return urgentNeed(work, settings) !== undefined;
}

/** How far (segments) a chunk's next segment lies ahead of the nearest viewer it works for; Infinity when it works for none. */
function leadOverViewers(chunk: ChunkInFlight, heads: readonly PlayHead[], settings: SchedulerSettings): number {
  let nearest = Infinity;
  for (const head of heads) {
    const ahead = chunk.nextSegment - head.segment;
    if (head.paused && ahead > 0) continue;
    if (ahead >= 0 && ahead < settings.lookAheadSegments) nearest = Math.min(nearest, ahead);
  }
  return nearest;
}

/**
 * The chunk to stop so a waiting viewer gets a slot: one that works for nobody (the farthest
 * from every viewer), else the one furthest ahead of its viewer among those with a comfortable
 * lead. Undefined when every chunk is close ahead of a viewer: a viewer about to need a segment
 * keeps their slot.
 */
export function chooseVictim(work: TitleWork, settings: SchedulerSettings): ChunkInFlight | undefined {
  const leads = work.chunks.map((chunk) => ({ chunk, lead: leadOverViewers(chunk, work.heads, settings) }));
  const idle = leads.filter((l) => l.lead === Infinity).map((l) => l.chunk);
  if (idle.length > 0) {
    // Farthest from the nearest head (any side): the least useful soon.
    const far = (c: ChunkInFlight) => Math.min(...work.heads.map((h) => Math.abs(c.nextSegment - h.segment)), Infinity);
    return idle.reduce((best, c) => (far(c) > far(best) ? c : best));
  }
  const comfortable = leads.filter((l) => l.lead >= settings.comfortSegments);
  if (comfortable.length === 0) return undefined;
  return comfortable.reduce((best, l) => (l.lead > best.lead ? l : best)).chunk;
}

/**
 * A viewer plays into `segment` as it is made: some play head's made run (from the head's
 * segment, without a gap) ends there. The model a chunk makes such a segment with must keep up
 * with a viewer; a segment no head's run reaches is made for later, for the kept file (rate
 * control: docs/models.md#rate-control).
 */
export function viewerPlaysInto(work: TitleWork, segment: number): boolean {
  return work.heads.some((head) => madeRunEndsAt(work, head.segment, segment));
}

/** The title is made without a gap from `from` up to `segment`, which is not made yet. */
export function madeRunEndsAt(work: Pick<TitleWork, 'segmentCount' | 'made'>, from: number, segment: number): boolean {
  return from <= segment && firstMissingFrom(work, from) === segment;
}

/** Every segment is made. */
export function allMade(work: Pick<TitleWork, 'segmentCount' | 'made'>): boolean {
  for (let i = 0; i < work.segmentCount; i++) if (!work.made[i]) return false;
  return true;
}
