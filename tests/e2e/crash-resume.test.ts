/**
 * Durable execution for real: the worker process is killed with SIGKILL in the middle of an
 * ONNX chunk. `upflow up` starts it again; 20 s after the last heartbeat Temporal retries the
 * chunk's ticket, which claims again from the first segment still missing. The test checks the
 * segments (none missing, none made twice, each whole and back to back), the final file
 * (complete, every flash and beep in sync), and that no orphaned ffmpeg wrote anything. With
 * UPFLOW_RECORD_FIGURES=1 it writes what it measured to docs/bench/crash-resume.json. Then, on
 * the same stack, the Temporal dev server is killed two segments into another title: `upflow up`
 * starts it again, and the title completes.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Parser, type Manifest } from 'm3u8-parser';
import { makeFlashBeepClip, syncOffsets } from '../support/av-sync';
import { startRecordingFigures } from '../support/figures';
import { countVideoFrames, ffprobe } from '../support/fixtures';
import { isAlive, startUpflow, stopAndRemove, waitFor, type UpflowProcess } from '../support/upflow-process';

const SECONDS = 24;
const FPS = 25;
const SEGMENT_SECONDS = 2;
const MODEL = 'anime4k-s-rl';
/** The worker is killed once this many segments are recorded. */
const KILL_AFTER_SEGMENTS = 4;

interface Job {
  id: string;
  state: string;
  segments: number;
  contentSeconds: number | null;
  finalPath: string | null;
  events: Array<{ kind: string; message: string; data: Record<string, number> | null }>;
}
interface Segment { index: number; filename: string; startSeconds: number; durationSeconds: number }

function parsePlaylist(text: string): Manifest {
  const parser = new Parser();
  parser.push(text);
  parser.end();
  return parser.manifest;
}

function probeSegment(file: string): { videoStart: number; videoDuration: number; streams: string[] } {
  const out = execFileSync('ffprobe', ['-v', 'error', '-show_entries', 'stream=codec_type,start_time,duration', '-of', 'json', file], { encoding: 'utf8' });
  const streams = (JSON.parse(out) as { streams: Array<{ codec_type: string; start_time: string; duration: string }> }).streams;
  const video = streams.find((s) => s.codec_type === 'video')!;
  return { videoStart: Number(video.start_time), videoDuration: Number(video.duration), streams: streams.map((s) => s.codec_type).sort() };
}


/**
 * ffmpeg processes working on this title, whoever their parent is now: those reading `clip`,
 * which the worker hands to each as its descriptor 3 (`file:/proc/self/fd/3`).
 */
function ffmpegFor(clip: string): number[] {
  const out = execFileSync('ps', ['-e', '-o', 'pid=,args='], { encoding: 'utf8' });
  const real = fs.realpathSync(clip);
  const reads = (pid: number) => {
    try {
      return fs.readlinkSync(`/proc/${pid}/fd/3`) === real;
    } catch {
      return false; // ended meanwhile
    }
  };
  return out.split('\n').filter((line) => line.includes('ffmpeg')).map((line) => Number(line.trim().split(/\s+/)[0])).filter(reads);
}

