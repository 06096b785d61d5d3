/**
 * The API's guards on the real stack (`upflow up` with UPFLOW_API_KEY, a Jellyfin stand-in whose
 * health check fails, UPFLOW_CORS_ORIGINS naming one more local page): the API key on every
 * request but the open ones (header, bearer or query, compared in constant time), which browser
 * pages may call it (Chromium on pages of three local origins), what a caller without the key
 * is told (no path, address or Jellyfin name), a 500's id, security headers, the body size limit,
 * the rate limits (not fooled by X-Forwarded-For; ignored webhook types uncounted); the CLI
 * sends the key it is configured with; and start-up refusing what would open Upflow up.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, openPage } from '../support/browser';
import { makeClip } from '../support/fixtures';
import { fetchAnswer } from '../support/http-answer';
import { startJellyfinStandIn, VIEWER_TOKEN, type JellyfinStandIn } from '../support/jellyfin-stand-in';
import { listenLocally } from '../support/local-server';
import { findFreePort } from '../../adapters/process';
import { isAlive, startUpflow, stopAndRemove, waitFor, type UpflowProcess } from '../support/upflow-process';

const run = promisify(execFile);
const UPFLOW = path.join(__dirname, '..', '..', 'bin', 'upflow.js');
const API_KEY = 'test-key-0123456789abcdef';
const TRIGGERS_PER_MINUTE = 20;
const ITEM_LOOKUP_FAILURES_PER_MINUTE = 120;
const UNKNOWN_JOB = '01a21211-5d1c-76b5-97c6-cd631f10ee8b';
/** Jellyfin items (the stand-in's library), each failing or not in its own way. */
const ITEM = {
  done: '5f0c3d1a9b8e4c2d8a7b6c5d4e3f2a10',
  failed: '5f0c3d1a9b8e4c2d8a7b6c5d4e3f2a11',
  outside: '5f0c3d1a9b8e4c2d8a7b6c5d4e3f2a12',
  noFile: '5f0c3d1a9b8e4c2d8a7b6c5d4e3f2a13',
  missing: '5f0c3d1a9b8e4c2d8a7b6c5d4e3f2a14',
  byPath: '5f0c3d1a9b8e4c2d8a7b6c5d4e3f2a15',
  unknown: '5f0c3d1a9b8e4c2d8a7b6c5d4e3f2a16',
};
/** A name Jellyfin knows the item by: it must not reach a caller without the key. */
const PRIVATE_NAME = "Alice's Secret Holiday";

/**
 * What a page of another site may run on its own, without asking anyone: an XHR post to cancel a
 * job, and forms posted into frames (navigations, the oldest way round CORS) to cancel one and
 * to start an upscale. The text/plain form's body is JSON once the browser joins its field's name
 * and value with "=" (`…"Name":"x` + `="}}`). The key is in each URL: even a page that has it
 * changes nothing.
 */
const ATTACK_PAGE = `<!doctype html><title>another site</title><p>another site</p>
<script>
const q = new URLSearchParams(location.search);
const key = '?api_key=' + encodeURIComponent(q.get('key'));
const cancel = q.get('api') + '/jobs/' + q.get('job') + '/cancel' + key;
window.xhrStatus = new Promise((resolve) => {
  const xhr = new XMLHttpRequest();
  xhr.open('POST', cancel);
  xhr.onloadend = () => resolve(xhr.status);
  xhr.send();
});
const body = q.get('body');
[[cancel, 'application/x-www-form-urlencoded', 'reason', 'x'], [q.get('api') + '/upscale-trigger' + key, 'text/plain', body.slice(0, -3), '"}}']].forEach(([action, enctype, name, value], i) => {
  const frame = document.createElement('iframe');
  frame.name = 'sink' + i;
  document.body.append(frame);
  const form = document.createElement('form');
  Object.assign(form, { method: 'POST', action, enctype, target: frame.name });
  const input = document.createElement('input');
  Object.assign(input, { name, value });
  form.append(input);
  document.body.append(form);
  form.submit();
});
</script>`;

/** A page server for one more origin: `/attack` is ATTACK_PAGE, any other path an empty page. */
async function startPageServer(): Promise<{ origin: string; close(): Promise<void> }> {
  const server = await listenLocally((req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(req.url?.startsWith('/attack') ? ATTACK_PAGE : '<!doctype html><title>another site</title><p>another site</p>');
  });
  return { origin: server.url, close: server.close };
}

