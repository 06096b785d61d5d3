/**
 * Concurrency on the real stack (`upflow up`: Temporal dev server, Postgres, worker, API; real
 * ffmpeg, lanczos): many triggers of one title start one workflow and agree on their answers; a
 * finished title's trigger starts nothing; with UPFLOW_GPU_CONCURRENCY=1 titles beyond the first
 * wait in line with their queue positions, which advance as streams finish; with 2, two stream
 * at once, and two chunks of one title are made at once.
 */
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { loadConfig } from '../../core/config';
import { workflowIdForTitle } from '../../core/domain';
import { titleKeyFor } from '../../core/media-paths';
import { startOrJoinTitleWorkflow, upscaleSettings } from '../../services/title-workflows';
import { countVideoFrames, makeClip } from '../support/fixtures';
import { startUpflow, stopAndRemove, waitFor, type UpflowProcess } from '../support/upflow-process';

const run = promisify(execFile);
const UPFLOW = path.join(__dirname, '..', '..', 'bin', 'upflow.js');

interface TriggerAnswer {
  status: string;
  job_id: string | null;
  title_key: string;
  hls_url: string | null;
  final_file?: string;
}

interface Job {
  id: string;
  titleKey: string;
  state: string;
  streamStartedAt: string | null;
  queuePosition: number | null;
  finalPath: string | null;
}

interface HlsStatus {
  status: string;
  job_id: string | null;
  queue_position: number | null;
}

/** The parts of the stack a test talks to. */
interface Stack {
  upflow: UpflowProcess;
  temporal: Client;
  trigger(file: string): Promise<{ status: number; json: TriggerAnswer }>;
  job(id: string): Promise<Job | undefined>;
  hlsStatus(file: string): Promise<HlsStatus>;
  /** Every run Temporal has had under the title's workflow id. */
  runsOf(titleKey: string): Promise<string[]>;
  /** Encodes running now: the worker's ffmpeg processes writing segments (lanczos: one per stream). */
  encodesRunning(): number;
}

async function startStack(env: NodeJS.ProcessEnv): Promise<Stack> {
  // Lanczos, short segments; triggers beyond the default per-client limit are this test's point.
  const upflow = await startUpflow({ HLS_SEGMENT_TIME: '2', UPFLOW_TRIGGER_RATE_LIMIT: '1000', ...env });
  const temporal = new Client({ connection: await Connection.connect({ address: `127.0.0.1:${upflow.env.UPFLOW_TEMPORAL_PORT}` }) });
  return {
    upflow,
    temporal,
    trigger: (file) => upflow.api<TriggerAnswer>('POST', '/upscale-trigger', { Item: { Path: file, Name: path.basename(file) } }),
    async job(id) {
      const answer = await upflow.api<Job>('GET', `/jobs/${id}`);
      return answer.status === 200 ? answer.json : undefined;
    },
    async hlsStatus(file) {
      return (await upflow.api<HlsStatus>('GET', `/hls-status/${encodeURIComponent(path.basename(file))}`)).json;
    },
    async runsOf(titleKey) {
      const runs: string[] = [];
      for await (const execution of temporal.workflow.list({ query: `WorkflowId = '${workflowIdForTitle(titleKey)}'` })) runs.push(execution.runId);
      return runs;
    },
    encodesRunning() {
      const pids = upflow.descendants();
      // Processes ending meanwhile make ps exit 1; the ones still there are listed all the same.
      const ps = spawnSync('ps', ['-o', 'args=', '-p', pids.join(',')], { encoding: 'utf8' });
      // Only the encode writes segments: finalize's remux of the title before (its own ffmpeg,
      // on the media queue) may run while the next title's stream starts.
      const isEncode = (args: string) => /^(\S*\/)?ffmpeg\s/.test(args.trim()) && / -f segment /.test(args);
      return pids.length === 0 ? 0 : ps.stdout.split('\n').filter(isEncode).length;
    },
  };
}

async function stopStack(stack: Stack | undefined): Promise<void> {
  if (!stack) return;
  await stack.temporal.connection.close();
  await stopAndRemove(stack.upflow);
}

const untilState = (stack: Stack, id: string, states: string[], timeoutMs = 90_000) =>
  waitFor(`job ${id} to be ${states.join('/')}`, async () => {
    const job = await stack.job(id);
    return job && states.includes(job.state) ? job : undefined;
  }, timeoutMs, 100);

