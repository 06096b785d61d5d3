/**
 * Postgres, Temporal and the API restarting while titles stream, on the real stack against
 * services this test owns, so that it can stop and start them: a Postgres cluster and a
 * Temporal dev server (SQLite file: its state survives the restart), `upflow up` pointed at
 * them, and `upflow api` alone for the API restart. While a service is down the API answers
 * 503 naming it on the routes that need it, in seconds; reads that need only Postgres go on;
 * the stream goes on, and each title ends with one workflow run, one job, every segment
 * recorded once and a final file of full length. With UPFLOW_RECORD_FIGURES=1 what it measured
 * goes to docs/bench/restarts.json.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { Parser, type Manifest } from 'm3u8-parser';
import { createLogger } from '../../adapters/logger';
import { makeTempDataDir, startPostgresCluster, type PostgresCluster } from '../../adapters/postgres-cluster';
import { findFreePort } from '../../adapters/process';
import { findTemporalCli, startTemporalDevServer, type TemporalDevServer } from '../../adapters/temporal-server';
import { startRecordingFigures, type FiguresRecorder } from '../support/figures';
import { ffprobe, makeClip } from '../support/fixtures';
import { startUpflow, waitFor, type UpflowProcess } from '../support/upflow-process';

/**
 * Seconds of video per title: each stream must outlast its outage. Lanczos 2x of 640x360 runs
 * at 2x to 6x real time on 2 cores, busy or idle: 100 s lasts 16 to 50 s.
 */
const CLIP_SECONDS = { postgres: 100, temporal: 100, api: 60 } as const;
/**
 * The Postgres and Temporal titles' frames: their first chunk (60 s of content, and no other can
 * be claimed while Temporal is away) must outlast the outage too. At 640x360 it ended with it,
 * 29–30 segments of 30 made by the end in runs that passed, and before the count began in one
 * whose stop took longer (0 recorded while Temporal was away); 960x540 takes about twice as long.
 */
const OUTAGE_CLIP_SIZE = { width: 960, height: 540 } as const;
const SEGMENT_SECONDS = 2;
/** Shorter than the stream activity's heartbeat timeout (20 s), Temporal's start-up included. */
const OUTAGE_MS = 10_000;
/**
 * The API's deadline for Temporal calls is 5 s, and its client retries no later than that
 * (adapters/temporal `retryWithinDeadline`): a 503 comes by then, plus the request's own work.
 */
const ANSWER_WITHIN_MS = 6_000;

interface Answer {
  status: number;
  json: Record<string, unknown>;
  ms: number;
  retryAfter: string | null;
}

interface SegmentView {
  index: number;
  filename: string;
  startSeconds: number;
  durationSeconds: number;
}

