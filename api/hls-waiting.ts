/**
 * The playlist lists the whole title at once, so a player may ask for any segment before a chunk
 * has made it (a viewer resuming at 45:00, a seek). Such a request waits for the segment, a
 * bounded while, and tells the title's workflow that someone waits there, so it is made next:
 * nothing a player asks for inside the grid is answered 404 because it is not made yet. Past the
 * wait: 503 with Retry-After (hls.js retries). Requests for segments that exist tell the workflow
 * where players are, now and then, so slots keep working ahead of them (only while the title is
 * being made: a finished title's run waits out retention, and each signal would grow its history). The HLS router (api/hls.ts)
 * asks this only for callers it has let in.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Request } from 'express';
import type { ViewerPosition } from '../core/domain';
import { UpflowError } from '../core/errors';
import type { HlsPath } from '../core/hls-access';
import { segmentIndexOfFilename, type Grid } from '../core/grid';
import { PLAYLIST_NAME } from '../adapters/hls-folder';
import type { Logger } from '../adapters/logger';

/** What the waiting needs of the use cases (services/: the live grids, the triggers telling a title where viewers are). */
export interface HlsTitles {
  /** The title's grid while it is being made; `probing` before the plan; undefined when nothing is being made. */
  liveGrid(titleKey: string): Promise<Grid | 'probing' | undefined>;
  /** Whether the title is being made: a finished title's run, waiting out retention, is not told of players. */
  beingMade(titleKey: string): Promise<boolean>;
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
/** How long a title's grid (or its absence) is believed: polls share one Postgres read. */
const GRID_CACHE_MS = 1000;

async function isFile(file: string): Promise<boolean> {
  return fs.lstat(file).then((s) => s.isFile(), () => false);
}

export class HlsWaiter {
  private readonly lastReported = new Map<string, number>();
  private readonly grids = new Map<string, { at: number; grid: Promise<Grid | 'probing' | undefined> }>();

  constructor(private readonly options: HlsWaitOptions) {}

  /** A player got a segment that exists: where it is, now and then. */
  served(req: Request, { titleKey, file }: HlsPath): void {
    const index = segmentIndexOfFilename(file);
    if (index === undefined) return;
    const key = `${titleKey}|${viewerOf(req)}`;
    const now = Date.now();
    if (now - (this.lastReported.get(key) ?? 0) <= WATCHING_REPORT_INTERVAL_MS) return;
    if (this.lastReported.size > 10_000) this.lastReported.clear();
    this.lastReported.set(key, now);
    // Every signal is history: a finished title played for hours would fill its run's.
    void this.options.titles.beingMade(titleKey).then(
      (beingMade) => (beingMade ? this.tell(titleKey, { viewer: viewerOf(req), segment: index, waiting: false }) : undefined),
      (err: Error) => this.options.logger.warn({ err, title: titleKey }, 'could not tell whether the title is being made'),
    );
  }

  /**
   * A file that is not there (yet): waits for it while its title is being made and it is in the
   * grid. Resolves once it exists; resolves `false` when nothing will make it (the router then
   * answers 404) or the player went away; throws 503 past the wait.
   */
  async waitFor(req: Request, { titleKey, file }: HlsPath): Promise<boolean> {
    const index = segmentIndexOfFilename(file);
    if (file !== PLAYLIST_NAME && index === undefined) return false;
    const target = path.join(this.options.hlsDir, titleKey, file);
    const deadline = Date.now() + this.options.waitMs;
    let told = false;
    let gone = false;
    req.on('close', () => {
      gone = true;
    });
    while (!gone) {
      const grid = await this.liveGrid(titleKey);
      if (grid === undefined) return false;
      if (grid !== 'probing' && index !== undefined) {
        if (index >= grid.segmentCount) return false;
        if (!told) {
          told = true;
          await this.tell(titleKey, { viewer: viewerOf(req), segment: index, waiting: true });
        }
      }
      if (await isFile(target)) return true;
      if (Date.now() >= deadline) {
        throw new UpflowError('Unavailable', index === undefined ? 'the title is still being probed: try again in a moment' : `segment ${index} is being made: try again in a moment`, {
          retryAfterSeconds: RETRY_AFTER_SECONDS,
        });
      }
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
    return false;
  }

  private liveGrid(titleKey: string): Promise<Grid | 'probing' | undefined> {
    const cached = this.grids.get(titleKey);
    if (cached && Date.now() - cached.at < GRID_CACHE_MS) return cached.grid;
    if (this.grids.size > 1000) this.grids.clear();
    const grid = this.options.titles.liveGrid(titleKey);
    this.grids.set(titleKey, { at: Date.now(), grid });
    return grid;
  }

  private tell(titleKey: string, viewer: ViewerPosition): Promise<void> {
    return this.options.titles.tellViewer(titleKey, viewer)
      .catch((err: Error) => this.options.logger.warn({ err, title: titleKey }, 'could not tell the workflow where a player is'));
  }
}

function viewerOf(req: Request): string {
  return `player:${req.ip ?? 'unknown'}`;
}