describe('killed mid-stream: the worker, then the Temporal dev server', () => {
  let upflow: UpflowProcess;
  let clip: string;

  beforeAll(async () => {
    upflow = await startUpflow({ SRGAN_ENABLE: '1', UPFLOW_MODEL: MODEL, HLS_SEGMENT_TIME: String(SEGMENT_SECONDS) });
    clip = makeFlashBeepClip(path.join(upflow.mediaDir, 'crash clip.mp4'), { seconds: SECONDS, width: 320, height: 180, fps: FPS });
  }, 180_000);

  afterAll(() => stopAndRemove(upflow));

  it('goes on from the first missing segment: every segment once, whole final file in sync, little redone', async () => {
    const figures = await startRecordingFigures('crash-resume', 'tests/e2e/crash-resume.test.ts');
    const triggered = await upflow.api<{ job_id: string; hls_url: string; title_key: string }>('POST', '/upscale-trigger', { Item: { Path: clip, Name: 'Crash clip' } });
    expect(triggered.status).toBe(202);
    const jobUrl = `/jobs/${triggered.json.job_id}`;
    const job = async () => (await upflow.api<Job>('GET', jobUrl)).json;

    // Past a few segments, and well before the end: kill the worker as the kernel's OOM killer would.
    const before = await waitFor(`${KILL_AFTER_SEGMENTS} segments`, async () => {
      const current = await job();
      return current.segments >= KILL_AFTER_SEGMENTS ? current : undefined;
    }, 120_000, 100);
    expect(before.state).toBe('streaming');
    const workerPid = Number(fs.readFileSync(path.join(upflow.env.UPFLOW_DATA_DIR!, 'run', 'worker.pid'), 'utf8'));
    const ffmpegBefore = ffmpegFor(clip);
    expect(ffmpegBefore.length).toBe(2); // decoder and encoder
    process.kill(workerPid, 'SIGKILL');
    const killedAt = Date.now();
    const atKill = await upflow.api<{ segments: Segment[] }>('GET', `${jobUrl}/segments`);
    const recordedAtKill = atKill.json.segments;
    const producedBeforeKill = Math.max(...recordedAtKill.map((s) => s.startSeconds + s.durationSeconds));

    // The orphaned ffmpeg processes lose their pipes and stop; they write nothing later.
    await waitFor('the orphaned ffmpeg processes to end', async () => (ffmpegBefore.every((pid) => !isAlive(pid)) ? true : undefined), 10_000, 100);
    expect(isAlive(workerPid)).toBe(false);
    await waitFor('the worker to be started again', async () => (upflow.output().includes('worker exited unexpectedly') ? true : undefined), 10_000);

    const hlsDir = path.join(upflow.env.UPFLOW_DATA_DIR!, 'hls', triggered.json.title_key);
    const done = await waitFor('the job to complete', async () => {
      const current = await job();
      if (current.state === 'failed') throw new Error(`job failed: ${JSON.stringify(current)}`);
      return current.state === 'complete' ? current : undefined;
    }, 180_000, 250);
    const resumeSeconds = (Date.now() - killedAt) / 1000;

    // The killed ticket, retried, went on from the first segment still missing: what the
    // killed attempt finished stayed made, at most the segment it was moving into place is made again.
    const starts = done.events.filter((e) => e.kind === 'chunk-started').map((e) => e.data!);
    const retried = starts.find((start) => start.attempt === 2);
    expect(retried).toBeDefined();
    const fromSegment = retried!.fromSegment!;
    const fromSeconds = fromSegment * SEGMENT_SECONDS;
    expect(fromSegment).toBeGreaterThanOrEqual(recordedAtKill.length - 1);
    expect(done.events.filter((e) => e.kind === 'segment-remade').length).toBeLessThanOrEqual(1);
    const redoneSeconds = Math.max(0, producedBeforeKill - fromSeconds);
    expect(redoneSeconds).toBeLessThanOrEqual(SEGMENT_SECONDS);

    // The playlist: every segment once, in order, back to back, each a whole MPEG-TS segment.
    const playlist = parsePlaylist(await (await fetch(triggered.json.hls_url)).text());
    expect(playlist.endList).toBe(true);
    expect(playlist.discontinuityStarts).toEqual([]);
    const names = playlist.segments.map((s) => s.uri);
    expect(names).toEqual(names.map((_, i) => `seg${String(i).padStart(5, '0')}.ts`));
    const total = playlist.segments.reduce((sum, s) => sum + s.duration, 0);
    expect(Math.abs(total - SECONDS)).toBeLessThan(0.1);
    let expectedStart: number | undefined;
    for (const [i, segment] of playlist.segments.entries()) {
      const probed = probeSegment(path.join(hlsDir, segment.uri));
      expect(probed.streams).toEqual(['audio', 'video']);
      expect(Math.abs(probed.videoDuration - segment.duration)).toBeLessThan(0.05);
      if (expectedStart !== undefined) expect({ segment: i, gap: Math.round((probed.videoStart - expectedStart) * 1000) }).toEqual({ segment: i, gap: 0 });
      expectedStart = probed.videoStart + segment.duration;
    }
    // Nothing else in the folder: no stray segment, no chunk folder left by the killed attempt.
    expect(fs.readdirSync(hlsDir).filter((f) => f.endsWith('.ts')).sort()).toEqual(names);
    expect(fs.readdirSync(hlsDir).filter((f) => f.startsWith('.chunk-'))).toEqual([]);
    const { segments } = (await upflow.api<{ segments: Segment[] }>('GET', `${jobUrl}/segments`)).json;
    expect(segments.map((s) => s.index)).toEqual(names.map((_, i) => i));

    // The final file: full length, every frame once, every flash with its beep.
    const final = ffprobe(done.finalPath!);
    expect([final.width, final.height]).toEqual([640, 360]);
    expect(Math.abs(final.durationSeconds - SECONDS)).toBeLessThan(0.1);
    const finalFrames = countVideoFrames(done.finalPath!);
    expect(finalFrames).toBe(SECONDS * FPS);
    const sync = syncOffsets(done.finalPath!);
    expect(sync).toHaveLength(SECONDS);
    const worst = Math.max(...sync.map((s) => Math.abs(s.offset)));
    expect(worst).toBeLessThanOrEqual(0.04);

    process.stdout.write(
      `crash resume: killed at ${producedBeforeKill.toFixed(1)} s of ${SECONDS} s (${recordedAtKill.length} segments recorded); ` +
      `went on at segment ${fromSegment} (${fromSeconds} s), ${redoneSeconds.toFixed(1)} s of content made twice; ` +
      `complete ${resumeSeconds.toFixed(0)} s after the kill; worst A/V offset ${(worst * 1000).toFixed(1)} ms over ${sync.length} flashes\n`,
    );
    await figures.write({
      settings: { clipSeconds: SECONDS, fps: FPS, width: 320, height: 180, model: MODEL, segmentSeconds: SEGMENT_SECONDS, killAfterSegments: KILL_AFTER_SEGMENTS, signal: 'SIGKILL to the worker' },
      killedAtContentSeconds: producedBeforeKill,
      segmentsRecordedAtKill: recordedAtKill.length,
      resumedAtSegment: fromSegment,
      resumedAtSeconds: fromSeconds,
      redoneContentSeconds: redoneSeconds,
      segmentsRemade: done.events.filter((e) => e.kind === 'segment-remade').length,
      completeAfterKillSeconds: resumeSeconds,
      finalFrames,
      sourceFrames: SECONDS * FPS,
      worstAvOffsetMs: worst * 1000,
      flashes: sync.length,
    });
  }, 300_000);

  it('the Temporal dev server killed mid-stream: `upflow up` starts it again, and the stream completes, every segment once', async () => {
    const second = makeFlashBeepClip(path.join(upflow.mediaDir, 'temporal crash clip.mp4'), { seconds: 12, width: 320, height: 180, fps: FPS });
    const triggered = await upflow.api<{ job_id: string }>('POST', '/upscale-trigger', { Item: { Path: second, Name: 'Temporal crash clip' } });
    expect(triggered.status).toBe(202);
    const job = async () => (await upflow.api<Job>('GET', `/jobs/${triggered.json.job_id}`)).json;
    await waitFor('2 segments', async () => ((await job()).segments >= 2 ? true : undefined), 120_000, 100);
    const pidFile = path.join(upflow.env.UPFLOW_DATA_DIR!, 'run', 'temporal.pid');
    const temporalPid = Number(fs.readFileSync(pidFile, 'utf8'));
    process.kill(-temporalPid, 'SIGKILL'); // its process group, as a crash takes the whole server
    await waitFor('Temporal to be started again', async () => (upflow.output().includes('the Temporal dev server is back') ? true : undefined), 60_000, 100);
    expect(isAlive(temporalPid)).toBe(false);
    expect(Number(fs.readFileSync(pidFile, 'utf8'))).not.toBe(temporalPid);

    const done = await waitFor('the job to complete', async () => {
      const current = await job();
      if (current.state === 'failed') throw new Error(`job failed: ${JSON.stringify(current)}`);
      return current.state === 'complete' ? current : undefined;
    }, 180_000, 250);
    const { segments } = (await upflow.api<{ segments: Segment[] }>('GET', `/jobs/${triggered.json.job_id}/segments`)).json;
    expect(segments.map((s) => s.index)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(countVideoFrames(done.finalPath!)).toBe(12 * FPS);
  }, 300_000);
});
