/**
 * A title longer than one workflow run may hold: Temporal's server takes at most
 * `history.maxTotalUpdates` updates in a run (2,000 by default) and a title reports each segment
 * in one, so a 90-minute film with a model (5,400 segments of 1 s) continues as new when the
 * server suggests it. Here the dev server's limit is lowered so that a 60 s clip of 1 s segments
 * needs several runs, on the real worker, activities, ffmpeg and Postgres.
 */
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { workflowIdForTitle, type UpscaleStatus } from '../../core/domain';
import { titleKeyFor } from '../../core/media-paths';
import type { UpflowStore } from '../../adapters/postgres';
import { jobHandle, runningJobIdOf } from '../../adapters/temporal';
import { cancelSignal, statusQuery } from '../../workflows/definitions';
import { ffprobe, makeClip } from '../support/fixtures';
import { waitFor } from '../support/upflow-process';
import { startWorkflowStack, type WorkflowStack } from '../support/workflow-stack';

/** Updates a run may take here; the server suggests a new run at 90 % of it. */
const MAX_UPDATES_PER_RUN = 30;
const CLIP_SECONDS = 60;

describe('a title longer than one workflow run', () => {
  let stack: WorkflowStack | undefined;
  let dir: string;
  let env: TestWorkflowEnvironment;
  let store: UpflowStore;
  let start: WorkflowStack['start'];

  beforeAll(async () => {
    stack = await startWorkflowStack({
      settings: { UPFLOW_HLS_RETENTION: '2s', HLS_SEGMENT_TIME: '1' },
      serverArgs: ['--dynamic-config-value', `history.maxTotalUpdates=${MAX_UPDATES_PER_RUN}`],
    });
    ({ dir, env, store, start } = stack);
  }, 180_000);

  afterAll(async () => {
    await stack?.stop();
  }, 60_000);

  /** The runs of a title's workflow, oldest first. */
  const runsOf = async (workflowId: string): Promise<string[]> => {
    const runs: string[] = [];
    for await (const run of env.client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) runs.push(run.runId);
    return runs.reverse();
  };

  it('continues as new, one job under the first run, every segment made once, the final file whole', async () => {
    const clip = await makeClip(path.join(dir, 'media', 'long.mp4'), { seconds: CLIP_SECONDS, width: 160, height: 90 });
    const handle = await start(clip);
    const jobId = handle.firstExecutionRunId;
    // The result of the first run follows the runs it continued as.
    const result = await handle.result();
    expect(result.segments).toBe(CLIP_SECONDS);

    // 60 segment reports and the chunks' claims cannot fit in runs of 30 updates.
    const runs = await runsOf(handle.workflowId);
    expect(runs.length).toBeGreaterThanOrEqual(Math.ceil(CLIP_SECONDS / MAX_UPDATES_PER_RUN));
    expect(runs[0]).toBe(jobId);
    const last = await env.client.workflow.getHandle(handle.workflowId).describe();
    expect(last.raw.workflowExecutionInfo?.firstRunId).toBe(jobId);

    // One job, every segment recorded once and in order, none made twice.
    const jobs = (await store.listJobs()).filter((j) => j.titleKey === titleKeyFor(clip));
    expect(jobs.map((j) => j.id)).toEqual([jobId]);
    expect(jobs[0]).toMatchObject({ state: 'complete', segments: CLIP_SECONDS, finalPath: result.finalFile });
    expect((await store.segmentsOf(jobId)).map((s) => s.index)).toEqual([...Array(CLIP_SECONDS).keys()]);
    const events = await store.events(jobId);
    expect(events.filter((e) => e.kind === 'segment-remade')).toEqual([]);
    const continuedIn = events.filter((e) => e.kind === 'streaming' && e.message.startsWith('continued in run')).map((e) => e.message);
    expect(continuedIn).toHaveLength(runs.length - 1);
    expect(continuedIn[0]).toMatch(/^continued in run 2 of the title's workflow .*: \d+ of 60 segments made$/);

    const final = ffprobe(result.finalFile);
    expect(Math.abs(final.durationSeconds - CLIP_SECONDS)).toBeLessThan(0.2);
    expect(final).toMatchObject({ width: 320, height: 180, hasAudio: true });
  }, 120_000);

  it("is the job's while a later run makes it: its status answers, a join gets its id, and a cancel stops it", async () => {
    const clip = await makeClip(path.join(dir, 'media', 'cancelled.mp4'), { seconds: CLIP_SECONDS, width: 640, height: 360 });
    const handle = await start(clip);
    const jobId = handle.firstExecutionRunId;
    const workflowId = workflowIdForTitle(titleKeyFor(clip));
    await waitFor('a second run', async () => ((await runsOf(workflowId)).length > 1 ? true : undefined), 60_000, 200);

    expect(await runningJobIdOf(env.client, workflowId)).toBe(jobId);
    expect((await start(clip)).firstExecutionRunId).toBe(jobId);
    const job = { workflowId, id: jobId };
    // A new run reads back what is made before it answers with progress (the API has Postgres's meanwhile).
    const status = await waitFor('the later run\'s progress', async () => {
      const answer: UpscaleStatus = await jobHandle(env.client, job).query(statusQuery);
      return answer.progress ? answer : undefined;
    }, 30_000, 100);
    expect(status).toMatchObject({ state: 'streaming', titleKey: titleKeyFor(clip) });
    expect(status.progress!.segments).toBeGreaterThan(0);

    await jobHandle(env.client, job).signal(cancelSignal, 'cancelled by the test');
    const cancelled = await waitFor('the job cancelled', async () => {
      const record = await store.getJob(jobId);
      return record?.state === 'cancelled' ? record : undefined;
    }, 60_000, 200);
    expect(cancelled.segments).toBeLessThan(CLIP_SECONDS);
    expect(await runningJobIdOf(env.client, workflowId)).toBeUndefined();
  }, 120_000);
});
