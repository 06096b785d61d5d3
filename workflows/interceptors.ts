/**
 * Every activity a title's run schedules carries its job's id in a header: the first run of the
 * title's chain of runs, which a long title continues as new (workflows/index.ts). Activities
 * read it in activities/context.ts; an activity's own run id names only the run that started it.
 */
import { defaultPayloadConverter, workflowInfo, type ActivityInput, type Next, type WorkflowInterceptorsFactory, type WorkflowOutboundCallsInterceptor } from '@temporalio/workflow';
import { JOB_ID_HEADER } from '../core/domain';

class JobIdHeader implements WorkflowOutboundCallsInterceptor {
  scheduleActivity(input: ActivityInput, next: Next<WorkflowOutboundCallsInterceptor, 'scheduleActivity'>): Promise<unknown> {
    return next({ ...input, headers: { ...input.headers, [JOB_ID_HEADER]: defaultPayloadConverter.toPayload(workflowInfo().firstExecutionRunId) } });
  }
}

export const interceptors: WorkflowInterceptorsFactory = () => ({ outbound: [new JobIdHeader()] });
