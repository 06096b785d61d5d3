/**
 * The repository's deploy/nginx.conf run by Debian's real nginx (set-up installs it), in front
 * of a stream the real stack produced. No Docker engine runs on this machine, so the file's
 * paths (/data, port 8080, /tmp) are templated to a temp folder and free port; the rest of the
 * configuration is exactly what docker-compose ships.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Parser } from 'm3u8-parser';
import { findFreePort } from '../../adapters/process';
import { makeClip } from '../support/fixtures';
import { startUpflow, waitFor, type UpflowProcess } from '../support/upflow-process';

const NGINX = '/usr/sbin/nginx';
const CONF = path.join(__dirname, '..', '..', 'deploy', 'nginx.conf');

describe('deploy/nginx.conf serving a produced stream (Debian nginx)', () => {
  let upflow: UpflowProcess;
  let nginx: ChildProcess;
  let base: string;
  let titleKey: string;
  let nginxOutput = '';

  beforeAll(async () => {
    upflow = await startUpflow({ HLS_SEGMENT_TIME: '2' });
    const clip = await makeClip(path.join(upflow.mediaDir, 'served.mp4'), { seconds: 5 });
    const started = (await (await fetch(`${upflow.apiUrl}/upscale-trigger`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ Item: { Path: clip } }),
    })).json()) as { title_key: string };
    titleKey = started.title_key;
    await waitFor('the stream to complete', async () => {
      const status = (await (await fetch(`${upflow.apiUrl}/hls-status/served.mp4`)).json()) as { complete: boolean };
      return status.complete ? true : undefined;
    }, 60_000, 200);

    const port = await findFreePort();
    const runDir = path.join(upflow.dir, 'nginx');
    fs.mkdirSync(runDir, { recursive: true });
    const conf = fs.readFileSync(CONF, 'utf8')
      .replace('listen 8080;', `listen 127.0.0.1:${port};`)
      .replaceAll('/tmp/', `${runDir}/`)
      // A pipe to jest is not a device nginx can open by name; the access log goes to a file.
      .replace('access_log /dev/stdout;', `access_log ${runDir}/access.log;`)
      .replace('root /data;', `root ${path.join(upflow.dir, 'data')};`);
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
  }, 120_000);

  afterAll(async () => {
    if (nginx && nginx.exitCode === null) {
      const exited = new Promise((resolve) => nginx.on('exit', resolve));
      nginx.kill('SIGQUIT');
      await exited;
    }
    if (upflow) {
      expect(await upflow.stop()).toBe(0);
      fs.rmSync(upflow.dir, { recursive: true, force: true });
    }
  });

  it('answers /health', async () => {
    const health = await fetch(`${base}/health`);
    expect(health.status).toBe(200);
    expect(health.headers.get('content-type')).toBe('application/json');
    expect(await health.json()).toEqual({ status: 'healthy' });
  });

  it('serves the playlist uncached and segments cached, with HLS types and CORS', async () => {
    const playlist = await fetch(`${base}/hls/${titleKey}/stream.m3u8`, { headers: { origin: 'http://jellyfin.lan:8096' } });
    expect(playlist.status).toBe(200);
    expect(playlist.headers.get('content-type')).toBe('application/vnd.apple.mpegurl');
    expect(playlist.headers.get('cache-control')).toBe('no-cache');
    expect(playlist.headers.get('access-control-allow-origin')).toBe('*');
    const parser = new Parser();
    parser.push(await playlist.text());
    parser.end();
    expect(parser.manifest.endList).toBe(true);
    const first = parser.manifest.segments[0]!.uri;

    const segment = await fetch(`${base}/hls/${titleKey}/${first}`, { headers: { range: 'bytes=0-187' } });
    expect(segment.status).toBe(206);
    expect(segment.headers.get('content-type')).toBe('video/mp2t');
    expect(segment.headers.get('cache-control')).toBe('public, max-age=86400, immutable');
    expect(segment.headers.get('access-control-allow-origin')).toBe('*');
    expect(segment.headers.get('access-control-expose-headers')).toContain('Content-Range');
    const bytes = Buffer.from(await segment.arrayBuffer());
    expect(bytes.length).toBe(188);
    expect(bytes[0]).toBe(0x47); // MPEG-TS sync byte

    const preflight = await fetch(`${base}/hls/${titleKey}/stream.m3u8`, {
      method: 'OPTIONS',
      headers: { origin: 'http://jellyfin.lan:8096', 'access-control-request-method': 'GET', 'access-control-request-headers': 'range' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-headers')).toBe('Range');
  });

  it('lists folders for debugging but serves nothing else', async () => {
    const listing = await fetch(`${base}/hls/`);
    expect(listing.status).toBe(200);
    expect(listing.headers.get('content-type')).toBe('text/html');
    expect(await listing.text()).toContain(`${titleKey}/`);
    for (const route of [`/hls/${titleKey}/segments.csv`, '/hls/../postgres/PG_VERSION', '/hls/%2e%2e/postgres/PG_VERSION', '/postgres/PG_VERSION', '/']) {
      const answer = await fetch(`${base}${route}`);
      expect([400, 404]).toContain(answer.status);
    }
  });
});
