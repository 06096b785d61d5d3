/**
 * Where Upflow writes, and the rules about paths and versions of a source that need no file
 * system: every output path is derived here from a title key that contains only [a-z0-9-].
 * Reading the file system (resolving a requested source, opening it, its fingerprint) is
 * adapters/source-files.ts.
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
import type { SourceFingerprint } from './domain';

export interface TitleFiles {
  hlsDir: string;
  /** The final file while it is being written; renamed to `finalFile` only once verified. */
  partialFinal: string;
  finalFile: string;
}

/** What `titleKeyFor` makes: [a-z0-9-], not starting with `-` (so never `.`, `..` or a path). */
export function isTitleKey(text: string): boolean {
  return /^[a-z0-9][a-z0-9-]*$/.test(text);
}

export function titleFiles(config: { hlsDir: string; outputDir: string }, titleKey: string): TitleFiles {
  if (!isTitleKey(titleKey)) throw new Error(`invalid title key: ${titleKey}`);
  const hlsDir = path.join(config.hlsDir, titleKey);
  return {
    hlsDir,
    partialFinal: path.join(config.outputDir, `${titleKey}.partial.mkv`),
    finalFile: path.join(config.outputDir, `${titleKey}.mkv`),
  };
}

/** Hex digits of the path's hash in a title key: 64 bits, so that no two files meet by chance. */
const TITLE_KEY_HASH_DIGITS = 16;

/**
 * A readable, URL-safe key: the file name's slug plus 64 bits of a hash of its real path.
 * Titles keep the key they were first given (8 hex digits before this): callers look a
 * title up by its path before computing a key for it.
 */
export function titleKeyFor(realSourcePath: string): string {
  const base = path.basename(realSourcePath, path.extname(realSourcePath));
  const slug = base
    .normalize('NFKD')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 60)
    .replace(/-+$/, '');
  const hash = createHash('sha256').update(realSourcePath).digest('hex').slice(0, TITLE_KEY_HASH_DIGITS);
  return `${slug || 'title'}-${hash}`;
}

/**
 * `candidate` is `root` itself or lies below it (both already resolved). Only a whole `..`
 * component climbs out: a name that merely starts with dots ("...And Justice for All.mkv") does not.
 */
export function isInside(root: string, candidate: string): boolean {
  const relative = path.relative(root, candidate);
  return relative === '' || (relative !== '..' && !relative.startsWith(`..${path.sep}`) && !path.isAbsolute(relative));
}

// ---------------------------------------------------------------- which version of a file

/** What differs between two versions of a file, in words; undefined when they are the same. */
export function fingerprintChange(before: SourceFingerprint, after: SourceFingerprint): string | undefined {
  const changes: string[] = [];
  if (before.dev !== after.dev || before.ino !== after.ino) changes.push('another file under the same name');
  if (before.size !== after.size) changes.push(`${before.size} → ${after.size} bytes`);
  if (before.mtimeNs !== after.mtimeNs) changes.push(`modified ${new Date(Number(BigInt(after.mtimeNs) / 1_000_000n)).toISOString()}`);
  return changes.length > 0 ? changes.join(', ') : undefined;
}

/**
 * Why the file now is not the one a final file was made from, or undefined when it is.
 * A job probed before Upflow recorded fingerprints has none: its file counts as changed when
 * its status changed (ctime: any write, rename into place or replacement sets it) after the
 * job was created, just before that probe.
 */
export function sourceChangeSince(made: { fingerprint?: SourceFingerprint; probedAt: string }, now: { fingerprint: SourceFingerprint; changedAtMs: number }): string | undefined {
  if (made.fingerprint) return fingerprintChange(made.fingerprint, now.fingerprint);
  return now.changedAtMs > Date.parse(made.probedAt) ? `changed ${new Date(now.changedAtMs).toISOString()}, after it was probed` : undefined;
}
