/**
 * Where files may come from and where Upflow writes. Every source path goes through
 * `resolveSourcePath` (symlinks resolved, then checked against UPFLOW_MEDIA_ROOTS), and every
 * output path is derived here from a title key that contains only [a-z0-9-].
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Config } from './config';
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

export function titleFiles(config: Pick<Config, 'hlsDir' | 'outputDir'>, titleKey: string): TitleFiles {
  if (!/^[a-z0-9][a-z0-9-]*$/.test(titleKey)) throw new Error(`invalid title key: ${titleKey}`);
  const hlsDir = path.join(config.hlsDir, titleKey);
  return {
    hlsDir,
    playlist: path.join(hlsDir, 'stream.m3u8'),
    segmentList: path.join(hlsDir, 'segments.csv'),
    partialFinal: path.join(config.outputDir, `${titleKey}.partial.mkv`),
    finalFile: path.join(config.outputDir, `${titleKey}.mkv`),
  };
}

/** A readable, URL-safe key: the file name's slug plus a short hash of its real path. */
export function titleKeyFor(realSourcePath: string): string {
  const base = path.basename(realSourcePath, path.extname(realSourcePath));
  const slug = base
    .normalize('NFKD')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 60)
    .replace(/-+$/, '');
  const hash = createHash('sha256').update(realSourcePath).digest('hex').slice(0, 8);
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
 * Resolves a requested source path to its real path inside one of the media roots.
 * 400 for a malformed path, 403 outside the roots (also through a symlink), 404 when missing.
 */
export function resolveSourcePath(mediaRoots: string[], requested: string): string {
  if (requested.includes('\0')) throw new AppError(400, 'Item.Path contains a NUL byte');
  if (!path.isAbsolute(requested)) throw new AppError(400, 'Item.Path must be an absolute path');
  const normalized = path.resolve(requested);
  const roots = mediaRoots.map((root) => {
    try {
      return fs.realpathSync(root);
    } catch {
      return path.resolve(root);
    }
  });
  // Checked before touching the file so that probing paths outside the roots tells nothing.
  if (!roots.some((root) => isInside(root, normalized)) && !mediaRoots.some((root) => isInside(path.resolve(root), normalized))) {
    throw new AppError(403, `${requested} is outside the media folders (UPFLOW_MEDIA_ROOTS)`);
  }
  let real: string;
  try {
    real = fs.realpathSync(normalized);
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
