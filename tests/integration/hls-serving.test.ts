/**
 * The API's `/hls` router over HTTP on real files: who gets a file (the key, a title's token,
 * nothing without a key configured), which files are files (no symbolic link is followed, not
 * even to a segment beside it; no FIFO, no folder), and what express.static did before it
 * (types, caching, HEAD, one byte range, conditional GET). Also `/hls/access`, nginx's question.
 * No Upflow stack: the router alone in an Express app, with an error handler that answers JSON
 * as the API's does.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import express, { type NextFunction, type Request, type Response } from 'express';
import { makeTempDataDir } from '../../adapters/postgres-cluster';
import { hlsRouter, type HlsServing } from '../../api/routes/hls';
import { HlsWaiter } from '../../api/hls-waiting';
import { createLogger } from '../../adapters/logger';
import { HLS_REFUSALS, hlsTokens, signHlsToken } from '../../core/hls-access';
import { listenLocally, type LocalServer } from '../support/local-server';
import { rawRequest as request } from '../support/raw-http';
import { UpflowError } from '../../core/errors';
import { httpStatusOf } from '../../api/http-errors';

const KEY = 'serving-test-key-0123456789';
const TTL_MS = 3_600_000;
const TITLE = 'film-3fa9c1d2';
const OTHER = 'other-0badc0de';
const SECRET = 'SECRET-outside-the-hls-folder';
const PLAYLIST = '#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2,\nseg00000.ts\n#EXT-X-ENDLIST\n';

/** The files here are all there is: nothing is being made, so nothing is waited for. */
const nothingMade = (hlsDir: string) => new HlsWaiter({
  hlsDir,
  titles: { liveGrid: async () => undefined, beingMade: async () => false, tellViewer: async () => undefined },
  logger: createLogger({ level: 'silent' }),
  waitMs: 0,
});

async function serve(settings: Omit<HlsServing, 'waiter'>): Promise<LocalServer> {
  const app = express();
  app.use('/hls', hlsRouter({ ...settings, waiter: nothingMade(settings.hlsDir) }));
  app.use((_req, _res, next) => next(Object.assign(new Error('no such endpoint'), { status: 404 })));
  app.use((err: Error & { status?: number }, _req: Request, res: Response, _next: NextFunction) => {
    res.status(err instanceof UpflowError ? httpStatusOf(err.kind) : err.status ?? 500).json({ error: err.message });
  });
  return listenLocally(app);
}

