/**
 * The ONNX path end to end: the same real stack as lifecycle.test.ts with SRGAN_ENABLE=1 and
 * an Anime4K model (built by set-up into UPFLOW_CACHE_DIR). A short clip goes through decode →
 * onnxruntime → encode and comes out as a complete HLS stream and a verified final file.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Parser, type Manifest } from 'm3u8-parser';
import { ffprobe, makeClip } from '../support/fixtures';
import { startUpflow, waitFor, type UpflowProcess } from '../support/upflow-process';

function parsePlaylist(text: string): Manifest {
  const parser = new Parser();
  parser.push(text);
  parser.end();
  return parser.manifest;
}

describe('a title upscaled by a CNN through the whole stack', () => {
  let upflow: UpflowProcess;
  let clip: string;

  beforeAll(async () => {
    upflow = await startUpflow({ SRGAN_ENABLE: '1', UPFLOW_MODEL: 'anime4k-s-rl', HLS_SEGMENT_TIME: '2' });
    clip = await makeClip(path.join(upflow.mediaDir, 'cnn clip.mp4'), { seconds: 6, width: 320, height: 180 });
  }, 180_000);

  afterAll(async () => {
    if (!upflow) return;
    expect(await upflow.stop()).toBe(0);
    fs.rmSync(upflow.dir, { recursive: true, force: true });
  });

  it('streams, finishes and verifies the final file with the model named on the job', async () => {
    const triggered = await fetch(`${upflow.apiUrl}/upscale-trigger`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ Item: { Path: clip, Name: 'CNN clip' } }),
    });
    expect(triggered.status).toBe(202);
    const hlsUrl = ((await triggered.json()) as { hls_url: string }).hls_url;

    const done = await waitFor('completion', async () => {
      const s = (await (await fetch(`${upflow.apiUrl}/hls-status/cnn clip.mp4`)).json()) as Record<string, unknown>;
      if (s.status === 'failed') throw new Error(`job failed: ${JSON.stringify(s)}`);
      return s.complete === true ? s : undefined;
    }, 120_000, 250);

    const ended = parsePlaylist(await (await fetch(hlsUrl)).text());
    expect(ended.endList).toBe(true);
    expect(ended.playlistType).toBe('EVENT');
    const total = ended.segments.reduce((sum, s) => sum + s.duration, 0);
    expect(Math.abs(total - 6)).toBeLessThan(0.2);
    expect(ended.segments.length).toBeGreaterThanOrEqual(3);

    const job = (await (await fetch(`${upflow.apiUrl}/jobs/${done.job_id as string}`)).json()) as Record<string, unknown>;
    expect(job).toMatchObject({ state: 'complete', upscaler: 'anime4k-s-rl', scaleFactor: 2 });
    const final = ffprobe(job.finalPath as string);
    expect([final.width, final.height]).toEqual([640, 360]);
    expect(Math.abs(final.durationSeconds - ffprobe(clip).durationSeconds)).toBeLessThanOrEqual(0.1);
    expect(final.hasAudio).toBe(true);
  }, 150_000);
});
