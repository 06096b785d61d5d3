/**
 * The ONNX path end to end: the same real stack as lifecycle.test.ts with SRGAN_ENABLE=1 and
 * an Anime4K model (built by set-up into UPFLOW_CACHE_DIR). A short clip goes through decode →
 * onnxruntime → encode and comes out as a complete HLS stream and a verified final file.
 */
import path from 'node:path';
import { Parser, type Manifest } from 'm3u8-parser';
import { ffprobe, makeClip } from '../support/fixtures';
import { cpuHasVnni } from '../../adapters/cpu';
import type { ModelChange } from '../../core/domain';
import { startUpflow, stopAndRemove, waitFor, type UpflowProcess } from '../support/upflow-process';

function parsePlaylist(text: string): Manifest {
  const parser = new Parser();
  parser.push(text);
  parser.end();
  return parser.manifest;
}

/** Triggers `clip` through the seed's webhook body and waits for its job to complete. */
async function upscaleToCompletion(upflow: UpflowProcess, clip: string, name: string): Promise<{ hlsUrl: string; jobId: string }> {
  const triggered = await fetch(`${upflow.apiUrl}/upscale-trigger`, {
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
    // UPFLOW_PRECISION=auto on a CPU, VNNI or not: fp32, said once in the worker's log.
    const { segments } = (await (await fetch(`${upflow.apiUrl}/jobs/${jobId}/segments`)).json()) as { segments: { precision: string }[] };
    expect(new Set(segments.map((s) => s.precision))).toEqual(new Set(['fp32']));
    expect(upflow.output().match(new RegExp(`models run in fp32 \\(auto: this CPU has ${cpuHasVnni() ? 'VNNI' : 'no VNNI'}`, 'g'))?.length).toBe(1);
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
 * make the workflow step down M → S → lanczos while the stream runs. The real models,
 * encoder and workflow do the work; the test checks the decisions are recorded and the
 * playlist and final file stay whole.
 */
describe('rate control stepping the model down mid-stream', () => {
  let upflow: UpflowProcess;
  let clip: string;
  const seconds = 16;

  beforeAll(async () => {
    upflow = await startUpflow({
      SRGAN_ENABLE: '1',
      UPFLOW_MODEL: 'anime4k-m-rl',
      // The int8 graphs through the whole stack; Lanczos has none and runs in fp32.
      UPFLOW_PRECISION: 'int8',
      HLS_SEGMENT_TIME: '1',
      UPFLOW_RATE_STEPDOWN_BELOW: '50',
      // One 1 s segment's window: a step down at the first segment each model reports.
      UPFLOW_RATE_STEPDOWN_SECONDS: '1',
    });
    clip = await makeClip(path.join(upflow.mediaDir, 'step down.mp4'), { seconds, width: 320, height: 180 });
  }, 180_000);

  afterAll(() => stopAndRemove(upflow));

  it('steps down M → S → lanczos at segment boundaries with no gap or duplicate, each segment with its graph\'s precision', async () => {
    const { hlsUrl, jobId } = await upscaleToCompletion(upflow, clip, 'Step down');
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
});
