/**
 * The API's guards on the real stack: the API key on every request that changes something
 * (header, bearer or query, compared in constant time), open reads, security headers, the
 * body size limit and the trigger rate limit; the CLI sends the key it is configured with.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { makeClip } from '../support/fixtures';
import { startUpflow, waitFor, type UpflowProcess } from '../support/upflow-process';

const run = promisify(execFile);
const API_KEY = 'test-key-0123456789abcdef';
const TRIGGERS_PER_MINUTE = 8;

describe('API key, headers and limits', () => {
  let upflow: UpflowProcess;
  let clip: string;

  const post = async (route: string, body: unknown, headers: Record<string, string> = {}) => {
    const response = await fetch(`${upflow.apiUrl}${route}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    return { status: response.status, json: (await response.json()) as Record<string, unknown>, headers: response.headers };
  };
  const triggerBody = () => ({ Item: { Path: clip, Name: 'Guarded' } });

  beforeAll(async () => {
    upflow = await startUpflow({ UPFLOW_API_KEY: API_KEY, UPFLOW_TRIGGER_RATE_LIMIT: String(TRIGGERS_PER_MINUTE) });
    clip = await makeClip(path.join(upflow.mediaDir, 'guarded.mp4'), { seconds: 4 });
  }, 180_000);

  afterAll(async () => {
    if (!upflow) return;
    expect(await upflow.stop()).toBe(0);
    fs.rmSync(upflow.dir, { recursive: true, force: true });
  }, 120_000);

  it('refuses a change without the key, or with a wrong one, saying why, and starts nothing', async () => {
    const without = await post('/upscale-trigger', triggerBody());
    expect(without.status).toBe(401);
    expect(without.json.error).toMatch(/needs the API key \(UPFLOW_API_KEY\): send it as the X-Api-Key header or \?api_key=/);
    const wrongKeys: Record<string, string>[] = [{ 'x-api-key': 'wrong' }, { authorization: `Bearer ${API_KEY}x` }, { 'x-api-key': API_KEY.slice(0, -1) }];
    for (const headers of wrongKeys) {
      const wrong = await post('/upscale-trigger', triggerBody(), headers);
      expect(wrong.status).toBe(401);
      expect(wrong.json.error).toBe('the API key is wrong');
    }
    expect((await post(`/upscale-trigger?api_key=nope`, triggerBody())).status).toBe(401);
    expect((await post('/items/5f0c3d1a9b8e4c2d8a7b6c5d4e3f2a10/upscale', {})).status).toBe(401);
    expect((await post('/jobs/01a21211-5d1c-76b5-97c6-cd631f10ee8b/cancel', {})).status).toBe(401);
    expect((await upflow.api<{ jobs: unknown[] }>('GET', '/jobs')).json.jobs).toEqual([]);
  });

  it('accepts the key as X-Api-Key, as a bearer token and as ?api_key=, and cancels with it', async () => {
    const started = await post('/upscale-trigger', triggerBody(), { 'x-api-key': API_KEY });
    expect(started.status).toBe(202);
    const again = await post('/upscale-trigger', triggerBody(), { authorization: `Bearer ${API_KEY}` });
    expect(again.json).toMatchObject({ status: 'already_running', job_id: started.json.job_id });
    const byQuery = await post(`/upscale-trigger?api_key=${API_KEY}`, triggerBody());
    expect(byQuery.json).toMatchObject({ job_id: started.json.job_id });
    const jobId = started.json.job_id as string;
    await waitFor('the job row', async () => ((await upflow.api('GET', `/jobs/${jobId}`)).status === 200 || undefined));
    expect((await post(`/jobs/${jobId}/cancel`, {})).status).toBe(401);
    expect((await post(`/jobs/${jobId}/cancel`, {}, { 'x-api-key': API_KEY })).status).toBe(202);
    await waitFor('the cancel', async () => ((await upflow.api<{ state: string }>('GET', `/jobs/${jobId}`)).json.state === 'cancelled' || undefined), 60_000, 250);
  }, 90_000);

  it('keeps reads open, with security headers on every answer', async () => {
    for (const route of ['/health', '/jobs', '/metrics', '/', '/cleanup-runs', '/hls-status/guarded.mp4', '/client/upflow-jellyfin.js']) {
      const response = await fetch(`${upflow.apiUrl}${route}`);
      expect([route, response.status]).toEqual([route, 200]);
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
      expect(response.headers.get('content-security-policy')).toContain("default-src 'self'");
      // Jellyfin's page loads the script from another origin.
      expect(response.headers.get('cross-origin-resource-policy')).toBe('cross-origin');
      expect(response.headers.get('x-powered-by')).toBeNull();
      await response.arrayBuffer();
    }
  });

  it('refuses a body over 64 KB with 413 and a reason', async () => {
    const huge = await post('/upscale-trigger', { Item: { Path: clip, Name: 'x'.repeat(100_000) } }, { 'x-api-key': API_KEY });
    expect(huge.status).toBe(413);
    expect(huge.json.error).toBe('request body is too large');
  });

  it('the CLI sends the key it is configured with', async () => {
    const other = await makeClip(path.join(upflow.mediaDir, 'cli.mp4'), { seconds: 3 });
    const { stdout } = await run(process.execPath, [path.join(__dirname, '..', '..', 'bin', 'upflow.js'), 'upscale', other, '--json'], { env: upflow.env, cwd: upflow.dir, timeout: 120_000 });
    expect(stdout.trim().split('\n').map((l) => JSON.parse(l) as { event: string }).at(-1)).toMatchObject({ event: 'complete' });
  }, 120_000);

  it('limits triggers per client per minute with 429 and a reason', async () => {
    // The window is a minute from this client's first counted trigger (3 above, 1 by the CLI), so
    // it may end during this loop; two windows take at most twice the limit: one more is refused.
    const answers: number[] = [];
    for (let i = 0; i < 2 * TRIGGERS_PER_MINUTE + 1; i++) answers.push((await post('/upscale-trigger', triggerBody(), { 'x-api-key': API_KEY })).status);
    expect(answers.filter((s) => s === 429).length).toBeGreaterThan(0);
    const limited = await post('/upscale-trigger', triggerBody(), { 'x-api-key': API_KEY });
    expect(limited.status).toBe(429);
    expect(limited.json.error).toMatch(/too many triggers: at most 8 a minute from one client \(UPFLOW_TRIGGER_RATE_LIMIT\)/);
    expect(limited.headers.get('ratelimit-policy')).toContain('8');
  });
});
