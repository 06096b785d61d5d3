/**
 * The title workflow on Temporal's real dev server (the CLI binary set-up installs), with the
 * real worker wiring, real activities, real ffmpeg and a real Postgres cluster.
 */
import fs from 'node:fs';
import path from 'node:path';
import { WorkflowFailedError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { loadConfig, type Config } from '../../core/config';
import { workflowIdForTitle, type ModelStepUp, type UpscaleStatus } from '../../core/domain';
import { segmentIndexAt, segmentStartSeconds } from '../../core/grid';
import { titleKeyFor } from '../../core/media-paths';
import { gridOf } from '../../core/plan';
import { TRY_COST_SECONDS } from '../../core/rate-control';
import { median } from '../../core/statistics';
import { plannedSwitch, type PartMove } from '../../core/switch-lead';
import type { UpflowStore } from '../../adapters/postgres';
import { startOrJoinTitleWorkflow, upscaleSettings } from '../../services/title-workflows';
import { cancelSignal, statusQuery, viewerSignal } from '../../workflows/definitions';
import { ffprobe, makeBadInputs, makeClip } from '../support/fixtures';
import { waitFor } from '../support/upflow-process';
import { startWorkflowStack, type WorkflowStack } from '../support/workflow-stack';

describe('upscaleTitle workflow', () => {
  let stack: WorkflowStack | undefined;
  let dir: string;
  let env: TestWorkflowEnvironment;
  let store: UpflowStore;
  let config: Config;
  let start: WorkflowStack['start'];

  beforeAll(async () => {
    stack = await startWorkflowStack({ settings: { UPFLOW_HLS_RETENTION: '2s' } });
    ({ dir, env, store, config, start } = stack);
  }, 180_000);

  afterAll(async () => {
    await stack?.stop();
  }, 60_000);

  it('probes, plans, streams, finalizes and removes HLS after retention', async () => {
    const clip = await makeClip(path.join(dir, 'media', 'small.mp4'), { seconds: 8, width: 160, height: 90 });
    const handle = await start(clip);
    // A second start of the same title joins the same run.
    const joined = await start(clip);
    expect(joined.firstExecutionRunId).toBe(handle.firstExecutionRunId);
    expect([handle.started, joined.started]).toEqual([true, false]);
    expect(handle.workflowId).toBe(workflowIdForTitle(titleKeyFor(clip)));

    const seen = new Set<string>();
    const complete = await waitFor('state complete', async () => {
      const status: UpscaleStatus = await handle.query(statusQuery);
      seen.add(status.state);
      return status.state === 'complete' ? status : undefined;
    }, 60_000, 50);
    // 8 s on the default 2 s grid: four segments, each made once.
    expect(config.hls.segmentSeconds).toBe(2);
    expect(complete.plan).toMatchObject({ outputWidth: 320, outputHeight: 180, upscaler: 'lanczos' });
    expect(complete.progress).toMatchObject({ segments: 4, durationSeconds: 8 });
    expect(complete.progress!.rate).toBeGreaterThan(0);

    const result = await handle.result();
    expect(result.segments).toBe(4);
    expect(fs.existsSync(result.finalFile)).toBe(true);
    expect(ffprobe(result.finalFile)).toMatchObject({ width: 320, height: 180, hasAudio: true });
    expect(fs.existsSync(path.join(config.hlsDir, result.titleKey))).toBe(false);
    expect((await handle.query(statusQuery)).hlsRemoved).toBe(true);

    const job = await store.getJob(handle.firstExecutionRunId);
    expect(job).toMatchObject({ state: 'complete', segments: 4, finalPath: result.finalFile });
    expect(job!.hlsRemovedAt).not.toBeNull();
    expect((await store.segmentsOf(job!.id)).map((s) => s.index)).toEqual([0, 1, 2, 3]);
    // The next title with this plan sizes its first viewer's lead from this one's speed.
    const speed = await store.makingSpeed(complete.plan!);
    expect(speed?.firstSegmentSeconds).toBeGreaterThan(0);
    // Its rate is the chunk's once it ran: the chunk's first segment (its start-up) left out.
    const runningRates = (await store.segmentsOf(job!.id)).filter((s) => s.index > 0).map((s) => s.durationSeconds / s.wallSeconds!);
    expect(speed?.rate).toBeCloseTo(median(runningRates), 5);
    expect(await store.makingSpeed({ ...complete.plan!, outputWidth: 640 })).toBeUndefined();
  });

  it("keeps a job's end: a late write of an earlier state (an activity cancelled without waiting) does not undo it", async () => {
    const id = '01a21211-5d1c-76b5-97c6-cd631f10ee8c';
    await store.upsertTitle({ key: 'late-write-1a2b3c4d', sourcePath: path.join(dir, 'media', 'late.mp4'), name: 'Late' });
    await store.ensureJob({ id, workflowId: workflowIdForTitle('late-write-1a2b3c4d'), titleKey: 'late-write-1a2b3c4d', state: 'streaming' });
    await store.updateJob(id, { state: 'finalizing' });
    await store.updateJob(id, { state: 'cancelled', finished: true });
    await store.updateJob(id, { state: 'finalizing' }, { kind: 'state', message: 'joining the segments into the final file' });
    expect((await store.getJob(id))!.state).toBe('cancelled');
    // What is not a state still lands (a final file a cancelled finalize had already made).
    await store.updateJob(id, { state: 'complete', finalPath: '/out/late.mkv' });
    expect(await store.getJob(id)).toMatchObject({ state: 'cancelled', finalPath: '/out/late.mkv' });
  });

  it("takes no rate from a chunk's first segment, which carries that chunk's start-up", async () => {
    const id = '01a21211-5d1c-76b5-97c6-cd631f10ee8d';
    await store.upsertTitle({ key: 'rate-kept-1a2b3c4d', sourcePath: path.join(dir, 'media', 'rate.mp4'), name: 'Rate' });
    await store.ensureJob({ id, workflowId: workflowIdForTitle('rate-kept-1a2b3c4d'), titleKey: 'rate-kept-1a2b3c4d', state: 'streaming' });
    const segment = (index: number) => ({ index, filename: `seg${String(index).padStart(5, '0')}.ts`, startSeconds: 2 * index, durationSeconds: 2, bytes: 1000, model: null, precision: null, wallSeconds: 2 });
    // The title's first segment: no rate yet (not a start-up's).
    await store.recordSegment(id, segment(0), null);
    expect((await store.getJob(id))!).toMatchObject({ rate: null, fps: null, segments: 1 });
    await store.recordSegment(id, segment(1), 0.8);
    // Another chunk starts further on: its first segment does not pull the rate down; its second sets it.
    await store.recordSegment(id, segment(20), null);
    expect((await store.getJob(id))!.rate).toBeCloseTo(0.8);
    await store.recordSegment(id, segment(21), 0.85);
    expect((await store.getJob(id))!).toMatchObject({ rate: expect.closeTo(0.85) as unknown, segments: 4 });
  });

  it('fails bad media at probe, once, with the reason in Temporal and Postgres', async () => {
    const bad = await makeBadInputs(path.join(dir, 'media', 'bad'));
    const handle = await start(bad.text.file);
    const error = await handle.result().then(() => undefined, (err: unknown) => err);
    expect(error).toBeInstanceOf(WorkflowFailedError);
    expect(String((error as WorkflowFailedError).cause?.message)).toMatch(bad.text.reason);
    const job = await store.getJob(handle.firstExecutionRunId);
    expect(job).toMatchObject({ state: 'failed' });
    expect(job!.failureReason).toMatch(bad.text.reason);
    // Non-retryable: the probe ran exactly once.
    const history = await handle.fetchHistory();
    const probeAttempts = (history.events ?? []).filter((e) => e.activityTaskStartedEventAttributes).map((e) => e.activityTaskStartedEventAttributes!.attempt);
    expect(probeAttempts.every((attempt) => attempt === 1)).toBe(true);
  });

  it('refuses a source outside the media roots even when started directly', async () => {
    const outside = await makeClip(path.join(dir, 'elsewhere', 'x.mp4'), { seconds: 2, width: 64, height: 36 });
    const handle = await start(outside);
    await expect(handle.result()).rejects.toThrow(WorkflowFailedError);
    const job = await store.getJob(handle.firstExecutionRunId);
    expect(job!.failureReason).toMatch(/outside the media folders/);
    expect(fs.existsSync(path.join(config.hlsDir, titleKeyFor(outside)))).toBe(false);
  });

  it('never lets a title key that belongs to another file take it over: the run fails at once, nothing recorded on that title', async () => {
    const owner = await makeClip(path.join(dir, 'media', 'owner.mp4'), { seconds: 2, width: 64, height: 36 });
    const intruder = await makeClip(path.join(dir, 'media', 'intruder.mp4'), { seconds: 2, width: 64, height: 36 });
    const key = titleKeyFor(owner);
    await store.upsertTitle({ key, sourcePath: owner, name: 'Owner' });
    // The upsert itself: the same file again is fine, another file under the key is a Conflict (a 409 over HTTP).
    await store.upsertTitle({ key, sourcePath: owner, name: 'Owner again' });
    await expect(store.upsertTitle({ key, sourcePath: intruder, name: 'Intruder' })).rejects.toMatchObject({ kind: 'Conflict', message: expect.stringMatching(/belongs to another source file/) });
    await expect(store.upsertTitle({ key: 'other-key', sourcePath: owner, name: 'Owner' })).rejects.toMatchObject({ kind: 'Conflict', message: `this source file is already title ${key}, not other-key` });

    const handle = await startOrJoinTitleWorkflow(env.client, { titleKey: key, sourcePath: intruder, name: 'Intruder', settings: upscaleSettings(config) });
    const error = await handle.result().then(() => undefined, (err: unknown) => err);
    expect(error).toBeInstanceOf(WorkflowFailedError);
    expect(String((error as WorkflowFailedError).cause?.message)).toMatch(/belongs to another source file/);
    const history = await handle.fetchHistory();
    const attempts = (history.events ?? []).filter((e) => e.activityTaskStartedEventAttributes).map((e) => e.activityTaskStartedEventAttributes!.attempt);
    expect(attempts).toEqual([1]);
    expect(await store.getJob(handle.firstExecutionRunId)).toBeUndefined();
    expect(await store.titleKeyForSource(owner)).toBe(key);
    expect(await store.titleKeyForSource(intruder)).toBeUndefined();
    expect(await store.latestJobForTitle(key)).toBeUndefined();
  });

  it('follows a viewer until Jellyfin says they stopped, a lead ahead of them once its speed is known; stops on the cancel signal and removes the partial final file', async () => {
    const clip = await makeClip(path.join(dir, 'media', 'long.mp4'), { seconds: 90, width: 640, height: 360 });
    const handle = await start(clip);
    // A chunk's start and a rate after it: what a lead is sized from.
    const speed = await waitFor('the speed measured on this title', async () => (await handle.query(statusQuery)).makingSpeed, 60_000, 100);
    expect(speed).toMatchObject({ measuredOn: 'this title' });
    expect(speed.firstSegmentSeconds).toBeGreaterThan(0);
    expect(speed.rate).toBeGreaterThan(0);
    const viewerNow = async (id: string) => ((await handle.query(statusQuery)).viewers ?? []).find((v) => v.viewer === id);
    await handle.signal(viewerSignal, { viewer: 'jellyfin:tv', seconds: 60, waiting: false });
    // (A query may be answered before the signal's workflow task has run: wait for it.)
    const tv = await waitFor('the viewer at 60 s', () => viewerNow('jellyfin:tv'), 10_000);
    const after = await handle.query(statusQuery);
    const grid = gridOf(after.plan!);
    // On the original at 60 s: their part starts where the script is predicted to switch them
    // soonest, from the speed measured then (a segment made in between may have moved it).
    const plans = [speed, after.makingSpeed].map((s) => plannedSwitch(s, 60, grid.segmentSeconds)!);
    expect(plans.some((p) => Math.abs(p.leadSeconds - tv.leadSeconds) < 1e-6 && Math.abs(p.switchSeconds - tv.switchSeconds!) < 1e-6)).toBe(true);
    expect(tv.segment).toBe(segmentIndexAt(grid, 60 + tv.leadSeconds + grid.segmentSeconds / 2));
    expect(segmentStartSeconds(grid, tv.segment)).toBeCloseTo(60 + tv.leadSeconds, 1);
    // A position read 8 s before the workflow heard it (the trigger asked Jellyfin, the title was
    // probed): the viewer played on meanwhile, and is placed from 38 s (and the signal's own time).
    const lateSignalAt = Date.now();
    await handle.signal(viewerSignal, { viewer: 'jellyfin:late', seconds: 30, readAt: lateSignalAt - 8000, waiting: false });
    const late = await waitFor('the viewer read 8 s before', () => viewerNow('jellyfin:late'), 10_000);
    const heardBy = 38 + (Date.now() - lateSignalAt) / 1000;
    if (late.leadSeconds > 0) {
      // Their part starts the lead on from where they were placed.
      const placedAt = segmentStartSeconds(grid, late.segment) - late.leadSeconds;
      expect(placedAt).toBeGreaterThan(38 - 0.05);
      expect(placedAt).toBeLessThan(heardBy + 0.05);
    } else {
      expect(late.segment).toBeGreaterThanOrEqual(segmentIndexAt(grid, 38));
      expect(late.segment).toBeLessThanOrEqual(segmentIndexAt(grid, heardBy));
    }
    // Paused just on a segment's start: the one before is made too (the script switches 0.3 s into a made part).
    await handle.signal(viewerSignal, { viewer: 'jellyfin:paused', seconds: 40, waiting: false, paused: true });
    await expect(waitFor('the paused viewer', () => viewerNow('jellyfin:paused'), 10_000)).resolves.toMatchObject({ segment: 19, leadSeconds: 0 });
    // A player asking for a segment gets that one, no lead.
    await handle.signal(viewerSignal, { viewer: 'player:tv', segment: 20, waiting: false });
    await expect(waitFor('the player at segment 20', () => viewerNow('player:tv'), 10_000)).resolves.toMatchObject({ segment: 20, leadSeconds: 0 });
    // PlaybackStop: the play head goes, the rest of the title is still made.
    await handle.signal(viewerSignal, { viewer: 'jellyfin:tv', waiting: false, left: true });
    await waitFor('the viewer to go', async () => ((await viewerNow('jellyfin:tv')) ? undefined : true), 10_000);
    expect((await handle.query(statusQuery)).state).toBe('streaming');

    await handle.signal(cancelSignal, 'test');
    await expect(handle.result()).rejects.toThrow();
    const job = await store.getJob(handle.firstExecutionRunId);
    expect(job!.state).toBe('cancelled');
    expect(fs.existsSync(path.join(config.outputDir, `${titleKeyFor(clip)}.partial.mkv`))).toBe(false);
  });

  it('moves a viewer who came before any speed was known a lead on from where they are by now, once the title has measured itself', async () => {
    // A size no earlier title here had: nothing to size a lead from at first.
    const clip = await makeClip(path.join(dir, 'media', 'first-of-its-size.mp4'), { seconds: 80, width: 480, height: 270 });
    const handle = await startOrJoinTitleWorkflow(env.client, {
      titleKey: titleKeyFor(clip), sourcePath: clip, name: 'First of its size', settings: upscaleSettings(config),
      viewer: { viewer: 'jellyfin:first', seconds: 0, waiting: true },
    });
    // One slot, busy with the first viewer's chunk: nothing is made for the second yet.
    await handle.signal(viewerSignal, { viewer: 'jellyfin:second', seconds: 70, waiting: true });
    const signalledAt = Date.now();
    const viewerNow = async (id: string) => ((await handle.query(statusQuery)).viewers ?? []).find((v) => v.viewer === id);
    const placed = await waitFor('the second viewer', () => viewerNow('jellyfin:second'), 10_000);
    const status = await handle.query(statusQuery);
    if (!status.makingSpeed) expect(placed).toMatchObject({ leadSeconds: 0, segment: 35 });
    const moved = await waitFor('the second viewer placed again from the speed', async () => {
      const viewer = await viewerNow('jellyfin:second');
      return viewer?.switchSeconds !== undefined ? viewer : undefined;
    }, 30_000, 100);
    const answeredAt = Date.now();
    const measured = await handle.query(statusQuery);
    expect(measured.makingSpeed?.measuredOn).toBe('this title');
    // From where they are by now (they played on since the signal), the lead on.
    const grid = gridOf(measured.plan!);
    expect(moved.segment).toBeGreaterThanOrEqual(segmentIndexAt(grid, 70 + moved.leadSeconds));
    expect(moved.segment).toBeLessThanOrEqual(segmentIndexAt(grid, 70 + (answeredAt - signalledAt) / 1000 + moved.leadSeconds + grid.segmentSeconds / 2));
    await handle.signal(cancelSignal, 'test');
    await expect(handle.result()).rejects.toThrow();
  });

  it("moves a planned part on from where its viewer is by now when the title's own speed says it comes too late, once", async () => {
    // Long enough that the first player's chunks cannot reach the end while the test runs: at the
    // ~6.7x this size makes here, 240 s take ~36 s, the test ~13 s after the clip is made (100 s
    // ended before the cancel once, in CI). The second viewer far enough on that those chunks
    // (60 s of content each, one after another) reach their part only ~24 s in, long after it is
    // judged too late. At 70 s, the second chunk (from 60 s) reached the part about when it was
    // judged (0.5 s after, in a passing run), and a part a chunk makes is not moved (a flake).
    const clip = await makeClip(path.join(dir, 'media', 'busy-slot.mp4'), { seconds: 240, width: 512, height: 288 });
    const secondAt = 160;
    const handle = await startOrJoinTitleWorkflow(env.client, {
      titleKey: titleKeyFor(clip), sourcePath: clip, name: 'Busy slot', settings: upscaleSettings(config),
      viewer: { viewer: 'player:first', segment: 0, waiting: true },
    });
    // Judged again only once this title has measured itself.
    await waitFor('the speed measured on this title', async () => ((await handle.query(statusQuery)).makingSpeed?.measuredOn === 'this title' ? true : undefined), 60_000, 100);
    // The one slot stays with the first player, who asks for each segment as it is made: the
    // second viewer's part gets no slot, and they play on past where it starts.
    let holding = true;
    const hold = (async () => {
      while (holding) {
        const status = await handle.query(statusQuery);
        const frontier = Math.max(0, ...(status.chunks ?? []).map((c) => c.nextSegment));
        await handle.signal(viewerSignal, { viewer: 'player:first', segment: frontier, waiting: true });
        await new Promise((r) => setTimeout(r, 200));
      }
    })();
    try {
      const signalledAt = Date.now();
      await handle.signal(viewerSignal, { viewer: 'jellyfin:second', seconds: secondAt, waiting: false });
      const viewerNow = async () => ((await handle.query(statusQuery)).viewers ?? []).find((v) => v.viewer === 'jellyfin:second');
      const placed = await waitFor('the second viewer placed', viewerNow, 10_000);
      expect(placed.switchSeconds).toBeDefined();
      const moved = await waitFor("the second viewer's part moved on", async () => {
        const viewer = await viewerNow();
        return viewer && viewer.segment > placed.segment ? viewer : undefined;
      }, 30_000, 100);
      const movedBy = (Date.now() - signalledAt) / 1000;
      const grid = gridOf((await handle.query(statusQuery)).plan!);
      // Planned from where they are by then: past the planned part's start, the move's lead on.
      expect(segmentStartSeconds(grid, moved.segment)).toBeGreaterThan(segmentStartSeconds(grid, placed.segment));
      expect(segmentStartSeconds(grid, moved.segment)).toBeLessThanOrEqual(secondAt + movedBy + moved.leadSeconds + 1e-6);
      expect(moved.switchSeconds).toBeGreaterThan(0);
      // The job says so, with the figures it was judged by.
      const event = await waitFor('the move in the job\'s events', async () => (await store.events(handle.firstExecutionRunId)).find((e) => e.kind === 'part-moved'), 10_000);
      expect(event.message).toMatch(/^moved jellyfin:second's part from \d+\.\d s to \d+\.\d s, the viewer at \d+\.\d s: this title makes \d+\.\d\dx/);
      const data = event.data as PartMove;
      expect(data).toMatchObject({ viewer: 'jellyfin:second', switchSeconds: moved.switchSeconds, plannedFrom: { rate: expect.any(Number) } });
      expect(data.fromSeconds).toBeCloseTo(segmentStartSeconds(grid, placed.segment), 3);
      expect(data.toSeconds).toBeCloseTo(segmentStartSeconds(grid, moved.segment), 3);
      // Once: the part stays where it was moved, however long the slot stays busy.
      await new Promise((r) => setTimeout(r, 3000));
      expect((await viewerNow())?.segment).toBe(moved.segment);
    } finally {
      holding = false;
      await hold;
    }
    await handle.signal(cancelSignal, 'test');
    await expect(handle.result()).rejects.toThrow();
  });

  it('gives a try of the better model up once it has cost the viewer 4 s of lead, before its window is full, and the next try needs twice the lead', async () => {
    // Anime4K S below a 50x target steps down once it has made a 10 s window, the player 11 s
    // behind; Lanczos then builds 20 s ahead of the player, who stays where they last asked, and S
    // is tried again. The player then asks 12 s behind what is made: the try has cost 8 s.
    const clip = await makeClip(path.join(dir, 'media', 'slow-try.mp4'), { seconds: 90, width: 640, height: 360 });
    const settings = { ...upscaleSettings(config), aiEnabled: true, model: 'anime4k-s-rl' as const, stepDownWindowSeconds: 10, stepDownBelowRate: 50, segmentSeconds: 1, lookAheadSegments: 0 };
    const handle = await startOrJoinTitleWorkflow(env.client, {
      titleKey: titleKeyFor(clip), sourcePath: clip, name: 'Slow try', settings, viewer: { viewer: 'player:tv', segment: 0, waiting: true },
    });
    try {
      const tried = await waitFor('S tried again after a step down', async () => {
        const status = await handle.query(statusQuery);
        return status.modelChanges.length === 1 && status.model === 'anime4k-s-rl' ? status : undefined;
      }, 60_000, 50);
      const madeTo = Math.max(...tried.chunks!.map((c) => c.nextSegment));
      await handle.signal(viewerSignal, { viewer: 'player:tv', segment: madeTo - 12, waiting: false });
      const gaveUp = await waitFor('the try given up', async () => (await handle.query(statusQuery)).modelChanges[1], 30_000, 50);
      expect(gaveUp).toMatchObject({ fromModel: 'anime4k-s-rl', toModel: 'lanczos-x2', gaveUpTry: { costSeconds: TRY_COST_SECONDS } });
      expect(gaveUp.gaveUpTry!.triedAtLeadSeconds).toBeGreaterThanOrEqual(20);
      expect(gaveUp.gaveUpTry!.leadSeconds).toBeLessThanOrEqual(gaveUp.gaveUpTry!.triedAtLeadSeconds - TRY_COST_SECONDS);
      // Before its window was full: not 10 s of S.
      expect(gaveUp.window!.seconds).toBeLessThan(10);
      // The job says so; the next try waits for 40 s ahead of the player.
      const events = async () => (await store.events(handle.firstExecutionRunId)).filter((e) => e.kind === 'model-step-down' || e.kind === 'model-step-up');
      const secondTry = await waitFor('the second try', async () => ((await events()).filter((e) => e.kind === 'model-step-up').length === 2 ? await events() : undefined), 60_000, 200);
      expect(secondTry.map((e) => e.kind)).toEqual(['model-step-down', 'model-step-up', 'model-step-down', 'model-step-up']);
      expect(secondTry[2]!.message).toMatch(/^step down anime4k-s-rl → lanczos-x2, the try given up: the nearest viewer's lead fell from \d+\.\d s to \d+\.\d s \(a try may cost 4 s\)/);
      expect(secondTry.map((e) => (e.data as Partial<ModelStepUp>).neededSeconds)).toEqual([undefined, 20, undefined, 40]);
      expect((secondTry[3]!.data as ModelStepUp).leadSeconds).toBeGreaterThanOrEqual(40);
    } finally {
      await handle.signal(cancelSignal, 'test');
      await handle.result().catch(() => undefined);
    }
  }, 120_000);

  describe('disk guard (UPFLOW_MIN_FREE_GB)', () => {
    // The workers read `config` when a stream starts and while it runs: raising the limit here
    // stands in for a disk filling up, without filling this machine's disk.
    const defaultMinFree = () => loadConfig({}).minFreeBytes;
    afterEach(() => {
      config.minFreeBytes = defaultMinFree();
    });

    const failure = async (handle: Awaited<ReturnType<typeof start>>) => {
      const error = await handle.result().then(() => undefined, (err: unknown) => err);
      expect(error).toBeInstanceOf(WorkflowFailedError);
      return error as WorkflowFailedError;
    };

    it('does not start a stream with too little free space, saying so', async () => {
      config.minFreeBytes = Number.MAX_SAFE_INTEGER;
      const clip = await makeClip(path.join(dir, 'media', 'no-room.mp4'), { seconds: 4, width: 160, height: 90 });
      const handle = await start(clip);
      const error = await failure(handle);
      expect(String(error.cause?.message)).toMatch(/^only .* free under .*, less than UPFLOW_MIN_FREE_GB .*npx upflow cleanup/);
      const job = await store.getJob(handle.firstExecutionRunId);
      expect(job).toMatchObject({ state: 'failed', segments: 0, streamStartedAt: null });
      expect(job!.failureReason).toMatch(/UPFLOW_MIN_FREE_GB/);
    });

    it('stops a stream cleanly when free space runs low during it: failed with the reason, no final file', async () => {
      const clip = await makeClip(path.join(dir, 'media', 'filling.mp4'), { seconds: 120, width: 320, height: 180 });
      const handle = await start(clip);
      await waitFor('a first segment', async () => ((await store.getJob(handle.firstExecutionRunId))?.segments ?? 0) >= 1 || undefined, 60_000, 100);
      config.minFreeBytes = Number.MAX_SAFE_INTEGER;
      const error = await failure(handle);
      expect(String(error.cause?.message)).toMatch(/less than UPFLOW_MIN_FREE_GB/);
      const job = await store.getJob(handle.firstExecutionRunId);
      expect(job!.state).toBe('failed');
      expect(job!.contentSeconds).toBeLessThan(120);
      // Nothing that looks finished is left: no final file, no partial one.
      const key = titleKeyFor(clip);
      expect(fs.existsSync(path.join(config.outputDir, `${key}.mkv`))).toBe(false);
      expect(fs.existsSync(path.join(config.outputDir, `${key}.partial.mkv`))).toBe(false);
      // Not retried: one attempt of the stream.
      const history = await handle.fetchHistory();
      const attempts = history.events!.filter((e) => e.activityTaskStartedEventAttributes && e.activityTaskStartedEventAttributes.attempt !== undefined);
      expect(attempts.map((e) => e.activityTaskStartedEventAttributes!.attempt).filter((a) => a !== 1)).toEqual([]);
    }, 90_000);
  });
});
