/** `upflow up` (what `npm start` runs): the whole stack in the foreground until Ctrl-C. */
import { createServices } from '../services';
import type { Config } from '../core/config';
import { hlsPlaylistPath } from '../core/hls-access';
import type { Logger } from '../adapters/logger';
import { ensureHlsCleanupSchedule } from '../services/hls-cleanup';
import { HLS_CLEANUP_SCHEDULE_ID } from '../core/domain';
import { makeDemoClipIfEmpty } from './demo';
import { startStack, type Stack } from './stack';

export async function upCommand(config: Config, logger: Logger): Promise<number> {
  const stopRequested = new Promise<NodeJS.Signals>((resolve) => {
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.once(signal, () => resolve(signal));
  });
  const stack = await startStack(config, logger, { api: true });
  const cleanup = await describeCleanupSchedule(stack, config, logger);
  const lines = [
    '',
    'Upflow is up.',
    `  Status page:  ${stack.apiUrl}/   (titles, progress, play, cancel)`,
    `  API:          ${stack.apiUrl}   (POST /upscale-trigger, GET /jobs, GET /health)`,
    `  Access:       ${config.api.apiKey ? `UPFLOW_API_KEY required (listening on ${config.api.host})` : 'this machine only (set UPFLOW_API_KEY to reach it from others)'}`,
    `  HLS:          ${config.hlsBaseUrl}/${hlsPlaylistPath('<title>', config.api.apiKey ? '<token>' : undefined)}${config.api.apiKey ? '   (the signed hls_url of each answer)' : ''}`,
    `  Temporal UI:  ${stack.temporalUiUrl ?? `(external Temporal at ${stack.temporalAddress})`}`,
    `  Jellyfin:     ${config.jellyfin ? config.jellyfin.url : 'not configured (set JELLYFIN_URL and JELLYFIN_API_KEY for webhooks by item id)'}`,
    `  Web script:   ${stack.apiUrl}/client/upflow-jellyfin.js   (see docs/jellyfin.md)`,
    `  HLS cleanup:  ${cleanup}`,
    `  Media folders: ${config.mediaRoots.join(', ')}`,
    `  Final files:   ${config.outputDir}`,
    'Press Ctrl-C to stop.',
    '',
  ];
  process.stdout.write(lines.join('\n'));

  const mediaRoot = config.mediaRoots[0];
  if (config.demoEnabled && mediaRoot) {
    const demo = await makeDemoClipIfEmpty(mediaRoot);
    if (demo) {
      const services = createServices({ config, store: stack.store, client: stack.client });
      const result = await services.triggers.trigger(demo, { name: 'Upflow demo' });
      process.stdout.write(`\nNo video in ${mediaRoot} yet: made a demo clip and started upscaling it.\n`
        + `  Watch it: ffplay ${result.hlsUrl}\n`
        + `  Follow it: ${stack.apiUrl}/jobs/${result.jobId}\n\n`);
    }
  }

  const signal = await stopRequested;
  logger.info({ signal }, 'stopping Upflow');
  await stack.stop();
  return 0;
}

/** Creates or updates the cleanup Schedule; a failure is a warning, streaming works without it. */
async function describeCleanupSchedule(stack: Stack, config: Config, logger: Logger): Promise<string> {
  try {
    const { outcome, nextRunAt } = await ensureHlsCleanupSchedule(stack.client, config);
    const where = stack.temporalUiUrl ? `${stack.temporalUiUrl}/namespaces/${config.temporal.namespace}/schedules/${HLS_CLEANUP_SCHEDULE_ID}` : HLS_CLEANUP_SCHEDULE_ID;
    return `"${config.cleanup.schedule}" (${config.cleanup.timeZone}), next ${nextRunAt?.toISOString() ?? 'unknown'}; Schedule ${outcome}: ${where}`;
  } catch (err) {
    logger.warn({ err }, 'could not create or update the HLS cleanup Schedule');
    return `no Schedule (${(err as Error).message}); run \`upflow cleanup\` by hand`;
  }
}