const isStreaming = (job: Job) => job.state === 'streaming' && job.streamStartedAt !== null;

describe('concurrency: one worker slot (UPFLOW_GPU_CONCURRENCY=1)', () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack({ UPFLOW_GPU_CONCURRENCY: '1' });
  }, 180_000);

  afterAll(() => stopStack(stack), 120_000);

  it('20 concurrent triggers of one title start one workflow and one output, and agree on their answers', async () => {
    const clip = await makeClip(path.join(stack.upflow.mediaDir, 'Crowded.mp4'), { seconds: 4, width: 320, height: 180 });
    const answers = await Promise.all(Array.from({ length: 20 }, () => stack.trigger(clip)));

    // Exactly one started it (202); the other 19 joined its run (200).
    expect(answers.map((a) => a.json.status).sort()).toEqual([...Array<string>(19).fill('already_running'), 'started']);
    expect(answers.map((a) => a.status).sort((a, b) => a - b)).toEqual([...Array<number>(19).fill(200), 202]);
    const [first] = answers;
    for (const { json } of answers) {
      expect(json).toMatchObject({ job_id: first!.json.job_id, title_key: first!.json.title_key, hls_url: first!.json.hls_url });
    }
    const { job_id: jobId, title_key: titleKey } = first!.json;
    expect(jobId).toMatch(/^[0-9a-f-]{36}$/);

    const done = await untilState(stack, jobId!, ['complete']);
    expect(await stack.runsOf(titleKey)).toEqual([jobId]);
    const described = await stack.temporal.workflow.getHandle(workflowIdForTitle(titleKey)).describe();
    expect(described.runId).toBe(jobId);
    const jobs = (await stack.upflow.api<{ jobs: Job[] }>('GET', '/jobs')).json.jobs.filter((j) => j.titleKey === titleKey);
    expect(jobs.map((j) => j.id)).toEqual([jobId]);
    const outputDir = path.join(stack.upflow.dir, 'data', 'output');
    expect(fs.readdirSync(outputDir).filter((f) => f.startsWith(titleKey))).toEqual([`${titleKey}.mkv`]);
    expect(done.finalPath).toBe(path.join(outputDir, `${titleKey}.mkv`));
  }, 120_000);

  it('Temporal decides: of 20 concurrent starts of one title, one starts its workflow and 19 join that run', async () => {
    // Below the API's own check for a running workflow, which catches most late triggers.
    const clip = await makeClip(path.join(stack.upflow.mediaDir, 'Raced.mp4'), { seconds: 2, width: 160, height: 90 });
    const input = { titleKey: titleKeyFor(fs.realpathSync(clip)), sourcePath: clip, name: 'Raced', settings: upscaleSettings(loadConfig(stack.upflow.env)) };
    const runs = await Promise.all(Array.from({ length: 20 }, () => startOrJoinTitleWorkflow(stack.temporal, input)));
    expect(runs.map((r) => r.started).filter(Boolean)).toHaveLength(1);
    expect(new Set(runs.map((r) => r.firstExecutionRunId)).size).toBe(1);
    expect(await stack.runsOf(input.titleKey)).toEqual([runs[0]!.firstExecutionRunId]);
    await untilState(stack, runs[0]!.firstExecutionRunId, ['complete']);
  }, 60_000);

  it('a trigger for a title whose final file exists answers complete with its URL and starts nothing', async () => {
    const clip = path.join(stack.upflow.mediaDir, 'Crowded.mp4');
    const before = await stack.hlsStatus(clip);
    expect(before.status).toBe('complete');
    const answers = await Promise.all(Array.from({ length: 5 }, () => stack.trigger(clip)));
    for (const answer of answers) {
      expect(answer.status).toBe(200);
      expect(answer.json).toMatchObject({ status: 'complete', job_id: before.job_id, hls_url: expect.stringMatching(/\/hls\/crowded-[0-9a-f]+\/stream\.m3u8$/) });
      expect(fs.existsSync(answer.json.final_file!)).toBe(true);
    }
    expect(await stack.runsOf(answers[0]!.json.title_key)).toEqual([before.job_id]);
    const jobs = (await stack.upflow.api<{ jobs: Job[] }>('GET', '/jobs')).json.jobs.filter((j) => j.titleKey === answers[0]!.json.title_key);
    expect(jobs).toHaveLength(1);
  }, 60_000);

  it('titles beyond the free worker wait in line with their queue positions, which advance as streams finish', async () => {
    // Each stream lasts a few seconds here: long enough for a title asked for later to join
    // the line while the first still streams.
    const clips = await Promise.all(['Line A.mp4', 'Line B.mp4', 'Line C.mp4'].map((name) =>
      makeClip(path.join(stack.upflow.mediaDir, name), { seconds: 20, width: 640, height: 360 })));
    const lateClip = await makeClip(path.join(stack.upflow.mediaDir, 'Line D.mp4'), { seconds: 2, width: 640, height: 360 });
    const triggered = await Promise.all(clips.map((clip) => stack.trigger(clip)));
    expect(triggered.map((t) => t.json.status)).toEqual(['started', 'started', 'started']);
    const ids = triggered.map((t) => t.json.job_id!);
    const clipOf = new Map(ids.map((id, i) => [id, clips[i]!]));

    // Sampled at every poll: the job rows cannot tell (a finished stream stays `streaming` until
    // the workflow records `finalizing`, while the next one may already have started).
    let mostEncodesAtOnce = 0;
    const snapshot = async () => {
      mostEncodesAtOnce = Math.max(mostEncodesAtOnce, stack.encodesRunning());
      // One GET /jobs: every row from the same moment (one query), so a stream starting between
      // two requests cannot show up as a line with a gap.
      const all = (await stack.upflow.api<{ jobs: Job[] }>('GET', '/jobs')).json.jobs;
      const jobs = ids.map((id) => all.find((j) => j.id === id));
      return jobs.every((j) => j !== undefined) ? (jobs as Job[]) : undefined;
    };
    const waitingPositions = (jobs: Job[]) => jobs.flatMap((j) => (j.queuePosition === null ? [] : [j.queuePosition])).sort((a, b) => a - b);

    // One streams; the other two wait, numbered in the order they reached their stream step.
    const lined = await waitFor('one stream and two waiting', async () => {
      const jobs = await snapshot();
      return jobs && jobs.filter(isStreaming).length === 1 && waitingPositions(jobs).length === 2 ? jobs : undefined;
    }, 60_000, 100);
    const streaming = lined.find(isStreaming)!;
    expect(streaming.queuePosition).toBeNull();
    const waiting = lined.filter((j) => j.queuePosition !== null);
    expect(waiting.map((j) => [j.state, j.streamStartedAt]).sort()).toEqual([['streaming', null], ['streaming', null]]);
    expect(waitingPositions(lined)).toEqual([1, 2]);
    for (const job of waiting) {
      expect(await stack.hlsStatus(clipOf.get(job.id)!)).toMatchObject({ status: 'streaming', job_id: job.id, queue_position: job.queuePosition });
    }
    expect(await stack.hlsStatus(clipOf.get(streaming.id)!)).toMatchObject({ job_id: streaming.id, queue_position: null });

    // A title asked for later joins the end of the line, and `upflow monitor` follows it from there.
    const late = (await stack.trigger(lateClip)).json.job_id!;
    ids.push(late);
    expect((await waitFor('the late title in line', async () => {
      const job = await stack.job(late);
      return job?.queuePosition ? job : undefined;
    }, 30_000, 100)).queuePosition).toBe(3);
    // Started once the job is in line: before, it may not be registered yet, or still probing.
    const monitored = run(process.execPath, [UPFLOW, 'monitor', late, '--json'], { env: stack.upflow.env, cwd: stack.upflow.dir, timeout: 120_000 });
    monitored.catch(() => undefined); // Awaited below; a failure before then must not go unhandled.

    // The stream ends; one of the two gets the worker and everyone behind moves up. (Which of
    // them: the order they were queued in Temporal, which jobs reaching the queue within
    // milliseconds of each other may have the other way round.)
    const advanced = await waitFor('the line to move up', async () => {
      const jobs = await snapshot();
      return jobs && waiting.some((w) => isStreaming(jobs.find((j) => j.id === w.id)!)) && waitingPositions(jobs).length === 2 ? jobs : undefined;
    }, 90_000, 100);
    expect(waitingPositions(advanced)).toEqual([1, 2]);
    expect(advanced.find((j) => j.id === late)!.queuePosition).toBe(2);
    const stillWaiting = advanced.find((j) => waiting.some((w) => w.id === j.id) && j.queuePosition !== null)!;
    expect(stillWaiting.queuePosition).toBe(1);
    expect(await stack.hlsStatus(clipOf.get(stillWaiting.id)!)).toMatchObject({ job_id: stillWaiting.id, queue_position: 1 });
    await untilState(stack, streaming.id, ['finalizing', 'complete']);

    // Then the other, then the late one, each alone on the worker.
    await waitFor('every stream to start', async () => {
      const jobs = await snapshot();
      return jobs?.every((j) => j.streamStartedAt !== null) ? jobs : undefined;
    }, 90_000, 100);
    for (const id of ids) await untilState(stack, id, ['complete']);
    expect(mostEncodesAtOnce).toBe(1);
    const finished = await Promise.all(ids.map((id) => stack.job(id)));
    const startOrder = [...finished].sort((a, b) => a!.streamStartedAt!.localeCompare(b!.streamStartedAt!)).map((j) => j!.id);
    expect(startOrder[0]).toBe(streaming.id);
    expect(startOrder.at(-1)).toBe(late);

    const lines = (await monitored).stdout.trim().split('\n').map((l) => JSON.parse(l) as { event: string; queue_position?: number | null; state: string });
    const places = lines.filter((l) => l.event === 'progress').map((l) => l.queue_position);
    // Its places in line as it moved up (each polled once a second), then its stream (null).
    const moves = places.filter((p, i) => i === 0 || p !== places[i - 1]);
    expect([3, 2, 1, null].join()).toContain(moves.join());
    expect(moves.slice(-2)).toEqual([1, null]);
    expect(lines.at(-1)).toMatchObject({ event: 'ended', state: 'complete' });
  }, 240_000);
});

