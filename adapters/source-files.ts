/**
 * Where files may come from: every source path goes through `resolveSourcePath` (symlinks
 * resolved, then checked against UPFLOW_MEDIA_ROOTS), and every read of a source opens it with
 * `openSource` (the same checks, then the descriptor ffmpeg reads). The rules that need no file
 * system (isInside, title keys, what a change of version is) are core/media-paths.ts.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { SourceFingerprint } from '../core/domain';
import { UpflowError } from '../core/errors';
import { fingerprintChange, isInside } from '../core/media-paths';

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
  if (requested.includes('\0')) throw new UpflowError('BadInput', 'Item.Path contains a NUL byte');
  if (!path.isAbsolute(requested)) throw new UpflowError('BadInput', 'Item.Path must be an absolute path');
  const normalized = path.resolve(requested);
  const roots = realRoots(mediaRoots);
  // Checked before touching the file so that probing paths outside the roots tells nothing.
  if (!roots.some((root) => isInside(root, normalized)) && !mediaRoots.some((root) => isInside(path.resolve(root), normalized))) {
    throw new UpflowError('Forbidden', `${requested} is outside the media folders (UPFLOW_MEDIA_ROOTS)`);
  }
  let real: string;
  try {
    real = realPathOf(normalized);
  } catch (err) {
    throw unresolvable(requested, err);
  }
  if (!roots.some((root) => isInside(root, real))) {
    throw new UpflowError('Forbidden', `${requested} leads outside the media folders (UPFLOW_MEDIA_ROOTS)`);
  }
  const stat = fs.statSync(real);
  if (!stat.isFile()) throw new UpflowError('BadInput', `${requested} is not a file`);
  return real;
}

/** Why a path inside the roots leads to no file: 400 when no file could ever have it, else 404. */
function unresolvable(requested: string, err: unknown): UpflowError {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENAMETOOLONG') return new UpflowError('BadInput', `${requested} has a name too long for the file system`);
  if (code === 'ELOOP') return new UpflowError('BadInput', `${requested} goes round a loop of symbolic links`);
  return new UpflowError('NotFound', `${requested} does not exist`);
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
      if (!(err instanceof UpflowError)) throw err;
      if (err.kind === 'NotFound') continue;
      // In the caller's words: the media folder's own path is not the caller's business.
      throw new UpflowError(err.kind, err.message.replace(joined, named));
    }
  }
  throw new UpflowError('NotFound', `${named} does not exist in the media folders`);
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
    if (code === 'ELOOP') throw new UpflowError('Forbidden', `${requested} became a symbolic link while it was checked`);
    throw unresolvable(requested, err);
  }
  try {
    const stats = fs.fstatSync(fd, { bigint: true });
    if (!stats.isFile()) throw new UpflowError('BadInput', `${requested} is not a file`);
    const opened = pathOfDescriptor(fd);
    if (opened !== undefined && opened !== realPath && !realRoots(mediaRoots).some((root) => isInside(root, opened))) {
      throw new UpflowError('Forbidden', `${requested} leads outside the media folders (UPFLOW_MEDIA_ROOTS)`);
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
