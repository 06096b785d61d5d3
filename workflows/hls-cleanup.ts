/**
 * HLS cleanup: removes the HLS folders of complete streams past their age and of abandoned
 * ones, never a final file or a stream being produced (the rules: core/hls-cleanup-rules.ts).
 * Run daily by the Schedule `upflow up` keeps, or at once by `upflow cleanup`.
 */
import { proxyActivities } from '@temporalio/workflow';
import type { MediaQueueActivities } from '../activities';
import { TASK_QUEUES, type HlsCleanupReport } from '../core/domain';
import type { CleanupHlsWorkflow } from './definitions';

const cleanup = proxyActivities<MediaQueueActivities>({
  taskQueue: TASK_QUEUES.media,
  // Walking and removing a few hundred folders; a stuck disk shows up as a missed heartbeat.
  startToCloseTimeout: '30 minutes',
  heartbeatTimeout: '2 minutes',
  retry: { initialInterval: '5 seconds', maximumInterval: '1 minute', maximumAttempts: 10 },
});

export const cleanupHls: CleanupHlsWorkflow = async (options) => {
  const planned = await cleanup.planHlsCleanup(options);
  // Removal decides each planned folder again; one started again meanwhile comes back as kept.
  const removal = options.dryRun || planned.removable.length === 0
    ? { removable: planned.removable, kept: [] }
    : await cleanup.removeHlsFolders({ options, titleKeys: planned.removable.map((r) => r.titleKey) });
  const report: HlsCleanupReport = {
    dryRun: options.dryRun,
    options,
    removed: removal.removable,
    kept: [...planned.kept, ...removal.kept],
    bytes: removal.removable.reduce((sum, r) => sum + r.bytes, 0),
  };
  await cleanup.recordCleanupRun(report);
  return report;
};
