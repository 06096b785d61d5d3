/**
 * Where files may come from and where Upflow writes. Every source path goes through
 * `resolveSourcePath` (symlinks resolved, then checked against UPFLOW_MEDIA_ROOTS); every read
 * of a source opens it with `openSource` (the same checks, then the descriptor ffmpeg reads),
 * and every output path is derived here from a title key that contains only [a-z0-9-].
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Config } from './config';
import type { SourceFingerprint } from './domain';
import { AppError } from './errors';

export interface TitleFiles {
  hlsDir: string;
  playlist: string;
  /** ffmpeg's segment muxer appends a CSV line here as each segment completes. */
  segmentList: string;
  /** The final file while it is being written; renamed to `finalFile` only once verified. */
  partialFinal: string;
  finalFile: string;
}

/** What `titleKeyFor` makes: [a-z0-9-], not starting with `-` (so never `.`, `..` or a path). */
export function isTitleKey(text: string): boolean {
  return /^[a-z0-9][a-z0-9-]*$/.test(text);
}

export function titleFiles(config: Pick<Config, 'hlsDir' | 'outputDir'>, titleKey: string): TitleFiles {
  if (!isTitleKey(titleKey)) throw new Error(`invalid title key: ${titleKey}`);
  const hlsDir = path.join(config.hlsDir, titleKey);
  return {
    hlsDir,
    playlist: path.join(hlsDir, 'stream.m3u8'),
    segmentList: path.join(hlsDir, 'segments.csv'),
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

/**
 * The real path of a file as the file system spells it: `realpath(3)`, which also gives a
 * case-insensitive file system's own spelling, so two spellings of one file make one title.
 * (`fs.realpathSync` without `.native` keeps the case it was given.)
 */
const realPathOf = (file: string): string => fs.realpathSync.native(file);

/** The media roots as real paths (a root that does not exist yet: as written). */
function realRoots(mediaRoots: string[]): string[] {
  return mediaRoots.map((root) => {
    try {
      return realPathOf(root);
    } catch {
      return path.resolve(root);
    }
  });
}

/**
 * Resolves a requested source path to its real path inside one of the media roots.
 * 400 for a malformed path, 403 outside the roots (also through a symlink), 404 when missing.
 */
export function resolveSourcePath(mediaRoots: string[], requested: string): string {
  if (requested.includes('\0')) throw new AppError(400, 'Item.Path contains a NUL byte');
  if (!path.isAbsolute(requested)) throw new AppError(400, 'Item.Path must be an absolute path');
  const normalized = path.resolve(requested);
  const roots = realRoots(mediaRoots);
  // Checked before touching the file so that probing paths outside the roots tells nothing.
  if (!roots.some((root) => isInside(root, normalized)) && !mediaRoots.some((root) => isInside(path.resolve(root), normalized))) {
    throw new AppError(403, `${requested} is outside the media folders (UPFLOW_MEDIA_ROOTS)`);
  }
  let real: string;
  try {
    real = realPathOf(normalized);
  } catch (err) {
    throw unresolvable(requested, err);
  }
  if (!roots.some((root) => isInside(root, real))) {
    throw new AppError(403, `${requested} leads outside the media folders (UPFLOW_MEDIA_ROOTS)`);
  }
  const stat = fs.statSync(real);
  if (!stat.isFile()) throw new AppError(400, `${requested} is not a file`);
  return real;
}

/** Why a path inside the roots leads to no file: 400 when no file could ever have it, else 404. */
function unresolvable(requested: string, err: unknown): AppError {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENAMETOOLONG') return new AppError(400, `${requested} has a name too long for the file system`);
  if (code === 'ELOOP') return new AppError(400, `${requested} goes round a loop of symbolic links`);
  return new AppError(404, `${requested} does not exist`);
}

/** A source's real path as people know it: relative to the media root it lies in. */
export function pathInMediaRoots(mediaRoots: string[], realPath: string): string {
  const root = realRoots(mediaRoots).find((r) => isInside(r, realPath));
  return root === undefined ? path.basename(realPath) : path.relative(root, realPath);
}

/**
 * A path a caller names a source by: absolute, or relative to a media root (as
 * `pathInMediaRoots` names it; the first root that has it), through the same guard as a trigger.
 */
export function resolveNamedSource(mediaRoots: string[], named: string): string {
  if (path.isAbsolute(named)) return resolveSourcePath(mediaRoots, named);
  for (const root of mediaRoots) {
    const joined = path.join(path.resolve(root), named);
    try {
      return resolveSourcePath(mediaRoots, joined);
    } catch (err) {
      if (!(err instanceof AppError)) throw err;
      if (err.status === 404) continue;
      // In the caller's words: the media folder's own path is not the caller's business.
      throw new AppError(err.status, err.message.replace(joined, named));
    }
  }
  throw new AppError(404, `${named} does not exist in the media folders`);
}

// ---------------------------------------------------------------- which version of a file

export function fingerprintOf(stats: fs.BigIntStats): SourceFingerprint {
  return { size: Number(stats.size), mtimeNs: String(stats.mtimeNs), dev: String(stats.dev), ino: String(stats.ino) };
}

/** The file at a (resolved) path as it is now. */
export function statSource(realPath: string): { fingerprint: SourceFingerprint; changedAtMs: number } {
  const stats = fs.statSync(realPath, { bigint: true });
  return { fingerprint: fingerprintOf(stats), changedAtMs: Number(stats.ctimeMs) };
}

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

// ---------------------------------------------------------------- opening a source

/** A source opened after its checks. ffmpeg and ffprobe read this descriptor, never the path again. */
export interface OpenedSource {
  fd: number;
  realPath: string;
  /** The opened file's version when it was opened. */
  fingerprint: SourceFingerprint;
  /** What changed in the opened file since it was opened (written to in place), or undefined. */
  changeSinceOpened(): string | undefined;
  close(): void;
}

/** Where an open descriptor leads, from the kernel (Linux); undefined where there is no /proc. */
function pathOfDescriptor(fd: number): string | undefined {
  try {
    return fs.readlinkSync(`/proc/self/fd/${fd}`);
  } catch {
    return undefined;
  }
}

/**
 * Checks a source as `resolveSourcePath` does, then opens it so that what is read is what was
 * checked: the last component is not followed if it became a symlink meanwhile, a FIFO does not
 * block the open, and the kernel's own name for the opened file must lie inside a media root
 * (a folder swapped for a symlink between the check and the open). Errors as `resolveSourcePath`.
 */
export function openSource(mediaRoots: string[], requested: string): OpenedSource {
  const realPath = resolveSourcePath(mediaRoots, requested);
  let fd: number;
  try {
    fd = fs.openSync(realPath, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ELOOP') throw new AppError(403, `${requested} became a symbolic link while it was checked`);
    throw unresolvable(requested, err);
  }
  try {
    const stats = fs.fstatSync(fd, { bigint: true });
    if (!stats.isFile()) throw new AppError(400, `${requested} is not a file`);
    const opened = pathOfDescriptor(fd);
    if (opened !== undefined && opened !== realPath && !realRoots(mediaRoots).some((root) => isInside(root, opened))) {
      throw new AppError(403, `${requested} leads outside the media folders (UPFLOW_MEDIA_ROOTS)`);
    }
    const fingerprint = fingerprintOf(stats);
    let open = true;
    return {
      fd,
      realPath,
      fingerprint,
      changeSinceOpened: () => fingerprintChange(fingerprint, fingerprintOf(fs.fstatSync(fd, { bigint: true }))),
      close: () => {
        // Once: the number may belong to another file after that.
        if (open) fs.closeSync(fd);
        open = false;
      },
    };
  } catch (err) {
    fs.closeSync(fd);
    throw err;
  }
}
