/**
 * A title's workflow as the API and the CLI ask for it: the settings it is made with, start or
 * join its run (the workflow id is the lock), and end a run that only waits out HLS retention.
 */
import { WorkflowExecutionAlreadyStartedError, WorkflowFailedError, type Client, type WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import type { Config } from '../core/config';
import { modelFor, type ContentKind } from '../core/content-kind';
import { TASK_QUEUES, workflowIdForTitle, type UpscaleSettings, type UpscaleTitleInput } from '../core/domain';
import { jobHandle, runningJobIdOf, WorkflowNotFoundError } from '../adapters/temporal';

/** What a title is made with, from the configuration and the title's kind (Jellyfin's genres; unset, the configured kind): the workflow's input, so a run keeps it whatever the configuration becomes. */
export function upscaleSettings(config: Config, contentKind?: ContentKind): UpscaleSettings {
  return {
    aiEnabled: config.upscale.aiEnabled,
    model: modelFor(config.upscale, contentKind),
    stepDownWindowSeconds: config.rateControl.stepDownWindowSeconds,
    stepDownBelowRate: config.rateControl.stepDownBelowRate,
    scaleFactor: config.upscale.scaleFactor,
    preset: config.upscale.preset,
    crf: config.upscale.crf,
    encoderThreads: config.upscale.encoderThreads,
    segmentSeconds: config.hls.segmentSeconds,
    hlsRetentionMs: config.hls.retentionMs,
    lookAheadSegments: config.hls.listSize,
  };
}

/** The title's run after a start: the one this call started, or the one it joined. */
export type TitleWorkflowStart = WorkflowHandleWithFirstExecutionRunId & {
  /** False: a run was already going under the title's workflow id, and this is it. */
  started: boolean;
};

/** A run that ends between a refused start and the look-up of it is retried this often. */
const START_OR_JOIN_ATTEMPTS = 3;

/**
 * Starts the title's workflow, or joins the one already running under the same id, so that
 * concurrent triggers of one title never start two encodes, and says which it did.
 *
 * The workflow id is the lock: with `workflowIdConflictPolicy: 'FAIL'` the server lets exactly
 * one of many concurrent starts through and refuses the others (ALREADY_EXISTS), which then
 * join the running run. ('USE_EXISTING' would join too, but @temporalio/client 1.24's `start`
 * drops the server's `started` flag: a joined start looks like a fresh one.)
 */
export async function startOrJoinTitleWorkflow(client: Client, input: UpscaleTitleInput): Promise<TitleWorkflowStart> {
  const workflowId = workflowIdForTitle(input.titleKey);
  for (let attempt = 1; ; attempt++) {
    try {
      const handle = await client.workflow.start('upscaleTitle', {
        workflowId,
        taskQueue: TASK_QUEUES.media,
        args: [input],
        workflowIdConflictPolicy: 'FAIL',
        workflowIdReusePolicy: 'ALLOW_DUPLICATE',
      });
      return { ...handle, started: true };
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    }
    const jobId = await runningJobIdOf(client, workflowId);
    if (jobId) {
      return { ...jobHandle(client, { workflowId, id: jobId }), firstExecutionRunId: jobId, started: false };
    }
    // The run that refused this start has ended meanwhile: start again.
    if (attempt >= START_OR_JOIN_ATTEMPTS) throw new Error(`could neither start nor join workflow ${workflowId}: its runs keep ending`);
  }
}

/** Waits until a job's runs have closed, however it ends (its outcome is recorded in Postgres already). */
export async function waitForRunEnd(client: Client, workflowId: string, jobId: string): Promise<void> {
  // From the job's first run, the result follows the runs it continued as. Only the run's own
  // ending (failed, cancelled, terminated) is waited out; Temporal unreachable or the caller's
  // deadline passing is not an end, and starting then would join the run that is ending.
  await client.workflow.getHandle(workflowId, jobId).result().catch((err: unknown) => {
    if (!(err instanceof WorkflowFailedError)) throw err;
  });
}

/**
 * Ends a complete title's run that only waits out HLS retention, so the title can be upscaled
 * afresh. By its job: a concurrent trigger that already replaced it is not touched.
 */
export async function endRetentionRun(client: Client, workflowId: string, jobId: string, reason: string): Promise<void> {
  try {
    // The latest run of the job's chain: a long title's first run continued as new long before.
    await jobHandle(client, { workflowId, id: jobId }).terminate(reason);
  } catch (err) {
    // Ended meanwhile (by retention, or by a concurrent trigger): nothing left to do.
    if (!(err instanceof WorkflowNotFoundError)) throw err;
  }
}
