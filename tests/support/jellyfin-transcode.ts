/**
 * Jellyfin's own HLS transcode, on the stand-in: what jellyfin-web's hls.js plays in Chrome or
 * Firefox when Jellyfin cannot direct-play a file. Made by ffmpeg as Jellyfin's transcoder makes
 * it (../shared/notes/jellyfin-hls.md: H.264 + AAC in MPEG-TS, 3 s segments, a keyframe forced
 * on each cut, the whole VOD playlist at once) and served with Jellyfin's URL shapes:
 *   GET /videos/{id}/master.m3u8?DeviceId=…&MediaSourceId=…&PlaySessionId=…&api_key=…
 *   GET /videos/{id}/main.m3u8?…                (the variant: every segment of the title)
 *   GET /videos/{id}/hls1/main/{n}.ts?…         (one segment)
 *   DELETE /Videos/ActiveEncodings?deviceId=…&playSessionId=…   (stops that play session's job)
 * A play session's "job" is running from its first segment request until it is deleted; a
 * segment asked for after that starts it again, as Jellyfin restarts ffmpeg there.
 * The whole title is made once, up front (`prepare`), in a temp folder: the stand-in does not
 * model how fast Jellyfin transcodes, only what it serves and which jobs run.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type express from 'express';
import { normalizeItemId } from '../../core/jellyfin-items';
import type { JellyfinStandIn } from './jellyfin-stand-in';

const execFileAsync = promisify(execFile);

/** Jellyfin's segment length when it transcodes (6 s when it copies the video stream). */
export const JELLYFIN_SEGMENT_SECONDS = 3;

export interface SegmentRequest {
  itemId: string;
  index: number;
  playSessionId: string;
  at: number;
}

export interface TranscodeStop {
  deviceId: string;
  playSessionId: string;
  /** The token the DELETE carried, and whether the stand-in accepted it. */
  token: string | undefined;
  accepted: boolean;
  at: number;
}

export interface StandInTranscoder {
  segmentRequests: SegmentRequest[];
  stops: TranscodeStop[];
  /** Play sessions whose job runs now. */
  running: Set<string>;
  /**
   * Makes the item's transcode now, so that playing it does not wait for the whole title (the
   * real Jellyfin makes the first segments asked for in about a second).
   */
  prepare(itemId: string): Promise<void>;
  close(): void;
}

function queryValue(req: express.Request, name: string): string | undefined {
  for (const [key, value] of Object.entries(req.query)) if (key.toLowerCase() === name.toLowerCase() && typeof value === 'string') return value;
  return undefined;
}

export function addTranscoder(standIn: JellyfinStandIn): StandInTranscoder {
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'jellyfin-transcodes-'));
  const made = new Map<string, Promise<string>>();
  const transcoder: StandInTranscoder = {
    segmentRequests: [],
    stops: [],
    running: new Set(),
    prepare: async (itemId) => {
      await transcodeOf(normalizeItemId(itemId) ?? itemId);
    },
    close: () => fs.rmSync(folder, { recursive: true, force: true }),
  };

  /** The item's transcode folder, made on first use. */
  const transcodeOf = (itemId: string): Promise<string> => {
    let folderOf = made.get(itemId);
    if (!folderOf) {
      const item = standIn.items.get(itemId)!;
      const out = path.join(folder, itemId);
      fs.mkdirSync(out, { recursive: true });
      folderOf = execFileAsync('ffmpeg', [
        '-hide_banner', '-nostdin', '-loglevel', 'error', '-y', '-i', item.path,
        '-map', '0:v:0', '-map', '0:a:0?', '-c:v', 'libx264', '-preset', 'veryfast', '-pix_fmt', 'yuv420p',
        '-force_key_frames', `expr:gte(t,n_forced*${JELLYFIN_SEGMENT_SECONDS})`, '-sc_threshold', '0',
        // The clips' audio is AAC already: Jellyfin copies such a stream rather than encode it again.
        '-c:a', 'copy',
        '-f', 'hls', '-hls_time', String(JELLYFIN_SEGMENT_SECONDS), '-hls_playlist_type', 'vod', '-hls_list_size', '0',
        '-hls_segment_filename', path.join(out, '%d.ts'), path.join(out, 'main.m3u8'),
      ]).then(() => out);
      made.set(itemId, folderOf);
    }
    return folderOf;
  };

  /** The item, for a caller with a token the stand-in knows (the viewer's, in the URL as jellyfin-web puts it). */
  const playable = (req: express.Request, res: express.Response): string | undefined => {
    const token = queryValue(req, 'api_key');
    if (!token || !standIn.mayPlay(token, String(req.params.itemId))) {
      res.status(401).send('Unauthorized');
      return undefined;
    }
    const itemId = normalizeItemId(String(req.params.itemId));
    if (!itemId || !standIn.items.has(itemId)) {
      res.status(404).send('Item not found.');
      return undefined;
    }
    return itemId;
  };
  const query = (req: express.Request) => new URLSearchParams(req.query as Record<string, string>).toString();

  standIn.app.get('/videos/:itemId/master.m3u8', async (req, res) => {
    const itemId = playable(req, res);
    if (!itemId) return;
    const item = standIn.items.get(itemId)!;
    await transcodeOf(itemId);
    res.type('application/vnd.apple.mpegurl').send(['#EXTM3U', `#EXT-X-STREAM-INF:BANDWIDTH=1000000,AVERAGE-BANDWIDTH=1000000,RESOLUTION=${item.width ?? 320}x${item.height ?? 180}`, `main.m3u8?${query(req)}`, ''].join('\n'));
  });

  standIn.app.get('/videos/:itemId/main.m3u8', async (req, res) => {
    const itemId = playable(req, res);
    if (!itemId) return;
    const playlist = fs.readFileSync(path.join(await transcodeOf(itemId), 'main.m3u8'), 'utf8');
    res.type('application/vnd.apple.mpegurl').send(playlist.replace(/^(\d+)\.ts$/gm, (_all, n: string) => `hls1/main/${n}.ts?${query(req)}`));
  });

  standIn.app.get('/videos/:itemId/hls1/main/:segment.ts', async (req, res) => {
    const itemId = playable(req, res);
    if (!itemId) return;
    const index = Number(req.params.segment);
    const playSessionId = queryValue(req, 'PlaySessionId') ?? '';
    transcoder.segmentRequests.push({ itemId, index, playSessionId, at: Date.now() });
    transcoder.running.add(playSessionId);
    const file = path.join(await transcodeOf(itemId), `${index}.ts`);
    if (!Number.isInteger(index) || !fs.existsSync(file)) {
      res.status(404).send('Segment not found.');
      return;
    }
    res.type('video/mp2t').sendFile(file);
  });

  standIn.app.delete('/Videos/ActiveEncodings', (req, res) => {
    const token = standIn.presentedToken(req);
    const deviceId = queryValue(req, 'deviceId') ?? '';
    const playSessionId = queryValue(req, 'playSessionId') ?? '';
    const accepted = token !== undefined && standIn.knowsToken(token);
    transcoder.stops.push({ deviceId, playSessionId, token, accepted, at: Date.now() });
    if (!accepted) {
      res.status(401).send('Unauthorized');
      return;
    }
    transcoder.running.delete(playSessionId);
    res.status(204).end();
  });
  return transcoder;
}