describe('concurrency: two worker slots (UPFLOW_GPU_CONCURRENCY=2)', () => {
  let stack: Stack;

  beforeAll(async () => {
    // One encoder thread a slot: two chunks share the two cores.
    stack = await startStack({ UPFLOW_GPU_CONCURRENCY: '2', UPFLOW_ENCODER_THREADS: '1' });
  }, 180_000);

  afterAll(() => stopStack(stack), 120_000);

  it('streams two titles at once', async () => {
    const clips = await Promise.all(['Pair A.mp4', 'Pair B.mp4'].map((name) =>
      makeClip(path.join(stack.upflow.mediaDir, name), { seconds: 10, width: 640, height: 360 })));
    const ids = (await Promise.all(clips.map((clip) => stack.trigger(clip)))).map((t) => t.json.job_id!);
    // Both streams started before either finished: two encodes ran side by side, neither waited.
    const both = await waitFor('both streams at once', async () => {
      const encodes = stack.encodesRunning();
      const jobs = await Promise.all(ids.map((id) => stack.job(id)));
      if (jobs.some((j) => j && j.state !== 'streaming' && j.state !== 'probing')) throw new Error(`a stream ended before the other started: ${JSON.stringify(jobs)}`);
      return encodes === 2 && jobs.every((j) => j && isStreaming(j)) ? (jobs as Job[]) : undefined;
    }, 60_000, 100);
    expect(both.map((j) => j.queuePosition)).toEqual([null, null]);
    for (const id of ids) await untilState(stack, id, ['complete']);
  }, 120_000);

  /** Chunks running now: ffmpeg processes writing into a chunk's folder. */
  const chunksRunning = () => stack.upflow.descendants().filter((pid) => {
    try {
      return fs.readlinkSync(`/proc/${pid}/cwd`).includes(`${path.sep}.chunk-`) && execFileSync('ps', ['-o', 'comm=', '-p', String(pid)], { encoding: 'utf8' }).trim() === 'ffmpeg';
    } catch {
      return false;
    }
  }).length;

  it('makes two chunks of one title at once, and the title whole', async () => {
    const clip = await makeClip(path.join(stack.upflow.mediaDir, 'wide.mp4'), { seconds: 60, width: 320, height: 180 });
    const started = await stack.trigger(clip);
    let most = 0;
    const job = await waitFor('the title made', async () => {
      most = Math.max(most, chunksRunning());
      const found = await stack.job(started.json.job_id!);
      return found?.state === 'complete' ? found : undefined;
    }, 120_000, 200);
    expect(most).toBe(2);
    expect(countVideoFrames(job.finalPath!)).toBe(countVideoFrames(clip));
  }, 150_000);
});
