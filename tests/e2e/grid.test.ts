/**
 * Watch from anywhere, on the real stack (`upflow up`: Temporal dev server, Postgres, worker,
 * API; real ffmpeg, lanczos): the title is a grid listed whole at once; a trigger at 40 % makes
 * 40 % first; players ask for segments not made yet and get them; two viewers at two positions
 * and a seek backwards each get theirs; the final file has every source frame once, in sync;
 * bad positions and indexes are refused. (Two slots on one title: e2e/concurrency.test.ts, on
 * its two-slot stack.)
 */
import fs from 'node:fs';
import path from 'node:path';
import { Parser, type Manifest } from 'm3u8-parser';
import { makeFlashBeepClip, syncOffsets } from '../support/av-sync';
import { countVideoFrames, makeClip } from '../support/fixtures';
import { startUpflow, stopAndRemove, waitFor, type UpflowProcess } from '../support/upflow-process';

function parsePlaylist(text: string): Manifest {
  const parser = new Parser();
  parser.push(text);
  parser.end();
  return parser.manifest;
}

interface TriggerAnswer {
  status: string;
  hls_url: string;
  job_id: string;
  title_key: string;
}

interface Segment {
  index: number;
  producedAt: string;
}

interface Job {
  state: string;
  segments: number;
  ready: [number, number][];
  finalPath: string | null;
}

