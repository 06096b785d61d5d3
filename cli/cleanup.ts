/** `upflow cleanup`: runs the cleanup workflow now (the one the Schedule runs daily) and prints its report. */
import formatBytes from 'bytes';
import { formatDurationMs as duration, type Config } from '../core/config';
import type { HlsCleanupOptions, HlsCleanupReport } from '../core/domain';
import { hlsCleanupOptions, runHlsCleanup } from '../services/hls-cleanup';
import { formatTable } from './format';
import { connectRunningTemporal } from './temporal-target';

export interface CleanupCommandOptions {
  dryRun: boolean;
  /** Overrides UPFLOW_HLS_RETENTION for this run. */
  maxAgeMs?: number;
  /** Overrides UPFLOW_CLEANUP_ABANDONED_AFTER for this run. */
  abandonedAfterMs?: number;
  completedOnly: boolean;
  json: boolean;
}

/** If no worker picks the run up by then, say why the command waits. */
const NO_WORKER_HINT_MS = 15_000;


export function describeCleanupOptions(options: HlsCleanupOptions): string {
  const abandoned = options.completedOnly ? 'abandoned ones left alone (--completed-only)' : `abandoned ones idle for ${duration(options.abandonedAfterMs)}`;
  return `complete streams finished over ${duration(options.maxAgeMs)} ago, ${abandoned}`;
}

export function formatCleanupReport(report: HlsCleanupReport): string {
  const size = (n: number) => formatBytes(n, { unitSeparator: ' ' }) ?? `${n} B`;
  let out = `HLS cleanup${report.dryRun ? ' (dry run: nothing removed)' : ''}: ${describeCleanupOptions(report.options)}\n`;
  const verb = report.dryRun ? 'Would remove' : 'Removed';
  out += `${verb} ${report.removed.length} HLS folder${report.removed.length === 1 ? '' : 's'}, ${size(report.bytes)} in all.\n`;
  if (report.removed.length > 0) {
    out += '\n' + formatTable(
      ['reason', 'age', 'files', 'size', 'title', 'folder'],
      report.removed.map((r) => [r.reason, duration(r.ageHours * 3_600_000), String(r.files), size(r.bytes), r.name ?? '(no job on record)', r.folder]),
      ['left', 'right', 'right', 'right'],
    );
  }
  if (report.kept.length > 0) {
    out += `\nKept ${report.kept.length}:\n` + report.kept.map((k) => `  ${k.titleKey}: ${k.why}\n`).join('');
  }
  return out + 'Final upscaled files are never removed.\n';
}

export async function cleanupCommand(config: Config, options: CleanupCommandOptions): Promise<number> {
  const client = await connectRunningTemporal(config);
  const hint = setTimeout(() => {
    process.stderr.write('upflow: waiting for a worker on task queue "media" to run the cleanup (is `npm start` or `upflow worker` running?)\n');
  }, NO_WORKER_HINT_MS);
  try {
    const overrides: Partial<HlsCleanupOptions> = { dryRun: options.dryRun, completedOnly: options.completedOnly };
    if (options.maxAgeMs !== undefined) overrides.maxAgeMs = options.maxAgeMs;
    if (options.abandonedAfterMs !== undefined) overrides.abandonedAfterMs = options.abandonedAfterMs;
    const { workflowId, report } = await runHlsCleanup(client, hlsCleanupOptions(config, overrides));
    process.stdout.write(options.json ? `${JSON.stringify({ workflowId, ...report })}\n` : formatCleanupReport(report));
    return 0;
  } finally {
    clearTimeout(hint);
    await client.connection.close();
  }
}
