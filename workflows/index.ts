/**
 * One title's lifecycle: probe → plan (the grid) → chunks on every free worker slot, nearest the
 * viewers first → finalize → HLS retention timer. Deterministic workflow code: activities are
 * imported as types only, the scheduler and rate control are pure functions (core/), and every
 * timeout and retry policy sits next to the proxies below.
 *
 * Chunks are pulled, not pushed: while segments are left that no chunk has claimed, one ticket
 * (a gpu-queue activity) waits in the task queue; the slot that starts it asks for its range
 * then (`claimChunk`), and a new ticket goes into the queue. So as many chunks run as there are
 * free slots, on any number of workers, each decided with what is known when it starts. A
 * viewer waiting while no slot is free gets one: the chunk farthest from every viewer stops.
 */
import {
  ActivityCancellationType,
  allHandlersFinished,
  ApplicationFailure,
  CancellationScope,
  condition,
  continueAsNew,
  isCancellation,
  patched,
  proxyActivities,
  setHandler,
  sleep,
  workflowInfo,
} from '@temporalio/workflow';
import type { GpuQueueActivities, MediaQueueActivities } from '../activities';
import { TASK_QUEUES, type ChunkModelChange, type ChunkView, type SourceInfo, type StreamPlan, type StreamProgress, type UpscaleStatus, type UpscaleTitleInput, type ViewerPosition } from '../core/domain';
import { FailureType, NON_RETRYABLE_FAILURE_TYPES } from '../core/errors';
import type { ModelId } from '../core/models';
import { allMade, chooseVictim, claimRange, madeRunEndsAt, MAX_CHUNK_SECONDS, needsSlotNow, viewerPlaysInto, type PlayHead, type SchedulerSettings, type TitleWork } from '../core/chunk-scheduler';
import { firstSegmentFrom, madeRanges, segmentDurationSeconds, segmentIndexAt, segmentStartSeconds, type Grid } from '../core/grid';
import { gridOf, planStream } from '../core/plan';
import { giveUpTry, initialRateControl, keepsUp, observeSegment, STEP_UP_LEAD_SECONDS, stepUp, type RateControlState } from '../core/rate-control';
import { madeRate, median } from '../core/statistics';
import { DEFAULT_MIN_BUFFERED_SECONDS, FAST_POLLS_RATE_AT_FIRST, LEGACY_SCRIPT_TIMING, PLAN_SLOWER, PLAN_SLOWER_FROM_EARLIER_TITLES, QUARTER_SECOND_POLLS, SCRIPT_TIMING, THREE_TENTHS_INTO_PART, legacyLeadSeconds, legacySoonerWithLead, movedPart, neededAheadSeconds, plannedSwitch, soonerWithLead, type MakingSpeed, type PartMove, type PartProgress, type ScriptTiming } from '../core/switch-lead';
import { cancelSignal, claimChunkUpdate, segmentMadeUpdate, statusQuery, viewerSignal, yieldSlotSignal } from './definitions';

export { cancelSignal, claimChunkUpdate, segmentMadeUpdate, statusQuery, viewerSignal, yieldSlotSignal };

/** Bookkeeping in Postgres: quick, and worth retrying for a while if Postgres restarts. */
const jobs = proxyActivities<MediaQueueActivities>({
  taskQueue: TASK_QUEUES.media,
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds', maximumAttempts: 20 },
});

/** ffprobe/file steps: bad input fails at once, anything else is retried a few times. */
const media = proxyActivities<MediaQueueActivities>({
  taskQueue: TASK_QUEUES.media,
  startToCloseTimeout: '5 minutes',
  retry: { initialInterval: '2 seconds', maximumAttempts: 5, nonRetryableErrorTypes: NON_RETRYABLE_FAILURE_TYPES },
});

/** Task-queue priority (1 first): a title someone watches gets free slots before titles nobody does. */
const VIEWER_PRIORITY = 1;
const REST_PRIORITY = 3;

function chunkActivities(durationSeconds: number, priorityKey: number) {
  return proxyActivities<GpuQueueActivities>({
    taskQueue: TASK_QUEUES.gpu,
    // A chunk is at most the whole title; even at a tenth of real time it ends inside this.
    startToCloseTimeout: `${Math.ceil(durationSeconds * 10 + 600)} seconds`,
    // A worker that dies stops heartbeating (a live chunk does every few hundred ms); 20 s later
    // the server retries the ticket on a live worker, which claims what is still missing.
    heartbeatTimeout: '20 seconds',
    // On cancel, wait for ffmpeg to be stopped before going on.
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    retry: { initialInterval: '5 seconds', maximumAttempts: 5, nonRetryableErrorTypes: NON_RETRYABLE_FAILURE_TYPES },
    priority: { priorityKey },
  });
}

/** Joining the segments into the final file copies every byte once: allow for a slow disk. */
function finalizeActivities(durationSeconds: number) {
  return proxyActivities<MediaQueueActivities>({
    taskQueue: TASK_QUEUES.media,
    startToCloseTimeout: `${Math.ceil(durationSeconds / 4 + 300)} seconds`,
    retry: { initialInterval: '2 seconds', maximumAttempts: 5, nonRetryableErrorTypes: NON_RETRYABLE_FAILURE_TYPES },
    // Finalize beats every 2 s: a worker that dies mid-join is retried elsewhere within 30 s, and
    // a cancel waits for its ffmpeg to stop before the partial file is removed. Runs begun before
    // replay with the options they were recorded with.
    ...(patched('finalize-heartbeat')
      ? { heartbeatTimeout: '30 seconds', cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED }
      : {}),
  });
}

