/**
 * The ONNX path end to end: the same real stack as lifecycle.test.ts with SRGAN_ENABLE=1 and
 * an Anime4K model (built by set-up into UPFLOW_CACHE_DIR). A short clip goes through decode →
 * onnxruntime → encode and comes out as a complete HLS stream and a verified final file.
 */
import path from 'node:path';
import { Parser, type Manifest } from 'm3u8-parser';
import { ffprobe, makeClip } from '../support/fixtures';
import { cpuHasVnni } from '../../adapters/cpu';
import type { ChunkModelChange, ModelChange, ModelStepUp } from '../../core/domain';
import { startJellyfinStandIn, type JellyfinStandIn } from '../support/jellyfin-stand-in';
import { startUpflow, stopAndRemove, waitFor, type UpflowProcess } from '../support/upflow-process';

function parsePlaylist(text: string): Manifest {
  const parser = new Parser();
  parser.push(text);
  parser.end();
  return parser.manifest;
}

/** Triggers `clip` through the seed's webhook body (a viewer there when given) and waits for its job to complete. */
async function upscaleToCompletion(upflow: UpflowProcess, clip: string, name: string, viewerAtSeconds?: number): Promise<{ hlsUrl: string; jobId: string }> {
  const position = viewerAtSeconds === undefined ? '' : `?position_seconds=${viewerAtSeconds}`;
  const triggered = await fetch(`${upflow.apiUrl}/upscale-trigger${position}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ Item: { Path: clip, Name: name } }),
  });
  expect(triggered.status).toBe(202);
  const hlsUrl = ((await triggered.json()) as { hls_url: string }).hls_url;
  const done = await waitFor('completion', async () => {
    const s = (await (await fetch(`${upflow.apiUrl}/hls-status/${encodeURIComponent(path.basename(clip))}`)).json()) as Record<string, unknown>;
    if (s.status === 'failed') throw new Error(`job failed: ${JSON.stringify(s)}`);
    return s.complete === true ? s : undefined;
  }, 120_000, 250);
  return { hlsUrl, jobId: done.job_id as string };
}

describe('a title upscaled by a CNN through the whole stack', () => {
  let upflow: UpflowProcess;
  let clip: string;

  beforeAll(async () => {
    upflow = await startUpflow({ SRGAN_ENABLE: '1', UPFLOW_MODEL: 'anime4k-s-rl', HLS_SEGMENT_TIME: '2' });
    clip = await makeClip(path.join(upflow.mediaDir, 'cnn clip.mp4'), { seconds: 6, width: 320, height: 180 });
  }, 180_000);

  afterAll(() => stopAndRemove(upflow));

  it('streams, finishes and verifies the final file with the model named on the job', async () => {
    const { hlsUrl, jobId } = await upscaleToCompletion(upflow, clip, 'CNN clip');

    const ended = parsePlaylist(await (await fetch(hlsUrl)).text());
    expect(ended.endList).toBe(true);
    expect(ended.playlistType).toBe('VOD');
    const total = ended.segments.reduce((sum, s) => sum + s.duration, 0);
    expect(Math.abs(total - 6)).toBeLessThan(0.2);
    expect(ended.segments.length).toBeGreaterThanOrEqual(3);

    const job = (await (await fetch(`${upflow.apiUrl}/jobs/${jobId}`)).json()) as Record<string, unknown>;
    expect(job).toMatchObject({ state: 'complete', upscaler: 'anime4k-s-rl', scaleFactor: 2 });
    // UPFLOW_PRECISION=auto on a CPU, VNNI or not: S in fp32 (only L runs int8, and only with
    // VNNI), said once in the worker's log.
    const { segments } = (await (await fetch(`${upflow.apiUrl}/jobs/${jobId}/segments`)).json()) as { segments: { precision: string }[] };
    expect(new Set(segments.map((s) => s.precision))).toEqual(new Set(['fp32']));
    const said = cpuHasVnni() ? 'fp32, anime4k-l-rl and anime4k-l-an in int8 \\(auto: this CPU has VNNI' : 'fp32 \\(auto: this CPU has no VNNI';
    expect(upflow.output().match(new RegExp(`models run in ${said}`, 'g'))?.length).toBe(1);
    // S and its step down, Lanczos, both have fp32 graphs on yuv420p frames: the stream's frames
    // skip the colour conversions (core/models.ts streamFrameFormat).
    const loaded = upflow.output().split('\n').filter((line) => line.includes('"model loaded"') && line.includes('"model":"anime4k-s-rl"'));
    expect(loaded.length).toBeGreaterThan(0);
    for (const line of loaded) expect(JSON.parse(line)).toMatchObject({ frames: 'yuv420p' });
    const final = ffprobe(job.finalPath as string);
    expect([final.width, final.height]).toEqual([640, 360]);
    expect(Math.abs(final.durationSeconds - ffprobe(clip).durationSeconds)).toBeLessThanOrEqual(0.1);
    expect(final.hasAudio).toBe(true);
  }, 150_000);
});

/**
 * Rate control forced: a target rate no machine reaches (50x) and a window of one 1 s segment
 * make the workflow step down M → S → lanczos while a viewer watches. The real models,
 * encoder and workflow do the work; the tests check the decisions are recorded, the playlist
 * and final file stay whole, and what no viewer plays into keeps the title's own model.
 */
describe('rate control stepping the model down mid-stream', () => {
  let upflow: UpflowProcess;
  let standIn: JellyfinStandIn;
  let clip: string;
  const seconds = 16;

  beforeAll(async () => {
    standIn = await startJellyfinStandIn();
    upflow = await startUpflow({
      JELLYFIN_URL: standIn.url,
      JELLYFIN_API_KEY: standIn.apiKey,
      SRGAN_ENABLE: '1',
      UPFLOW_MODEL: 'anime4k-m-rl',
      // The int8 graphs (on yuv420p frames) through the whole stack; Lanczos has none and runs in fp32.
      UPFLOW_PRECISION: 'int8',
      HLS_SEGMENT_TIME: '1',
      UPFLOW_RATE_STEPDOWN_BELOW: '50',
      // One 1 s segment's window: a step down at the first segment each model reports.
      UPFLOW_RATE_STEPDOWN_SECONDS: '1',
    });
    clip = await makeClip(path.join(upflow.mediaDir, 'step down.mp4'), { seconds, width: 320, height: 180 });
  }, 180_000);

  afterAll(async () => {
    await stopAndRemove(upflow);
    await standIn?.close();
  });

  it('steps down M → S → lanczos at segment boundaries with no gap or duplicate, each segment with its graph\'s precision', async () => {
    // A viewer from the start: every segment is played into as it is made.
    const { hlsUrl, jobId } = await upscaleToCompletion(upflow, clip, 'Step down', 0);
    const jobUrl = `${upflow.apiUrl}/jobs/${jobId}`;

    // The decisions: in Postgres (events, the job's model) and in the workflow's state.
    const job = (await (await fetch(jobUrl)).json()) as { model: string; upscaler: string; finalPath: string; events: { kind: string; message: string; data: unknown }[] };
    expect(job).toMatchObject({ upscaler: 'anime4k-m-rl', model: 'lanczos-x2' });
    const stepDowns = job.events.filter((e) => e.kind === 'model-step-down').map((e) => e.data);
    expect(stepDowns).toMatchObject([
      { fromModel: 'anime4k-m-rl', toModel: 'anime4k-s-rl', belowRate: 50 },
      { fromModel: 'anime4k-s-rl', toModel: 'lanczos-x2', belowRate: 50 },
    ]);
    // Each judged over the window: one segment of 1 s, its rate the window's.
    for (const change of stepDowns as ModelChange[]) {
      expect(change.window!.seconds).toBeCloseTo(1, 2);
      expect(change.rates).toEqual([expect.closeTo(change.window!.rate, 6)]);
    }
    const switches = job.events.filter((e) => e.kind === 'model-switch').map((e) => e.data as { model: string; fromSegment: number });
    expect(switches.map((s) => s.model)).toEqual(['anime4k-s-rl', 'lanczos-x2']);

    // Each segment made by one model, in ladder order, switching where the events say.
    const { segments } = (await (await fetch(`${jobUrl}/segments`)).json()) as { segments: { index: number; model: string; precision: string; startSeconds: number; durationSeconds: number; rate: number }[] };
    expect(new Set(segments.map((s) => `${s.model} ${s.precision}`))).toEqual(new Set(['anime4k-m-rl int8', 'anime4k-s-rl int8', 'lanczos-x2 fp32']));
    // M and S have int8 graphs on yuv420p frames, Lanczos an fp32 one: the whole ladder on the video's planes.
    const loaded = upflow.output().split('\n').filter((line) => line.includes('"model loaded"')).map((line) => JSON.parse(line) as { model: string; precision: string; frames: string });
    expect(new Set(loaded.map((l) => `${l.model} ${l.precision} ${l.frames}`))).toEqual(new Set(['anime4k-m-rl int8 yuv420p', 'anime4k-s-rl int8 yuv420p', 'lanczos-x2 fp32 yuv420p']));
    expect(segments.map((s) => s.index)).toEqual(segments.map((_, i) => i));
    const firstOf = (model: string) => segments.findIndex((s) => s.model === model);
    expect(firstOf('anime4k-s-rl')).toBe(switches[0]!.fromSegment);
    expect(firstOf('lanczos-x2')).toBe(switches[1]!.fromSegment);
    const order = ['anime4k-m-rl', 'anime4k-s-rl', 'lanczos-x2'];
    const ranks = segments.map((s) => order.indexOf(s.model));
    expect(ranks).toEqual([...ranks].sort((a, b) => a - b));
    for (const s of segments.slice(1)) expect(s.rate).toBeGreaterThan(0);

    // The playlist: every segment once, in order, back to back, no discontinuity, whole clip.
    const ended = parsePlaylist(await (await fetch(hlsUrl)).text());
    expect(ended.endList).toBe(true);
    expect(ended.segments.map((s) => s.uri)).toEqual(segments.map((_, i) => `seg${String(i).padStart(5, '0')}.ts`));
    expect(ended.discontinuityStarts).toEqual([]);
    expect(ended.mediaSequence ?? 0).toBe(0);
    segments.slice(1).forEach((s, i) => expect(s.startSeconds).toBeCloseTo(segments[i]!.startSeconds + segments[i]!.durationSeconds, 2));
    const total = ended.segments.reduce((sum, s) => sum + s.duration, 0);
    expect(Math.abs(total - seconds)).toBeLessThan(0.2);
    const final = ffprobe(job.finalPath);
    expect([final.width, final.height]).toEqual([640, 360]);
    expect(Math.abs(final.durationSeconds - ffprobe(clip).durationSeconds)).toBeLessThanOrEqual(0.1);
  }, 150_000);

  type JobView = { model: string; upscaler: string; events: { kind: string; message: string; data: unknown }[] };
  type SegmentView = { index: number; model: string };
  const jobOf = async (jobId: string) => (await (await fetch(`${upflow.apiUrl}/jobs/${jobId}`)).json()) as JobView;
  // Empty until the job is registered (the answer is then a 404 without segments).
  const segmentsOf = async (jobId: string) => ((await (await fetch(`${upflow.apiUrl}/jobs/${jobId}/segments`)).json()) as { segments?: SegmentView[] }).segments ?? [];

  it('tries the better model again once the viewer has 20 s made ahead, keeps it while they have that room, and steps down once a player is close', async () => {
    const long = await makeClip(path.join(upflow.mediaDir, 'step up.mp4'), { seconds: 60, width: 320, height: 180 });
    const triggered = await fetch(`${upflow.apiUrl}/upscale-trigger?position_seconds=0`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ Item: { Path: long, Name: 'Step up' } }),
    });
    const { hls_url: hlsUrl, job_id: jobId } = (await triggered.json()) as { hls_url: string; job_id: string };
    // Lanczos makes this size at many times real time: the viewer soon has 20 s ahead, and S is
    // tried again; S, below 50x but above real time, then only adds to that room.
    await waitFor('S tried again and making', async () => {
      const segments = await segmentsOf(jobId);
      const firstLanczos = segments.findIndex((s) => s.model === 'lanczos-x2');
      return firstLanczos >= 0 && segments.slice(firstLanczos).filter((s) => s.model === 'anime4k-s-rl').length >= 3 ? segments : undefined;
    }, 30_000, 50);
    // A player asks for the latest segment made: it plays into the chunk with under 20 s ahead.
    const latest = Math.max(...(await segmentsOf(jobId)).map((s) => s.index));
    expect((await fetch(new URL(`seg${String(latest).padStart(5, '0')}.ts`, hlsUrl))).status).toBe(200);
    await waitFor('completion', async () => ((await jobOf(jobId)) as JobView & { state: string }).state === 'complete' || undefined, 60_000, 250);

    const job = await jobOf(jobId);
    const decisions = job.events.filter((e) => e.kind === 'model-step-down' || e.kind === 'model-step-up');
    expect(decisions.map((e) => e.kind).slice(0, 4)).toEqual(['model-step-down', 'model-step-down', 'model-step-up', 'model-step-down']);
    const up = decisions[2]!.data as ModelStepUp;
    expect(up).toMatchObject({ fromModel: 'lanczos-x2', toModel: 'anime4k-s-rl', neededSeconds: 20 });
    expect(up.leadSeconds).toBeGreaterThanOrEqual(20);
    // S stepped down only after the player came (every S segment before was below 50x too).
    const down = decisions[3]!.data as ModelChange;
    expect(down).toMatchObject({ fromModel: 'anime4k-s-rl', toModel: 'lanczos-x2' });
    expect(down.afterSegment).toBeGreaterThanOrEqual(latest);
    // A later try would need twice the lead.
    decisions.slice(4).filter((e) => e.kind === 'model-step-up').forEach((e, i) => expect(e.data).toMatchObject({ neededSeconds: 40 * 2 ** i }));
    const segments = await segmentsOf(jobId);
    expect(segments.map((s) => s.index)).toEqual(segments.map((_, i) => i));
  }, 90_000);

  it('judges no segment that no viewer plays into: a title nobody watches keeps its own model', async () => {
    const unwatched = await makeClip(path.join(upflow.mediaDir, 'nobody watching.mp4'), { seconds: 6, width: 320, height: 180 });
    const { jobId } = await upscaleToCompletion(upflow, unwatched, 'Nobody watching');
    const job = await jobOf(jobId);
    expect(job).toMatchObject({ upscaler: 'anime4k-m-rl', model: 'anime4k-m-rl' });
    expect(job.events.filter((e) => e.kind === 'model-step-down')).toEqual([]);
    expect(new Set((await segmentsOf(jobId)).map((s) => s.model))).toEqual(new Set(['anime4k-m-rl']));
  }, 60_000);

  it("goes back to the title's own model when the viewer stops (Jellyfin's PlaybackStop), unjudged, for the kept file", async () => {
    const itemId = 'c0ffee00c0ffee00c0ffee00c0ffee01';
    standIn.items.set(itemId, { name: 'Viewer stops', path: await makeClip(path.join(upflow.mediaDir, 'viewer stops.mp4'), { seconds: 40, width: 320, height: 180 }) });
    const webhook = (type: string) => fetch(`${upflow.apiUrl}/upscale-trigger`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ NotificationType: type, ItemId: itemId, Name: 'Viewer stops', DeviceId: 'tv', PlaybackPositionTicks: '0' }),
    });
    const started = await webhook('PlaybackStart');
    expect(started.status).toBe(202);
    const { job_id: jobId } = (await started.json()) as { job_id: string };
    // Watched from 0:00: stepped down, and a segment made by the faster model; then the viewer stops.
    await waitFor('a segment made after a step down', async () => ((await segmentsOf(jobId)).some((s) => s.model !== 'anime4k-m-rl') ? true : undefined), 30_000, 50);
    expect(((await (await webhook('PlaybackStop')).json()) as { status: string }).status).toBe('viewer_left');
    await waitFor('completion', async () => ((await jobOf(jobId)) as JobView & { state: string }).state === 'complete' || undefined, 90_000, 250);

    const job = await jobOf(jobId);
    const back = job.events.filter((e) => e.kind === 'chunk-model').map((e) => e.data as ChunkModelChange);
    expect(back).toEqual([expect.objectContaining({ toModel: 'anime4k-m-rl', watched: false })]);
    expect(back[0]!.fromModel).not.toBe('anime4k-m-rl');
    // The job's model stays the one viewers get; nothing is judged once no viewer plays into it.
    const stepDowns = job.events.filter((e) => e.kind === 'model-step-down').map((e) => e.data as ModelChange);
    expect(job.model).toBe(stepDowns[stepDowns.length - 1]!.toModel);
    expect(stepDowns.every((s) => s.afterSegment <= back[0]!.afterSegment)).toBe(true);
    // From the boundary after the decision on, the title's own model, to the end.
    const segments = await segmentsOf(jobId);
    expect(segments.slice(0, back[0]!.afterSegment + 1).some((s) => s.model !== 'anime4k-m-rl')).toBe(true);
    const firstBack = segments.findIndex((s, i) => i > back[0]!.afterSegment && s.model === 'anime4k-m-rl');
    expect(firstBack).toBeGreaterThan(back[0]!.afterSegment);
    expect(segments.slice(firstBack).every((s) => s.model === 'anime4k-m-rl')).toBe(true);
    expect(segments.slice(firstBack).length).toBeGreaterThan(10);
  }, 120_000);
});