/** The `upflow up` cluster's own Postgres (its port in postmaster.pid, its password beside it). */
function upflowDatabase(upflow: UpflowProcess): pg.Client {
  const cluster = path.join(upflow.env.UPFLOW_DATA_DIR!, 'postgres');
  const port = Number(fs.readFileSync(path.join(cluster, 'postmaster.pid'), 'utf8').split('\n')[3]);
  const password = fs.readFileSync(`${cluster}.password`, 'utf8').trim();
  return new pg.Client({ host: '127.0.0.1', port, user: 'upflow', password, database: 'upflow' });
}

/** What a page's script got back from one request: its status, or that it could not read it. */
type PageResult = { status: number; body: string } | { failed: string };

/** `fetch` in the page, as a script of that site would. */
function pageFetch(page: Page, url: string, init: { method?: string; headers?: Record<string, string>; body?: string; mode?: 'cors' | 'no-cors' } = {}): Promise<PageResult> {
  return page.evaluate(async ({ url: u, init: i }) => {
    try {
      const response = await fetch(u, i as RequestInit);
      return { status: response.status, body: await response.text() };
    } catch (err) {
      return { failed: String(err) };
    }
  }, { url, init });
}

describe('API key, origins, what callers without the key see, and limits', () => {
  let upflow: UpflowProcess;
  let standIn: JellyfinStandIn;
  let listedPage: Awaited<ReturnType<typeof startPageServer>>;
  let foreignPage: Awaited<ReturnType<typeof startPageServer>>;
  let browser: Browser;
  let clip: string;
  let running: { jobId: string; file: string };

  const request = (method: string, route: string, options: { body?: unknown; headers?: Record<string, string> } = {}) =>
    fetchAnswer(`${upflow.apiUrl}${route}`, method, options);
  const post = (route: string, body: unknown, headers: Record<string, string> = {}) => request('POST', route, { body, headers });
  const withKey = { 'x-api-key': API_KEY };
  const triggerBody = () => ({ Item: { Path: clip, Name: 'Guarded' } });
  const jobState = async (jobId: string) => (await request('GET', `/jobs/${jobId}`, { headers: withKey })).json.state;
  /** Requests answered 403 before reaching a route (a foreign origin), by method, from /metrics. */
  const refusedRequests = async (): Promise<Record<'GET' | 'POST' | 'OPTIONS', number>> => {
    const text = (await request('GET', '/metrics', { headers: withKey })).text;
    const count = (method: string) => Number(new RegExp(`^upflow_http_request_duration_seconds_count\\{method="${method}",route="unmatched",status="403"\\} (\\d+)$`, 'm').exec(text)?.[1] ?? 0);
    return { GET: count('GET'), POST: count('POST'), OPTIONS: count('OPTIONS') };
  };
  const webhook = (itemId: string, type: string) => JSON.stringify({ NotificationType: type, ItemId: itemId, Name: 'x' });

  beforeAll(async () => {
    standIn = await startJellyfinStandIn({ systemInfoStatus: 500 });
    standIn.app.get('/page', (_req, res) => res.type('html').send('<!doctype html><title>Jellyfin</title><p>Jellyfin</p>'));
    [listedPage, foreignPage] = [await startPageServer(), await startPageServer()];
    upflow = await startUpflow({
      UPFLOW_API_KEY: API_KEY,
      UPFLOW_TRIGGER_RATE_LIMIT: String(TRIGGERS_PER_MINUTE),
      JELLYFIN_URL: standIn.url,
      JELLYFIN_API_KEY: standIn.apiKey,
      UPFLOW_CORS_ORIGINS: listedPage.origin,
    });
    const media = upflow.mediaDir;
    clip = await makeClip(path.join(media, 'guarded.mp4'), { seconds: 4 });
    standIn.items.set(ITEM.done, { name: PRIVATE_NAME, path: await makeClip(path.join(media, 'private', 'holiday.mp4'), { seconds: 2 }) });
    const notAVideo = path.join(media, 'private', 'notes.mkv');
    fs.writeFileSync(notAVideo, 'not a video\n'.repeat(20));
    standIn.items.set(ITEM.failed, { name: PRIVATE_NAME, path: notAVideo });
    standIn.items.set(ITEM.outside, { name: PRIVATE_NAME, path: await makeClip(path.join(upflow.dir, 'outside', 'elsewhere.mp4'), { seconds: 1 }) });
    standIn.items.set(ITEM.noFile, { name: PRIVATE_NAME, path: '' });
    standIn.items.set(ITEM.missing, { name: PRIVATE_NAME, path: path.join(media, 'private', 'gone.mp4') });
    standIn.items.set(ITEM.byPath, { name: PRIVATE_NAME, path: await makeClip(path.join(media, 'private', 'by path.mp4'), { seconds: 1 }) });
    browser = await launchChromium();
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await stopAndRemove(upflow);
    await standIn?.close();
    await listedPage?.close();
    await foreignPage?.close();
  }, 120_000);

  it('refuses a change without the key, or with a wrong one, saying why, and starts nothing', async () => {
    const without = await post('/upscale-trigger', triggerBody());
    expect(without.status).toBe(401);
    expect(without.json.error).toBe('this request changes something and needs the API key (UPFLOW_API_KEY): send it as the X-Api-Key header or ?api_key=');
    const wrongKeys: Record<string, string>[] = [{ 'x-api-key': 'wrong' }, { authorization: `Bearer ${API_KEY}x` }, { 'x-api-key': API_KEY.slice(0, -1) }];
    for (const headers of wrongKeys) {
      const wrong = await post('/upscale-trigger', triggerBody(), headers);
      expect(wrong.status).toBe(401);
      expect(wrong.json.error).toBe('the API key is wrong');
    }
    expect((await post(`/upscale-trigger?api_key=nope`, triggerBody())).status).toBe(401);
    expect((await post(`/items/${ITEM.done}/upscale`, {})).status).toBe(401);
    expect((await post(`/jobs/${UNKNOWN_JOB}/cancel`, {})).status).toBe(401);
    // A wrong key is refused on an open route too.
    expect((await request('GET', '/health', { headers: { 'x-api-key': 'wrong' } })).status).toBe(401);
    expect((await upflow.api<{ jobs: unknown[] }>('GET', '/jobs')).json.jobs).toEqual([]);
  });

  it('accepts the key as X-Api-Key, as a bearer token and as ?api_key=, and cancels with it', async () => {
    const started = await post('/upscale-trigger', triggerBody(), withKey);
    expect(started.status).toBe(202);
    const again = await post('/upscale-trigger', triggerBody(), { authorization: `Bearer ${API_KEY}` });
    expect(again.json).toMatchObject({ status: 'already_running', job_id: started.json.job_id });
    const byQuery = await post(`/upscale-trigger?api_key=${API_KEY}`, triggerBody());
    expect(byQuery.json).toMatchObject({ job_id: started.json.job_id });
    const jobId = started.json.job_id as string;
    await waitFor('the job row', async () => ((await request('GET', `/jobs/${jobId}`, { headers: withKey })).status === 200 || undefined));
    expect((await post(`/jobs/${jobId}/cancel`, {})).status).toBe(401);
    expect((await post(`/jobs/${jobId}/cancel`, {}, withKey)).status).toBe(202);
    await waitFor('the cancel', async () => ((await jobState(jobId)) === 'cancelled' || undefined), 60_000, 250);
  }, 90_000);

  it('needs the key for every read but /health, the status page, the scripts and the item status, with security headers on every answer', async () => {
    const jobId = ((await upflow.api<{ jobs: Array<{ id: string }> }>('GET', '/jobs')).json.jobs[0]!).id;
    const guarded = ['/jobs', `/jobs/${jobId}`, `/jobs/${jobId}/segments`, '/metrics', '/cleanup-runs', '/hls-status/guarded.mp4', '/no-such-endpoint'];
    const open = ['/health', '/', '/client/upflow-jellyfin.js', '/client/status-page.js', `/items/${ITEM.byPath}/status`];
    const answers: Array<[string, string, number]> = [];
    for (const route of [...guarded, ...open]) {
      for (const [who, headers] of [['without', {}], ['with', withKey]] as const) {
        const answer = await request('GET', route, { headers });
        answers.push([who, route, answer.status]);
        expect(answer.headers.get('x-content-type-options')).toBe('nosniff');
        expect(answer.headers.get('content-security-policy')).toContain("default-src 'self'");
        // Jellyfin's page loads the script from another origin.
        expect(answer.headers.get('cross-origin-resource-policy')).toBe('cross-origin');
        expect(answer.headers.get('x-powered-by')).toBeNull();
        if (who === 'without' && guarded.includes(route)) {
          expect(answer.json.error).toBe("this request reads Upflow's jobs or settings and needs the API key (UPFLOW_API_KEY): send it as the X-Api-Key header or ?api_key=");
        }
      }
    }
    const expected = (who: string, route: string) => (who === 'without' && guarded.includes(route) ? 401 : route === '/no-such-endpoint' ? 404 : 200);
    expect(answers).toEqual(answers.map(([who, route]) => [who, route, expected(who, route)]));
  });

  it('tells a caller without the key no path, address or Jellyfin name, and the owner everything; GET writes nothing', async () => {
    // The items' jobs: one complete, one failed (its reason names its file).
    for (const item of [ITEM.done, ITEM.failed]) expect((await post(`/items/${item}/upscale`, undefined, withKey)).status).toBe(202);
    const status = (item: string, headers: Record<string, string> = {}) => request('GET', `/items/${item}/status`, { headers });
    await waitFor('both jobs to end', async () => {
      const states = await Promise.all([ITEM.done, ITEM.failed].map(async (item) => (await status(item, withKey)).json.status));
      return states[0] === 'complete' && states[1] === 'failed' ? true : undefined;
    }, 90_000, 250);
    // A title asked for by path (as the seed's body and the CLI do), which Jellyfin also knows as an item.
    const byPath = await post('/upscale-trigger', { Item: { Path: standIn.items.get(ITEM.byPath)!.path } }, withKey);
    expect(byPath.status).toBe(202);

    const keyless = Object.fromEntries(await Promise.all(Object.entries(ITEM).map(async ([name, id]) => [name, await status(id)] as const)));
    const owners = Object.fromEntries(await Promise.all(Object.entries(ITEM).map(async ([name, id]) => [name, await status(id, withKey)] as const)));
    const summary = (answers: typeof keyless) => Object.fromEntries(Object.entries(answers).map(([name, a]) => [name, [a.status, a.json.error ?? a.json.reason ?? a.json.status]]));
    expect(summary(keyless)).toEqual({
      done: [200, 'complete'],
      failed: [200, "upscaling failed; the reason is on Upflow's status page and in its log"],
      outside: [403, "this item cannot be upscaled; the reason is in Upflow's log"],
      noFile: [422, "this item cannot be upscaled; the reason is in Upflow's log"],
      missing: [404, 'no video is known for this item'],
      byPath: [200, expect.stringMatching(/^(queued|probing|streaming|finalizing|complete)$/)],
      unknown: [404, 'no video is known for this item'],
    });
    // Without a viewer's token: how far the item is, not its stream nor its title's name (its file's).
    expect(keyless.done!.json).toMatchObject({ status: 'complete', hls_url: null, title_key: null });
    // A viewer Jellyfin lets see the item gets the stream, as the web script does; a token Jellyfin refuses does not.
    const asViewer = await status(ITEM.done, { authorization: `MediaBrowser Token="${VIEWER_TOKEN}"` });
    expect(asViewer.json).toMatchObject({ status: 'complete', hls_url: expect.stringContaining('/stream.m3u8'), title_key: expect.any(String) });
    expect((await status(ITEM.done, { authorization: 'MediaBrowser Token="0123456789abcdef"' })).json).toMatchObject({ status: 'complete', hls_url: null, title_key: null });
    // The owner (the key) gets the full reasons: paths and Jellyfin's names.
    expect(summary(owners)).toMatchObject({
      failed: [200, expect.stringContaining('notes.mkv is not a readable video')],
      outside: [403, expect.stringContaining(`${upflow.dir}/outside/elsewhere.mp4 is outside the media folders`)],
      noFile: [422, `Jellyfin item ${ITEM.noFile} (${PRIVATE_NAME}, Movie) has no file to upscale`],
      missing: [404, expect.stringContaining(`${upflow.mediaDir}/private/gone.mp4 does not exist`)],
      unknown: [404, `Jellyfin has no item ${ITEM.unknown}`],
    });
    // Nothing a caller without the key got names a folder, Jellyfin's address or an item's name;
    // the full reasons are in the log.
    const health = await request('GET', '/health');
    const told = [...Object.values(keyless).map((a) => a.text), health.text].join('\n');
    for (const secret of [upflow.dir, upflow.mediaDir, upflow.env.UPFLOW_DATA_DIR!, standIn.url, new URL(standIn.url).host, PRIVATE_NAME, 'Movie']) expect([secret, told.includes(secret)]).toEqual([secret, false]);
    expect(upflow.output()).toContain('"msg":"item status refused"');

    // GET /items/:id/status wrote nothing: the title asked for by path is not tied to its item until a trigger by item.
    const db = upflowDatabase(upflow);
    await db.connect();
    try {
      const itemOf = async () => (await db.query<{ jellyfin_item_id: string | null }>('SELECT jellyfin_item_id FROM titles WHERE key = $1', [byPath.json.title_key])).rows[0]?.jellyfin_item_id;
      expect(await itemOf()).toBeNull();
      expect((await post(`/items/${ITEM.byPath}/upscale`, undefined, withKey)).status).toBeLessThan(300);
      expect(await itemOf()).toBe(ITEM.byPath);
    } finally {
      await db.end();
    }

    // An unknown id asked again and again reaches Jellyfin once.
    const asked = () => standIn.requests.filter((r) => r.path === `/Items/${ITEM.unknown}`).length;
    const before = asked();
    for (let i = 0; i < 5; i++) expect((await status(ITEM.unknown)).status).toBe(404);
    expect(asked() - before).toBe(0);
    expect(before).toBe(1);
  }, 120_000);

  it('says in /health which part fails, its address only to the owner', async () => {
    const keyless = await request('GET', '/health');
    expect([keyless.status, keyless.json]).toEqual([200, { status: 'healthy', streaming_enabled: true, jellyfin: 'unreachable' }]);
    const owner = await request('GET', '/health', { headers: withKey });
    expect(owner.json.jellyfin).toBe(`Jellyfin at ${standIn.url} answered HTTP 500 for system info`);
  });

  it('answers a 500 with an id, found in the log with the error, and nothing internal', async () => {
    const db = upflowDatabase(upflow);
    await db.connect();
    try {
      await db.query('ALTER TABLE cleanup_runs RENAME TO cleanup_runs_hidden');
      const failed = await request('GET', '/cleanup-runs', { headers: withKey });
      expect(failed.status).toBe(500);
      const id = failed.json.error_id as string;
      expect(id).toMatch(/^[0-9a-f-]{36}$/);
      expect(failed.json).toEqual({ error: `internal error ${id}: the details are in Upflow's log under this id`, error_id: id });
      // The log line may follow the answer by a moment.
      const logged = await waitFor('the log line', async () => upflow.output().split('\n').find((line) => line.includes(id)), 5000, 50);
      expect(logged).toMatch(/relation \\"cleanup_runs\\" does not exist/);
    } finally {
      await db.query('ALTER TABLE cleanup_runs_hidden RENAME TO cleanup_runs');
      await db.end();
    }
    expect((await request('GET', '/cleanup-runs', { headers: withKey })).status).toBe(200);
  });

  it("lets a page of another site neither read /jobs nor cancel or start anything: fetch, XHR or a form's post", async () => {
    const file = await makeClip(path.join(upflow.mediaDir, 'long.mp4'), { seconds: 60, width: 640, height: 360 });
    const started = await post('/upscale-trigger', { Item: { Path: file } }, withKey);
    expect(started.status).toBe(202);
    running = { jobId: started.json.job_id as string, file };
    await waitFor('the job row', async () => ((await request('GET', `/jobs/${running.jobId}`, { headers: withKey })).status === 200 || undefined));
    const jobsBefore = (await upflow.api<{ jobs: unknown[] }>('GET', '/jobs')).json.jobs.length;
    const another = await openPage(browser);
    const { page } = another;
    // Refused before any route: the metrics count them by method (the browser hides the answers from the page, and from playwright).
    const refusedBefore = await refusedRequests();
    await page.goto(`${foreignPage.origin}/`);
    const api = upflow.apiUrl;
    const cancelUrl = `${api}/jobs/${running.jobId}/cancel`;

    // Reading: refused, and the browser shows the page nothing (no CORS for it), even with the key.
    for (const url of [`${api}/jobs`, `${api}/jobs?api_key=${API_KEY}`, `${api}/items/${ITEM.done}/status`]) {
      expect(await pageFetch(page, url)).toEqual({ failed: 'TypeError: Failed to fetch' });
    }
    expect(await pageFetch(page, `${api}/jobs`, { headers: { 'X-Api-Key': API_KEY } })).toEqual({ failed: 'TypeError: Failed to fetch' });
    // Changing: even a request the browser sends without asking (no-cors), with the key in the URL, changes nothing.
    expect(await pageFetch(page, `${cancelUrl}?api_key=${API_KEY}`, { method: 'POST', mode: 'no-cors' })).toEqual({ status: 0, body: '' });
    expect(await pageFetch(page, `${api}/upscale-trigger?api_key=${API_KEY}`, { method: 'POST', mode: 'no-cors', headers: { 'Content-Type': 'text/plain' }, body: JSON.stringify({ Item: { Path: clip } }) })).toEqual({ status: 0, body: '' });
    // The site's own script: an XHR and two forms (ATTACK_PAGE).
    const attack = new URLSearchParams({ api, job: running.jobId, key: API_KEY, body: JSON.stringify({ Item: { Path: clip, Name: 'x' } }) });
    await page.goto(`${foreignPage.origin}/attack?${attack.toString()}`);
    expect(await page.evaluate(() => (globalThis as unknown as { xhrStatus: Promise<number> }).xhrStatus)).toBe(0);
    await waitFor('the form posts', async () => ((await refusedRequests()).POST - refusedBefore.POST >= 5 ? true : undefined), 10_000, 100);

    // Every request reached Upflow and was refused (403) for its origin, before anything else:
    // 3 reads (a header's preflight is refused too), 3 cancels (fetch, XHR, form), 2 triggers (fetch, form).
    const refused = await refusedRequests();
    expect({ GET: refused.GET - refusedBefore.GET, POST: refused.POST - refusedBefore.POST, OPTIONS: refused.OPTIONS - refusedBefore.OPTIONS }).toEqual({ GET: 3, POST: 5, OPTIONS: 1 });
    expect(await jobState(running.jobId)).not.toBe('cancelled');
    expect((await upflow.api<{ jobs: unknown[] }>('GET', '/jobs')).json.jobs.length).toBe(jobsBefore);
    await another.page.context().close();
  }, 90_000);

  it("lets Jellyfin's page make the web script's calls, and a page in UPFLOW_CORS_ORIGINS read /jobs and cancel with the key", async () => {
    const jellyfin = await openPage(browser);
    await jellyfin.page.goto(`${standIn.url}/page`);
    // The web script's requests: the status a simple one (no header, no body); the trigger with
    // the viewer's own Jellyfin token, as Jellyfin's clients send it (a preflight, answered for
    // Jellyfin's origin). Upflow asks Jellyfin whether that user may see the item.
    const status = await pageFetch(jellyfin.page, `${upflow.apiUrl}/items/${ITEM.done}/status`);
    expect(status).toMatchObject({ status: 200 });
    expect(JSON.parse((status as { body: string }).body)).toMatchObject({ item_id: ITEM.done, status: 'complete' });
    const asViewer = (token: string, query = '') =>
      pageFetch(jellyfin.page, `${upflow.apiUrl}/items/${ITEM.done}/upscale${query}`, { method: 'POST', headers: { Authorization: `MediaBrowser Client="Jellyfin Web", Token="${token}"` } });
    const upscale = await asViewer(VIEWER_TOKEN);
    expect(upscale).toMatchObject({ status: 200 });
    expect(JSON.parse((upscale as { body: string }).body)).toMatchObject({ item_id: ITEM.done, status: 'complete' });
    // A token Jellyfin refuses, a user who may not see the item, a redo: refused, saying why.
    standIn.users.set('kid-token-0123456789', { name: 'kid', hidden: new Set([ITEM.done]) });
    const refused = async (token: string, query = '') => {
      const answer = (await asViewer(token, query)) as { status: number; body: string };
      return [answer.status, (JSON.parse(answer.body) as { error: string }).error];
    };
    expect(await refused('forged-token-0123456789')).toEqual([401, "Jellyfin did not accept the viewer's token: log in to Jellyfin again"]);
    expect(await refused('kid-token-0123456789')).toEqual([403, `this Jellyfin user may not play item ${ITEM.done}`]);
    expect(await refused(VIEWER_TOKEN, '?force=1')).toEqual([403, 'force needs the API key: a viewer may start an upscale, not redo one']);
    expect(await refused('bad"token')).toEqual([400, 'the Jellyfin token is not a token (letters, digits and ._~+/=- only)']);
    // Jellyfin failing the check: the viewer is not told Jellyfin's address.
    standIn.users.set('troubled-token-0123456789', { name: 'troubled', hidden: new Set(), failWith: 500 });
    expect(await refused('troubled-token-0123456789')).toEqual([502, "Upflow cannot look this item up in Jellyfin now; the reason is in Upflow's log"]);
    // An item outside the media folders: the viewer is told no path.
    const outside = (await pageFetch(jellyfin.page, `${upflow.apiUrl}/items/${ITEM.outside}/upscale`, { method: 'POST', headers: { Authorization: `MediaBrowser Token="${VIEWER_TOKEN}"` } })) as { status: number; body: string };
    expect(outside.status).toBe(403);
    expect(outside.body).not.toContain(upflow.dir);
    await jellyfin.page.context().close();

    const listed = await openPage(browser);
    await listed.page.goto(`${listedPage.origin}/`);
    // A header asks the browser first (a preflight); Upflow says yes to this origin.
    const jobs = await pageFetch(listed.page, `${upflow.apiUrl}/jobs`, { headers: { 'X-Api-Key': API_KEY } });
    expect(jobs).toMatchObject({ status: 200 });
    expect((JSON.parse((jobs as { body: string }).body) as { jobs: Array<{ id: string }> }).jobs.map((j) => j.id)).toContain(running.jobId);
    expect(await pageFetch(listed.page, `${upflow.apiUrl}/jobs`)).toMatchObject({ status: 401 });
    const cancel = await pageFetch(listed.page, `${upflow.apiUrl}/jobs/${running.jobId}/cancel`, { method: 'POST', headers: { 'X-Api-Key': API_KEY } });
    expect(cancel).toMatchObject({ status: 202 });
    await waitFor('the cancel', async () => ((await jobState(running.jobId)) === 'cancelled' || undefined), 60_000, 250);
    await listed.page.context().close();
  }, 90_000);

  it('refuses a body over 64 KB with 413 and a reason, and text/plain bodies but on the webhook route', async () => {
    const huge = await post('/upscale-trigger', { Item: { Path: clip, Name: 'x'.repeat(100_000) } }, withKey);
    expect(huge.status).toBe(413);
    expect(huge.json.error).toBe('request body is too large');
    // The Webhook plugin's default: JSON sent as text/plain, read on /upscale-trigger.
    const plain = await request('POST', '/upscale-trigger', { body: webhook(ITEM.done, 'PlaybackStop'), headers: { ...withKey, 'content-type': 'text/plain' } });
    expect(plain.json).toMatchObject({ status: 'ignored' });
  });

  it('a second `upflow up` on the same data folder refuses, naming the one running, and leaves it running', async () => {
    const running = upflow.descendants();
    const second = await run(process.execPath, [UPFLOW, 'up'], { env: { ...upflow.env, UPFLOW_API_PORT: String(await findFreePort()) }, cwd: upflow.dir, timeout: 60_000 })
      .then(() => ({ code: 0, stderr: '' }), (err: { code: number; stderr: string }) => err);
    expect(second.code).toBe(1);
    expect(second.stderr).toMatch(/^upflow: Upflow is already running on the data folder .* \(pid \d+\): use it \(its API\), stop it first, or set UPFLOW_DATA_DIR to another folder\n$/);
    // Its Postgres, Temporal and worker untouched.
    expect(running.filter((pid) => !isAlive(pid))).toEqual([]);
    expect((await request('GET', '/health', { headers: withKey })).status).toBe(200);
  }, 60_000);

  it('the CLI sends the key it is configured with, on changes and reads', async () => {
    const other = await makeClip(path.join(upflow.mediaDir, 'cli.mp4'), { seconds: 3 });
    const cli = (...args: string[]) => run(process.execPath, [UPFLOW, ...args], { env: upflow.env, cwd: upflow.dir, timeout: 120_000 });
    const { stdout } = await cli('upscale', other, '--json');
    const events = stdout.trim().split('\n').map((l) => JSON.parse(l) as { event: string; job?: string });
    expect(events.at(-1)).toMatchObject({ event: 'complete' });
    const monitored = await cli('monitor', events[0]!.job!, '--json');
    expect(monitored.stdout).toContain('"event":"ended"');
    const audited = await cli('audit', events[0]!.job!, '--json');
    expect(JSON.parse(audited.stdout)).toMatchObject({ segmentTimings: expect.any(Array) });
  }, 120_000);

  it('limits triggers per client per minute with 429 and a reason, whatever X-Forwarded-For says; ignored notifications do not count', async () => {
    const remaining = (answer: { headers: Headers }) => Number(/;\s*r=(\d+)/.exec(answer.headers.get('ratelimit') ?? '')?.[1]);
    const resetIn = (answer: { headers: Headers }) => Number(/;\s*t=(\d+)/.exec(answer.headers.get('ratelimit') ?? '')?.[1]);
    const counted = (i: number) => post('/upscale-trigger', triggerBody(), { ...withKey, 'x-forwarded-for': `203.0.113.${i % 250}` });
    const first = await counted(0);
    for (let i = 0; i < 5; i++) {
      const ignored = await request('POST', '/upscale-trigger', { body: webhook(ITEM.done, 'PlaybackProgress'), headers: { ...withKey, 'content-type': 'text/plain' } });
      expect(ignored.json.status).toBe('ignored');
      expect(ignored.headers.get('ratelimit')).toBeNull();
    }
    const second = await counted(1);
    // One less left, unless the minute's window ended between the two.
    if (resetIn(second) <= resetIn(first)) expect(remaining(second)).toBe(remaining(first) - 1);
    // The script's route reads no body: one that reads as an ignored notification is counted there all the same.
    const scriptTrigger = await request('POST', `/items/${ITEM.done}/upscale`, { body: webhook(ITEM.done, 'PlaybackProgress'), headers: { ...withKey, 'content-type': 'application/json' } });
    expect(scriptTrigger.headers.get('ratelimit')).not.toBeNull();

    // The window is a minute from this client's first counted trigger, so it may end during this
    // loop; two windows take at most twice the limit: one more is refused.
    const answers: number[] = [];
    for (let i = 0; i < 2 * TRIGGERS_PER_MINUTE + 1; i++) answers.push((await counted(i + 2)).status);
    expect(answers.filter((s) => s === 429).length).toBeGreaterThan(0);
    const limited = await counted(99);
    expect(limited.status).toBe(429);
    expect(limited.json.error).toMatch(new RegExp(`too many triggers: at most ${TRIGGERS_PER_MINUTE} a minute from one client \\(UPFLOW_TRIGGER_RATE_LIMIT\\)`));
    expect(limited.headers.get('ratelimit-policy')).toContain(String(TRIGGERS_PER_MINUTE));
    // Ignored notifications still answer while triggers are refused.
    expect((await request('POST', '/upscale-trigger', { body: webhook(ITEM.done, 'PlaybackStop'), headers: { ...withKey, 'content-type': 'text/plain' } })).json.status).toBe('ignored');
  }, 60_000);

  it('limits failed item lookups per client per minute (unknown items, and tokens Jellyfin refused), whatever X-Forwarded-For says; a player polling its item never meets it', async () => {
    // Many more answered lookups than the limit: they do not count.
    for (let i = 0; i < ITEM_LOOKUP_FAILURES_PER_MINUTE + 20; i++) expect((await request('GET', `/items/${ITEM.done}/status`)).status).toBe(200);
    const statuses: number[] = [];
    for (let i = 0; i <= ITEM_LOOKUP_FAILURES_PER_MINUTE && !statuses.includes(429); i++) {
      const headers = { 'x-forwarded-for': `198.51.100.${i % 250}` };
      // Every other one a made-up viewer token: answered 200 without the stream, and each one a call to Jellyfin.
      statuses.push(i % 2 === 0
        ? (await request('GET', `/items/${ITEM.unknown}/status`, { headers })).status
        : (await request('GET', `/items/${ITEM.done}/status`, { headers: { ...headers, authorization: `MediaBrowser Token="made-up-${i}"` } })).status);
    }
    expect(statuses.at(-1)).toBe(429);
    expect(new Set(statuses.slice(0, -1))).toEqual(new Set([404, 200]));
    const limited = await request('GET', `/items/${ITEM.done}/status`);
    expect([limited.status, limited.json.error]).toEqual([429, `too many failed item lookups: at most ${ITEM_LOOKUP_FAILURES_PER_MINUTE} a minute from one client; try again shortly`]);
    // Said once in the log: a proxy's header is not believed until UPFLOW_TRUST_PROXY names it.
    expect(upflow.output().match(/UPFLOW_TRUST_PROXY is unset/g)).toHaveLength(1);
  }, 60_000);
});

