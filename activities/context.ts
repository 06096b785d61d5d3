import { Context } from '@temporalio/activity';
import { defaultPayloadConverter } from '@temporalio/common';
import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import type { Logger } from '../adapters/logger';
import { JOB_ID_HEADER, titleKeyOfWorkflow } from '../core/domain';

/** Each running activity's job id, from the header its run put on it (workflows/interceptors.ts). */
const jobIds = new WeakMap<Context, string>();

/** The worker's activity interceptor that reads the job id's header. */
export const readJobIdHeader: ActivityInterceptorsFactory = (context) => ({
  inbound: {
    execute: (input, next) => {
      const header = input.headers[JOB_ID_HEADER];
      if (header) jobIds.set(context, defaultPayloadConverter.fromPayload<string>(header));
      return next(input);
    },
  },
});

/**
 * A job is one title's chain of workflow runs (a long title continues as new): its id is the
 * first run's. `runId` is the run that started this activity, the one to answer its updates.
 */
export function currentJob(): { jobId: string; workflowId: string; runId: string } {
  const context = Context.current();
  const { workflowExecution } = context.info;
  if (!workflowExecution) throw new Error('Upflow activities run only inside the title workflow');
  // Runs begun before the header were each a whole job.
  const jobId = jobIds.get(context) ?? workflowExecution.runId;
  return { jobId, workflowId: workflowExecution.workflowId, runId: workflowExecution.runId };
}

/** The worker's logger with the current job's and title's ids on every line. */
export function jobLogger(logger: Logger): Logger {
  const { jobId, workflowId } = currentJob();
  return logger.child({ jobId, title: titleKeyOfWorkflow(workflowId) });
}
