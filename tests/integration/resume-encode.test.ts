/**
 * The encode resumed at a segment boundary, with the real ffmpeg and no Temporal: the
 * ffmpeg-only path (its audio from a second input) and the join into the final file. The kept
 * segments come from a whole encode, as a killed attempt leaves them; the resumed file must
 * match the whole one frame for frame and flash for beep.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { encodeStream, joinSegments, probeSegmentTiming } from '../../adapters/ffmpeg';
import { readSegmentList } from '../../adapters/hls-playlist';
import { makeTempDataDir } from '../../adapters/postgres-cluster';
import { resumedList, withAudioResume } from '../../activities/stream-resume';
import { planStream, segmentBoundaries } from '../../workflows/plan';
import { makeFlashBeepClip, syncOffsets } from '../support/av-sync';
import { countVideoFrames } from '../support/fixtures';

const SECONDS = 12;
const settings = { aiEnabled: false, model: 'anime4k-s-rl' as const, slowSegmentsBeforeStepDown: 2, stepDownBelowRate: 1, scaleFactor: 2, preset: 'ultrafast', crf: 28, segmentSeconds: 2, firstSegmentSeconds: 1, hlsRetentionMs: 0 };


describe('an ffmpeg-only encode resumed at a segment boundary', () => {
  let dir: string;
  let clip: string;
  const plan = () => planStream({ durationSeconds: SECONDS, fps: 25, width: 160, height: 90, videoCodec: 'h264', hasAudio: true, audioCodec: 'aac' }, settings);

  beforeAll(() => {
    dir = makeTempDataDir('upflow-resume-');
    clip = makeFlashBeepClip(path.join(dir, 'clip.mp4'), { seconds: SECONDS, width: 160, height: 90, fps: 25 });
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('adds segments that continue the kept ones exactly, and joins into the same film', async () => {
    const wholeDir = path.join(dir, 'whole');
    fs.mkdirSync(wholeDir);
    const outputs = { source: { path: clip, container: 'mov' }, plan: plan(), segmentPattern: 'seg%05d.ts', segmentList: 'segments.csv' };
    await encodeStream(outputs, { cwd: wholeDir });
    const whole = await readSegmentList(path.join(wholeDir, 'segments.csv'));
    expect(whole.map((s) => s.startSeconds)).toEqual([0, ...segmentBoundaries(plan())]);

    // A killed attempt's folder: segments 0–3 kept (content up to 7 s).
    const resumedDir = path.join(dir, 'resumed');
    fs.mkdirSync(resumedDir);
    const kept = whole.slice(0, 4);
    for (const s of kept) fs.copyFileSync(path.join(wholeDir, s.filename), path.join(resumedDir, s.filename));
    const from = await withAudioResume({ seconds: 7, segment: 4 }, kept, resumedDir);
    // Near the boundary, either side: the muxer interleaves audio and video by time.
    expect(Math.abs(from.audioSeconds! - 7)).toBeLessThan(0.1);
    // Read as the worker reads a source: through a descriptor it opened, here opened twice by
    // ffmpeg (the picture from the boundary, the audio from its own point).
    const fd = fs.openSync(clip, 'r');
    try {
      await encodeStream({ ...outputs, source: { ...outputs.source, fd }, from }, { cwd: resumedDir });
    } finally {
      fs.closeSync(fd);
    }
    const added = resumedList(await readSegmentList(path.join(resumedDir, 'segments.csv')), from);
    expect(added.map((s) => [s.index, s.filename, s.startSeconds])).toEqual(whole.slice(4).map((s) => [s.index, s.filename, s.startSeconds]));

    // Back to back: the first new segment's picture and sound start where the kept ones end.
    const lastKept = await probeSegmentTiming(path.join(resumedDir, kept[3]!.filename));
    const firstNew = await probeSegmentTiming(path.join(resumedDir, added[0]!.filename));
    const wholeNext = await probeSegmentTiming(path.join(wholeDir, added[0]!.filename));
    expect(firstNew.firstVideoSeconds).toBeCloseTo(wholeNext.firstVideoSeconds, 3);
    const audioStart = parseFloat(execFileSync('ffprobe', ['-v', 'error', '-select_streams', 'a:0', '-show_entries', 'packet=pts_time', '-read_intervals', '%+#1', '-of', 'csv=p=0', path.join(resumedDir, added[0]!.filename)], { encoding: 'utf8' }).trim().split('\n')[0]!);
    expect(audioStart).toBeCloseTo(lastKept.audioEndSeconds!, 3);

    const files = [...kept, ...added].map((s) => path.join(resumedDir, s.filename));
    const final = path.join(dir, 'resumed.mkv');
    await joinSegments({ segmentFiles: files, listFile: path.join(resumedDir, 'list.txt'), output: final });
    expect(fs.existsSync(path.join(resumedDir, 'list.txt'))).toBe(false);
    expect(countVideoFrames(final)).toBe(SECONDS * 25);
    const sync = syncOffsets(final);
    expect(sync).toHaveLength(SECONDS);
    for (const { offset } of sync) expect(Math.abs(offset)).toBeLessThanOrEqual(0.005);
  });
});
