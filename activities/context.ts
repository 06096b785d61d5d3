import { Context } from '@temporalio/activity';
import type { Logger } from '../adapters/logger';
import { titleKeyOfWorkflow } from '../core/domain';

/** A job is one workflow run: its id is the run id, known to every activity of the run. */
export function currentJob(): { jobId: string; workflowId: string } {
  const { workflowExecution } = Context.current().info;
  if (!workflowExecution) throw new Error('Upflow activities run only inside the title workflow');
  return { jobId: workflowExecution.runId, workflowId: workflowExecution.workflowId };
}

/** The worker's logger with the current job's and title's ids on every line. */
export function jobLogger(logger: Logger): Logger {
  const { jobId, workflowId } = currentJob();
  return logger.child({ jobId, title: titleKeyOfWorkflow(workflowId) });
}