function parsePlaylist(text: string): Manifest {
  const parser = new Parser();
  parser.push(text);
  parser.end();
  return parser.manifest;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('Postgres, Temporal and the API restarting during a stream', () => {
  const servicesDir = makeTempDataDir('upflow-restarts-');
  const logger = createLogger({ level: 'warn' });
  let postgresPort: number;
  let temporalPort: number;
  let postgres: PostgresCluster | undefined;
  let temporal: TemporalDevServer | undefined;
  let temporalClient: Client;
  let upflow: UpflowProcess;
  /** For `upflow up` and `upflow api`: the test's services, short segments. */
  let stackEnv: NodeJS.ProcessEnv;
  const clips: Record<'postgres' | 'temporal' | 'api', string> = { postgres: '', temporal: '', api: '' };
  /** What was measured, printed at the end. */
  const measured: string[] = [];
  /** The same, for docs/bench/restarts.json (UPFLOW_RECORD_FIGURES=1): by outage, what each answer took and what the stream did. */
  const figures: Record<string, Record<string, unknown>> = {};
  let recorder: FiguresRecorder;
  /** `{ status: 503, ms: 12 }` by route. */
  const answerFigures = (answers: Record<string, Answer>) => Object.fromEntries(Object.entries(answers).map(([route, a]) => [route, { status: a.status, ms: a.ms }]));
  /** Jobs this test started: one left running by a failure is cancelled, so the next test's stream is not queued behind it. */
  const startedJobs: string[] = [];

  const startPostgres = async () => {
    postgres = await startPostgresCluster({ dir: path.join(servicesDir, 'postgres'), logFile: path.join(servicesDir, 'postgres.log'), logger, port: postgresPort });
  };
  const stopPostgres = async () => {
    await postgres?.stop();
    postgres = undefined;
  };
  const stopTemporal = async () => {
    await temporal?.stop();
    temporal = undefined;
  };
  const startTemporal = async () => {
    const cliPath = findTemporalCli(process.env.UPFLOW_CACHE_DIR ?? path.join(os.homedir(), '.cache', 'upflow'));
    if (!cliPath) throw new Error('the Temporal CLI is missing: run `npm run setup`');
    temporal = await startTemporalDevServer({
      cliPath, dbFile: path.join(servicesDir, 'temporal.db'), port: temporalPort, namespace: 'default', logFile: path.join(servicesDir, 'temporal.log'), logger,
    });
  };

  const call = async (base: string, method: string, route: string, body?: unknown): Promise<Answer> => {
    const startedAt = Date.now();
    const response = await fetch(`${base}${route}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(30_000),
    });
    const json = (await response.json()) as Record<string, unknown>;
    return { status: response.status, json, ms: Date.now() - startedAt, retryAfter: response.headers.get('retry-after') };
  };
  const trigger = (base: string, file: string) => call(base, 'POST', '/upscale-trigger', { Item: { Path: file, Name: path.basename(file) } });
  const hlsStatus = (base: string, file: string) => call(base, 'GET', `/hls-status/${encodeURIComponent(path.basename(file))}`);

  /** Starts the title through `base` and waits until a few segments are playable. */
  const streamUntilSegments = async (base: string, file: string, segments: number) => {
    const started = await trigger(base, file);
    expect([started.status, started.json.status]).toEqual([202, 'started']);
    startedJobs.push(started.json.job_id as string);
    return waitFor(`${segments} segments of ${path.basename(file)}`, async () => {
      const s = await hlsStatus(base, file);
      return s.status === 200 && (s.json.segments as number) >= segments ? s.json : undefined;
    }, 60_000, 100);
  };

  /**
   * Segment files ffmpeg has written so far, recorded or not: those moved into the title's folder
   * and those still in a chunk's own folder, where they wait while their recording waits for Postgres.
   */
  const segmentFilesOnDisk = (titleKey: string) =>
    fs.readdirSync(path.join(upflow.dir, 'data', 'hls', titleKey), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts')).length;

  /** The title finished once: one job, one run, every segment once and in order, a full final file. */
  const expectOneCompleteStream = async (base: string, file: string, clipSeconds: number) => {
    const done = await waitFor(`${path.basename(file)} to complete`, async () => {
      const s = await hlsStatus(base, file);
      return s.json.complete === true ? s.json : undefined;
    }, 150_000, 250);
    const titleKey = done.title_key as string;
    const jobId = done.job_id as string;

    const jobs = (await call(base, 'GET', '/jobs')).json.jobs as Array<{ id: string; titleKey: string }>;
    expect(jobs.filter((j) => j.titleKey === titleKey).map((j) => j.id)).toEqual([jobId]);
    const job = (await call(base, 'GET', `/jobs/${jobId}`)).json;
    expect(job).toMatchObject({ state: 'complete', failureReason: null });
    // Made once: an outage failed no chunk (no retried attempt) and no segment was made twice.
    const events = job.events as Array<{ kind: string; data: { attempt?: number } | null }>;
    const starts = events.filter((e) => e.kind === 'chunk-started');
    expect(starts.length).toBeGreaterThan(0);
    expect(starts.map((e) => e.data?.attempt)).toEqual(starts.map(() => 1));
    expect(events.filter((e) => e.kind === 'segment-remade')).toEqual([]);

    const runs: string[] = [];
    for await (const run of temporalClient.workflow.list({ query: `WorkflowId = '${job.workflowId as string}'` })) runs.push(run.runId);
    expect(runs).toEqual([jobId]);

    // Every segment recorded once, contiguous from 0 s to the end.
    const segments = (await call(base, 'GET', `/jobs/${jobId}/segments`)).json.segments as SegmentView[];
    expect(segments.map((s) => s.index)).toEqual(segments.map((_, i) => i));
    let end = 0;
    for (const s of segments) {
      expect(Math.abs(s.startSeconds - end)).toBeLessThan(0.05);
      end = s.startSeconds + s.durationSeconds;
    }
    expect(Math.abs(end - clipSeconds)).toBeLessThan(0.2);
    expect(job.segments).toBe(segments.length);

    const playlist = parsePlaylist(await (await fetch(done.hls_url as string)).text());
    expect(playlist.endList).toBe(true);
    expect(playlist.segments.map((s) => s.uri)).toEqual(segments.map((s) => s.filename));

    const final = ffprobe(job.finalPath as string);
    expect(Math.abs(final.durationSeconds - clipSeconds)).toBeLessThan(0.2);
    expect(final.hasAudio).toBe(true);
  };

  beforeAll(async () => {
    recorder = await startRecordingFigures('restarts', 'tests/e2e/restarts.test.ts');
    [postgresPort, temporalPort] = [await findFreePort(), await findFreePort()];
    await startPostgres();
    await startTemporal();
    temporalClient = new Client({ connection: await Connection.connect({ address: temporal!.address }) });
    stackEnv = { DATABASE_URL: postgres!.url, UPFLOW_TEMPORAL_ADDRESS: temporal!.address, HLS_SEGMENT_TIME: String(SEGMENT_SECONDS) };
    upflow = await startUpflow(stackEnv);
    clips.postgres = await makeClip(path.join(upflow.mediaDir, 'during-postgres-restart.mp4'), { seconds: CLIP_SECONDS.postgres, ...OUTAGE_CLIP_SIZE });
    // The same video as another title (a title is its path).
    clips.temporal = path.join(upflow.mediaDir, 'during-temporal-restart.mp4');
    fs.copyFileSync(clips.postgres, clips.temporal);
    clips.api = await makeClip(path.join(upflow.mediaDir, 'during-api-restart.mp4'), { seconds: CLIP_SECONDS.api, width: 640, height: 360 });
  }, 180_000);

  afterEach(async () => {
    // A test that failed mid-outage leaves the next ones their services, and no stream ahead of theirs.
    if (!postgres) await startPostgres();
    if (!temporal) await startTemporal();
    for (const jobId of startedJobs.splice(0)) {
      await call(upflow.apiUrl, 'POST', `/jobs/${jobId}/cancel`).catch(() => undefined);
    }
  });

  afterAll(async () => {
    if (measured.length > 0) process.stdout.write(`\nrestarts measured:\n  ${measured.join('\n  ')}\n`);
    await recorder?.write({
      settings: { clipSeconds: CLIP_SECONDS, segmentSeconds: SEGMENT_SECONDS, outageSeconds: OUTAGE_MS / 1000, upscaler: 'ffmpeg lanczos x2, 960x540 (Postgres, Temporal) and 640x360 (API)' },
      ...figures,
    });
    if (!upflow) return;
    const code = await upflow.stop();
    await temporalClient?.connection.close();
    await stopTemporal();
    await stopPostgres();
    // The worker lived through every outage: `upflow up` never had to start it again.
    expect(upflow.output()).not.toMatch(/worker exited unexpectedly/);
    expect(code).toBe(0);
    fs.rmSync(upflow.dir, { recursive: true, force: true });
    fs.rmSync(servicesDir, { recursive: true, force: true });
  }, 120_000);

  it('Postgres down: 503 naming Postgres, the encode goes on, and every segment is recorded once it is back', async () => {
    const base = upflow.apiUrl;
    const before = await streamUntilSegments(base, clips.postgres, 2);
    const titleKey = before.title_key as string;
    const jobId = before.job_id as string;

    const stoppedAt = Date.now();
    await stopPostgres();
    const filesAtStop = segmentFilesOnDisk(titleKey);
    const answers = {
      status: await hlsStatus(base, clips.postgres),
      job: await call(base, 'GET', `/jobs/${jobId}`),
      segments: await call(base, 'GET', `/jobs/${jobId}/segments`),
      trigger: await trigger(base, clips.postgres),
      health: await call(base, 'GET', '/health'),
    };
    for (const [route, answer] of Object.entries(answers)) {
      expect([route, answer.status]).toEqual([route, 503]);
      expect(answer.ms).toBeLessThan(ANSWER_WITHIN_MS);
      if (route !== 'health') {
        expect(answer.json.error).toMatch(/^Postgres is unreachable \(connect ECONNREFUSED 127\.0\.0\.1:\d+\)$/);
        expect(answer.retryAfter).toBe('5');
      }
    }
    expect(answers.health.json).toMatchObject({ status: 'unhealthy', reason: expect.stringMatching(/^Postgres is unreachable \(/) });
    measured.push(`Postgres down: 503 in ${Object.entries(answers).map(([r, a]) => `${r} ${a.ms} ms`).join(', ')}`);
    figures.postgres = { answers: answerFigures(answers) };

    await sleep(OUTAGE_MS - (Date.now() - stoppedAt));
    // ffmpeg kept encoding meanwhile: the stream did not wait for Postgres.
    const filesWritten = segmentFilesOnDisk(titleKey) - filesAtStop;
    const restartAt = Date.now();
    await startPostgres();
    const postgresDown = { downSeconds: (Date.now() - stoppedAt) / 1000, startUpMs: Date.now() - restartAt, segmentsEncodedMeanwhile: filesWritten };
    measured.push(`Postgres down ${postgresDown.downSeconds.toFixed(1)} s (start-up ${postgresDown.startUpMs} ms); ${filesWritten} segments encoded meanwhile`);
    Object.assign(figures.postgres, postgresDown);
    expect(filesWritten).toBeGreaterThan(0);

    // Back: the segments made meanwhile reach Postgres and the playlist within seconds.
    const caughtUpAt = Date.now();
    await waitFor('the segments made during the outage to be recorded', async () => {
      const s = await hlsStatus(base, clips.postgres);
      return s.status === 200 && (s.json.segments as number) >= filesAtStop + filesWritten - 1 ? true : undefined;
    }, 20_000, 100);
    figures.postgres.recordedAgainAfterMs = Date.now() - caughtUpAt;
    measured.push(`Postgres back: segments recorded again after ${figures.postgres.recordedAgainAfterMs} ms`);

    await expectOneCompleteStream(base, clips.postgres, CLIP_SECONDS.postgres);
  }, 240_000);

  it('Temporal down: 503 naming Temporal where it is needed, reads from Postgres go on, the stream goes on', async () => {
    const base = upflow.apiUrl;
    const before = await streamUntilSegments(base, clips.temporal, 2);
    const jobId = before.job_id as string;

    const stoppedAt = Date.now();
    await stopTemporal();
    const stopMs = Date.now() - stoppedAt;
    const segmentsAtStop = (await hlsStatus(base, clips.temporal)).json.segments as number;
    // Asked at once, so that the outage stays well inside the heartbeat timeout.
    const [trigger503, health503, status, job, segments, jobs] = await Promise.all([
      trigger(base, clips.temporal),
      call(base, 'GET', '/health'),
      hlsStatus(base, clips.temporal),
      call(base, 'GET', `/jobs/${jobId}`),
      call(base, 'GET', `/jobs/${jobId}/segments`),
      call(base, 'GET', '/jobs'),
    ]);
    const needsTemporal = { trigger: trigger503!, health: health503! };
    for (const [route, answer] of Object.entries(needsTemporal)) {
      expect([route, answer.status]).toEqual([route, 503]);
      expect(answer.ms).toBeLessThan(ANSWER_WITHIN_MS);
    }
    expect(needsTemporal.trigger.json.error).toMatch(/^Temporal is unreachable \(/);
    expect(needsTemporal.trigger.retryAfter).toBe('5');
    expect(needsTemporal.health.json).toMatchObject({ status: 'unhealthy', reason: expect.stringMatching(/^Temporal is unreachable \(/) });

    const readsPostgres = { status: status!, job: job!, segments: segments!, jobs: jobs! };
    for (const [route, answer] of Object.entries(readsPostgres)) {
      expect([route, answer.status]).toEqual([route, 200]);
      expect(answer.ms).toBeLessThan(ANSWER_WITHIN_MS);
    }
    expect(readsPostgres.status.json).toMatchObject({ status: 'streaming', job_id: jobId });
    measured.push(`Temporal down: ${Object.entries({ ...needsTemporal, ...readsPostgres }).map(([r, a]) => `${r} ${a.status} in ${a.ms} ms`).join(', ')}`);
    figures.temporal = { answers: answerFigures({ ...needsTemporal, ...readsPostgres }) };

    await sleep(OUTAGE_MS - (Date.now() - stoppedAt));
    // Segments went on being recorded (Postgres) while Temporal was away.
    const askedAt = Date.now();
    const segmentsWhileDown = ((await hlsStatus(base, clips.temporal)).json.segments as number) - segmentsAtStop;
    const askedMs = Date.now() - askedAt;
    const restartAt = Date.now();
    await startTemporal();
    const temporalDown = { downSeconds: (Date.now() - stoppedAt) / 1000, stopMs, startUpMs: Date.now() - restartAt, segmentsRecordedMeanwhile: segmentsWhileDown };
    measured.push(`Temporal down ${temporalDown.downSeconds.toFixed(1)} s (stop ${stopMs} ms, start-up ${temporalDown.startUpMs} ms); ${segmentsWhileDown} segments recorded meanwhile (${segmentsAtStop} at the stop, the last count in ${askedMs} ms)`);
    Object.assign(figures.temporal, temporalDown);
    expect(segmentsWhileDown).toBeGreaterThan(0);

    const againAt = Date.now();
    let refused = 0;
    const again = await waitFor('the API to reach Temporal again', async () => {
      const answer = await trigger(base, clips.temporal);
      refused += answer.status === 503 ? 1 : 0;
      return answer.status === 503 ? undefined : answer;
    }, 30_000, 250);
    const answeredAgainAfterMs = Date.now() - againAt;
    measured.push(`Temporal back: the trigger answered ${again.status} after ${answeredAgainAfterMs} ms (${refused} 503s before)`);
    Object.assign(figures.temporal, { triggerAnsweredAgainAfterMs: answeredAgainAfterMs, triggerAnsweredAgainStatus: again.status, refusedBefore: refused });
    expect(again.json).toMatchObject({ status: 'already_running', job_id: jobId });
    // The API's client tries to reconnect each second, not after gRPC's growing backoff.
    expect(answeredAgainAfterMs).toBeLessThan(ANSWER_WITHIN_MS);

    await expectOneCompleteStream(base, clips.temporal, CLIP_SECONDS.temporal);
  }, 240_000);

  it('the API restarting: status comes back from Postgres and Temporal, nothing is lost', async () => {
    let api = await startUpflow(stackEnv, { command: 'api', dir: upflow.dir });
    try {
      const apiPort = Number(new URL(api.apiUrl).port);
      const before = await streamUntilSegments(api.apiUrl, clips.api, 2);
      const jobId = before.job_id as string;

      // A crash, not a shutdown: the stream must not notice.
      expect(await api.stop('SIGKILL')).toBeNull();
      const downAt = Date.now();
      api = await startUpflow(stackEnv, { command: 'api', dir: upflow.dir, apiPort });
      figures.api = { restartMs: Date.now() - downAt };
      measured.push(`API restarted in ${figures.api.restartMs} ms`);
      const job = (await call(api.apiUrl, 'GET', `/jobs/${jobId}`)).json;
      expect(job).toMatchObject({ id: jobId, state: 'streaming' });
      // The stream went on while no API ran.
      expect(job.segments as number).toBeGreaterThan(before.segments as number);
      // The running workflow, from Temporal: a second trigger joins it.
      const again = await trigger(api.apiUrl, clips.api);
      expect([again.status, again.json.status, again.json.job_id]).toEqual([200, 'already_running', jobId]);

      await expectOneCompleteStream(api.apiUrl, clips.api, CLIP_SECONDS.api);
    } finally {
      await api.stop();
    }
  }, 240_000);
});
