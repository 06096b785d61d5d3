/**
 * End to end on the real stack that `npm start` runs: Temporal dev server, Postgres cluster,
 * worker process, API; real ffmpeg. A 20 s clip goes in through the seed's webhook body and
 * comes out as an HLS stream listed whole at once and a verified final file; bad input fails cleanly.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Client, Connection, WorkflowFailedError } from '@temporalio/client';
import { Parser, type Manifest } from 'm3u8-parser';
import { ffprobe, makeBadInputs, makeClip } from '../support/fixtures';
import { fetchAnswer } from '../support/http-answer';
import { isAlive, startUpflow, waitFor, type UpflowProcess } from '../support/upflow-process';

function parsePlaylist(text: string): Manifest {
  const parser = new Parser();
  parser.push(text);
  parser.end();
  return parser.manifest;
}

const RETENTION_SECONDS = 12;

describe('one title through the whole stack', () => {
  let upflow: UpflowProcess;
  let clip: string;
  let longClip: string;
  let badInputs: Awaited<ReturnType<typeof makeBadInputs>>;

  const api = (method: string, route: string, body?: unknown, headers: Record<string, string> = {}) =>
    fetchAnswer(`${upflow.apiUrl}${route}`, method, { body, headers });
  const trigger = (file: string, name = path.basename(file)) => api('POST', '/upscale-trigger', { Item: { Path: file, Name: name } });

  beforeAll(async () => {
    upflow = await startUpflow({ UPFLOW_HLS_RETENTION: `${RETENTION_SECONDS}s`, HLS_SEGMENT_TIME: '6' });
    clip = await makeClip(path.join(upflow.mediaDir, 'Test Clip.mp4'), { seconds: 20, width: 320, height: 180 });
    longClip = await makeClip(path.join(upflow.mediaDir, 'long.mp4'), { seconds: 120, width: 640, height: 360 });
    badInputs = await makeBadInputs(path.join(upflow.mediaDir, 'bad'));
  }, 180_000);

  afterAll(async () => {
    if (!upflow) return;
    const children = upflow.descendants();
    const code = await upflow.stop();
    expect(code).toBe(0);
    // Ctrl-C leaves no orphan: Postgres, Temporal and the worker are gone with it.
    expect(children.length).toBeGreaterThanOrEqual(3);
    await waitFor('children to exit', async () => (children.some(isAlive) ? undefined : true), 15_000);
    fs.rmSync(upflow.dir, { recursive: true, force: true });
  }, 120_000);

  it('reports healthy with streaming enabled', async () => {
    const health = await api('GET', '/health');
    expect(health.status).toBe(200);
    expect(health.json).toEqual({ status: 'healthy', streaming_enabled: true });
  });

  it('streams HLS within seconds, then finishes with a verified final file, then cleans up HLS', async () => {
    const triggeredAt = Date.now();
    const first = await trigger(clip, 'Test Clip');
    expect(first.status).toBe(202);
    expect(first.json).toMatchObject({ status: 'started', streaming: true, estimated_delay_seconds: expect.any(Number) });
    const hlsUrl = first.json.hls_url as string;
    expect(hlsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/hls\/test-clip-[0-9a-f]{16}\/stream\.m3u8$/);

    // A second trigger joins the running workflow.
    const second = await trigger(clip, 'Test Clip');
    expect(second.status).toBe(200);
    expect(second.json).toMatchObject({ status: 'already_running', hls_url: hlsUrl });

    const status = await waitFor('a first segment', async () => {
      const s = await api('GET', '/hls-status/Test Clip.mp4');
      return s.status === 200 && (s.json.segments as number) > 0 ? s.json : undefined;
    }, 30_000, 50);
    const firstSegmentSeconds = (Date.now() - triggeredAt) / 1000;
    expect(firstSegmentSeconds).toBeLessThan(10); // generous for a loaded CI machine; bench measures it
    expect(status).toMatchObject({ hls_url: hlsUrl, complete: false });

    // The whole title listed at once while it is made: VOD, ended, 6 s segments (the last shorter).
    const live = await fetch(hlsUrl);
    expect(live.headers.get('content-type')).toMatch(/application\/vnd\.apple\.mpegurl/);
    expect(live.headers.get('cache-control')).toBe('no-cache');
    expect(live.headers.get('access-control-allow-origin')).toBe('*');
    const liveManifest = parsePlaylist(await live.text());
    expect(liveManifest.playlistType).toBe('VOD');
    expect(liveManifest.endList).toBe(true);
    expect(liveManifest.targetDuration).toBe(6);
    expect(liveManifest.segments.map((s) => Math.round(s.duration * 1000) / 1000)).toEqual([6, 6, 6, 2]);

    const segment = await fetch(new URL(liveManifest.segments[0]!.uri, hlsUrl));
    expect(segment.status).toBe(200);
    expect(segment.headers.get('content-type')).toBe('video/mp2t');
    expect(segment.headers.get('access-control-allow-origin')).toBe('*');

    const done = await waitFor('completion', async () => {
      const s = await api('GET', '/hls-status/Test Clip.mp4');
      return s.json.complete === true ? s.json : undefined;
    }, 120_000, 250);
    expect(done.status).toBe('complete');

    const ended = parsePlaylist(await (await fetch(hlsUrl)).text());
    expect(ended).toEqual(liveManifest);
    const total = ended.segments.reduce((sum, s) => sum + s.duration, 0);
    expect(Math.abs(total - 20)).toBeLessThan(0.2);
    for (const s of ended.segments) expect(Math.round(s.duration)).toBeLessThanOrEqual(ended.targetDuration!);
    expect(done.segments).toBe(ended.segments.length);

    const job = await api('GET', `/jobs/${done.job_id as string}`);
    expect(job.json).toMatchObject({ state: 'complete', percent: 100, upscaler: 'lanczos', scaleFactor: 2 });
    expect((job.json.events as Array<{ kind: string }>).map((e) => e.kind)).toEqual(
      expect.arrayContaining(['created', 'probed', 'streaming', 'chunk-started', 'chunk-done', 'finalizing', 'complete']),
    );
    // The worker's log says so too, with the job and title ids.
    expect(upflow.output()).toContain(`"jobId":"${done.job_id as string}","title":"${done.title_key as string}","state":"complete"`);
    const finalFile = job.json.finalPath as string;
    expect(finalFile.startsWith(path.join(upflow.dir, 'data', 'output'))).toBe(true);
    const final = ffprobe(finalFile);
    const original = ffprobe(clip);
    expect([final.width, final.height]).toEqual([640, 360]);
    expect(Math.abs(final.durationSeconds - original.durationSeconds)).toBeLessThanOrEqual(0.1);
    expect(final.hasAudio).toBe(true);

    // A finished title answers "complete" and starts nothing.
    const again = await trigger(clip, 'Test Clip');
    expect(again.json).toMatchObject({ status: 'complete', final_file: finalFile });

    // The retention timer removes the HLS folder and keeps the final file.
    const hlsDir = path.join(upflow.dir, 'data', 'hls', done.title_key as string);
    await waitFor('HLS cleanup', async () => (fs.existsSync(hlsDir) ? undefined : true), (RETENTION_SECONDS + 30) * 1000, 250);
    expect(fs.existsSync(finalFile)).toBe(true);
    const after = await api('GET', `/jobs/${done.job_id as string}`);
    expect(after.json.hlsRemovedAt).toEqual(expect.any(String));
  }, 240_000);

  it.each([
    ['text', 'text'], ['empty', 'empty'], ['audio only', 'audioOnly'], ['truncated', 'truncated'],
  ] as const)('fails a %s file at probe with its reason, everywhere', async (_label, key) => {
    const { file, reason } = badInputs[key];
    const started = await trigger(file);
    expect(started.status).toBe(202);
    const failed = await waitFor('the failure', async () => {
      const s = await api('GET', `/hls-status/${encodeURIComponent(path.basename(file))}`);
      return s.json.status === 'failed' ? s.json : undefined;
    }, 60_000, 200);
    expect(failed.reason).toMatch(reason);
    const job = await api('GET', `/jobs/${failed.job_id as string}`);
    expect(job.json.failureReason).toMatch(reason);
    expect(job.json.state).toBe('failed');

    // Temporal records the same reason as the workflow's failure, and it was not retried.
    const connection = await Connection.connect({ address: `127.0.0.1:${upflow.env.UPFLOW_TEMPORAL_PORT}` });
    try {
      const handle = new Client({ connection }).workflow.getHandle(job.json.workflowId as string, failed.job_id as string);
      // The job is recorded failed just before the workflow ends: wait for its end, then look.
      const failure = await handle.result().then(() => undefined, (err: unknown) => err);
      expect(failure).toBeInstanceOf(WorkflowFailedError);
      expect((failure as WorkflowFailedError).cause?.message).toMatch(reason);
      expect((await handle.describe()).status.name).toBe('FAILED');
    } finally {
      await connection.close();
    }
    // The worker is still up.
    expect((await api('GET', '/health')).status).toBe(200);
  }, 90_000);

  it.each([
    ['a missing file', () => ({ Item: { Path: path.join(upflow.mediaDir, 'nope.mkv'), Name: 'x' } }), 404, /does not exist/],
    ['a file outside the media folders', () => ({ Item: { Path: '/etc/hostname', Name: 'x' } }), 403, /outside the media folders/],
    ['a traversal out of the media folders', () => ({ Item: { Path: `${upflow.mediaDir}/../data/postgres/PG_VERSION`, Name: 'x' } }), 403, /outside the media folders/],
    ['a relative path', () => ({ Item: { Path: 'media/a.mkv' } }), 400, /absolute path/],
    ['a body without Item or ItemId', () => ({ Path: '/x' }), 400, /^expected \{"Item":.* or a Jellyfin Webhook plugin body with ItemId/],
    ['a numeric Path', () => ({ Item: { Path: 42 } }), 400, /Item\.Path/],
    ['an empty Path', () => ({ Item: { Path: '' } }), 400, /Item\.Path must not be empty/],
    ['malformed JSON', () => '{"Item": ', 400, /not valid JSON/],
  ])('answers %s with the right status and a reason', async (_label, body, status, message) => {
    const before = fs.readdirSync(path.join(upflow.dir, 'data', 'hls')).length;
    const answer = await api('POST', '/upscale-trigger', body());
    expect(answer.status).toBe(status);
    expect(answer.json.error).toMatch(message);
    expect(fs.readdirSync(path.join(upflow.dir, 'data', 'hls')).length).toBe(before);
  });

  it('never serves anything outside the HLS folder', async () => {
    for (const route of ['/hls/../../etc/passwd', '/hls/%2e%2e/%2e%2e/etc/passwd', '/hls/..%2f..%2fpostgres%2fPG_VERSION']) {
      const answer = await api('GET', route);
      expect(answer.status).toBeGreaterThanOrEqual(400);
      expect(answer.status).toBeLessThan(500);
      expect(answer.text).not.toMatch(/root:|^\d+\s*$/);
    }
    expect((await api('GET', '/hls/nothing/segments.csv')).status).toBe(404);
  });

  it('answers unknown titles and jobs with 404 and bad ids with 400', async () => {
    expect((await api('GET', '/hls-status/never-seen.mkv')).status).toBe(404);
    expect((await api('GET', '/jobs/7d7e0a4c-7d43-4c53-9a1e-5f6e7f8a9b0c')).status).toBe(404);
    const bad = await api('GET', '/jobs/not-a-uuid');
    expect(bad.status).toBe(400);
    expect(bad.json.error).toMatch(/UUID/);
  });

  it('answers Jellyfin item requests with 503 and what to set when Jellyfin is not configured', async () => {
    const body = JSON.stringify({ NotificationType: 'PlaybackStart', ItemId: '0a1b2c3d4e5f40718293a4b5c6d7e8f9' });
    for (const answer of [
      await api('POST', '/upscale-trigger', body, { 'content-type': 'text/plain' }),
      await api('GET', '/items/0a1b2c3d4e5f40718293a4b5c6d7e8f9/status'),
    ]) {
      expect(answer.status).toBe(503);
      expect(answer.json.error).toMatch(/^Jellyfin is not configured: set JELLYFIN_URL and JELLYFIN_API_KEY/);
    }
    expect((await api('GET', '/health')).json).toEqual({ status: 'healthy', streaming_enabled: true });
  });

  it('cancels a running job: the encode stops and no partial file looks finished', async () => {
    const started = await trigger(longClip);
    const jobId = started.json.job_id as string;
    await waitFor('streaming', async () => {
      const s = await api('GET', '/hls-status/long.mp4');
      return (s.json.segments as number) > 0 ? true : undefined;
    }, 60_000, 100);
    const cancel = await api('POST', `/jobs/${jobId}/cancel`);
    expect(cancel.status).toBe(202);
    const job = await waitFor('cancellation', async () => {
      const j = await api('GET', `/jobs/${jobId}`);
      return j.json.state === 'cancelled' ? j.json : undefined;
    }, 60_000, 200);
    expect(job.finalPath).toBeNull();
    const output = path.join(upflow.dir, 'data', 'output');
    expect(fs.readdirSync(output).filter((f) => f.startsWith(job.titleKey as string))).toEqual([]);
    expect((await api('POST', `/jobs/${jobId}/cancel`)).status).toBe(409);
  }, 120_000);

  it('lists jobs with their progress', async () => {
    const list = await api('GET', '/jobs');
    const jobs = list.json.jobs as Array<{ state: string; percent: number }>;
    expect(jobs.length).toBeGreaterThanOrEqual(6);
    expect(jobs.some((j) => j.state === 'complete' && j.percent === 100)).toBe(true);
  });

  it('exposes Prometheus metrics: jobs by state, segments, first segment time, HTTP timings by route pattern', async () => {
    const answer = await api('GET', '/metrics');
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const value = (series: string) => {
      const line = answer.text.split('\n').find((l) => l.startsWith(`${series} `));
      return line === undefined ? undefined : Number(line.slice(series.length + 1));
    };
    expect(value('upflow_jobs{state="complete"}')).toBeGreaterThanOrEqual(1);
    expect(value('upflow_jobs{state="failed"}')).toBeGreaterThanOrEqual(4);
    expect(value('upflow_jobs{state="cancelled"}')).toBe(1);
    expect(value('upflow_segments')).toBeGreaterThanOrEqual(4);
    expect(value('upflow_content_seconds')).toBeGreaterThanOrEqual(20);
    expect(value('upflow_first_segment_seconds')).toBeGreaterThan(0);
    expect(value('upflow_first_segment_seconds')).toBeLessThan(30);
    expect(value('upflow_http_request_duration_seconds_count{method="POST",route="/upscale-trigger",status="202"}')).toBeGreaterThanOrEqual(1);
    expect(value('upflow_http_request_duration_seconds_count{method="GET",route="/jobs/:id",status="200"}')).toBeGreaterThanOrEqual(1);
    // Route labels are patterns: no job id or file name ever becomes a label value.
    expect(answer.text).not.toMatch(/route="[^"]*[0-9a-f]{8}-[0-9a-f]{4}/);
    expect(value('upflow_api_process_cpu_seconds_total')).toBeGreaterThan(0);
  });
});
