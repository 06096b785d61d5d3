/**
 * `/hls`: the titles' playlists and segments, to whoever has the API key or a token signed for
 * the title (core/hls-access.ts decides), and `/hls/access`, the same decision for nginx's
 * auth_request (deploy/nginx.conf). A file is served only when it is a regular file right inside
 * its title's folder, reached without a symbolic link, and it is read from the descriptor that
 * was checked: a link planted in a title folder is never followed.
 */
import { constants } from 'node:fs';
import fs, { type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import express, { type Request, type Response } from 'express';
import type { Config } from '../../core/config';
import { UpflowError } from '../../core/errors';
import { decideHlsAccess, hlsTokens, parseHlsPath, type HlsAccess, type HlsPath, type PresentedKey } from '../../core/hls-access';
import type { HlsWaiter } from '../hls-waiting';
import { apiKeyOf, sameKey } from '../security';
import { httpStatusOf } from '../http-errors';

const HLS_TYPES: Record<string, { type: string; cacheControl: string }> = {
  '.m3u8': { type: 'application/vnd.apple.mpegurl', cacheControl: 'no-cache' },
  '.ts': { type: 'video/mp2t', cacheControl: 'public, max-age=86400, immutable' },
  '.m4s': { type: 'video/mp4', cacheControl: 'public, max-age=86400, immutable' },
  '.mp4': { type: 'video/mp4', cacheControl: 'public, max-age=86400, immutable' },
};

/** What open() may say of a name that is not a servable file: gone, not a folder, a link (O_NOFOLLOW). */
const NOT_SERVABLE = new Set(['ENOENT', 'ENOTDIR', 'ELOOP']);

/** The header nginx copies the refusal's reason from (auth_request_set). */
const REFUSAL_HEADER = 'X-Upflow-Refusal';

interface OpenedFile {
  handle: FileHandle;
  size: number;
  mtime: Date;
}

export interface HlsServing {
  hlsDir: Config['hlsDir'];
  /** UPFLOW_API_KEY; unset: HLS is open. */
  apiKey?: string;
  /** UPFLOW_HLS_TOKEN_TTL. */
  tokenTtlMs: number;
  /** Waits for files of the grid not made yet, and tells the workflows where players are. */
  waiter: HlsWaiter;
}

export function hlsRouter({ hlsDir, apiKey, tokenTtlMs, waiter }: HlsServing): express.Router {
  const tokens = hlsTokens(apiKey, tokenTtlMs);
  const presentedKey = (req: Request): PresentedKey => {
    const given = apiKeyOf(req);
    if (given === undefined) return 'none';
    return apiKey !== undefined && sameKey(given, apiKey) ? 'right' : 'wrong';
  };
  const accessOf = (req: Request, hlsPath: HlsPath): HlsAccess => decideHlsAccess(hlsPath, presentedKey(req), tokens, Date.now());

  const router = express.Router();

  /**
   * nginx's auth_request: may the request it names in X-Original-URI (as the client sent it,
   * with the client's headers) have its file? 204, or 401/403 with the reason.
   */
  router.get('/access', (req, res) => {
    const original = (req.get('x-original-uri') ?? '').split('?')[0]!;
    const hlsPath = original.startsWith('/hls/') ? parseHlsPath(original.slice('/hls'.length)) : undefined;
    // nginx lets through only what its own pattern allows; a path it normalised differently is refused here.
    const access: HlsAccess = hlsPath ? accessOf(req, hlsPath) : { allowed: false, kind: 'Forbidden', reason: 'not the path of an HLS file' };
    if (access.allowed) {
      res.status(204).end();
      return;
    }
    res.status(httpStatusOf(access.kind)).setHeader(REFUSAL_HEADER, access.reason);
    res.json({ error: access.reason });
  });

  router.use(async (req, res, next) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      next();
      return;
    }
    // The path as it came, not decoded: only plain names pass (no %2e%2e, no `..`).
    const hlsPath = parseHlsPath(req.path);
    if (!hlsPath) throw new UpflowError('NotFound', 'not an HLS file');
    const access = accessOf(req, hlsPath);
    if (!access.allowed) throw new UpflowError(access.kind, access.reason);
    let opened = await openTitleFile(hlsDir, hlsPath);
    // The grid is listed whole: a segment (or the playlist) not made yet is waited for.
    if (!opened && (await waiter.waitFor(req, hlsPath))) opened = await openTitleFile(hlsDir, hlsPath);
    else if (opened) waiter.served(req, hlsPath);
    if (!opened) throw new UpflowError('NotFound', 'no such HLS file');
    await sendOpenedFile(req, res, opened, HLS_TYPES[path.extname(hlsPath.file)]!);
  });
  return router;
}

