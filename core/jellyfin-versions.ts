/**
 * Publishing a finished upscale to Jellyfin as another version of the movie, so that every
 * Jellyfin app (TV, phone, desktop: none of them runs the web script) offers it. Pure: what to
 * write where, or why not; adapters/activities do the file work and the refresh.
 *
 * Jellyfin groups files as versions of one movie when the movie has a folder of its own and
 * the files in it are named `<folder name> - <label>.<ext>` (the original may be named
 * `<folder name>.<ext>`). Episodes are never grouped this way: a file beside one would show up
 * as a second episode, so episodes are not published.
 */
import path from 'node:path';

export type Publication =
  | {
      kind: 'publish';
      /** The version's file, beside the original. */
      target: string;
      /** Jellyfin's label for the version, from the file name. */
      label: string;
      /** Versions Upflow published earlier under another label (another output height): replaced. */
      stale: string[];
    }
  | { kind: 'skip'; reason: string };

const VIDEO_EXTENSIONS = new Set(['.mkv', '.mp4', '.m4v', '.avi', '.mov', '.wmv', '.ts', '.m2ts', '.mpg', '.mpeg', '.webm', '.flv', '.ogv', '.3gp', '.iso', '.vob']);
const UPSCALED_LABEL = /^Upscaled \d+p$/;

export function upscaledLabel(outputHeight: number): string {
  return `Upscaled ${outputHeight}p`;
}

/**
 * Where a movie's upscaled version goes: `<folder>/<folder name> - Upscaled <H>p.mkv`, when the
 * item is a movie in a folder of its own (`siblings`: the names of the files beside it).
 */
export function planPublication(input: { itemType: string; sourcePath: string; siblings: string[]; outputHeight: number }): Publication {
  if (input.itemType === 'Episode') {
    return { kind: 'skip', reason: 'Jellyfin does not group episodes as versions: a file beside this one would show up as a second episode' };
  }
  if (input.itemType !== 'Movie') return { kind: 'skip', reason: `only movies are published as versions (this item is a ${input.itemType || 'item of no type'})` };
  const folder = path.dirname(input.sourcePath);
  const folderName = path.basename(folder);
  const ownName = (name: string) => {
    const stem = path.basename(name, path.extname(name));
    return stem === folderName || stem.startsWith(`${folderName} - `);
  };
  if (!ownName(path.basename(input.sourcePath))) {
    return { kind: 'skip', reason: `the movie's file is not named after its folder ("${folderName}"), so Jellyfin would not group a version beside it` };
  }
  const strangers = input.siblings.filter((name) => VIDEO_EXTENSIONS.has(path.extname(name).toLowerCase()) && !name.startsWith('.') && !ownName(name));
  if (strangers.length > 0) {
    return { kind: 'skip', reason: `the movie has no folder of its own (${strangers.length} other video${strangers.length === 1 ? '' : 's'} beside it), so Jellyfin would not group a version there` };
  }
  const label = upscaledLabel(input.outputHeight);
  const targetName = `${folderName} - ${label}.mkv`;
  const stale = input.siblings.filter((name) => {
    if (name === targetName || path.extname(name) !== '.mkv' || !name.startsWith(`${folderName} - `)) return false;
    return UPSCALED_LABEL.test(path.basename(name, '.mkv').slice(folderName.length + 3));
  });
  return { kind: 'publish', target: path.join(folder, targetName), label, stale: stale.map((name) => path.join(folder, name)) };
}
