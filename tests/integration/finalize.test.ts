/**
 * The finalize activity with the real ffmpeg, in Temporal's activity test environment: while it
 * joins it heartbeats (so a worker that dies mid-join is noticed in seconds), and a cancel stops
 * its ffmpeg; it never writes through a link at its partial name. A segment that is a named pipe
 * holds the join open as long as the test needs.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { CancelledFailure } from '@temporalio/activity';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createLogger } from '../../adapters/logger';
import { makeTempDataDir } from '../../adapters/postgres-cluster';
import { HlsFolder } from '../../adapters/hls-folder';
import { createMediaActivities } from '../../activities/media';
import type { ActivityDeps } from '../../activities/deps';
import { loadConfig } from '../../core/config';
import { workflowIdForTitle } from '../../core/domain';
import { titleFiles, titleKeyFor } from '../../core/media-paths';
import { gridOf, planStream } from '../../core/plan';
import { makeClip } from '../support/fixtures';
import { descendantsOf, waitFor } from '../support/upflow-process';

describe('finalize', () => {
  let dir: string;

  beforeAll(() => {
    dir = makeTempDataDir('upflow-finalize-');
  });
  afterAll(() => {
    // A failed test leaves its join blocked on the pipe.
    for (const pid of ffmpegJoinsBelowUs()) process.kill(pid, 'SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('heartbeats while its join waits, a cancel stops the join and leaves as cancelled, and a link at the partial name is not followed', async () => {
    const config = loadConfig({ UPFLOW_DATA_DIR: dir });
    const sourcePath = await makeClip(path.join(config.mediaRoots[0]!, 'clip.mp4'), { seconds: 4, width: 160, height: 90 });
    const source = { durationSeconds: 4, fps: 25, width: 160, height: 90, videoCodec: 'h264', hasAudio: true, audioCodec: 'aac', container: 'mov,mp4,m4a,3gp,3g2,mj2' };
    const plan = planStream(source, { aiEnabled: false, model: 'lanczos-x2', stepDownWindowSeconds: 0, stepDownBelowRate: 1, scaleFactor: 2, preset: 'ultrafast', crf: 28, encoderThreads: 0, segmentSeconds: 2, hlsRetentionMs: 0, lookAheadSegments: 0 });
    const grid = gridOf(plan);
    const titleKey = titleKeyFor(fs.realpathSync(sourcePath));
    const files = titleFiles(config, titleKey);
    await new HlsFolder(files.hlsDir).prepare({ plan, fingerprint: null }, grid);
    // The first segment never comes: ffmpeg blocks opening it until the test ends.
    execFileSync('mkfifo', [new HlsFolder(files.hlsDir).segmentPath(0)]);
    // A link planted at the partial name must go, not be written through.
    const elsewhere = path.join(dir, 'not-upflows.txt');
    fs.writeFileSync(elsewhere, 'kept as it was');
    fs.mkdirSync(config.outputDir, { recursive: true });
    fs.symlinkSync(elsewhere, files.partialFinal);

    // Nothing before the join's end touches the store: a call would fail the test.
    const store = new Proxy({}, { get: (_, name) => () => { throw new Error(`finalize called store.${String(name)} before its join ended`); } });
    const media = createMediaActivities({ config, store: store as ActivityDeps['store'], logger: createLogger({ level: 'silent' }) });
    const env = new MockActivityEnvironment({ workflowExecution: { workflowId: workflowIdForTitle(titleKey), runId: 'finalize-test-run' } });
    let beats = 0;
    env.on('heartbeat', () => { beats += 1; });

    const finalizing = env.run(media.finalizeTitle, { titleKey, sourcePath, source, plan });
    const settled = finalizing.then(() => 'resolved', (err: unknown) => err);
    await waitFor('the join\'s ffmpeg', async () => (ffmpegJoinsBelowUs().length > 0 ? true : undefined), 10_000);
    await waitFor('two heartbeats', async () => (beats >= 2 ? true : undefined), 10_000);
    const joins = ffmpegJoinsBelowUs();

    env.cancel();
    const outcome = await settled;
    expect(outcome).toBeInstanceOf(CancelledFailure);
    expect(joins.every((pid) => !isRunning(pid))).toBe(true);
    expect(fs.existsSync(files.finalFile)).toBe(false);
    expect(fs.existsSync(files.partialFinal)).toBe(false);
    expect(fs.readFileSync(elsewhere, 'utf8')).toBe('kept as it was');
  });
});

/** ffmpeg processes of this test's join (children of jest's process). */
function ffmpegJoinsBelowUs(): number[] {
  return descendantsOf(process.pid).filter((pid) => {
    try {
      return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('.final-segments.txt');
    } catch {
      return false;
    }
  });
}

function isRunning(pid: number): boolean {
  try {
    // A zombie has exited: its state is Z until it is reaped.
    return !/^\d+ \(.*\) Z/.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}