/**
 * The file, open, when it is a regular file directly in the title's folder, the folder itself a
 * real folder: no link below the HLS folder (which may itself be reached through one, a data
 * folder on another disk). Undefined otherwise. `titleKey` and `file` are single names (parsed).
 */
async function openTitleFile(hlsDir: string, { titleKey, file }: HlsPath): Promise<OpenedFile | undefined> {
  const titleDir = path.join(hlsDir, titleKey);
  let handle: FileHandle;
  try {
    if (!(await fs.lstat(titleDir)).isDirectory()) return undefined;
    // O_NOFOLLOW: the name is not a link. O_NONBLOCK: a FIFO does not hang the open.
    handle = await fs.open(path.join(titleDir, file), constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (err) {
    if (NOT_SERVABLE.has((err as NodeJS.ErrnoException).code ?? '')) return undefined;
    throw err;
  }
  // Checked on the descriptor that is read from: what was opened is what is served.
  const stat = await handle.stat().catch(async (err: unknown) => {
    await handle.close();
    throw err;
  });
  if (!stat.isFile()) {
    await handle.close();
    return undefined;
  }
  return { handle, size: stat.size, mtime: stat.mtime };
}

/** What express.static did: types, caching, conditional GET, one byte range, HEAD; from the open descriptor. */
async function sendOpenedFile(req: Request, res: Response, { handle, size, mtime }: OpenedFile, kind: { type: string; cacheControl: string }): Promise<void> {
  try {
    const lastModified = mtime.toUTCString();
    res.setHeader('Accept-Ranges', 'bytes');
    res.setHeader('Last-Modified', lastModified);
    res.setHeader('ETag', `W/"${size.toString(16)}-${mtime.getTime().toString(16)}"`);
    const fresh = req.fresh;
    // If-Range compares strongly, so only the date can match a weak ETag's file.
    const ifRange = req.get('if-range');
    const ranges = !fresh && size > 0 && (ifRange === undefined || ifRange === lastModified) ? req.range(size, { combine: true }) : undefined;
    if (ranges === -1) {
      res.status(416).setHeader('Content-Range', `bytes */${size}`);
      res.json({ error: `the requested range is not within the file's ${size} bytes` });
      return;
    }
    res.setHeader('Content-Type', kind.type);
    res.setHeader('Cache-Control', kind.cacheControl);
    if (fresh) {
      res.status(304).end();
      return;
    }
    // One range is answered with that range; several (no player asks so) with the whole file.
    const range = Array.isArray(ranges) && ranges.type === 'bytes' && ranges.length === 1 ? ranges[0]! : undefined;
    const start = range?.start ?? 0;
    const end = range?.end ?? size - 1;
    if (range) res.status(206).setHeader('Content-Range', `bytes ${start}-${end}/${size}`);
    res.setHeader('Content-Length', String(size === 0 ? 0 : end - start + 1));
    if (req.method === 'HEAD' || size === 0) {
      res.end();
      return;
    }
    // A player that goes away mid-file ends the pipeline; the response is cut, nothing to answer.
    await pipeline(handle.createReadStream({ start, end, autoClose: false }), res).catch(() => undefined);
  } finally {
    await handle.close();
  }
}
