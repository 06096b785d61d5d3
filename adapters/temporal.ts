/** Connections to Temporal: a client for starters (API, CLI) and activities, a native one for workers. */
import { Client, Connection, WorkflowNotFoundError } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import type { Config } from '../common/config';
import { TASK_QUEUES, workflowIdForTitle, type UpscaleSettings, type UpscaleTitleInput } from '../common/domain';

export { WorkflowNotFoundError };

export async function connectClient(address: string, namespace: string): Promise<Client> {
  const connection = await Connection.connect({ address, connectTimeout: '5 seconds' });
  return new Client({ connection, namespace });
}

export function connectWorkerConnection(address: string): Promise<NativeConnection> {
  return NativeConnection.connect({ address });
}

/** Answers within `timeoutMs` whether the Temporal server is reachable, with the reason if not. */
export async function temporalHealth(client: Client, timeoutMs = 2000): Promise<string | undefined> {
  try {
    await Promise.race([
      client.connection.workflowService.getSystemInfo({}),
      new Promise((_, reject) => setTimeout(() => reject(new Error(`no answer in ${timeoutMs} ms`)), timeoutMs).unref()),
    ]);
    return undefined;
  } catch (err) {
    return `Temporal is unreachable: ${(err as Error).message}`;
  }
}

export function upscaleSettings(config: Config): UpscaleSettings {
  return {
    aiEnabled: config.upscale.aiEnabled,
    model: config.upscale.model,
    slowSegmentsBeforeStepDown: config.rateControl.slowSegmentsBeforeStepDown,
    stepDownBelowRate: config.rateControl.stepDownBelowRate,
    scaleFactor: config.upscale.scaleFactor,
    preset: config.upscale.preset,
    crf: config.upscale.crf,
    segmentSeconds: config.hls.segmentSeconds,
    firstSegmentSeconds: config.hls.firstSegmentSeconds,
    hlsRetentionMs: config.hls.retentionMs,
  };
}

/**
 * Starts the title's workflow, or joins the one already running under the same id, so that
 * concurrent triggers of one title never start two encodes.
 */
export async function startOrJoinTitleWorkflow(client: Client, input: UpscaleTitleInput) {
  return client.workflow.start('upscaleTitle', {
    workflowId: workflowIdForTitle(input.titleKey),
    taskQueue: TASK_QUEUES.media,
    args: [input],
    workflowIdConflictPolicy: 'USE_EXISTING',
    workflowIdReusePolicy: 'ALLOW_DUPLICATE',
  });
}
