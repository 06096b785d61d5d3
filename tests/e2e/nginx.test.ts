/**
 * The repository's deploy/nginx.conf run by Debian's real nginx (set-up installs it), in front
 * of streams the real stack produced, with UPFLOW_API_KEY set: nginx asks the stack's API who
 * may fetch (auth_request), and answers with the files or the API's reason. The same requests go
 * to the API's own `/hls`, which must agree. No Docker engine runs on this machine, so the file's
 * paths (/data, port 8080, /tmp) and the API's address are templated to a temp folder, free
 * ports and the stack's API; the rest of the configuration is exactly what docker-compose ships.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Parser } from 'm3u8-parser';
import { findFreePort } from '../../adapters/process';
import { HLS_REFUSALS, hlsTokens, signHlsToken } from '../../core/hls-access';
import { parseDurationMs } from '../../core/config';
import { makeClip } from '../support/fixtures';
import { rawRequest } from '../support/raw-http';
import { startUpflow, stopAndRemove, waitFor, type UpflowProcess } from '../support/upflow-process';

const NGINX = '/usr/sbin/nginx';
const CONF = path.join(__dirname, '..', '..', 'deploy', 'nginx.conf');
const API_KEY = 'nginx-test-key-0123456789';
const WITH_KEY = { 'x-api-key': API_KEY };
/** In the file a planted link leads to: an answer that holds it came from outside the HLS folder. */
const CANARY = 'CANARY-7c2d41';

interface Status {
  complete: boolean;
  hls_url: string;
  title_key: string;
}

