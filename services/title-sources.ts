/**
 * Which file and which title a request means: a Jellyfin item's file (through Jellyfin's API,
 * then the media-root guard a path goes through), and a file's title key.
 */
import { contentKindOfGenres, type ContentKind } from '../core/content-kind';
import { titleKeyFor } from '../core/media-paths';
import { UpflowError } from '../core/errors';
import { resolveSourcePath } from '../adapters/source-files';
import type { JellyfinItem } from '../adapters/jellyfin';
import type { UpflowStore } from '../adapters/postgres';
import type { ServiceDeps } from './deps';

/** A file's title key: the one its title has (older titles keep their shorter keys), else a new one. */
export async function titleKeyOf(store: UpflowStore, realSourcePath: string): Promise<string> {
  return (await store.titleKeyForSource(realSourcePath)) ?? titleKeyFor(realSourcePath);
}

/**
 * A Jellyfin item, its library name, its file's real path inside the media folders, and its
 * kind when its genres tell (an "Animation" or "Anime" title is upscaled with the animation model).
 */
export async function itemSource({ config, jellyfin }: Pick<ServiceDeps, 'config' | 'jellyfin'>, itemId: string): Promise<{ name: string; sourcePath: string; contentKind?: ContentKind }> {
  if (!jellyfin) {
    throw new UpflowError('Unavailable', 'Jellyfin is not configured: set JELLYFIN_URL and JELLYFIN_API_KEY so Upflow can find the file of a Jellyfin item (webhooks and the web script send item ids, not paths)');
  }
  const item = await jellyfin.item(itemId);
  const contentKind = contentKindOfGenres(item.genres);
  return { name: item.name, sourcePath: guardItemPath(config.mediaRoots, item), ...(contentKind ? { contentKind } : {}) };
}

/** The media-root guard, with a hint when Jellyfin and Upflow see the library at different paths. */
function guardItemPath(mediaRoots: string[], item: JellyfinItem): string {
  try {
    return resolveSourcePath(mediaRoots, item.path);
  } catch (err) {
    if (err instanceof UpflowError) {
      throw new UpflowError(err.kind, `Jellyfin item ${item.id}: ${err.message.replace(/^Item\.Path/, 'its path')} (Upflow must see the library at the paths Jellyfin reports)`);
    }
    throw err;
  }
}
