/**
 * Jellyfin's side of the API on the real stack (`upflow up`, Temporal, Postgres, ffmpeg):
 * the Webhook plugin's bodies (JSON or text/plain, GUIDs with or without dashes, notification
 * types that do not start anything), the item-keyed endpoints the web script uses, and a
 * Jellyfin that is gone. Jellyfin itself is the local stand-in (tests/support/jellyfin-stand-in.ts):
 * the real server cannot be installed from this machine's package registries.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { ItemStatus } from '../../core/jellyfin-items';
import { ffprobe, makeClip } from '../support/fixtures';
import { startJellyfinStandIn, type JellyfinStandIn } from '../support/jellyfin-stand-in';
import { startUpflow, stopAndRemove, waitFor, type UpflowProcess } from '../support/upflow-process';

const BY_PATH = '11111111aaaa4bbb8ccc000000000001';
const PLUGIN = '22222222aaaa4bbb8ccc000000000002';
const PLUGIN_DASHED = '22222222-aaaa-4bbb-8ccc-000000000002';
const SCRIPT = '33333333aaaa4bbb8ccc000000000003';
const OUTSIDE = '44444444aaaa4bbb8ccc000000000004';
const LATE = '55555555aaaa4bbb8ccc000000000005';
const MOVIE = '66666666aaaa4bbb8ccc000000000006';
const EPISODE = '77777777aaaa4bbb8ccc000000000007';
const LOCKED = '88888888aaaa4bbb8ccc000000000008';

describe('Jellyfin webhooks and item endpoints (real stack, Jellyfin stand-in)', () => {
  let upflow: UpflowProcess;
  let standIn: JellyfinStandIn;
  let outsideDir: string;

  const api = async (method: string, route: string, body?: string, contentType = 'application/json') => {
    const response = await fetch(`${upflow.apiUrl}${route}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': contentType },
      body,
    });
    return { status: response.status, json: (await response.json()) as Record<string, unknown> };
  };
  const pluginBody = (itemId: string, notificationType?: string, more: Record<string, string> = {}) =>
    JSON.stringify({ ...(notificationType ? { NotificationType: notificationType } : {}), ItemId: itemId, Name: 'A film', ServerUrl: standIn.url, NotificationUsername: 'viewer', ...more });
  const itemStatus = async (itemId: string) => (await api('GET', `/items/${itemId}/status`)).json as unknown as ItemStatus;

  beforeAll(async () => {
    standIn = await startJellyfinStandIn();
    // HLS_SERVER_HOST unset (empty means unset): hls_url follows the address each request came to.
    // A TLS proxy on this machine is believed about the scheme (UPFLOW_TRUST_PROXY).
    upflow = await startUpflow({ JELLYFIN_URL: standIn.url, JELLYFIN_API_KEY: standIn.apiKey, HLS_SEGMENT_TIME: '2', HLS_SERVER_HOST: '', UPFLOW_TRUST_PROXY: 'loopback', UPFLOW_JELLYFIN_PUBLISH: '1' });
    for (const [id, name] of [[BY_PATH, 'by path'], [PLUGIN, 'plugin'], [SCRIPT, 'script'], [LATE, 'late']] as const) {
      standIn.items.set(id, { name, path: await makeClip(path.join(upflow.mediaDir, `${name}.mp4`), { seconds: 4 }) });
    }
    outsideDir = fs.mkdtempSync(path.join(os.tmpdir(), 'upflow-outside-'));
    standIn.items.set(OUTSIDE, { name: 'outside', path: await makeClip(path.join(outsideDir, 'outside.mp4'), { seconds: 2 }) });
  }, 180_000);

  afterAll(async () => {
    await stopAndRemove(upflow);
    await standIn?.close();
    fs.rmSync(outsideDir, { recursive: true, force: true });
  });

  it('reports Jellyfin in /health', async () => {
    const health = await api('GET', '/health');
    expect(health.json).toMatchObject({ status: 'healthy', jellyfin: 'reachable (stand-in 10.10.7)' });
  });

  it('keeps the seed body working, and finds that title by its Jellyfin item afterwards', async () => {
    const file = standIn.items.get(BY_PATH)!.path;
    const started = await api('POST', '/upscale-trigger', JSON.stringify({ Item: { Path: file, Name: 'By path' } }));
    expect(started.status).toBe(202);
    expect(started.json).toMatchObject({ status: 'started', hls_url: expect.stringMatching(/stream\.m3u8$/) });
    // Until the workflow's first activity records the job, the title answers `queued`.
    const status = await waitFor('the job record', async () => {
      const s = await itemStatus(BY_PATH);
      return s.job_id ? s : undefined;
    });
    expect(status).toMatchObject({ item_id: BY_PATH, title_key: started.json.title_key, job_id: started.json.job_id });
  });

  it('starts on the plugin body as JSON and joins on the same item as text/plain, dashes or not', async () => {
    // Below UPFLOW_SKIP_FROM_HEIGHT (or no height: "" when the item has no video stream info) it starts.
    const json = await api('POST', '/upscale-trigger', pluginBody(PLUGIN_DASHED, 'PlaybackStart', { Video_0_Height: '480' }));
    expect(json.status).toBe(202);
    expect(json.json).toMatchObject({ status: 'started', item_id: PLUGIN });

    const text = await api('POST', '/upscale-trigger', pluginBody(PLUGIN, 'PlaybackStart', { Video_0_Height: '' }), 'text/plain; charset=utf-8');
    expect(text.status).toBe(200);
    expect(text.json).toMatchObject({ status: expect.stringMatching(/^(already_running|complete)$/), item_id: PLUGIN, title_key: json.json.title_key });

    // A hand-written template without NotificationType triggers too.
    const bare = await api('POST', '/upscale-trigger', pluginBody(PLUGIN));
    expect(bare.json.title_key).toBe(json.json.title_key);
  });

  it('acknowledges other notification types, takes PlaybackStop as a viewer leaving, and starts nothing', async () => {
    const asked = standIn.requests.length;
    for (const type of ['PlaybackProgress', 'ItemAdded']) {
      const answer = await api('POST', '/upscale-trigger', pluginBody(SCRIPT, type), 'text/plain');
      expect(answer.status).toBe(200);
      expect(answer.json).toEqual({ status: 'ignored', item_id: SCRIPT, reason: `notification type ${type} does not start upscaling (only PlaybackStart does; PlaybackStop ends a viewer's play head)` });
    }
    // PlaybackStop: that viewer's play head leaves the title (the workflow test checks the
    // scheduler forgets it); for an item never upscaled there is nothing to tell.
    const stopped = await api('POST', '/upscale-trigger', pluginBody(SCRIPT, 'PlaybackStop', { DeviceId: 'tv-1', PlaybackPositionTicks: '' }), 'text/plain');
    expect([stopped.status, stopped.json]).toEqual([200, { status: 'viewer_left', item_id: SCRIPT }]);
    const nobody = await api('POST', '/upscale-trigger', pluginBody(SCRIPT, 'PlaybackStop'), 'text/plain');
    expect(nobody.json).toEqual({ status: 'ignored', item_id: SCRIPT, reason: 'PlaybackStop without DeviceId or UserId names no viewer' });
    // A title as tall as UPFLOW_SKIP_FROM_HEIGHT (1080 by default) or taller is sharp enough already.
    for (const height of ['1080', '2160']) {
      const tall = await api('POST', '/upscale-trigger', pluginBody(SCRIPT, 'PlaybackStart', { Video_0_Height: height }), 'text/plain');
      expect([tall.status, tall.json]).toEqual([200, { status: 'ignored', item_id: SCRIPT, reason: `the video is ${height} pixels tall, at or above 1080 (UPFLOW_SKIP_FROM_HEIGHT): it is not upscaled` }]);
    }
    const notAHeight = await api('POST', '/upscale-trigger', pluginBody(SCRIPT, 'PlaybackStart', { Video_0_Height: 'tall' }), 'text/plain');
    expect([notAHeight.status, notAHeight.json.error]).toEqual([400, 'Video_0_Height must be a whole number of pixels']);
    expect(standIn.requests.length).toBe(asked);
    expect(await itemStatus(SCRIPT)).toMatchObject({ status: 'not_started', hls_url: null, segments: 0, complete: false });
  });

  it('upscales an item for the web script once, and its status follows the stream to the end', async () => {
    const first = await api('POST', `/items/${SCRIPT}/upscale`);
    expect(first.status).toBe(202);
    const second = await api('POST', `/items/${SCRIPT}/upscale`);
    expect(second.status).toBe(200);
    expect(second.json.job_id).toBe(first.json.job_id);

    const seen: ItemStatus[] = [];
    const done = await waitFor('the item to complete', async () => {
      const status = await itemStatus(SCRIPT);
      seen.push(status);
      if (status.status === 'failed') throw new Error(`failed: ${status.reason}`);
      return status.complete ? status : undefined;
    }, 60_000, 200);
    expect(done).toMatchObject({ status: 'complete', progress_percent: 100, title_key: expect.any(String), model: null });
    expect(done.hls_url).toMatch(/\/hls\/.+\/stream\.m3u8$/);
    expect(done.content_seconds).toBeCloseTo(4, 0);
    expect(done.duration_seconds).toBeCloseTo(4, 0);
    // On the way: segments and content seconds only grow.
    const contents = seen.map((s) => s.content_seconds);
    expect(contents).toEqual([...contents].sort((a, b) => a - b));
    expect((await fetch(done.hls_url!)).status).toBe(200);

    // Each asker gets the address it reached the API by, which it can reach again.
    expect(done.hls_url!.startsWith(`${upflow.apiUrl}/hls/`)).toBe(true);
    const viaLocalhost = upflow.apiUrl.replace('127.0.0.1', 'localhost');
    const other = (await (await fetch(`${viaLocalhost}/items/${SCRIPT}/status`)).json()) as ItemStatus;
    expect(other.hls_url).toBe(done.hls_url!.replace('127.0.0.1', 'localhost'));
    // Behind a TLS proxy it trusts (UPFLOW_TRUST_PROXY): https, as the page that asked.
    const proxied = (await (await fetch(`${upflow.apiUrl}/items/${SCRIPT}/status`, { headers: { 'x-forwarded-proto': 'https' } })).json()) as ItemStatus;
    expect(proxied.hls_url).toBe(done.hls_url!.replace(/^http:/, 'https:'));
  });

  it('publishes a finished movie beside it as a Jellyfin version and asks Jellyfin to scan it; says why not for an episode or a folder it cannot write', async () => {
    const movieFolder = path.join(upflow.mediaDir, 'Old Movie (1985)');
    const lockedFolder = path.join(upflow.mediaDir, 'Locked Movie (1990)');
    standIn.items.set(MOVIE, { name: 'Old Movie', type: 'Movie', path: await makeClip(path.join(movieFolder, 'Old Movie (1985).mp4'), { seconds: 3 }) });
    standIn.items.set(EPISODE, { name: 'Pilot', type: 'Episode', path: await makeClip(path.join(upflow.mediaDir, 'Show', 'Season 1', 'Show S01E01.mp4'), { seconds: 3 }) });
    standIn.items.set(LOCKED, { name: 'Locked Movie', type: 'Movie', path: await makeClip(path.join(lockedFolder, 'Locked Movie (1990).mp4'), { seconds: 3 }) });
    // Read-only for root too (the tests run as root): the folder is made immutable.
    execFileSync('chattr', ['+i', lockedFolder]);
    try {
      const events = async (itemId: string) => {
        const started = await api('POST', '/upscale-trigger', pluginBody(itemId, 'PlaybackStart'));
        expect(started.status).toBe(202);
        const done = await waitFor(`item ${itemId} to complete`, async () => {
          const status = await itemStatus(itemId);
          if (status.status === 'failed') throw new Error(`failed: ${status.reason}`);
          return status.complete ? status : undefined;
        }, 60_000, 200);
        // The job is complete once its final file is kept; publishing follows it in the same activity.
        return waitFor(`item ${itemId}'s publishing`, async () => {
          const job = (await api('GET', `/jobs/${done.job_id}`)).json as { events: { kind: string; message: string }[] };
          const publishing = job.events.filter((e) => e.kind.startsWith('publish'));
          return publishing.length > 0 ? publishing : undefined;
        }, 10_000, 100);
      };

      const published = await events(MOVIE);
      const version = path.join(movieFolder, 'Old Movie (1985) - Upscaled 360p.mkv');
      expect(published).toEqual([expect.objectContaining({ kind: 'published', message: `published to Jellyfin as the version "Upscaled 360p": ${version}` })]);
      expect(ffprobe(version)).toMatchObject({ width: 640, height: 360, hasAudio: true });
      expect(fs.readdirSync(movieFolder).sort()).toEqual(['Old Movie (1985) - Upscaled 360p.mkv', 'Old Movie (1985).mp4']);
      expect(standIn.requests).toContainEqual({ method: 'POST', path: `/Items/${MOVIE}/Refresh`, authorized: true });

      expect(await events(EPISODE)).toEqual([expect.objectContaining({ kind: 'publish-skipped', message: 'not published to Jellyfin: Jellyfin does not group episodes as versions: a file beside this one would show up as a second episode' })]);
      expect(fs.readdirSync(path.join(upflow.mediaDir, 'Show', 'Season 1'))).toEqual(['Show S01E01.mp4']);

      // The job completes; the owner is told what to change.
      expect(await events(LOCKED)).toEqual([expect.objectContaining({ kind: 'publish-failed', message: expect.stringMatching(/^not published to Jellyfin: the movie's folder .*Locked Movie \(1990\) is not writable \(EPERM\): let Upflow write there/) })]);
      expect(fs.readdirSync(lockedFolder)).toEqual(['Locked Movie (1990).mp4']);
      expect(standIn.requests.filter((r) => r.path.endsWith('/Refresh')).map((r) => r.path)).toEqual([`/Items/${MOVIE}/Refresh`]);
    } finally {
      execFileSync('chattr', ['-i', lockedFolder]);
    }
  }, 120_000);

  it('refuses what it cannot upscale, with the reason, and starts nothing', async () => {
    const jobsBefore = ((await api('GET', '/jobs')).json.jobs as unknown[]).length;

    const outside = await api('POST', '/upscale-trigger', pluginBody(OUTSIDE, 'PlaybackStart'));
    expect(outside.status).toBe(403);
    expect(outside.json.error).toMatch(new RegExp(`^Jellyfin item ${OUTSIDE}: .*outside the media folders`));
    expect((await api('GET', `/items/${OUTSIDE}/status`)).status).toBe(403);

    const unknown = await api('POST', '/items/99999999aaaa4bbb8ccc000000000009/upscale');
    expect(unknown).toEqual({ status: 404, json: { error: 'Jellyfin has no item 99999999aaaa4bbb8ccc000000000009' } });

    const badId = await api('POST', '/upscale-trigger', JSON.stringify({ NotificationType: 'PlaybackStart', ItemId: 'film-1' }));
    expect(badId).toEqual({ status: 400, json: { error: 'ItemId must be a Jellyfin item id (32 hex digits, dashes allowed)' } });
    expect((await api('GET', '/items/not-an-id/status')).status).toBe(400);

    const notJson = await api('POST', '/upscale-trigger', 'ItemId=2222', 'text/plain');
    expect(notJson).toEqual({ status: 400, json: { error: 'request body is not valid JSON' } });
    const neither = await api('POST', '/upscale-trigger', JSON.stringify({ Name: 'no id' }));
    expect(neither.status).toBe(400);
    expect(neither.json.error).toMatch(/expected \{"Item"/);

    expect(((await api('GET', '/jobs')).json.jobs as unknown[]).length).toBe(jobsBefore);
  });

  it('serves the web script', async () => {
    const response = await fetch(`${upflow.apiUrl}/client/upflow-jellyfin.js`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(await response.text()).toMatch(/^\/\*! Upflow .* for Jellyfin/);
  });

  it('without a key, answers only requests addressed to this machine: a name pointed at it (DNS rebinding) is refused', async () => {
    const { port } = new URL(upflow.apiUrl);
    const get = (host: string) => new Promise<{ status: number; body: string }>((resolve, reject) => {
      http.get({ host: '127.0.0.1', port, path: '/jobs', headers: { host } }, (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk)).on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      }).on('error', reject);
    });
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`]) expect([host, (await get(host)).status]).toEqual([host, 200]);
    const rebound = await get(`attacker.example:${port}`);
    expect(rebound.status).toBe(403);
    expect(JSON.parse(rebound.body)).toEqual({ error: 'without UPFLOW_API_KEY the API answers only requests addressed to this machine (localhost or 127.0.0.1); set UPFLOW_API_KEY to reach it by another name' });
  });

  it('says Jellyfin is unreachable when it is gone, and stays healthy', async () => {
    await standIn.close();
    const gone = await api('POST', '/upscale-trigger', pluginBody(LATE, 'PlaybackStart'), 'text/plain');
    expect(gone.status).toBe(502);
    expect(gone.json.error).toMatch(/^Jellyfin at http:\/\/127\.0\.0\.1:\d+ is unreachable \(ECONNREFUSED\): check JELLYFIN_URL$/);
    expect((await api('GET', `/items/${LATE}/status`)).status).toBe(502);
    // Titles already tied to an item still answer from Postgres.
    expect((await itemStatus(SCRIPT)).status).toBe('complete');
    expect((await api('GET', '/health')).json.status).toBe('healthy');
  });
});