describe('HLS access through deploy/nginx.conf (Debian nginx) and the API, with a key', () => {
  let upflow: UpflowProcess;
  let nginx: ChildProcess;
  let base: string;
  let nginxOutput = '';
  /** The served title (5 s) and another one (3 s), as `/hls-status` gives them once complete. */
  let served: Status;
  let other: Status;
  /** The path of the served title's signed hls_url, and its token. */
  let signedPath: string;
  let token: string;

  const status = async (file: string): Promise<Status> => (await (await fetch(`${upflow.apiUrl}/hls-status/${file}`, { headers: WITH_KEY })).json()) as Status;
  /** Both servers of HLS: nginx, and the API's own `/hls`. */
  const servers = () => [['nginx', base], ['api', upflow.apiUrl]] as const;

  beforeAll(async () => {
    const port = await findFreePort();
    // hls_url points at nginx, as docker-compose sets it.
    upflow = await startUpflow({ HLS_SEGMENT_TIME: '2', UPFLOW_API_KEY: API_KEY, HLS_SERVER_PORT: String(port) });
    for (const [name, seconds] of [['served.mp4', 5], ['other.mp4', 3]] as const) {
      const clip = await makeClip(path.join(upflow.mediaDir, name), { seconds });
      const started = await fetch(`${upflow.apiUrl}/upscale-trigger`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...WITH_KEY },
        body: JSON.stringify({ Item: { Path: clip } }),
      });
      expect(started.status).toBe(202);
    }
    [served, other] = await waitFor('both streams to complete', async () => {
      const both = await Promise.all([status('served.mp4'), status('other.mp4')]);
      return both.every((s) => s.complete) ? both : undefined;
    }, 90_000, 200);
    signedPath = new URL(served.hls_url).pathname;
    token = signedPath.split('/')[3]!;

    // Links planted in the HLS folder: in a title folder to a file outside, and a title folder that is a link.
    const hlsDir = path.join(upflow.dir, 'data', 'hls');
    const canary = path.join(upflow.dir, 'canary');
    fs.mkdirSync(canary);
    fs.writeFileSync(path.join(canary, 'secret.ts'), CANARY);
    fs.writeFileSync(path.join(canary, 'stream.m3u8'), `#EXTM3U\n# ${CANARY}\n`);
    fs.symlinkSync(path.join(canary, 'secret.ts'), path.join(hlsDir, served.title_key, 'planted.ts'));
    fs.symlinkSync(canary, path.join(hlsDir, 'linked-0a0a0a0a'));

    const runDir = path.join(upflow.dir, 'nginx');
    fs.mkdirSync(runDir, { recursive: true });
    const conf = fs.readFileSync(CONF, 'utf8')
      .replace('listen 8080;', `listen 127.0.0.1:${port};`)
      .replaceAll('/tmp/', `${runDir}/`)
      // A pipe to jest is not a device nginx can open by name; the access log goes to a file.
      .replace('access_log /dev/stdout;', `access_log ${runDir}/access.log;`)
      .replace('root /data;', `root ${path.join(upflow.dir, 'data')};`)
      .replaceAll('http://api:5000/', `${upflow.apiUrl}/`);
    const templated = path.join(runDir, 'nginx.conf');
    fs.writeFileSync(templated, conf);
    nginx = spawn(NGINX, ['-c', templated, '-p', runDir, '-e', 'stderr', '-g', 'daemon off;'], { stdio: ['ignore', 'pipe', 'pipe'] });
    nginx.stdout?.on('data', (d: Buffer) => (nginxOutput += d.toString()));
    nginx.stderr?.on('data', (d: Buffer) => (nginxOutput += d.toString()));
    base = `http://127.0.0.1:${port}`;
    await waitFor('nginx to answer', async () => (await fetch(`${base}/health`).then((r) => r.ok, () => false)) || undefined, 10_000, 100)
      .catch((err: Error) => {
        throw new Error(`${err.message}:\n${nginxOutput}`);
      });
  }, 180_000);

  afterAll(async () => {
    if (nginx && nginx.exitCode === null) {
      const exited = new Promise((resolve) => nginx.on('exit', resolve));
      nginx.kill('SIGQUIT');
      await exited;
    }
    await stopAndRemove(upflow);
  });

  it('answers /health', async () => {
    const health = await fetch(`${base}/health`);
    expect(health.status).toBe(200);
    expect(health.headers.get('content-type')).toBe('application/json');
    expect(await health.json()).toEqual({ status: 'healthy' });
  });

  it('hands out an hls_url signed for its title, on nginx', () => {
    expect(served.hls_url).toMatch(new RegExp(`^${base}/hls/t/\\d+\\.[A-Za-z0-9_-]{43}/${served.title_key}/stream\\.m3u8$`));
    expect(other.hls_url).not.toContain(token);
  });

  it('plays the signed hls_url with no header: the playlist, and the segments it names under the same token, with HLS types, caching, ranges and CORS', async () => {
    const playlist = await fetch(served.hls_url, { headers: { origin: 'http://jellyfin.lan:8096' } });
    expect(playlist.status).toBe(200);
    expect(playlist.headers.get('content-type')).toBe('application/vnd.apple.mpegurl');
    expect(playlist.headers.get('cache-control')).toBe('no-cache');
    expect(playlist.headers.get('access-control-allow-origin')).toBe('*');
    const parser = new Parser();
    parser.push(await playlist.text());
    parser.end();
    expect(parser.manifest.endList).toBe(true);
    expect(parser.manifest.segments.length).toBeGreaterThanOrEqual(3);

    // As a player resolves them: relative to the playlist's URL, so under the same token.
    for (const { uri } of parser.manifest.segments) {
      const url = new URL(uri, served.hls_url);
      expect(url.pathname.startsWith(`/hls/t/${token}/${served.title_key}/`)).toBe(true);
      const segment = await fetch(url, { headers: { range: 'bytes=0-187' } });
      expect(segment.status).toBe(206);
      expect(segment.headers.get('content-type')).toBe('video/mp2t');
      expect(segment.headers.get('cache-control')).toBe('public, max-age=86400, immutable');
      expect(segment.headers.get('access-control-allow-origin')).toBe('*');
      expect(segment.headers.get('access-control-expose-headers')).toContain('Content-Range');
      const bytes = Buffer.from(await segment.arrayBuffer());
      expect(bytes.length).toBe(188);
      expect(bytes[0]).toBe(0x47); // MPEG-TS sync byte
    }

    const preflight = await fetch(served.hls_url, {
      method: 'OPTIONS',
      headers: { origin: 'http://jellyfin.lan:8096', 'access-control-request-method': 'GET', 'access-control-request-headers': 'range' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-headers')).toBe('Range');
  });

  it('serves the same signed path from the API, and the plain path to the key, on both', async () => {
    for (const [name, server] of servers()) {
      expect([name, (await rawRequest(server, 'GET', signedPath)).status]).toEqual([name, 200]);
      expect([name, (await rawRequest(server, 'GET', `/hls/${served.title_key}/stream.m3u8`, WITH_KEY)).status]).toEqual([name, 200]);
      expect([name, (await rawRequest(server, 'GET', `/hls/${other.title_key}/stream.m3u8`, { authorization: `Bearer ${API_KEY}` })).status]).toEqual([name, 200]);
    }
  });

  it('refuses HLS without the key or a token (401), and a token that does not hold (403), with the reason in JSON', async () => {
    const tokens = hlsTokens(API_KEY, parseDurationMs('6h'))!;
    const otherToken = new URL(other.hls_url).pathname.split('/')[3]!;
    const expired = signHlsToken(tokens, served.title_key, Date.now() - parseDurationMs('7h'));
    const flipped = `${token.slice(0, -2)}${token.at(-2) === 'A' ? 'B' : 'A'}${token.at(-1)}`;
    const refusals: [string, string, Record<string, string>, number, string][] = [
      ['no credential', `/hls/${served.title_key}/stream.m3u8`, {}, 401, HLS_REFUSALS.noCredential],
      ['no credential, a segment', `/hls/${served.title_key}/seg00000.ts`, {}, 401, HLS_REFUSALS.noCredential],
      ['a wrong key', `/hls/${served.title_key}/stream.m3u8`, { 'x-api-key': `${API_KEY}x` }, 401, HLS_REFUSALS.wrongKey],
      ["another title's token", `/hls/t/${otherToken}/${served.title_key}/stream.m3u8`, {}, 403, HLS_REFUSALS.mismatch],
      ['a token moved to another title', `/hls/t/${token}/${other.title_key}/seg00000.ts`, {}, 403, HLS_REFUSALS.mismatch],
      ['an expired token', `/hls/t/${expired}/${served.title_key}/stream.m3u8`, {}, 403, HLS_REFUSALS.expired],
      ['an altered signature', `/hls/t/${flipped}/${served.title_key}/stream.m3u8`, {}, 403, HLS_REFUSALS.mismatch],
      ['a later expiry', `/hls/t/${Number(token.split('.')[0]) + 60}.${token.split('.')[1]}/${served.title_key}/stream.m3u8`, {}, 403, HLS_REFUSALS.mismatch],
      ['no signature', `/hls/t/${token.split('.')[0]}/${served.title_key}/stream.m3u8`, {}, 403, HLS_REFUSALS.malformed],
    ];
    for (const [name, server] of servers()) {
      for (const [what, requestPath, headers, code, reason] of refusals) {
        const answer = await rawRequest(server, 'GET', requestPath, headers);
        expect({ server: name, what, status: answer.status, error: answer.json?.error }).toEqual({ server: name, what, status: code, error: reason });
        expect(answer.headers['content-type']).toMatch(/^application\/json/);
        // Kept nowhere: the same URL may work once the key is sent, or with a fresh token.
        if (name === 'nginx') expect(answer.headers['cache-control']).toBe('no-store');
      }
    }
  });

  it('takes no file by a path around the token: another title through `..`, encoded names, a token in the wrong place', async () => {
    const otherToken = new URL(other.hls_url).pathname.split('/')[3]!;
    const tricks = [
      // nginx normalises these to the served title's files; the token is the other title's.
      `/hls/t/${otherToken}/${other.title_key}/../${served.title_key}/stream.m3u8`,
      `/hls/t/${otherToken}/${other.title_key}/%2e%2e/${served.title_key}/stream.m3u8`,
      `/hls/t/${otherToken}/${other.title_key}/..%2f${served.title_key}%2fstream.m3u8`,
      `/hls/t/${otherToken}/./../../hls/${served.title_key}/stream.m3u8`,
      `/hls/t/${otherToken}//${served.title_key}/stream.m3u8`,
      `/hls/t/${token}/${served.title_key}/%73tream.m3u8`,
      `/hls/${served.title_key}/t/${token}/stream.m3u8`,
      `/hls/t/${token}/t/${token}/${served.title_key}/stream.m3u8`,
      `/hls/t/${token}/${served.title_key}/../../../postgres/PG_VERSION`,
      `/hls/t/${token}/${served.title_key}/segments.csv`,
    ];
    for (const [name, server] of servers()) {
      for (const trick of tricks) {
        const answer = await rawRequest(server, 'GET', trick);
        expect({ server: name, trick, refused: answer.status >= 400 && answer.status < 500 }).toEqual({ server: name, trick, refused: true });
        expect(answer.body.toString()).not.toContain('#EXTM3U');
      }
    }
  });

  it('lists nothing, with the key or without, and serves nothing but HLS files', async () => {
    for (const route of ['/hls/', `/hls/${served.title_key}/`, `/hls/t/${token}/${served.title_key}/`, `/hls/t/${token}/`, '/hls']) {
      for (const headers of [{}, WITH_KEY]) {
        const answer = await rawRequest(base, 'GET', route, headers);
        expect([route, answer.status]).toEqual([route, 404]);
        expect(answer.body.toString()).not.toContain(served.title_key);
      }
    }
    for (const route of [`/hls/${served.title_key}/segments.csv`, '/hls/../postgres/PG_VERSION', '/hls/%2e%2e/postgres/PG_VERSION', '/postgres/PG_VERSION', '/']) {
      const answer = await rawRequest(base, 'GET', route, WITH_KEY);
      expect([route, [400, 404].includes(answer.status)]).toEqual([route, true]);
    }
  });

  it('never follows a symbolic link planted in the HLS folder, with a token or the key', async () => {
    const linkedToken = signHlsToken(hlsTokens(API_KEY, parseDurationMs('6h'))!, 'linked-0a0a0a0a', Date.now());
    const planted = [
      [`/hls/t/${token}/${served.title_key}/planted.ts`, {}],
      [`/hls/${served.title_key}/planted.ts`, WITH_KEY],
      [`/hls/t/${linkedToken}/linked-0a0a0a0a/stream.m3u8`, {}],
      ['/hls/linked-0a0a0a0a/secret.ts', WITH_KEY],
    ] as const;
    for (const [name, server] of servers()) {
      for (const [requestPath, headers] of planted) {
        const answer = await rawRequest(server, 'GET', requestPath, headers);
        expect({ server: name, requestPath, status: answer.status, error: answer.json?.error }).toEqual({ server: name, requestPath, status: 404, error: 'no such HLS file' });
        expect(answer.body.toString()).not.toContain(CANARY);
      }
    }
  });

  it('answers 503 with the reason while the API is down, and serves nothing meanwhile', async () => {
    expect(await upflow.stop()).toBe(0);
    const answer = await rawRequest(base, 'GET', signedPath);
    expect([answer.status, answer.json?.error, answer.headers['cache-control']]).toEqual([503, 'cannot check HLS access: the Upflow API does not answer', 'no-store']);
  });
});
