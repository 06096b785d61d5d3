/**
 * One file, one title, and ffmpeg reads only the file that was checked: on the real stack
 * (`upflow up` with one worker slot, lanczos, real ffmpeg) against a Postgres of the test's own,
 * so that titles from before (8-digit keys) and a key held by another file can be planted.
 *   - A source replaced under the same name is upscaled again; the old final file stays until
 *     the new one is complete, and after a failed re-upscale.
 *   - A source swapped after its probe, while it waits for the worker (a symlink to a file
 *     outside, an HLS playlist naming one, another video), is refused at the encode with the
 *     reason in Postgres and Temporal, and nothing of it is encoded.
 *   - A title key that belongs to another file is refused; a title known by its path keeps its key.
 *   - Two files of one name: `/hls-status/:filename` answers 409 naming both; `?path=` chooses.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Client, Connection, WorkflowFailedError } from '@temporalio/client';
import { titleKeyFor } from '../../core/media-paths';
import { createLogger } from '../../adapters/logger';
import { createPool, type Pool } from '../../adapters/postgres';
import { makeTempDataDir, startPostgresCluster, type PostgresCluster } from '../../adapters/postgres-cluster';
import { ffprobe, makeClip } from '../support/fixtures';
import { startUpflow, stopAndRemove, waitFor, type UpflowProcess } from '../support/upflow-process';

interface Answer {
  status: number;
  json: Record<string, unknown>;
}

interface Job {
  id: string;
  workflowId: string;
  titleKey: string;
  state: string;
  segments: number;
  failureReason: string | null;
  finalPath: string | null;
  streamStartedAt: string | null;
  queuePosition: number | null;
}

const SCALE = 2;

describe('one file, one title; ffmpeg reads only the checked file', () => {
  let servicesDir: string;
  let postgres: PostgresCluster;
  let pool: Pool;
  let upflow: UpflowProcess;
  let temporal: Client;
  let outside: string;

  const call = async (method: string, route: string, body?: unknown): Promise<Answer> => {
    const response = await fetch(`${upflow.apiUrl}${route}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: response.status, json: (await response.json()) as Record<string, unknown> };
  };
  const trigger = (file: string) => call('POST', '/upscale-trigger', { Item: { Path: file } });
  const job = async (id: string) => (await call('GET', `/jobs/${id}`)).json as unknown as Job;
  const ended = (id: string, timeoutMs = 90_000) => waitFor(`job ${id} to end`, async () => {
    const j = await job(id);
    return ['complete', 'failed', 'cancelled'].includes(j.state) ? j : undefined;
  }, timeoutMs, 200);
  const waitingForWorker = (id: string) => waitFor(`job ${id} to be probed and waiting for the worker`, async () => {
    const j = await job(id);
    if (['complete', 'failed', 'cancelled'].includes(j.state)) throw new Error(`job ${id} is ${j.state} (${j.failureReason})`);
    return j.state === 'streaming' && j.streamStartedAt === null && j.queuePosition !== null ? j : undefined;
  }, 60_000, 100);
  /** A new file given the name, as a downloader upgrading a film does: written beside it, renamed over it. */
  const replace = (file: string, content: string | Buffer) => {
    const next = path.join(path.dirname(file), `.next-${path.basename(file)}`);
    fs.writeFileSync(next, content);
    fs.renameSync(next, file);
  };
  /** Temporal's record of the run: its failure message, or undefined if it did not fail. */
  const temporalFailure = async (j: Job): Promise<string | undefined> => {
    const failure = await temporal.workflow.getHandle(j.workflowId, j.id).result().then(() => undefined, (err: unknown) => err);
    return failure instanceof WorkflowFailedError ? failure.cause?.message : undefined;
  };

  beforeAll(async () => {
    servicesDir = makeTempDataDir('upflow-identity-pg-');
    const logger = createLogger({ level: 'silent' });
    postgres = await startPostgresCluster({ dir: path.join(servicesDir, 'postgres'), logFile: path.join(servicesDir, 'postgres.log'), logger });
    pool = createPool(postgres.url);
    upflow = await startUpflow({
      DATABASE_URL: postgres.url,
      UPFLOW_GPU_CONCURRENCY: '1',
      HLS_SEGMENT_TIME: '2',
      SRGAN_ENABLE: '0',
      SRGAN_SCALE_FACTOR: String(SCALE),
      UPFLOW_TRIGGER_RATE_LIMIT: '1000',
    });
    temporal = new Client({ connection: await Connection.connect({ address: `127.0.0.1:${upflow.env.UPFLOW_TEMPORAL_PORT}` }) });
    outside = path.join(upflow.dir, 'outside');
    fs.mkdirSync(outside);
  }, 180_000);

  afterAll(async () => {
    await temporal?.connection.close();
    await stopAndRemove(upflow);
    await pool?.end();
    await postgres?.stop();
    if (servicesDir) fs.rmSync(servicesDir, { recursive: true, force: true });
  }, 120_000);

  it('upscales a source replaced under the same name again, keeping the old final file until the new one is complete', async () => {
    const film = await makeClip(path.join(upflow.mediaDir, 'a.mp4'), { seconds: 5, width: 320, height: 180 });
    const first = await trigger(film);
    expect(first.json.status).toBe('started');
    const titleKey = first.json.title_key as string;
    expect(titleKey).toMatch(/^a-[0-9a-f]{16}$/);
    const made = await ended(first.json.job_id as string);
    expect(made.state).toBe('complete');
    const finalFile = made.finalPath!;
    expect(ffprobe(finalFile).durationSeconds).toBeCloseTo(5, 0);
    expect((await trigger(film)).json).toMatchObject({ status: 'complete', job_id: made.id });

    // A 10 s film under the same name: before this, `complete` with the 5 s file.
    const longer = await makeClip(path.join(upflow.dir, 'longer.mp4'), { seconds: 10, width: 320, height: 180 });
    replace(film, fs.readFileSync(longer));
    const again = await trigger(film);
    expect([again.status, again.json.status, again.json.title_key]).toEqual([202, 'started', titleKey]);
    expect(again.json.job_id).not.toBe(made.id);
    // Until the new one is made, the old final file is there, whole: the file is read before
    // the job, so a 10 s file seen means the new one was at least being finalized.
    const seen = new Set<string>();
    const remade = await waitFor('the re-upscale to end', async () => {
      const seconds = Math.round(ffprobe(finalFile).durationSeconds);
      const j = await job(again.json.job_id as string);
      seen.add(`${j.state} ${seconds} s`);
      if (seconds !== 5) expect([j.state, seconds]).toEqual([expect.stringMatching(/^(finalizing|complete)$/), 10]);
      return ['complete', 'failed', 'cancelled'].includes(j.state) ? j : undefined;
    }, 90_000, 100);
    expect([remade.state, remade.finalPath]).toEqual(['complete', finalFile]);
    expect(seen).toContain('streaming 5 s');
    expect(ffprobe(finalFile)).toMatchObject({ width: 640, height: 360 });
    expect(ffprobe(finalFile).durationSeconds).toBeCloseTo(10, 0);
    expect(fs.readdirSync(path.dirname(finalFile)).filter((name) => name.startsWith(titleKey))).toEqual([`${titleKey}.mkv`]);
    expect((await trigger(film)).json).toMatchObject({ status: 'complete', job_id: remade.id });

    // A re-upscale that fails (the new file is no video) leaves the last final file as it was;
    // the title's status is that failure, not `complete` with a file of another source.
    replace(film, 'not a video\n'.repeat(10));
    const broken = await trigger(film);
    expect(broken.json.status).toBe('started');
    const failed = await ended(broken.json.job_id as string);
    expect([failed.state, failed.failureReason]).toEqual(['failed', `${film} is not a readable video (Invalid data found when processing input)`]);
    expect(ffprobe(finalFile).durationSeconds).toBeCloseTo(10, 0);
    expect((await call('GET', '/hls-status/a.mp4')).json).toMatchObject({ status: 'failed', complete: false, title_key: titleKey });
  }, 240_000);

  it('refuses at the encode a source swapped after its probe, while it waited for the worker, and encodes nothing of it', async () => {
    const swapDir = path.join(upflow.mediaDir, 'swap');
    const secretVideo = await makeClip(path.join(outside, 'secret.mp4'), { seconds: 3, width: 160, height: 90 });
    const secretSegment = await makeClip(path.join(outside, 'secret.ts'), { seconds: 3, width: 160, height: 90 });
    const victims = {
      link: await makeClip(path.join(swapDir, 'link.mp4'), { seconds: 3, width: 160, height: 90 }),
      playlist: await makeClip(path.join(swapDir, 'playlist.mkv'), { seconds: 3, width: 160, height: 90 }),
      other: await makeClip(path.join(swapDir, 'other.mp4'), { seconds: 3, width: 160, height: 90 }),
    };
    const otherVideo = await makeClip(path.join(upflow.dir, 'other-6s.mp4'), { seconds: 6, width: 160, height: 90 });
    // The one worker slot is busy: the victims are probed, then wait in line.
    const blocker = await makeClip(path.join(upflow.mediaDir, 'blocker.mp4'), { seconds: 60, width: 640, height: 360 });
    const blocking = await trigger(blocker);
    await waitFor('the blocker to stream', async () => ((await job(blocking.json.job_id as string)).streamStartedAt ? true : undefined), 60_000, 100);
    const jobIds: Record<keyof typeof victims, string> = { link: '', playlist: '', other: '' };
    for (const [name, file] of Object.entries(victims) as Array<[keyof typeof victims, string]>) {
      const answer = await trigger(file);
      expect(answer.json.status).toBe('started');
      jobIds[name] = answer.json.job_id as string;
    }
    for (const id of Object.values(jobIds)) await waitingForWorker(id);

    // Swapped after the probe, before the encode.
    fs.rmSync(victims.link);
    fs.symlinkSync(secretVideo, victims.link);
    replace(victims.playlist, `#EXTM3U\n#EXT-X-TARGETDURATION:3\n#EXTINF:3,\n${secretSegment}\n#EXT-X-ENDLIST\n`);
    replace(victims.other, fs.readFileSync(otherVideo));
    expect((await call('POST', `/jobs/${blocking.json.job_id as string}/cancel`)).status).toBe(202);

    const changed = /^the source changed since it was probed \(another file under the same name, \d+ → \d+ bytes, modified [^)]+\): trigger again$/;
    const expected: Record<keyof typeof victims, RegExp> = {
      link: new RegExp(`^${victims.link.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} leads outside the media folders`),
      playlist: changed,
      other: changed,
    };
    for (const name of Object.keys(victims) as Array<keyof typeof victims>) {
      const refused = await ended(jobIds[name]);
      expect([name, refused.state, refused.failureReason]).toEqual([name, 'failed', expect.stringMatching(expected[name])]);
      expect(await temporalFailure(refused)).toMatch(expected[name]);
      // Nothing of it encoded: no segment recorded or on disk, no final file.
      expect(refused.segments).toBe(0);
      const hlsDir = path.join(upflow.dir, 'data', 'hls', refused.titleKey);
      expect(fs.existsSync(hlsDir) ? fs.readdirSync(hlsDir).filter((f) => f.endsWith('.ts')) : []).toEqual([]);
      expect(fs.existsSync(path.join(upflow.dir, 'data', 'output', `${refused.titleKey}.mkv`))).toBe(false);
      // Refused by the chunk that would have encoded it, before it claimed a segment.
      const events = (await call('GET', `/jobs/${refused.id}`)).json.events as Array<{ kind: string }>;
      expect(events.filter((e) => e.kind === 'chunk-started')).toEqual([]);
    }

    // Triggered again, each is taken for what it is now.
    expect(await trigger(victims.link)).toMatchObject({ status: 403, json: { error: expect.stringMatching(/leads outside the media folders/) } });
    const asPlaylist = await ended((await trigger(victims.playlist)).json.job_id as string);
    expect(asPlaylist.failureReason).toBe(`${victims.playlist} is a list of other files (hls), not a video: only files inside the media folders are upscaled`);
    const asOther = await ended((await trigger(victims.other)).json.job_id as string);
    expect(asOther.state).toBe('complete');
    expect(ffprobe(asOther.finalPath!).durationSeconds).toBeCloseTo(6, 0);
  }, 300_000);

  it('refuses a title key that belongs to another file, and keeps the key of a title known by its path', async () => {
    const intruder = await makeClip(path.join(upflow.mediaDir, 'intruder.mp4'), { seconds: 1, width: 160, height: 90 });
    const takenKey = titleKeyFor(fs.realpathSync(intruder));
    await pool.query(`INSERT INTO titles (key, source_path, name) VALUES ($1, $2, 'Owner')`, [takenKey, path.join(upflow.mediaDir, 'owner.mp4')]);
    const refused = await trigger(intruder);
    expect([refused.status, refused.json.error]).toEqual([409, `title key ${takenKey} belongs to another source file: it is not taken over`]);
    const { rows } = await pool.query<{ key: string; source_path: string }>(`SELECT key, source_path FROM titles WHERE key = $1 OR source_path = $2`, [takenKey, fs.realpathSync(intruder)]);
    expect(rows).toEqual([{ key: takenKey, source_path: path.join(upflow.mediaDir, 'owner.mp4') }]);
    expect((await call('GET', '/jobs')).json.jobs as Job[]).not.toContainEqual(expect.objectContaining({ titleKey: takenKey }));

    // A title from before 64-bit keys: found by its path, it keeps its key, so its files stay found.
    const older = await makeClip(path.join(upflow.mediaDir, 'older.mp4'), { seconds: 1, width: 160, height: 90 });
    await pool.query(`INSERT INTO titles (key, source_path, name) VALUES ('older-1a2b3c4d', $1, 'Older')`, [fs.realpathSync(older)]);
    const started = await trigger(older);
    expect([started.json.status, started.json.title_key]).toEqual(['started', 'older-1a2b3c4d']);
    const done = await ended(started.json.job_id as string);
    expect([done.state, done.finalPath]).toEqual(['complete', path.join(upflow.dir, 'data', 'output', 'older-1a2b3c4d.mkv')]);
    expect((await call('GET', '/hls-status/older.mp4')).json).toMatchObject({ status: 'complete', title_key: 'older-1a2b3c4d' });
  }, 120_000);

  it('answers 409 naming both files for two titles of one name, and ?path= chooses', async () => {
    const films = await makeClip(path.join(upflow.mediaDir, 'films', 'same.mp4'), { seconds: 1, width: 160, height: 90 });
    const shows = await makeClip(path.join(upflow.mediaDir, 'shows', 'same.mp4'), { seconds: 1, width: 160, height: 90 });
    const keys = [(await trigger(films)).json.title_key, (await trigger(shows)).json.title_key];
    expect(keys[0]).not.toBe(keys[1]);
    const expectedError = '2 titles are named same.mp4: "films/same.mp4", "shows/same.mp4"; choose one with ?path=';
    expect(await call('GET', '/hls-status/same.mp4')).toEqual({ status: 409, json: { error: expectedError } });
    expect(await call('GET', '/hls-status/same')).toMatchObject({ status: 409 });
    expect((await call('GET', '/hls-status/same.mp4?path=shows/same.mp4')).json).toMatchObject({ title_key: keys[1] });
    expect((await call('GET', `/hls-status/same.mp4?path=${encodeURIComponent(films)}`)).json).toMatchObject({ title_key: keys[0] });
    // A title key names one title whatever its file is called.
    expect((await call('GET', `/hls-status/${keys[1] as string}`)).json).toMatchObject({ title_key: keys[1] });
    // The path goes through the media-folder guard.
    expect(await call('GET', '/hls-status/same.mp4?path=../outside/secret.mp4')).toEqual({ status: 403, json: { error: '../outside/secret.mp4 is outside the media folders (UPFLOW_MEDIA_ROOTS)' } });
    expect(await call('GET', '/hls-status/same.mp4?path=/etc/passwd')).toMatchObject({ status: 403 });
    expect(await call('GET', '/hls-status/same.mp4?path=films/other.mp4')).toEqual({ status: 404, json: { error: 'films/other.mp4 does not exist in the media folders' } });
    expect(await call('GET', '/hls-status/same.mp4?path=a.mp4')).toEqual({ status: 404, json: { error: 'no upscale known for same.mp4 at a.mp4' } });
  }, 120_000);
});