describe('the API\'s HLS files', () => {
  let dir: string;
  let hlsDir: string;
  let segment: Buffer;
  let keyed: { url: string; close(): Promise<void> };
  let open: { url: string; close(): Promise<void> };
  const tokens = hlsTokens(KEY, TTL_MS)!;
  const signed = (titleKey: string, file = 'stream.m3u8', nowMs = Date.now()) => `/hls/t/${signHlsToken(tokens, titleKey, nowMs)}/${titleKey}/${file}`;

  beforeAll(async () => {
    dir = makeTempDataDir('upflow-hls-serving-');
    // The data folder on "another disk": the HLS folder is reached through a link, which is fine.
    const realData = path.join(dir, 'real-data');
    hlsDir = path.join(dir, 'data', 'hls');
    fs.mkdirSync(path.join(realData, 'hls', TITLE), { recursive: true });
    fs.mkdirSync(path.join(dir, 'data'));
    fs.symlinkSync(path.join(realData, 'hls'), hlsDir);
    const titleDir = path.join(hlsDir, TITLE);
    segment = Buffer.alloc(188 * 40, 0x47);
    fs.writeFileSync(path.join(titleDir, 'stream.m3u8'), PLAYLIST);
    fs.writeFileSync(path.join(titleDir, 'seg00000.ts'), segment);
    fs.writeFileSync(path.join(titleDir, 'empty.ts'), '');
    fs.writeFileSync(path.join(titleDir, 'segments.csv'), 'seg00000.ts,0,2\n');

    // What a link planted in a title folder could lead to.
    const outside = path.join(dir, 'outside');
    fs.mkdirSync(outside);
    fs.writeFileSync(path.join(outside, 'secret.ts'), SECRET);
    fs.writeFileSync(path.join(outside, 'stream.m3u8'), `#EXTM3U\n# ${SECRET}\n`);
    fs.symlinkSync(path.join(outside, 'secret.ts'), path.join(titleDir, 'planted.ts'));
    fs.symlinkSync('/etc/hostname', path.join(titleDir, 'hostname.ts'));
    fs.symlinkSync('seg00000.ts', path.join(titleDir, 'alias.ts'));
    fs.symlinkSync(path.join(titleDir, 'nowhere.ts'), path.join(titleDir, 'dangling.ts'));
    fs.symlinkSync(outside, path.join(hlsDir, 'linked-0a0a0a0a'));
    fs.mkdirSync(path.join(titleDir, 'folder.ts'));
    execFileSync('mkfifo', [path.join(titleDir, 'pipe.ts')]);

    keyed = await serve({ hlsDir, apiKey: KEY, tokenTtlMs: TTL_MS });
    open = await serve({ hlsDir, tokenTtlMs: TTL_MS });
  });

  afterAll(async () => {
    await keyed?.close();
    await open?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('serves a signed URL, and the segments the playlist names under the same token', async () => {
    const playlistPath = signed(TITLE);
    const playlist = await request(keyed.url, 'GET', playlistPath);
    expect([playlist.status, playlist.body.toString()]).toEqual([200, PLAYLIST]);
    expect(playlist.headers['content-type']).toBe('application/vnd.apple.mpegurl');
    expect(playlist.headers['cache-control']).toBe('no-cache');
    const segmentPath = new URL('seg00000.ts', `http://x${playlistPath}`).pathname;
    const got = await request(keyed.url, 'GET', segmentPath);
    expect(got.status).toBe(200);
    expect(got.body.equals(segment)).toBe(true);
    expect(got.headers['content-type']).toBe('video/mp2t');
    expect(got.headers['cache-control']).toBe('public, max-age=86400, immutable');
    expect(got.headers['content-length']).toBe(String(segment.length));
  });

  it('serves the plain path to the key (header or bearer), every title', async () => {
    expect((await request(keyed.url, 'GET', `/hls/${TITLE}/stream.m3u8`, { 'x-api-key': KEY })).status).toBe(200);
    expect((await request(keyed.url, 'GET', `/hls/${TITLE}/seg00000.ts`, { authorization: `Bearer ${KEY}` })).status).toBe(200);
  });

  it('refuses without a credential (401), a wrong key (401), and a token that does not hold (403), with the reason', async () => {
    const refusals: [string, Record<string, string>, number, string][] = [
      [`/hls/${TITLE}/stream.m3u8`, {}, 401, HLS_REFUSALS.noCredential],
      [`/hls/${TITLE}/stream.m3u8`, { 'x-api-key': `${KEY}x` }, 401, HLS_REFUSALS.wrongKey],
      [signed(OTHER).replace(OTHER, TITLE), {}, 403, HLS_REFUSALS.mismatch],
      [signed(TITLE, 'stream.m3u8', Date.now() - TTL_MS - 1000), {}, 403, HLS_REFUSALS.expired],
      [`/hls/t/12345.abc/${TITLE}/stream.m3u8`, {}, 403, HLS_REFUSALS.malformed],
    ];
    for (const [requestPath, headers, status, reason] of refusals) {
      const answer = await request(keyed.url, 'GET', requestPath, headers);
      expect([requestPath, answer.status, answer.json?.error]).toEqual([requestPath, status, reason]);
    }
  });

  it('never follows a symbolic link: to a file outside, to /etc/hostname, to a segment beside it, or a linked title folder', async () => {
    for (const file of ['planted.ts', 'hostname.ts', 'alias.ts', 'dangling.ts']) {
      for (const requestPath of [signed(TITLE, file), `/hls/${TITLE}/${file}`]) {
        const answer = await request(keyed.url, 'GET', requestPath, { 'x-api-key': KEY });
        expect([requestPath, answer.status, answer.json?.error]).toEqual([requestPath, 404, 'no such HLS file']);
      }
    }
    for (const file of ['stream.m3u8', 'secret.ts']) {
      const answer = await request(keyed.url, 'GET', signed('linked-0a0a0a0a', file));
      expect([file, answer.status]).toEqual([file, 404]);
      expect(answer.body.toString()).not.toContain(SECRET);
    }
    const hostname = fs.readFileSync('/etc/hostname', 'utf8').trim();
    const answer = await request(open.url, 'GET', `/hls/${TITLE}/hostname.ts`);
    expect(answer.status).toBe(404);
    if (hostname) expect(answer.body.toString()).not.toContain(hostname);
  });

  it('serves no FIFO (without hanging on it), folder, segment list or other name', async () => {
    for (const file of ['pipe.ts', 'folder.ts', 'missing.ts']) expect([file, (await request(keyed.url, 'GET', signed(TITLE, file))).status]).toEqual([file, 404]);
    for (const requestPath of [`/hls/${TITLE}/segments.csv`, '/hls/', `/hls/${TITLE}/`, `/hls/t/x/${TITLE}/../${TITLE}/stream.m3u8`, `/hls/${TITLE}/%73tream.m3u8`]) {
      const answer = await request(keyed.url, 'GET', requestPath, { 'x-api-key': KEY });
      expect([requestPath, answer.status, answer.json?.error]).toEqual([requestPath, 404, 'not an HLS file']);
    }
  });

  it('answers HEAD, one byte range, a range past the end, and conditional requests', async () => {
    const file = signed(TITLE, 'seg00000.ts');
    const head = await request(keyed.url, 'HEAD', file);
    expect([head.status, head.headers['content-length'], head.body.length]).toEqual([200, String(segment.length), 0]);
    const ranged = await request(keyed.url, 'GET', file, { range: 'bytes=0-187' });
    expect([ranged.status, ranged.headers['content-range'], ranged.body.length, ranged.body[0]]).toEqual([206, `bytes 0-187/${segment.length}`, 188, 0x47]);
    const tail = await request(keyed.url, 'GET', file, { range: 'bytes=-100' });
    expect([tail.status, tail.headers['content-range'], tail.body.length]).toEqual([206, `bytes ${segment.length - 100}-${segment.length - 1}/${segment.length}`, 100]);
    const past = await request(keyed.url, 'GET', file, { range: `bytes=${segment.length + 10}-` });
    expect([past.status, past.headers['content-range']]).toEqual([416, `bytes */${segment.length}`]);
    const changed = await request(keyed.url, 'GET', file, { range: 'bytes=0-187', 'if-range': 'Thu, 01 Jan 1970 00:00:00 GMT' });
    expect([changed.status, changed.body.length]).toEqual([200, segment.length]);
    const again = await request(keyed.url, 'GET', file, { 'if-none-match': head.headers.etag! });
    expect([again.status, again.body.length]).toEqual([304, 0]);
    const since = await request(keyed.url, 'GET', file, { 'if-modified-since': head.headers['last-modified']! });
    expect(since.status).toBe(304);
    const empty = await request(keyed.url, 'GET', signed(TITLE, 'empty.ts'), { range: 'bytes=0-10' });
    expect([empty.status, empty.body.length]).toEqual([200, 0]);
  });

  it('is open without a key configured: plain paths and signed ones alike (nothing to check them with)', async () => {
    expect((await request(open.url, 'GET', `/hls/${TITLE}/stream.m3u8`)).status).toBe(200);
    expect((await request(open.url, 'GET', `/hls/t/1.junk/${TITLE}/seg00000.ts`)).status).toBe(200);
    expect((await request(open.url, 'GET', `/hls/${TITLE}/planted.ts`)).status).toBe(404);
  });

  it('answers nginx\'s auth_request: 204, or 401/403 with the reason in a header', async () => {
    const ask = (original: string, headers: Record<string, string> = {}) => request(keyed.url, 'GET', '/hls/access', { 'x-original-uri': original, ...headers });
    expect((await ask(signed(TITLE, 'seg00000.ts'))).status).toBe(204);
    expect((await ask(`${signed(TITLE)}?x=1`)).status).toBe(204);
    expect((await ask(`/hls/${TITLE}/stream.m3u8`, { 'x-api-key': KEY })).status).toBe(204);
    const refusals: [string, Record<string, string>, number, string][] = [
      [`/hls/${TITLE}/stream.m3u8`, {}, 401, HLS_REFUSALS.noCredential],
      [signed(OTHER).replace(OTHER, TITLE), {}, 403, HLS_REFUSALS.mismatch],
      // What nginx would normalise to another title's file: not taken as is.
      [signed(OTHER).replace(`${OTHER}/`, `${OTHER}/../${TITLE}/`), {}, 403, 'not the path of an HLS file'],
      [`/hls/${TITLE}/%73tream.m3u8`, { 'x-api-key': KEY }, 403, 'not the path of an HLS file'],
      ['', {}, 403, 'not the path of an HLS file'],
    ];
    for (const [original, headers, status, reason] of refusals) {
      const answer = await ask(original, headers);
      expect([original, answer.status, answer.headers['x-upflow-refusal']]).toEqual([original, status, reason]);
    }
    expect((await request(open.url, 'GET', '/hls/access', { 'x-original-uri': `/hls/${TITLE}/stream.m3u8` })).status).toBe(204);
  });
});

describe('players on segments that exist', () => {
  it('are told to the title while it is being made, and not to a finished title waiting out retention', async () => {
    const told: string[] = [];
    let beingMade = true;
    const waiter = new HlsWaiter({
      hlsDir: '/nowhere', // only asked for files not made
      titles: { liveGrid: async () => undefined, beingMade: async () => beingMade, tellViewer: async (titleKey, viewer) => void told.push(`${titleKey} ${viewer.segment}`) },
      logger: createLogger({ level: 'silent' }),
      waitMs: 0,
    });
    const player = (ip: string) => ({ ip }) as Request;
    const settle = () => new Promise((resolve) => setImmediate(resolve));
    waiter.served(player('10.0.0.1'), { titleKey: TITLE, file: 'seg00004.ts' });
    await settle();
    expect(told).toEqual([`${TITLE} 4`]);
    beingMade = false;
    waiter.served(player('10.0.0.2'), { titleKey: TITLE, file: 'seg00009.ts' });
    await settle();
    expect(told).toEqual([`${TITLE} 4`]);
  });
});