async function trigger(upflow: UpflowProcess, body: Record<string, unknown>, query = ''): Promise<{ status: number; json: TriggerAnswer & { error?: string } }> {
  const response = await fetch(`${upflow.apiUrl}/upscale-trigger${query}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: response.status, json: (await response.json()) as TriggerAnswer & { error?: string } };
}

async function segmentsMade(upflow: UpflowProcess, jobId: string): Promise<Segment[]> {
  const { json } = await upflow.api<{ segments: Segment[] }>('GET', `/jobs/${jobId}/segments`);
  return json.segments ?? [];
}

function segmentUrl(hlsUrl: string, index: number): string {
  return hlsUrl.replace(/stream\.m3u8.*$/, `seg${String(index).padStart(5, '0')}.ts`);
}

async function waitComplete(upflow: UpflowProcess, jobId: string, timeoutMs = 120_000): Promise<Job> {
  return waitFor(`job ${jobId} complete`, async () => {
    const { json } = await upflow.api<Job>('GET', `/jobs/${jobId}`);
    if (json.state === 'failed' || json.state === 'cancelled') throw new Error(`job ${jobId} ${json.state}`);
    return json.state === 'complete' ? json : undefined;
  }, timeoutMs, 250);
}

describe('a title as a grid of segments, one worker slot', () => {
  let upflow: UpflowProcess;
  let clip: string;

  beforeAll(async () => {
    upflow = await startUpflow({ HLS_SEGMENT_TIME: '2' });
    // Two minutes, flashing and beeping on every second: 60 segments of 2 s.
    clip = makeFlashBeepClip(path.join(upflow.mediaDir, 'two-minutes.mp4'), { seconds: 120, width: 320, height: 180, fps: 25 });
  }, 180_000);

  afterAll(() => stopAndRemove(upflow), 120_000);

  it('triggered at 40 %: lists the whole title at once, makes 40 % first, then ahead, then the start; the final file holds every frame once, in sync', async () => {
    const started = await trigger(upflow, { Item: { Path: clip }, position_seconds: 48 });
    expect(started.status).toBe(202);
    const { hls_url: hlsUrl, job_id: jobId } = started.json;

    // The playlist is there as soon as the probe is done (a request before waits for it): all 60 segments, ended.
    const playlist = await fetch(hlsUrl);
    expect(playlist.status).toBe(200);
    const manifest = parsePlaylist(await playlist.text());
    expect(manifest.playlistType).toBe('VOD');
    expect(manifest.endList).toBe(true);
    expect(manifest.segments).toHaveLength(60);
    expect(manifest.segments.every((s: { duration: number }) => s.duration === 2)).toBe(true);

    // A segment at 40 % is asked for before it is made: the request waits, then gets it.
    const atForty = await fetch(segmentUrl(hlsUrl, 24));
    expect(atForty.status).toBe(200);
    expect(atForty.headers.get('content-type')).toBe('video/mp2t');
    expect((await atForty.arrayBuffer()).byteLength).toBeGreaterThan(1000);

    const job = await waitComplete(upflow, jobId);
    const order = (await segmentsMade(upflow, jobId)).sort((a, b) => a.producedAt.localeCompare(b.producedAt)).map((s) => s.index);
    expect(order).toHaveLength(60);
    expect(order[0]).toBe(24);
    // From the viewer to the end, then the beginning.
    expect(order.indexOf(59)).toBeLessThan(order.indexOf(0));
    expect(job.ready).toEqual([[0, 120]]);

    expect(countVideoFrames(job.finalPath!)).toBe(countVideoFrames(clip));
    const sync = syncOffsets(job.finalPath!);
    expect(sync).toHaveLength(120);
    for (const { offset } of sync) expect(Math.abs(offset)).toBeLessThanOrEqual(0.005);
  }, 180_000);

  it('two viewers at two positions and a seek backwards: each gets its segments, none is made twice', async () => {
    const other = path.join(upflow.mediaDir, 'two-viewers.mp4');
    fs.linkSync(clip, other);
    const started = await trigger(upflow, { Item: { Path: other }, position_seconds: 90 });
    const { hls_url: hlsUrl, job_id: jobId } = started.json;
    // Viewer A at 90 s (the trigger); viewer B asks for 10 s; then A seeks back to 30 s.
    const [atNinety, atTen] = await Promise.all([fetch(segmentUrl(hlsUrl, 45)), fetch(segmentUrl(hlsUrl, 5))]);
    expect([atNinety.status, atTen.status]).toEqual([200, 200]);
    const backwards = await fetch(segmentUrl(hlsUrl, 15));
    expect(backwards.status).toBe(200);
    await Promise.all([atNinety.arrayBuffer(), atTen.arrayBuffer(), backwards.arrayBuffer()]);
    await waitComplete(upflow, jobId);
    const made = await segmentsMade(upflow, jobId);
    expect(made.map((s) => s.index)).toEqual([...Array(60).keys()]);
    // A segment made a second time is an event of its own; the chunks say what they made.
    const { json } = await upflow.api<{ events: { kind: string }[] }>('GET', `/jobs/${jobId}`);
    expect(json.events.filter((e) => e.kind === 'segment-remade')).toEqual([]);
    expect(json.events.filter((e) => e.kind === 'chunk-started').length).toBeGreaterThanOrEqual(2);
  }, 180_000);

  it('refuses positions that are not positions, naming the field, and clamps one past the end', async () => {
    for (const position of [-1, 'NaN', 'soon', '1e400', { at: 3 }]) {
      const refused = await trigger(upflow, { Item: { Path: clip }, position_seconds: position });
      expect([JSON.stringify(position), refused.status]).toEqual([JSON.stringify(position), 400]);
      expect(refused.json.error).toMatch(/position_seconds/);
    }
    const ticks = await trigger(upflow, { ItemId: '5f0c3d1a9b8e4c2d8a7b6c5d4e3f2a10', NotificationType: 'PlaybackStart', PlaybackPositionTicks: -5 });
    expect(ticks.status).toBe(400);
    expect(ticks.json.error).toMatch(/PlaybackPositionTicks/);
    expect((await trigger(upflow, { Item: { Path: clip } }, '?position_seconds=-3')).status).toBe(400);

    const pastEnd = path.join(upflow.mediaDir, 'past-the-end.mp4');
    await makeClip(pastEnd, { seconds: 6 });
    const clamped = await trigger(upflow, { Item: { Path: pastEnd }, position_seconds: 86_400 });
    expect(clamped.status).toBe(202);
    const order = await waitFor('the clamped title made', async () => {
      const { json } = await upflow.api<Job>('GET', `/jobs/${clamped.json.job_id}`);
      return json.state === 'complete' ? (await segmentsMade(upflow, clamped.json.job_id)).sort((a, b) => a.producedAt.localeCompare(b.producedAt)) : undefined;
    }, 60_000, 250);
    // Past the end is the last segment.
    expect(order[0]!.index).toBe(2);
  }, 120_000);

  it('a viewer of another title gets the slot a title nobody watches was using, at once', async () => {
    const background = await makeClip(path.join(upflow.mediaDir, 'nobody-watches.mp4'), { seconds: 150, width: 640, height: 360 });
    const film = await makeClip(path.join(upflow.mediaDir, 'watched.mp4'), { seconds: 60, width: 320, height: 180 });
    const behind = await trigger(upflow, { Item: { Path: background } });
    await waitFor('the background title making segments', async () => ((await upflow.api<Job>('GET', `/jobs/${behind.json.job_id}`)).json.segments > 0 ? true : undefined), 60_000, 100);
    const askedAt = Date.now();
    const watched = await trigger(upflow, { Item: { Path: film }, position_seconds: 30 });
    const segment = await fetch(segmentUrl(watched.json.hls_url, 15));
    expect(segment.status).toBe(200);
    const seconds = (Date.now() - askedAt) / 1000;
    // Not after the background chunk's minute of content: its chunk stopped for the viewer.
    expect(seconds).toBeLessThan(15);
    const { json } = await upflow.api<{ events: { kind: string }[] }>('GET', `/jobs/${behind.json.job_id}`);
    expect(json.events.map((e) => e.kind)).toContain('chunk-stopped');
    // Both done with: their slot is the next test's.
    for (const job of [behind, watched]) await upflow.api('POST', `/jobs/${job.json.job_id}/cancel`);
    await waitFor('both cancelled', async () => {
      const states = await Promise.all([behind, watched].map(async (job) => (await upflow.api<Job>('GET', `/jobs/${job.json.job_id}`)).json.state));
      return states.every((state) => state === 'cancelled' || state === 'complete') || undefined;
    }, 60_000, 100);
  }, 180_000);

  it('a title cancelled half-way and triggered again goes on where it stopped; a forced one starts afresh', async () => {
    const film = await makeClip(path.join(upflow.mediaDir, 'stopped-half-way.mp4'), { seconds: 40, width: 640, height: 360 });
    const first = await trigger(upflow, { Item: { Path: film } });
    const made = await waitFor('a few segments', async () => {
      const { json } = await upflow.api<Job>('GET', `/jobs/${first.json.job_id}`);
      return json.segments >= 3 ? json.segments : undefined;
    }, 60_000, 100);
    await upflow.api('POST', `/jobs/${first.json.job_id}/cancel`);
    await waitFor('the cancel', async () => ((await upflow.api<Job>('GET', `/jobs/${first.json.job_id}`)).json.state === 'cancelled' || undefined), 60_000, 100);
    const kept = (await segmentsMade(upflow, first.json.job_id)).map((s) => s.index);
    expect(kept.length).toBeGreaterThanOrEqual(made);

    const again = await trigger(upflow, { Item: { Path: film } });
    const job = await waitComplete(upflow, again.json.job_id);
    const { json } = await upflow.api<{ events: { kind: string; message: string; data: { fromSegment?: number } | null }[] }>('GET', `/jobs/${again.json.job_id}`);
    expect(json.events.find((e) => e.kind === 'streaming')?.message).toContain(`(${kept.length} made by an earlier run)`);
    // Nothing kept is made again: the first chunk starts after them.
    const starts = json.events.filter((e) => e.kind === 'chunk-started').map((e) => e.data!.fromSegment!);
    expect(Math.min(...starts)).toBe(kept.length);
    expect(countVideoFrames(job.finalPath!)).toBe(countVideoFrames(film));

    const forced = await trigger(upflow, { Item: { Path: film } }, '?force=1');
    await waitComplete(upflow, forced.json.job_id);
    const forcedEvents = (await upflow.api<{ events: { kind: string; data: { fromSegment?: number } | null }[] }>('GET', `/jobs/${forced.json.job_id}`)).json.events;
    expect(Math.min(...forcedEvents.filter((e) => e.kind === 'chunk-started').map((e) => e.data!.fromSegment!))).toBe(0);
  }, 240_000);

  it('answers 404 for a segment outside the grid, at once', async () => {
    const started = await trigger(upflow, { Item: { Path: clip } });
    const before = Date.now();
    const outside = await fetch(segmentUrl(started.json.hls_url, 60));
    expect(outside.status).toBe(404);
    expect(Date.now() - before).toBeLessThan(2000);
    expect((await fetch(segmentUrl(started.json.hls_url, 99_999))).status).toBe(404);
  });
});
