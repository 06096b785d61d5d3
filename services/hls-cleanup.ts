/**
 * HLS cleanup as Upflow asks Temporal for it: the options as configured, the Schedule every start
 * of Upflow keeps up to date, and a run now (`upflow cleanup`). The workflow is
 * workflows/hls-cleanup.ts; its rules core/hls-cleanup-rules.ts.
 */
import { ScheduleAlreadyRunning, ScheduleOverlapPolicy, type Client } from '@temporalio/client';
import type { Config } from '../core/config';
import { HLS_CLEANUP_SCHEDULE_ID, TASK_QUEUES, type HlsCleanupOptions, type HlsCleanupReport } from '../core/domain';
import type { CleanupHlsWorkflow } from '../workflows/definitions';

/** Cleanup as configured (what the Schedule runs), with a one-off run's changes on top. */
export function hlsCleanupOptions(config: Config, overrides: Partial<HlsCleanupOptions> = {}): HlsCleanupOptions {
  return {
    dryRun: false,
    maxAgeMs: config.hls.retentionMs,
    completedOnly: false,
    abandonedAfterMs: config.cleanup.abandonedAfterMs,
    ...overrides,
  };
}

export interface CleanupScheduleState {
  outcome: 'created' | 'updated';
  nextRunAt?: Date;
}

/**
 * Creates the cleanup Schedule, or brings an existing one to the configured cron and options:
 * every start of Upflow calls it, so changing UPFLOW_CLEANUP_SCHEDULE takes effect on restart.
 */
export async function ensureHlsCleanupSchedule(client: Client, config: Config): Promise<CleanupScheduleState> {
  const spec = { cronExpressions: [config.cleanup.schedule], timezone: config.cleanup.timeZone };
  const action = {
    type: 'startWorkflow' as const,
    workflowType: 'cleanupHls',
    taskQueue: TASK_QUEUES.media,
    workflowId: HLS_CLEANUP_SCHEDULE_ID,
    args: [hlsCleanupOptions(config)],
  };
  let outcome: CleanupScheduleState['outcome'] = 'created';
  try {
    await client.schedule.create({
      scheduleId: HLS_CLEANUP_SCHEDULE_ID,
      spec,
      action,
      // A run still going when the next is due (a huge folder) is left to finish.
      policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 hour' },
      state: { note: 'kept by Upflow from UPFLOW_CLEANUP_SCHEDULE, UPFLOW_HLS_RETENTION and UPFLOW_CLEANUP_ABANDONED_AFTER' },
    });
  } catch (err) {
    if (!(err instanceof ScheduleAlreadyRunning)) throw err;
    outcome = 'updated';
    await client.schedule.getHandle(HLS_CLEANUP_SCHEDULE_ID).update((previous) => ({ ...previous, spec, action }));
  }
  const description = await client.schedule.getHandle(HLS_CLEANUP_SCHEDULE_ID).describe();
  return { outcome, nextRunAt: description.info.nextActionTimes[0] };
}

/** Runs cleanup now, as its own workflow beside the scheduled ones, and waits for its report. */
export async function runHlsCleanup(client: Client, options: HlsCleanupOptions): Promise<{ workflowId: string; report: HlsCleanupReport }> {
  const workflowId = `${HLS_CLEANUP_SCHEDULE_ID}-now-${Date.now()}`;
  const report = await client.workflow.execute<CleanupHlsWorkflow>('cleanupHls', {
    workflowId,
    taskQueue: TASK_QUEUES.media,
    args: [options],
  });
  return { workflowId, report };
}
