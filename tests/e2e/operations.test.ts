/**
 * The operator's commands on the real stack (`upflow up`: Temporal dev server, Postgres, worker,
 * API; real ffmpeg): the cleanup Schedule kept by `up`, `upflow monitor` following a stream to
 * its end, `upflow audit` on its recorded timings, and `upflow cleanup` removing exactly the
 * HLS folders its rules allow, never a final file or a stream being produced.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { loadConfig } from '../../core/config';
import { HLS_CLEANUP_SCHEDULE_ID, type HlsCleanupReport } from '../../core/domain';
import { ensureHlsCleanupSchedule } from '../../services/hls-cleanup';
import { makeClip } from '../support/fixtures';
import { startUpflow, stopAndRemove, waitFor, type UpflowProcess } from '../support/upflow-process';

const run = promisify(execFile);
const UPFLOW = path.join(__dirname, '..', '..', 'bin', 'upflow.js');
const SHORT_SECONDS = 40;

interface Job {
  id: string;
  titleKey: string;
  state: string;
  segments: number;
  finalPath: string | null;
  hlsRemovedAt: string | null;
  events?: Array<{ kind: string; message: string }>;
}

describe('operations: cleanup schedule, monitor, audit, cleanup', () => {
  let upflow: UpflowProcess;
  let hlsDir: string;
  let temporal: Client;

  const api = <T>(method: string, route: string, body?: unknown) => upflow.api<T>(method, route, body);
  const trigger = async (file: string) => {
    const answer = await api<{ job_id: string; title_key: string }>('POST', '/upscale-trigger', { Item: { Path: file, Name: path.basename(file) } });
    expect(answer.status).toBe(202);
    return { jobId: answer.json.job_id, titleKey: answer.json.title_key };
  };
  const job = async (id: string) => {
    const answer = await api<Job>('GET', `/jobs/${id}`);
    return answer.status === 200 ? answer.json : undefined;
  };
  const untilState = (id: string, states: string[], timeoutMs = 120_000) =>
    waitFor(`job ${id} to be ${states.join('/')}`, async () => {
      const j = await job(id);
      return j && states.includes(j.state) ? j : undefined;
    }, timeoutMs, 250);
  const upflowCli = (...args: string[]) => run(process.execPath, [UPFLOW, ...args], { env: upflow.env, cwd: upflow.dir, timeout: 120_000 });
  const cleanup = async (...args: string[]) => JSON.parse((await upflowCli('cleanup', '--json', ...args)).stdout) as HlsCleanupReport & { workflowId: string };

  let short: { jobId: string; titleKey: string };

  beforeAll(async () => {
    upflow = await startUpflow({ UPFLOW_HLS_RETENTION: '1h', UPFLOW_CLEANUP_ABANDONED_AFTER: '2s', UPFLOW_CLEANUP_SCHEDULE: '30 4 * * *', HLS_SEGMENT_TIME: '2' });
    hlsDir = path.join(upflow.dir, 'data', 'hls');
    temporal = new Client({ connection: await Connection.connect({ address: `127.0.0.1:${upflow.env.UPFLOW_TEMPORAL_PORT}` }) });
  }, 180_000);

  afterAll(async () => {
    await temporal?.connection.close();
    await stopAndRemove(upflow);
  }, 120_000);

  it('keeps the cleanup Schedule: created by `upflow up`, updated in place when the cron changes', async () => {
    // The API answers /health before `up` has printed its banner (the Schedule comes first).
    await waitFor('the banner', async () => (upflow.output().includes('Press Ctrl-C to stop.') || undefined), 30_000);
    expect(upflow.output()).toMatch(/HLS cleanup: {2}"30 4 \* \* \*" \(.+\), next \S+; Schedule created/);
    const described = await temporal.schedule.getHandle(HLS_CLEANUP_SCHEDULE_ID).describe();
    expect(described.action).toMatchObject({ type: 'startWorkflow', workflowType: 'cleanupHls', taskQueue: 'media' });
    expect(described.action.args).toEqual([{ dryRun: false, maxAgeMs: 3_600_000, completedOnly: false, abandonedAfterMs: 2000 }]);
    expect(described.spec.calendars).toEqual([expect.objectContaining({ hour: [{ start: 4, end: 4, step: 1 }], minute: [{ start: 30, end: 30, step: 1 }] })]);
    expect(described.info.nextActionTimes[0]!.getUTCMinutes()).toBe(30);

    const config = loadConfig({ ...upflow.env, UPFLOW_CLEANUP_SCHEDULE: '0 5 * * 1', UPFLOW_TEMPORAL_ADDRESS: `127.0.0.1:${upflow.env.UPFLOW_TEMPORAL_PORT}` });
    expect((await ensureHlsCleanupSchedule(temporal, config)).outcome).toBe('updated');
    const updated = await temporal.schedule.getHandle(HLS_CLEANUP_SCHEDULE_ID).describe();
    expect(updated.spec.calendars).toEqual([expect.objectContaining({ hour: [{ start: 5, end: 5, step: 1 }], dayOfWeek: [{ start: 'MONDAY', end: 'MONDAY', step: 1 }] })]);
    const ids: string[] = [];
    for await (const schedule of temporal.schedule.list()) ids.push(schedule.scheduleId);
    expect(ids).toEqual([HLS_CLEANUP_SCHEDULE_ID]);
  });

  it('monitor --json follows a stream to its end and exits', async () => {
    // Long enough (about 5 s of lanczos here) that the monitor, once started, sees it stream.
    const clip = await makeClip(path.join(upflow.mediaDir, 'Short One.mp4'), { seconds: SHORT_SECONDS, width: 320, height: 180 });
    short = await trigger(clip);
    await waitFor('the job row', () => job(short.jobId));
    const { stdout } = await upflowCli('monitor', short.jobId, '--json');
    const lines = stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const progress = lines.filter((l) => l.event === 'progress');
    expect(progress.length).toBeGreaterThan(1);
    expect(progress[0]).toMatchObject({ job: short.jobId, title: short.titleKey, name: 'Short One.mp4', model: 'lanczos' });
    const percents = progress.map((p) => p.percent as number);
    expect(percents).toEqual([...percents].sort((a, b) => a - b));
    expect(progress.at(-1)).toMatchObject({ state: 'complete', percent: 100, below_real_time: false });
    expect(lines.at(-1)).toEqual({ event: 'ended', job: short.jobId, state: 'complete', reason: null });
  }, 120_000);

  it('a forced trigger upscales a complete title again, though its run still waits out HLS retention', async () => {
    const clip = path.join(upflow.mediaDir, 'Short One.mp4');
    const again = await api<{ status: string; job_id: string }>('POST', '/upscale-trigger?force=1', { Item: { Path: clip, Name: 'Short One.mp4' } });
    expect(again.status).toBe(202);
    expect(again.json.status).toBe('started');
    expect(again.json.job_id).not.toBe(short.jobId);
    await untilState(again.json.job_id, ['complete']);
    // Unforced, the finished file is the answer and nothing starts.
    const unforced = await api<{ status: string; job_id: string }>('POST', '/upscale-trigger', { Item: { Path: clip, Name: 'Short One.mp4' } });
    expect(unforced.json).toMatchObject({ status: 'complete', job_id: again.json.job_id });
    short = { ...short, jobId: again.json.job_id };
  }, 120_000);

  it('audit reports frames, fps, the real-time multiplier and stability from the recorded segments', async () => {
    const { stdout } = await upflowCli('audit', 'short one');
    expect(stdout).toContain(`job ${short.jobId}, complete`);
    expect(stdout).toMatch(/^real-time multiplier\s+\d+\.\d\dx$/m);
    expect(stdout).toMatch(/^stability\s+(STABLE|UNSTABLE) \(rates vary by [\d.]+ %\)$/m);
    expect(stdout).toContain('Rule: STABLE when');
    const audit = JSON.parse((await upflowCli('audit', short.jobId, '--json')).stdout) as Record<string, number & string> & { segmentTimings: unknown[] };
    // The grid: segments of HLS_SEGMENT_TIME (2 s).
    expect(audit).toMatchObject({ jobId: short.jobId, frames: SHORT_SECONDS * 25, segments: SHORT_SECONDS / 2 });
    expect(audit.contentSeconds).toBeCloseTo(SHORT_SECONDS, 0);
    expect(audit.realTime).toBeGreaterThan(1);
    expect(audit.averageFps).toBeGreaterThan(25);
    expect(audit.segmentTimings).toHaveLength(SHORT_SECONDS / 2);
  }, 60_000);

  it('cleanup removes what its rules allow: never a final file or a stream being produced', async () => {
    const complete = (await job(short.jobId))!;
    expect(fs.existsSync(path.join(hlsDir, short.titleKey))).toBe(true);

    // A stream stopped half way: abandoned once idle for UPFLOW_CLEANUP_ABANDONED_AFTER (2 s here).
    const stopped = await trigger(await makeClip(path.join(upflow.mediaDir, 'stopped.mp4'), { seconds: 120, width: 640, height: 360 }));
    await waitFor('a segment of the stopped stream', async () => ((await job(stopped.jobId))?.segments ?? 0) >= 1 || undefined, 60_000, 250);
    expect((await api('POST', `/jobs/${stopped.jobId}/cancel`)).status).toBe(202);
    await untilState(stopped.jobId, ['cancelled']);
    // A folder no job made, last touched long ago.
    const orphan = path.join(hlsDir, 'left-over-0000');
    fs.mkdirSync(orphan);
    fs.writeFileSync(path.join(orphan, 'segment_000.ts'), Buffer.alloc(1000));
    const longAgo = new Date(Date.now() - 48 * 3_600_000);
    fs.utimesSync(path.join(orphan, 'segment_000.ts'), longAgo, longAgo);
    fs.utimesSync(orphan, longAgo, longAgo);
    // A stream being produced while cleanup runs.
    const live = await trigger(await makeClip(path.join(upflow.mediaDir, 'live.mp4'), { seconds: 240, width: 640, height: 360 }));
    await waitFor('a segment of the live stream', async () => ((await job(live.jobId))?.segments ?? 0) >= 1 || undefined, 60_000, 250);
    await new Promise((r) => setTimeout(r, 2500));

    const removedKeys = (report: HlsCleanupReport) => Object.fromEntries(report.removed.map((r) => [r.titleKey, r.reason]));
    const dry = await cleanup('--dry-run', '--max-age', '0');
    expect(dry.dryRun).toBe(true);
    expect(removedKeys(dry)).toEqual({ [short.titleKey]: 'complete', [stopped.titleKey]: 'abandoned', 'left-over-0000': 'orphaned' });
    expect(dry.kept).toEqual([{ titleKey: live.titleKey, why: 'being produced (streaming)' }]);
    expect(dry.removed.every((r) => r.bytes > 0 && r.files > 0)).toBe(true);
    expect(dry.bytes).toBe(dry.removed.reduce((sum, r) => sum + r.bytes, 0));
    for (const key of [short.titleKey, stopped.titleKey, 'left-over-0000', live.titleKey]) expect(fs.existsSync(path.join(hlsDir, key))).toBe(true);

    // The default age (UPFLOW_HLS_RETENTION, 1 h) keeps the complete stream; --completed-only the rest.
    const nothing = await cleanup('--completed-only');
    expect(nothing.removed).toEqual([]);

    const completedOnly = await cleanup('--completed-only', '--max-age', '0');
    expect(removedKeys(completedOnly)).toEqual({ [short.titleKey]: 'complete' });
    expect(fs.existsSync(path.join(hlsDir, short.titleKey))).toBe(false);
    expect(fs.existsSync(complete.finalPath!)).toBe(true);
    const afterCleanup = (await job(short.jobId))!;
    expect(afterCleanup.hlsRemovedAt).not.toBeNull();
    expect(afterCleanup.events?.map((e) => e.kind)).toContain('hls-cleanup');

    const liveSegments = (await job(live.jobId))!.segments;
    const { stdout } = await upflowCli('cleanup');
    expect(stdout).toContain('Removed 2 HLS folders');
    expect(stdout).toMatch(/abandoned .* stopped\.mp4/);
    expect(stdout).toContain(`${live.titleKey}: being produced (streaming)`);
    expect(fs.existsSync(path.join(hlsDir, stopped.titleKey))).toBe(false);
    expect(fs.existsSync(orphan)).toBe(false);
    // The live stream goes on untouched.
    await waitFor('the live stream to go on', async () => ((await job(live.jobId))!.segments > liveSegments + 1) || undefined, 60_000, 250);
    expect(fs.existsSync(path.join(hlsDir, live.titleKey, 'stream.m3u8'))).toBe(true);

    const runs = await api<{ runs: Array<{ dryRun: boolean; removed: unknown[] }> }>('GET', '/cleanup-runs');
    expect(runs.json.runs.map((r) => [r.dryRun, r.removed.length])).toEqual([[false, 2], [false, 1], [false, 0], [true, 3]]);
    await api('POST', `/jobs/${live.jobId}/cancel`);
  }, 240_000);
});
