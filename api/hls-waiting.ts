/**
 * The playlist lists the whole title at once, so a player may ask for any segment before a chunk
 * has made it (a viewer resuming at 45:00, a seek). Such a request waits for the segment, a
 * bounded while, and tells the title's workflow that someone waits there, so it is made next:
 * nothing a player asks for inside the grid is answered 404 because it is not made yet. Past the
 * wait: 503 with Retry-After (hls.js retries). Requests for segments that exist tell the workflow
 * where players are, now and then, so slots keep working ahead of them.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { segmentIndexOfFilename, type Grid } from '../core/grid';
import { PLAYLIST_NAME } from '../adapters/hls-folder';
import type { Logger } from '../adapters/logger';
import type { ViewerPosition } from '../common/domain';

/** What the waiting needs from the titles service. */
export interface HlsTitles {
  /** The title's grid while it is being made; `probing` before the plan; undefined when nothing is being made. */
  liveGrid(titleKey: string): Promise<Grid | 'probing' | undefined>;
  tellViewer(titleKey: string, viewer: ViewerPosition): Promise<void>;
}

export interface HlsWaitOptions {
  hlsDir: string;
  titles: HlsTitles;
  logger: Logger;
  /** The longest a request waits for its file. */
  waitMs: number;
}

const POLL_MS = 100;
/** A player that gets its segments is reported at most this often per title. */
const WATCHING_REPORT_INTERVAL_MS = 10_000;
const RETRY_AFTER_SECONDS = 2;

async function isFile(file: string): Promise<boolean> {
  return fs.stat(file).then((s) => s.isFile(), () => false);
}

/** How long a title's grid (or its absence) is believed: polls share one Postgres read. */
const GRID_CACHE_MS = 1000;

export function awaitHlsFiles(options: HlsWaitOptions): RequestHandler {
  const lastReported = new Map<string, number>();
  const grids = new Map<string, { at: number; grid: Promise<Grid | 'probing' | undefined> }>();
  const liveGrid = (titleKey: string) => {
    const cached = grids.get(titleKey);
    if (cached && Date.now() - cached.at < GRID_CACHE_MS) return cached.grid;
    if (grids.size > 1000) grids.clear();
    const grid = options.titles.liveGrid(titleKey);
    grids.set(titleKey, { at: Date.now(), grid });
    return grid;
  };
  const viewerOf = (req: Request) => `player:${req.ip ?? 'unknown'}`;
  const tell = (titleKey: string, viewer: ViewerPosition) =>
    options.titles.tellViewer(titleKey, viewer).catch((err: Error) => options.logger.warn({ err, title: titleKey }, 'could not tell the workflow where a player is'));

  return async (req: Request, res: Response, next: NextFunction) => {
    const match = /^\/([a-z0-9][a-z0-9-]*)\/([^/]+)$/.exec(req.path);
    if ((req.method !== 'GET' && req.method !== 'HEAD') || !match) return next();
    const [, titleKey = '', name = ''] = match;
    const index = segmentIndexOfFilename(name);
    if (name !== PLAYLIST_NAME && index === undefined) return next();
    const file = path.join(options.hlsDir, titleKey, name);

    if (await isFile(file)) {
      if (index !== undefined) {
        const key = `${titleKey}|${viewerOf(req)}`;
        const now = Date.now();
        if (now - (lastReported.get(key) ?? 0) > WATCHING_REPORT_INTERVAL_MS) {
          lastReported.set(key, now);
          if (lastReported.size > 10_000) lastReported.clear();
          void tell(titleKey, { viewer: viewerOf(req), segment: index, waiting: false });
        }
      }
      return next();
    }

    const deadline = Date.now() + options.waitMs;
    let told = false;
    let gone = false;
    req.on('close', () => {
      gone = true;
    });
    while (!gone) {
      const grid = await liveGrid(titleKey);
      if (grid === undefined) return next(); // nothing is being made: the static files answer (404)
      if (grid !== 'probing' && index !== undefined) {
        if (index >= grid.segmentCount) return next();
        if (!told) {
          told = true;
          await tell(titleKey, { viewer: viewerOf(req), segment: index, waiting: true });
        }
      }
      if (await isFile(file)) return next();
      if (Date.now() >= deadline) break;
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
    if (gone) return;
    res.status(503).set('Retry-After', String(RETRY_AFTER_SECONDS)).json({
      error: index === undefined ? 'the title is still being probed: try again in a moment' : `segment ${index} is being made: try again in a moment`,
    });
  };
}