describe('start-up refuses what would open Upflow up or loop on its own files', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'upflow-refusals-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  /** `upflow up` with only `env` set (none of this shell's Upflow settings): its exit code and what it said. */
  const up = async (env: Record<string, string>) => {
    const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^(UPFLOW_|JELLYFIN_|DATABASE_URL$|HLS_|SRGAN_)/.test(name)));
    const result = await run(process.execPath, [UPFLOW, 'up'], { env: { ...inherited, UPFLOW_DATA_DIR: path.join(dir, 'data'), ...env }, cwd: dir, timeout: 30_000 })
      .then(({ stdout, stderr }) => ({ code: 0, stdout, stderr }), (err: { code: number; stdout: string; stderr: string }) => err);
    return { code: result.code, stderr: result.stderr, stdout: result.stdout };
  };

  it('UPFLOW_API_HOST=0.0.0.0 without UPFLOW_API_KEY, in one line naming what to set', async () => {
    const refused = await up({ UPFLOW_API_HOST: '0.0.0.0' });
    expect(refused).toEqual({
      code: 1,
      stdout: '',
      stderr: 'upflow: UPFLOW_API_HOST=0.0.0.0 lets other machines reach the API, which then needs UPFLOW_API_KEY: set UPFLOW_API_KEY (`openssl rand -hex 16` makes one), or unset UPFLOW_API_HOST to listen on this machine only\n',
    });
  });

  it('an output folder inside a media folder, naming both', async () => {
    const media = path.join(dir, 'media');
    const refused = await up({ UPFLOW_MEDIA_ROOTS: media, UPFLOW_OUTPUT_DIR: path.join(media, 'upscaled') });
    expect(refused).toEqual({
      code: 1,
      stdout: '',
      stderr: `upflow: UPFLOW_OUTPUT_DIR (${media}/upscaled) is inside the media folder ${media} (UPFLOW_MEDIA_ROOTS): Upflow would find its own upscales there and could upscale them again; choose a folder outside the media folders\n`,
    });
  });
});