/** A viewer with this much made ahead of them can lend their slot to a viewer who waits. */
const COMFORT_SECONDS = 20;
/** A chunk is split for a free slot only when each half has at least this much to make: a chunk's start costs a little. */
const MIN_SPLIT_SECONDS = 6;
/** A viewer not heard of for this long has stopped watching. */
const VIEWER_TTL_MS = 120_000;
/** A position read longer ago counts as read this long ago: the API's clock and a worker's on another machine may differ. */
const MAX_POSITION_AGE_SECONDS = 30;
/** A ticket waiting this long for a slot while a viewer waits takes one (a chunk that serves nobody stops). */
const PREEMPT_AFTER_MS = 300;
/** The window of the title's recent making rate. */
const RATE_WINDOW_MS = 30_000;
/** This title's own chunk starts and segment rates a viewer's lead is judged from (the latest ones). */
const SPEED_SAMPLES = 8;

export interface UpscaleTitleResult {
  titleKey: string;
  finalFile: string;
  segments: number;
  rate: number;
  fps: number;
}

function failureMessage(err: unknown): string {
  let current: unknown = err;
  // The activity's own message sits at the bottom of ActivityFailure → ApplicationFailure.
  while (current instanceof Error && current.cause instanceof Error) current = current.cause;
  return current instanceof Error ? current.message : String(err);
}

function failureType(err: unknown): string | undefined {
  let current: unknown = err;
  while (current instanceof Error) {
    if (current instanceof ApplicationFailure && current.type) return current.type;
    current = current.cause;
  }
  return undefined;
}

/** A chunk being made: its claim, where it is, and its own rate control. */
interface Chunk {
  fromSegment: number;
  nextSegment: number;
  endSegment: number;
  model: ModelId | null;
  rateControl?: RateControlState;
  reported: number;
  /** When the slot claimed it, and when it last reported a segment: when its next segment comes. */
  claimedAt: number;
  lastMadeAt?: number;
}

interface Ticket {
  claimed: boolean;
  scheduledAt: number;
  scope: CancellationScope;
  done: Promise<void>;
  /** Other titles were asked to give up a slot for it. */
  askedOthers?: boolean;
}

interface Viewer {
  /** Where the making for this viewer starts: their segment, or a lead after it. */
  segment: number;
  at: number;
  waiting: boolean;
  /** Seconds after their position the making starts (a viewer on the original, who switches when it is ready there). */
  leadSeconds: number;
  /** Placed (or moved) from a known speed: the switch predicted then, in seconds from then (Infinity: none within a minute's lead). */
  switchSeconds?: number;
  /** The speed their part was planned from. */
  plannedFrom?: MakingSpeed;
  /** Their part has been moved once, or lies far enough ahead of them: not judged again until they are placed anew. */
  partSettled?: boolean;
  paused: boolean;
  /** A viewer playing on the original: where they said they were, and when (they move on at 1x). */
  onOriginal?: { seconds: number; at: number };
}

/**
 * What a run hands on when the title continues in a new run: what the title knows that is
 * neither in Postgres nor on disk (which segments are made is: the new run reads it back).
 */
export interface ContinuedTitle {
  /** This chain's runs so far, the new one included. */
  runs: number;
  source: SourceInfo;
  plan: StreamPlan;
  model?: ModelId;
  modelChanges: UpscaleStatus['modelChanges'];
  viewers: [string, Viewer][];
  earlierSpeed?: MakingSpeed;
  chunkStarts: number[];
  segmentRates: number[];
  tried?: { model: ModelId; leadSeconds?: number };
  failedStepUps: number;
  ownSpeedKnown: boolean;
  ticketCount: number;
  streamStartedAt: number;
  firstSegmentSeconds?: number;
  firstMadeAt?: number;
  recent: { at: number; seconds: number }[];
}

/**
 * `continued`: the run before this one's state, when a long title goes on in a new run. Temporal
 * keeps a run's history short: a run takes at most 2,000 updates, and a title reports every
 * segment in one (a 90-minute film with a model makes 5,400 segments of 1 s). When the server
 * suggests it, the run stops its chunks (each keeps what it made) and continues as new; the job
 * (Postgres, the API) keeps the first run's id.
 */
