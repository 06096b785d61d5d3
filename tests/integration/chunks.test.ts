/**
 * Chunks with the real ffmpeg and the real ONNX runtime, no Temporal: a title made out of order,
 * chunk by chunk (ffmpeg-only and through a model), then joined into the final file, which must
 * hold every source frame once, with the picture and the sound in sync.
 */
import fs from 'node:fs';
import path from 'node:path';
import { encodeLanczosChunk } from '../../adapters/ffmpeg';
import { HlsFolder } from '../../adapters/hls-folder';
import { createLogger } from '../../adapters/logger';
import { makeTempDataDir } from '../../adapters/postgres-cluster';
import { encodeChunkWithModels, ModelSessions } from '../../activities/onnx-stream';
import { loadConfig } from '../../core/config';
import { segmentStartFrame, type Grid } from '../../core/grid';
import { gridOf, planStream } from '../../core/plan';
import { makeFlashBeepClip, syncOffsets } from '../support/av-sync';
import { countVideoFrames } from '../support/fixtures';

const SECONDS = 12;
const FPS = 24000 / 1001;
const settings = { aiEnabled: false, model: 'lanczos-x2' as const, stepDownWindowSeconds: 0, stepDownBelowRate: 1, scaleFactor: 2, preset: 'ultrafast', crf: 28, encoderThreads: 0, segmentSeconds: 2, hlsRetentionMs: 0, lookAheadSegments: 0 };

describe('a title made in chunks, out of order', () => {
  let dir: string;
  let clip: string;
  const source = { durationSeconds: SECONDS, fps: 23.976, width: 160, height: 90, videoCodec: 'h264', hasAudio: true, audioCodec: 'aac' };

  beforeAll(() => {
    dir = makeTempDataDir('upflow-chunks-');
    clip = makeFlashBeepClip(path.join(dir, 'clip.mp4'), { seconds: SECONDS, width: 160, height: 90, fps: FPS });
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  /** Makes segments [from, end) as the chunk activity would: the encode's closed segments below `end` are moved into place. */
  async function makeChunk(folder: HlsFolder, grid: Grid, ticket: string, from: number, end: number, encode: (o: { fromSegment: number; segmentPattern: string; segmentList: string }, cwd: string, frameLimit: () => number) => Promise<void>) {
    const chunk = await folder.openChunk(ticket);
    const limit = () => (end >= grid.segmentCount ? Infinity : segmentStartFrame(grid, end) - segmentStartFrame(grid, from));
    await encode({ fromSegment: from, segmentPattern: chunk.segmentPattern, segmentList: chunk.segmentList }, chunk.dir, limit);
    const closed = (await chunk.closedSegments()).filter((s) => s.index < end);
    for (const segment of closed) await chunk.adopt(segment);
    await chunk.close();
    return closed.map((s) => s.index);
  }

  it('ffmpeg-only: every frame once, in sync, whatever order the chunks came in', async () => {
    const plan = planStream(source, settings);
    const grid = gridOf(plan);
    expect(grid.segmentCount).toBe(6);
    const folder = new HlsFolder(path.join(dir, 'lanczos'));
    await folder.prepare(plan, grid);
    const lanczos = (o: { fromSegment: number; segmentPattern: string; segmentList: string }, cwd: string) =>
      encodeLanczosChunk({ ...o, source: { path: clip }, plan }, { cwd });
    expect(await makeChunk(folder, grid, 'c1', 3, 5, lanczos)).toEqual([3, 4]);
    expect(await makeChunk(folder, grid, 'c2', 0, 2, lanczos)).toEqual([0, 1]);
    expect(await makeChunk(folder, grid, 'c3', 5, 6, lanczos)).toEqual([5]);
    expect(await makeChunk(folder, grid, 'c4', 2, 3, lanczos)).toEqual([2]);
    expect(await folder.madeSegments(grid)).toEqual([true, true, true, true, true, true]);

    const final = path.join(dir, 'lanczos.mkv');
    await folder.join({ grid, source: { path: clip }, withAudio: true, output: final });
    expect(countVideoFrames(final)).toBe(countVideoFrames(clip));
    const sync = syncOffsets(final);
    const original = syncOffsets(clip);
    expect(sync).toHaveLength(original.length);
    // The source's own offsets (its flashes sit on frames, its beeps on samples), give or take
    // Matroska's millisecond timestamps on each of the two streams.
    sync.forEach(({ offset }, i) => expect(Math.abs(offset - original[i]!.offset)).toBeLessThanOrEqual(0.002));
  });

  it('through a model: a chunk stops on its own at its last frame, its segments whole', async () => {
    const config = loadConfig({ ...process.env, SRGAN_ENABLE: '1', UPFLOW_MODEL: 'lanczos-x2' });
    const sessions = new ModelSessions(config, createLogger({ level: 'warn' }));
    try {
      const plan = planStream(source, { ...settings, aiEnabled: true });
      const grid = gridOf(plan);
      const folder = new HlsFolder(path.join(dir, 'model'));
      await folder.prepare(plan, grid);
      const model = (o: { fromSegment: number; segmentPattern: string; segmentList: string }, cwd: string, frameLimit: () => number) =>
        encodeChunkWithModels({ ...o, source: { path: clip }, plan, sessions, frames: sessions.framesFor(plan), modelFor: () => 'lanczos-x2', frameLimit }, { cwd });
      // Each closes its last segment and ends: nothing is killed, nothing past its end is made.
      expect(await makeChunk(folder, grid, 'm1', 2, 4, model)).toEqual([2, 3]);
      expect(await makeChunk(folder, grid, 'm2', 4, 6, model)).toEqual([4, 5]);
      expect(await makeChunk(folder, grid, 'm3', 0, 2, model)).toEqual([0, 1]);
      const final = path.join(dir, 'model.mkv');
      await folder.join({ grid, source: { path: clip }, withAudio: true, output: final });
      expect(countVideoFrames(final)).toBe(countVideoFrames(clip));
    } finally {
      await sessions.releaseAll();
    }
  });
});
