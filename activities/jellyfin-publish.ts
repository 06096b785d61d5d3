/**
 * A finished movie's upscale, published beside it as a Jellyfin version (UPFLOW_JELLYFIN_PUBLISH):
 * copied under a hidden name in the movie's folder, checked, renamed into place (Jellyfin never
 * sees half a file), earlier upscaled versions at another height removed, then Jellyfin asked to
 * scan the item. Never fails the job: what happened, or why not, is an event on it.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { planPublication } from '../core/jellyfin-versions';
import { JellyfinClient } from '../adapters/jellyfin';
import { resolveSourcePath } from '../adapters/source-files';
import type { ActivityDeps } from './deps';

export interface PublishInput {
  jobId: string;
  titleKey: string;
  sourcePath: string;
  finalFile: string;
  outputHeight: number;
}

const NOT_WRITABLE = new Set(['EACCES', 'EPERM', 'EROFS']);

export async function publishToJellyfin({ config, store, logger }: Pick<ActivityDeps, 'config' | 'store' | 'logger'>, input: PublishInput): Promise<void> {
  if (!config.jellyfinPublish || !config.jellyfin) return;
  const event = (kind: 'published' | 'publish-skipped' | 'publish-failed', message: string, data?: unknown) => store.addEvent(input.jobId, kind, message, data);
  let folder = path.dirname(input.sourcePath);
  try {
    const itemId = await store.jellyfinItemOfTitle(input.titleKey);
    if (!itemId) {
      await event('publish-skipped', 'not published to Jellyfin: no Jellyfin item asked for this title (it came by path)');
      return;
    }
    const jellyfin = new JellyfinClient(config.jellyfin);
    const item = await jellyfin.item(itemId);
    // Both as the media folders lead to them now: Jellyfin may name the file through a link, and
    // the movie's folder must still be inside the media folders when Upflow writes into it.
    const sourcePath = resolveSourcePath(config.mediaRoots, input.sourcePath);
    if (resolveSourcePath(config.mediaRoots, item.path) !== sourcePath) {
      await event('publish-skipped', `not published to Jellyfin: item ${itemId} is now another file (${item.path})`);
      return;
    }
    folder = path.dirname(sourcePath);
    const publication = planPublication({ itemType: item.type, sourcePath, siblings: await fs.readdir(folder), outputHeight: input.outputHeight });
    if (publication.kind === 'skip') {
      await event('publish-skipped', `not published to Jellyfin: ${publication.reason}`);
      return;
    }
    await copyIntoPlace(input.finalFile, publication.target);
    for (const stale of publication.stale) await fs.rm(stale, { force: true });
    await jellyfin.refreshItem(itemId);
    const message = `published to Jellyfin as the version "${publication.label}": ${publication.target}`;
    await event('published', message, { target: publication.target, label: publication.label, replaced: publication.stale });
    logger.info({ title: input.titleKey, target: publication.target }, message);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const reason = code && NOT_WRITABLE.has(code)
      ? `the movie's folder ${folder} is not writable (${code}): let Upflow write there (with docker-compose: UPFLOW_MEDIA_ACCESS=rw), or set UPFLOW_JELLYFIN_PUBLISH=0`
      : (err as Error).message;
    logger.warn({ title: input.titleKey, reason }, 'not published to Jellyfin');
    await event('publish-failed', `not published to Jellyfin: ${reason}`).catch(() => undefined);
  }
}

/**
 * Copied under a hidden name beside `target`, its size checked, then renamed: all or nothing.
 * Anyone who can write the media folder can plant a link at the hidden name: it is removed (not
 * its target), and the copy refuses to follow one planted after that.
 */
async function copyIntoPlace(file: string, target: string): Promise<void> {
  const partial = path.join(path.dirname(target), `.${path.basename(target)}.upflow-partial`);
  try {
    await fs.rm(partial, { force: true });
    await fs.copyFile(file, partial, fs.constants.COPYFILE_EXCL);
    const [made, copied] = await Promise.all([fs.stat(file), fs.stat(partial)]);
    if (made.size !== copied.size) throw new Error(`the copy in ${path.dirname(target)} has ${copied.size} bytes, not ${made.size}`);
    await fs.rename(partial, target);
  } finally {
    await fs.rm(partial, { force: true });
  }
}