export async function upscaleTitle(input: UpscaleTitleInput, continued?: ContinuedTitle): Promise<UpscaleTitleResult> {
  const status: UpscaleStatus = { state: continued ? 'streaming' : 'queued', titleKey: input.titleKey, modelChanges: continued?.modelChanges ?? [], hlsRemoved: false };

  let grid: Grid | undefined;
  let made: boolean[] = [];
  let madeCount = 0;
  let contentMade = 0;
  let streamStartedAt = continued?.streamStartedAt ?? 0;
  let firstSegmentSeconds: number | undefined = continued?.firstSegmentSeconds;
  /** When this title made its first segment: the rate leaves out the start-up before it. */
  let firstMadeAt: number | undefined = continued?.firstMadeAt;
  const recent: { at: number; seconds: number }[] = continued?.recent ?? [];
  const chunks = new Map<string, Chunk>();
  const tickets = new Map<string, Ticket>();
  const viewers = new Map<string, Viewer>(continued?.viewers);
  const pendingViewers: ViewerPosition[] = input.viewer ? [input.viewer] : [];
  /** How fast earlier titles with this plan were made (Postgres), until this one has measured itself. */
  let earlierSpeed: MakingSpeed | undefined = continued?.earlierSpeed;
  const chunkStarts: number[] = continued?.chunkStarts ?? [];
  const segmentRates: number[] = continued?.segmentRates ?? [];
  /** The plan's model, before rate control: what a segment no viewer plays into as it is made gets. */
  let ownModel: ModelId | undefined;
  /**
   * The latest step up, until it holds or steps down: its model, and the nearest viewer's lead
   * when it began (absent in runs begun before, which judge a try by its window alone).
   */
  let tried: { model: ModelId; leadSeconds?: number } | undefined = continued?.tried;
  let failedStepUps = continued?.failedStepUps ?? 0;
  /** This title's own speed has been measured (the moment viewers placed without a lead are looked at again). */
  let ownSpeedKnown = continued?.ownSpeedKnown ?? false;
  let ticketCount = continued?.ticketCount ?? 0;
  let chunkFailure: unknown;
  /** Temporal suggested a new run: the chunks stop, and the title continues as new. */
  let continuing = false;
  /** Segments reported to this run: a new run goes on only after this one has made some. */
  let reportsThisRun = 0;
  /** Something the loop decides on changed. */
  let dirty = false;

  const activeHeads = (): PlayHead[] => {
    const now = Date.now();
    return [...viewers].filter(([, v]) => now - v.at < VIEWER_TTL_MS).map(([id, v]) => ({ id, segment: v.segment, at: v.at, urgent: v.waiting, ...(v.paused ? { paused: true } : {}) }));
  };
  const work = (): TitleWork => ({
    segmentCount: grid?.segmentCount ?? 0,
    made,
    chunks: [...chunks].map(([id, c]) => ({ id, nextSegment: c.nextSegment, endSegment: c.endSegment })),
    heads: activeHeads(),
  });
  const schedulerSettings = (g: Grid): SchedulerSettings => ({
    maxChunkSegments: Math.max(1, Math.ceil(MAX_CHUNK_SECONDS / g.segmentSeconds)),
    lookAheadSegments: input.settings.lookAheadSegments > 0 ? input.settings.lookAheadSegments : g.segmentCount,
    coverSegments: 1,
    comfortSegments: Math.max(2, Math.ceil(COMFORT_SECONDS / g.segmentSeconds)),
    minSplitSegments: Math.max(1, Math.ceil(MIN_SPLIT_SECONDS / g.segmentSeconds)),
  });

  /** One slot's speed on this title: measured here once a chunk has started and run, else on earlier titles. */
  const makingSpeed = (): (MakingSpeed & { measuredOn: 'this title' | 'earlier titles' }) | undefined => {
    if (chunkStarts.length > 0 && segmentRates.length > 0) {
      return { firstSegmentSeconds: median(chunkStarts), rate: median(segmentRates), measuredOn: 'this title' };
    }
    return earlierSpeed && { ...earlierSpeed, measuredOn: 'earlier titles' };
  };
  const keepLatest = (samples: number[], value: number) => {
    if (!Number.isFinite(value) || value < 0) return;
    samples.push(value);
    if (samples.length > SPEED_SAMPLES) samples.shift();
  };

  const progress = (): StreamProgress | undefined => {
    if (!grid) return undefined;
    const now = Date.now();
    // From the first segment on: counted from the stream's start, the start-up made a title read
    // below real time in its first seconds, and the script took the viewer back to the original.
    const rate = madeRate(recent, firstMadeAt, now, RATE_WINDOW_MS);
    return {
      frames: Math.round(contentMade * grid.fps),
      segments: madeCount,
      contentSeconds: contentMade,
      durationSeconds: grid.durationSeconds,
      rate,
      fps: rate * grid.fps,
      ...(firstSegmentSeconds !== undefined ? { firstSegmentSeconds } : {}),
    };
  };

  setHandler(statusQuery, (): UpscaleStatus => {
    if (!grid) return status;
    const speed = makingSpeed();
    return {
      ...status,
      progress: progress(),
      segmentCount: grid.segmentCount,
      ready: madeRanges(grid, made),
      viewers: activeHeads().map((h) => viewerView(h.id, h.segment, h.urgent)),
      ...(speed ? { makingSpeed: speed } : {}),
      chunks: [...chunks].map(([ticket, c]): ChunkView => ({ ticket, fromSegment: c.fromSegment, nextSegment: c.nextSegment, endSegment: c.endSegment, model: c.model })),
    };
  });

  /**
   * How the script polls, when it knows the rate and how far into a part it switches, as the
   * plan assumes: workflows begun before it switched a tenth of a second in, on the viewer's
   * arrival, before it polled faster near a switch (then faster still), or before a chunk's
   * first segment set no rate, replay the plan they made.
   */
  const scriptTiming = (): ScriptTiming => {
    if (patched('switch-tenth-into-part')) return SCRIPT_TIMING;
    if (patched('switch-poll-tenth')) return THREE_TENTHS_INTO_PART;
    if (patched('rate-from-second-segment')) return QUARTER_SECOND_POLLS;
    return patched('switch-poll-fast') ? FAST_POLLS_RATE_AT_FIRST : LEGACY_SCRIPT_TIMING;
  };
  /**
   * Where a viewer on the original at `seconds` gets their part: the segment start the script is
   * predicted to switch them at soonest (core/switch-lead.ts). Workflows begun before that rule
   * replay the rounded-up lead they used.
   */
  const leadFor = (g: Grid, seconds: number): { lead: number; leadSegment: number | undefined; switchSeconds?: number; plannedFrom?: MakingSpeed } => {
    const speed = makingSpeed();
    if (!patched('lead-soonest-switch')) {
      const lead = legacyLeadSeconds(speed);
      return { lead, leadSegment: lead > 0 ? firstSegmentFrom(g, seconds + lead) : undefined };
    }
    // Earlier titles' speed, often made alone, is planned for as if half again as slow.
    const fromEarlierTitles = speed?.measuredOn === 'earlier titles' && patched('plan-earlier-titles-slower');
    const planned = plannedSwitch(speed, seconds, g.segmentSeconds, DEFAULT_MIN_BUFFERED_SECONDS, scriptTiming(), fromEarlierTitles ? PLAN_SLOWER_FROM_EARLIER_TITLES : PLAN_SLOWER);
    if (!planned || !speed) return { lead: 0, leadSegment: undefined };
    // The middle of the planned segment: its start sits on a frame, a hair after the multiple.
    return {
      lead: planned.leadSeconds, leadSegment: segmentIndexAt(g, planned.startSeconds + g.segmentSeconds / 2), switchSeconds: planned.switchSeconds,
      plannedFrom: { firstSegmentSeconds: speed.firstSegmentSeconds, rate: speed.rate },
    };
  };
  const viewerView = (id: string, segment: number, waiting: boolean) => {
    const viewer = viewers.get(id);
    const switchSeconds = viewer?.switchSeconds;
    return {
      viewer: id, segment, waiting, leadSeconds: viewer?.leadSeconds ?? 0,
      ...(switchSeconds !== undefined && Number.isFinite(switchSeconds) ? { switchSeconds } : {}),
    };
  };

  /** Where a viewer on the original is by `now`, from where they were at `from.at`: they play on at 1x. */
  const playedTo = (g: Grid, from: { seconds: number; at: number }, now: number) => Math.min(g.durationSeconds, from.seconds + Math.max(0, now - from.at) / 1000);
  const applyViewer = (g: Grid, position: ViewerPosition) => {
    if (position.left) {
      viewers.delete(position.viewer);
      dirty = true;
      return;
    }
    // A position in seconds is a viewer on the original (a trigger, a seek): they switch where
    // enough is made ahead of them, so the making starts a lead further on. A segment is a
    // player on the upscaled stream asking for it: that one is made. A paused viewer is not moving: where they are.
    const onOriginal = position.segment === undefined && !position.paused;
    const at = Date.now();
    // Played on since the position was read: the first trigger's is placed after the probe.
    const readAt = onOriginal && position.readAt !== undefined ? Math.max(position.readAt, at - MAX_POSITION_AGE_SECONDS * 1000) : at;
    const seconds = playedTo(g, { seconds: position.seconds ?? 0, at: readAt }, at);
    const { lead, leadSegment, switchSeconds, plannedFrom } = onOriginal ? leadFor(g, seconds) : { lead: 0, leadSegment: undefined, switchSeconds: undefined, plannedFrom: undefined };
    // Paused just past a segment's start, the script wants the segment before made too (it switches only that far into a part).
    const pausedAt = () => (patched('paused-into-part') ? Math.max(0, seconds - scriptTiming().intoPartSeconds) : seconds);
    const segment = position.segment !== undefined
      ? Math.min(g.segmentCount - 1, Math.max(0, Math.floor(position.segment)))
      : leadSegment ?? segmentIndexAt(g, position.paused ? pausedAt() : seconds);
    viewers.set(position.viewer, {
      segment,
      at,
      waiting: position.waiting && !made[segment],
      leadSeconds: lead,
      ...(switchSeconds !== undefined ? { switchSeconds } : {}),
      ...(plannedFrom ? { plannedFrom } : {}),
      paused: position.paused === true,
      ...(onOriginal ? { onOriginal: { seconds, at } } : {}),
    });
    dirty = true;
  };

  /** From `segment` on: the first segment not made (the grid's count when all are), and the chunk making it now. */
  const madeRunFrom = (g: Grid, segment: number): { next: number; making: Chunk | undefined } => {
    let next = segment;
    while (next < g.segmentCount && made[next]) next++;
    const making = next < g.segmentCount ? [...chunks.values()].find((c) => c.nextSegment === next && next < c.endSegment) : undefined;
    return { next, making };
  };
  /**
   * How far past `seconds` the title is made without a gap, a chunk making the next segment;
   * undefined when the segment there is neither made nor being made (nothing works for a viewer there).
   */
  const aheadOf = (g: Grid, seconds: number): number | undefined => {
    const at = segmentIndexAt(g, seconds);
    const { next, making } = madeRunFrom(g, at);
    if (next >= g.segmentCount) return g.durationSeconds - seconds;
    return next === at && !making ? undefined : segmentStartSeconds(g, next) - seconds;
  };
  /**
   * The title's first speed is in: a viewer on the original who came before it was placed where
   * they were (no lead), where the making may never get ahead of them. Moved a lead on from
   * where they are by now when that switches them sooner (the first title on a new install).
   */
  const leadViewersPlacedWithout = (g: Grid) => {
    const speed = makingSpeed();
    if (!speed) return;
    const now = Date.now();
    for (const viewer of viewers.values()) {
      if (viewer.leadSeconds > 0 || viewer.switchSeconds !== undefined || viewer.paused || !viewer.onOriginal) continue;
      const seconds = playedTo(g, viewer.onOriginal, now);
      const sooner = patched('lead-soonest-switch')
        ? soonerWithLead(speed, seconds, g.segmentSeconds, aheadOf(g, seconds), scriptTiming())
        : legacySoonerWithLead(speed, aheadOf(g, seconds));
      if (!sooner) continue;
      const moved = leadFor(g, seconds);
      viewer.segment = moved.leadSegment ?? segmentIndexAt(g, seconds);
      viewer.leadSeconds = moved.lead;
      if (moved.switchSeconds !== undefined) viewer.switchSeconds = moved.switchSeconds;
      if (moved.plannedFrom) viewer.plannedFrom = moved.plannedFrom;
      viewer.waiting = !made[viewer.segment];
      dirty = true;
    }
  };
  /** How far the part from `segment` has come (`run`: `madeRunFrom` there): made without a gap from there, and when its next segment comes. */
  const partProgress = (g: Grid, segment: number, run: ReturnType<typeof madeRunFrom>, speed: MakingSpeed, now: number): PartProgress | undefined => {
    const { next, making: chunk } = run;
    if (next >= g.segmentCount) return undefined;
    // No slot makes it: one must start.
    if (!chunk) return { madeSegments: next - segment, nextSegmentInSeconds: speed.firstSegmentSeconds };
    // Its start-up from its claim, or a segment at the rate from its last one.
    const due = chunk.lastMadeAt === undefined ? speed.firstSegmentSeconds : g.segmentSeconds / speed.rate;
    const since = (now - (chunk.lastMadeAt ?? chunk.claimedAt)) / 1000;
    return { madeSegments: next - segment, nextSegmentInSeconds: Math.max(0, due - since) };
  };
  /**
   * A viewer on the original whose part was planned from a speed (earlier titles', often made
   * alone) is judged again by this title's own speed, and their part moved when that switches
   * them sooner (core/switch-lead.ts `movedPart`): once, as a move pays a chunk's start-up.
   * Since 'keep-parts-being-made', only a part no chunk is making (every slot busy elsewhere,
   * the viewer playing towards it): in the Jellyfin bench each of the five parts moved while
   * their chunk made them, judged on the first one or two segments' rates while the player
   * started, switched 0.6–4.9 s later than the part kept would have (docs/benchmarks.md); a part
   * made too slowly is rate control's to step down. The moves made, for the job's events.
   */
  const moveSlowParts = (g: Grid): PartMove[] => {
    const measured = makingSpeed();
    if (measured?.measuredOn !== 'this title') return [];
    const speed: MakingSpeed = { firstSegmentSeconds: measured.firstSegmentSeconds, rate: measured.rate };
    const moves: PartMove[] = [];
    const now = Date.now();
    // By now the status gives the title's rate: the script judges by it from the part's first segment.
    const script: ScriptTiming = { ...scriptTiming(), rateFromSegment: 0 };
    for (const [id, viewer] of viewers) {
      if (viewer.switchSeconds === undefined || viewer.partSettled || viewer.paused || !viewer.onOriginal) continue;
      const seconds = playedTo(g, viewer.onOriginal, now);
      const ahead = aheadOf(g, seconds);
      if (ahead !== undefined && ahead >= neededAheadSeconds(speed.rate, DEFAULT_MIN_BUFFERED_SECONDS, g.segmentSeconds)) {
        viewer.partSettled = true;
        continue;
      }
      const run = madeRunFrom(g, viewer.segment);
      if (run.making && patched('keep-parts-being-made')) continue;
      const progress = partProgress(g, viewer.segment, run, speed, now);
      if (!progress) continue;
      const moved = movedPart(speed, seconds, g.segmentSeconds, { startSeconds: segmentStartSeconds(g, viewer.segment), progress }, script);
      if (!moved) continue;
      moves.push({
        viewer: id, viewerSeconds: seconds, fromSeconds: segmentStartSeconds(g, viewer.segment), toSeconds: moved.startSeconds,
        speed, plannedFrom: viewer.plannedFrom ?? null,
        keptSwitchSeconds: Number.isFinite(moved.keptSwitchSeconds) ? moved.keptSwitchSeconds : null, switchSeconds: moved.switchSeconds,
      });
      viewer.segment = segmentIndexAt(g, moved.startSeconds + g.segmentSeconds / 2);
      viewer.leadSeconds = moved.leadSeconds;
      viewer.switchSeconds = moved.switchSeconds;
      viewer.plannedFrom = speed;
      viewer.waiting = !made[viewer.segment];
      viewer.partSettled = true;
      dirty = true;
    }
    return moves;
  };
  // Another title's viewer waits: a chunk of this one that works for nobody watching it gives its slot.
  setHandler(yieldSlotSignal, () => {
    if (!grid) return;
    const heads = activeHeads();
    const idle = [...chunks].find(([, c]) => !heads.some((h) => c.nextSegment >= h.segment));
    if (idle) tickets.get(idle[0])?.scope.cancel();
  });

  setHandler(viewerSignal, (position) => {
    if (grid) applyViewer(grid, position);
    else pendingViewers.push(position);
  });

  /**
   * Rate control's step-downs are for viewers: a segment a viewer plays into as it is made gets
   * the model that keeps up with them (the title's, stepped down); one that no viewer's made run
   * reaches gets the title's own model and is not judged: no one waits for it, and it stays in
   * the kept file. Workflows begun before judge every chunk and make every segment after a
   * step-down with the stepped-down model: the patch is asked only where the two differ.
   */
  const modelsByWatching = () => patched('models-by-watching');
  const watched = (segment: number) => viewerPlaysInto(work(), segment);
  /** The model a chunk claimed from `segment` starts with. */
  const modelFor = (segment: number): ModelId | null => {
    if (!status.model || !ownModel) return null;
    return status.model !== ownModel && !watched(segment) && modelsByWatching() ? ownModel : status.model;
  };
  /** Sets the model `chunk` makes from its next segment on by whether a viewer plays into it; the change, when there is one. */
  const followWatching = (ticket: string, chunk: Chunk, ladder: readonly ModelId[], isWatched: boolean): ChunkModelChange | undefined => {
    // Nothing left to make: nothing to decide.
    if (!chunk.model || !status.model || !ownModel || chunk.nextSegment >= chunk.endSegment) return undefined;
    // Watched: no better than the viewers' model; unwatched: the title's own.
    const model = !isWatched ? ownModel : ladder.indexOf(chunk.model) < ladder.indexOf(status.model) ? status.model : chunk.model;
    if (model === chunk.model || !modelsByWatching()) return undefined;
    const change = { ticket, fromModel: chunk.model, toModel: model, afterSegment: chunk.nextSegment - 1, watched: isWatched };
    chunk.model = model;
    chunk.rateControl = initialRateControl(model);
    return change;
  };

  /**
   * Content seconds made ahead of the nearest viewer who plays into `segment` as it is made, where
   * each is by now (a viewer on the original plays on at 1x; a player is where it last asked);
   * undefined when none does.
   */
  const leadOfViewers = (g: Grid, segment: number, now: number): number | undefined => {
    let lead: number | undefined;
    for (const viewer of viewers.values()) {
      if (now - viewer.at >= VIEWER_TTL_MS || !madeRunEndsAt({ segmentCount: g.segmentCount, made }, viewer.segment, segment)) continue;
      const at = viewer.onOriginal && !viewer.paused ? playedTo(g, viewer.onOriginal, now) : segmentStartSeconds(g, viewer.segment);
      lead = Math.min(lead ?? Infinity, segmentStartSeconds(g, segment) - at);
    }
    return lead;
  };

  setHandler(
    claimChunkUpdate,
    (ticket) => {
      const g = grid!;
      const waiting = tickets.get(ticket);
      if (!waiting) return null; // no longer wanted (cancelled, or the title is made)
      waiting.claimed = true;
      chunks.delete(ticket); // a retried ticket: what its earlier attempt claimed is claimable again
      dirty = true;
      const claim = claimRange(work(), schedulerSettings(g));
      if (!claim) return null;
      for (const { chunkId, endSegment } of claim.shorten) {
        const other = chunks.get(chunkId);
        if (other) other.endSegment = Math.min(other.endSegment, endSegment);
      }
      const model = modelFor(claim.fromSegment);
      chunks.set(ticket, {
        fromSegment: claim.fromSegment,
        nextSegment: claim.fromSegment,
        endSegment: claim.endSegment,
        model,
        ...(model ? { rateControl: initialRateControl(model) } : {}),
        reported: 0,
        claimedAt: Date.now(),
      });
      return { fromSegment: claim.fromSegment, endSegment: claim.endSegment, model };
    },
    {
      validator: (_ticket: string) => {
        if (!grid) throw new Error('the title has no grid yet');
      },
    },
  );

  /** A segment exists: counted once, and no viewer waits for it any more. */
  const markMade = (g: Grid, index: number) => {
    if (!made[index]) {
      made[index] = true;
      madeCount += 1;
      const seconds = segmentDurationSeconds(g, index);
      contentMade += seconds;
      recent.push({ at: Date.now(), seconds });
      // Pruned here, not in the status query: a query must not change the workflow's state.
      while (recent.length > 0 && Date.now() - recent[0]!.at > RATE_WINDOW_MS) recent.shift();
      firstSegmentSeconds ??= (Date.now() - streamStartedAt) / 1000;
      firstMadeAt ??= Date.now();
    }
    for (const viewer of viewers.values()) if (viewer.segment === index) viewer.waiting = false;
    dirty = true;
  };

  setHandler(
    segmentMadeUpdate,
    async (report) => {
      reportsThisRun += 1;
      markMade(grid!, report.index);
      const chunk = chunks.get(report.ticket);
      // Continuing as new: every chunk ends with this segment (the next run hands out the rest).
      if (!chunk || continuing) return { endSegment: report.index + 1, model: report.model };
      chunk.nextSegment = Math.max(chunk.nextSegment, report.index + 1);
      chunk.reported += 1;
      chunk.lastMadeAt = Date.now();
      // The first segment's wall time is the chunk's start-up; the others are its rate.
      if (chunk.reported === 1) keepLatest(chunkStarts, report.wallSeconds);
      else keepLatest(segmentRates, report.rate);
      const ladder = status.plan!.ladder;
      const isWatched = watched(chunk.nextSegment);
      const followed = followWatching(report.ticket, chunk, ladder, isWatched);
      if (followed) {
        void jobs.recordChunkModelChange(followed).catch(() => undefined);
      } else if (chunk.rateControl && report.model && chunk.reported > 1 && (isWatched || !modelsByWatching())) {
        // A chunk's first segment carries its start-up (ffmpeg, a model's first frames): not a rate.
        const segment = { ...report, model: report.model };
        const lead = leadOfViewers(grid!, chunk.nextSegment, Date.now());
        let judged = observeSegment(chunk.rateControl, segment, ladder, input.settings);
        // Below the rate with room ahead of the viewer: kept until the room is spent (runs begun before stepped down).
        if (judged.change && lead !== undefined && lead >= STEP_UP_LEAD_SECONDS && patched('keep-model-with-lead')) {
          judged = observeSegment(chunk.rateControl, segment, ladder, input.settings, lead);
        }
        // A try below the rate that has cost the viewer its allowance: given up, window full or not.
        if (!judged.change && judged.state.model === tried?.model && tried.leadSeconds !== undefined && lead !== undefined) {
          const gaveUp = giveUpTry(judged.state, ladder, input.settings, { triedAtSeconds: tried.leadSeconds, nowSeconds: lead, afterSegment: report.index });
          if (gaveUp) judged = { state: initialRateControl(gaveUp.toModel), change: gaveUp };
        }
        const { state, change } = judged;
        chunk.rateControl = state;
        chunk.model = state.model;
        if (change) {
          status.model = change.toModel;
          status.modelChanges.push(change);
          if (change.fromModel === tried?.model) {
            failedStepUps += 1;
            tried = undefined;
          }
          await jobs.recordModelChange(change);
        } else if (tried !== undefined) {
          // A try holds once its model has made a whole window at or above the rate.
          if (chunk.model === tried.model && keepsUp(state, input.settings)) tried = undefined;
        } else if (chunk.model && ownModel) {
          // Stepped down, and the viewer far enough ahead that a try leaves them room: the better model again.
          const up = lead === undefined ? undefined : stepUp({ ticket: report.ticket, model: chunk.model, nextSegment: chunk.nextSegment }, ownModel, ladder, lead, failedStepUps);
          if (up && patched('step-up-with-lead')) {
            chunk.model = up.toModel;
            chunk.rateControl = initialRateControl(up.toModel);
            // Runs begun before gave a try its whole window, whatever it cost the viewer.
            tried = { model: up.toModel, ...(patched('give-up-slow-try') ? { leadSeconds: up.leadSeconds } : {}) };
            if (ladder.indexOf(status.model!) > ladder.indexOf(up.toModel)) status.model = up.toModel;
            await jobs.recordModelStepUp(up);
          }
        }
      }
      return { endSegment: chunk.endSegment, model: chunk.model };
    },
    {
      validator: (report) => {
        if (!grid || !Number.isInteger(report.index) || report.index < 0 || report.index >= grid.segmentCount) {
          throw new Error(`segment ${report.index} is outside the title's grid`);
        }
      },
    },
  );

  const work_ = new CancellationScope();
  setHandler(cancelSignal, () => work_.cancel());

  /** Puts a ticket in the gpu queue; the slot that starts it claims its range. */
  const launchTicket = (g: Grid, plan: StreamPlan, source: SourceInfo) => {
    ticketCount += 1;
    const ticket = `chunk-${ticketCount}`;
    const scope = new CancellationScope();
    const priority = activeHeads().length > 0 ? VIEWER_PRIORITY : REST_PRIORITY;
    const done = scope
      .run(() => chunkActivities(g.durationSeconds, priority).makeChunk({ titleKey: input.titleKey, sourcePath: input.sourcePath, plan, source, ticket }))
      .then(
        (result) => {
          // Reports lost to an outage are made good here.
          for (const index of result.made) markMade(g, index);
          if (result.sourceEndsAt !== undefined) {
            chunkFailure ??= ApplicationFailure.create({
              message: `the source has no picture after ${segmentStartSeconds(g, result.sourceEndsAt).toFixed(1)} s, before the ${g.durationSeconds.toFixed(1)} s it states: it is cut short or damaged`,
              type: FailureType.InvalidMedia,
              nonRetryable: true,
            });
          }
        },
        (err: unknown) => {
          if (!isCancellation(err)) chunkFailure ??= err;
        },
      )
      .finally(() => {
        tickets.delete(ticket);
        chunks.delete(ticket);
        dirty = true;
      });
    tickets.set(ticket, { claimed: false, scheduledAt: Date.now(), scope, done });
  };

  /** Stops every chunk (each keeps what it made) and waits until they have stopped. */
  const stopAllChunks = async () => {
    const all = [...tickets.values()];
    for (const t of all) t.scope.cancel();
    await Promise.all(all.map((t) => t.done));
  };

  let finalFile: string | undefined;
  // Until the job is registered there is no job record to write a failure to (a title key that
  // belongs to another file is refused there): Temporal alone holds the reason.
  let registered = false;
  try {
    finalFile = await work_.run(async () => {
      const register = () => jobs.registerJob({ titleKey: input.titleKey, sourcePath: input.sourcePath, name: input.name });
      // Not cancelled halfway: a cancel sent once the record exists, while the activity's answer is
      // on its way, would leave the record without its end (runs begun before could).
      await (patched('register-not-cancellable') ? CancellationScope.nonCancellable(register) : register());
      registered = true;
      // A continued title was probed and planned by its first run.
      if (!continued) status.state = 'probing';
      const source = continued?.source ?? await media.probeSource({ sourcePath: input.sourcePath });
      status.source = source;

      const plan = continued?.plan ?? planStream(source, input.settings);
      status.plan = plan;
      if (plan.upscaler !== 'lanczos') {
        ownModel = plan.upscaler;
        status.model = continued?.model ?? ownModel;
      }
      const g = gridOf(plan);
      // Workflows started before viewers had a lead replay without this step.
      if (!continued && patched('switch-lead')) earlierSpeed = (await jobs.makingSpeed(plan)) ?? undefined;
      const published = await media.publishPlaylist({ titleKey: input.titleKey, plan, source, ...(input.fresh ? { fresh: true } : {}) });
      made = published.made;
      madeCount = made.filter(Boolean).length;
      contentMade = made.reduce((sum, isMade, i) => sum + (isMade ? segmentDurationSeconds(g, i) : 0), 0);
      grid = g;
      for (const position of pendingViewers.splice(0)) applyViewer(g, position);
      status.state = 'streaming';
      await jobs.recordJob(continued
        ? { state: 'streaming', message: `continued in run ${continued.runs} of the title's workflow (Temporal keeps a run's history short): ${madeCount} of ${g.segmentCount} segments made` }
        : {
          state: 'streaming',
          plan,
          message: `plan: ${plan.upscaler} x${plan.scaleFactor} → ${plan.outputWidth}x${plan.outputHeight}, ${plan.encoder} ${plan.preset} crf ${plan.crf}, ${g.segmentCount} segments of ${plan.segmentSeconds} s${madeCount > 0 ? ` (${madeCount} made by an earlier run)` : ''}`,
        });
      if (!continued) streamStartedAt = Date.now();

      const settings = schedulerSettings(g);
      // A change while the loop awaited (asking other titles for a slot) wakes it again; runs begun
      // before cleared the flag after that await, and could sleep through the last chunk's end.
      const wakeupsKept = patched('keep-wakeups');
      try {
        while (!allMade({ segmentCount: g.segmentCount, made })) {
          if (wakeupsKept) dirty = false;
          if (chunkFailure !== undefined) throw chunkFailure;
          // Runs begun before went on in one run (and failed past 2,000 segment reports).
          if (workflowInfo().continueAsNewSuggested && reportsThisRun > 0 && patched('continue-as-new')) {
            continuing = true;
            break;
          }
          if (!ownSpeedKnown && makingSpeed()?.measuredOn === 'this title') {
            ownSpeedKnown = true;
            if (patched('lead-once-measured')) leadViewersPlacedWithout(g);
          }
          // Workflows begun before kept a planned part however slowly it came.
          if (ownSpeedKnown && patched('move-slow-parts')) {
            // Recorded beside the making, not before it: Postgres down must not hold the scheduler.
            for (const move of moveSlowParts(g)) void jobs.recordPartMove(move).catch(() => undefined);
          }
          const current = work();
          let waitingTicket = [...tickets.values()].find((t) => !t.claimed);
          if (!waitingTicket && claimRange(current, settings) !== undefined) {
            launchTicket(g, plan, source);
            waitingTicket = [...tickets.values()].find((t) => !t.claimed);
          }
          let wakeInMs: number | undefined;
          if (waitingTicket && needsSlotNow(current, settings)) {
            const dueInMs = waitingTicket.scheduledAt + PREEMPT_AFTER_MS - Date.now();
            const victim = chooseVictim(current, settings);
            if (dueInMs > 0) wakeInMs = dueInMs;
            else if (victim) tickets.get(victim.id)?.scope.cancel();
            else if (!waitingTicket.askedOthers) {
              // No chunk of its own to stop: titles nobody watches give up a slot.
              waitingTicket.askedOthers = true;
              await jobs.askForSlot({ titleKey: input.titleKey });
            }
          }
          if (!wakeupsKept) dirty = false;
          if (wakeInMs === undefined) await condition(() => dirty);
          else await condition(() => dirty, wakeInMs);
        }
      } finally {
        // Made (or failed): tickets still waiting for a slot, or finishing a race for the
        // last segments, are not needed any more.
        await CancellationScope.nonCancellable(stopAllChunks);
      }
      if (chunkFailure !== undefined) throw chunkFailure;
      if (continuing) {
        // Every segment report answered before the run ends (a cancel meanwhile still cancels).
        await condition(allHandlersFinished);
        return undefined;
      }

      status.state = 'finalizing';
      await jobs.recordJob({ state: 'finalizing', message: 'joining the segments into the final file' });
      const final = await finalizeActivities(source.durationSeconds).finalizeTitle({ titleKey: input.titleKey, sourcePath: input.sourcePath, source, plan });
      status.state = 'complete';
      return final.finalFile;
    });
  } catch (err) {
    status.state = isCancellation(err) ? 'cancelled' : 'failed';
    if (!isCancellation(err)) status.failureReason = failureMessage(err);
    if (registered) {
      await CancellationScope.nonCancellable(async () => {
        await media.discardPartialOutput({ titleKey: input.titleKey });
        await (isCancellation(err)
          ? jobs.recordJob({ state: 'cancelled', message: 'cancelled; partial final file removed' })
          : jobs.recordJob({ state: 'failed', failureReason: status.failureReason, message: `failed: ${status.failureReason}` }));
      });
    }
    if (isCancellation(err)) throw err;
    throw ApplicationFailure.create({
      message: status.failureReason,
      type: failureType(err) ?? 'StreamFailed',
      nonRetryable: true,
      cause: err instanceof Error ? err : undefined,
    });
  }

  if (finalFile === undefined) {
    const next: ContinuedTitle = {
      runs: (continued?.runs ?? 1) + 1,
      source: status.source!,
      plan: status.plan!,
      ...(status.model ? { model: status.model } : {}),
      modelChanges: status.modelChanges,
      viewers: [...viewers],
      ...(earlierSpeed ? { earlierSpeed } : {}),
      chunkStarts,
      segmentRates,
      ...(tried ? { tried } : {}),
      failedStepUps,
      ownSpeedKnown,
      ticketCount,
      streamStartedAt,
      ...(firstSegmentSeconds !== undefined ? { firstSegmentSeconds } : {}),
      ...(firstMadeAt !== undefined ? { firstMadeAt } : {}),
      recent,
    };
    // The trigger's viewer is among the viewers, and a forced trigger's fresh start is done.
    return continueAsNew<typeof upscaleTitle>({ titleKey: input.titleKey, sourcePath: input.sourcePath, name: input.name, settings: input.settings }, next);
  }

  // The stream stays playable for the retention period; then its segments go, the file stays.
  await sleep(input.settings.hlsRetentionMs);
  await media.removeHlsFolder({ titleKey: input.titleKey });
  status.hlsRemoved = true;
  const final = progress();
  return {
    titleKey: input.titleKey,
    finalFile,
    segments: final?.segments ?? 0,
    rate: final?.rate ?? 0,
    fps: final?.fps ?? 0,
  };
}

export { cleanupHls } from './hls-cleanup';
