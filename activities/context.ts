import { Context } from '@temporalio/activity';

/** A job is one workflow run: its id is the run id, known to every activity of the run. */
export function currentJob(): { jobId: string; workflowId: string } {
  const { workflowExecution } = Context.current().info;
  if (!workflowExecution) throw new Error('Upflow activities run only inside the title workflow');
  return { jobId: workflowExecution.runId, workflowId: workflowExecution.workflowId };
}
