/**
 * `upflow bench`: the ffmpeg-only path on generated clips, through the whole real stack.
 * Prints seconds from trigger to the first playable segment, the real-time multiplier and fps.
 */
import fs from 'node:fs';
import path from 'node:path';
import { TitlesService } from '../api/titles-service';
import { loadConfig } from '../common/config';
import { TERMINAL_JOB_STATES } from '../common/domain';
import { makeTestClip } from '../adapters/ffmpeg';
import type { Logger } from '../adapters/logger';
import { findFreePort } from '../adapters/process';
import { startStack } from './stack';
import { makeTempDataDir } from '../adapters/postgres-cluster';

export interface BenchCase {
  label: string;
  width: number;
  height: number;
}

export const BENCH_CASES: BenchCase[] = [
  { label: '360p', width: 640, height: 360 },
  { label: '1080p', width: 1920, height: 1080 },
];

export interface BenchResult {
  input: string;
  output: string;
  clipSeconds: number;
  firstSegmentSeconds: number;
  /** Part of firstSegmentSeconds spent before the encoder started: workflow, probe, plan, dispatch. */
  encoderStartSeconds: number;
  rate: number;
  fps: number;
  totalSeconds: number;
}

const POLL_MS = 25;

export async function benchCommand(options: { json: boolean; seconds: number; cases: BenchCase[] }, logger: Logger): Promise<BenchResult[]> {
  const dir = makeTempDataDir('upflow-bench-');
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    UPFLOW_DATA_DIR: dir,
    UPFLOW_MEDIA_ROOTS: path.join(dir, 'media'),
    UPFLOW_TEMPORAL_PORT: String(await findFreePort()),
    UPFLOW_TEMPORAL_UI_PORT: String(await findFreePort()),
    UPFLOW_HLS_RETENTION: '1h',
    UPFLOW_LOG_LEVEL: 'warn',
  };
  const config = loadConfig(env);
  const stack = await startStack(config, logger, { api: false, workerEnv: env });
  const titles = new TitlesService(config, stack.store, stack.client);
  const results: BenchResult[] = [];
  try {
    for (const c of options.cases) {
      const clip = path.join(config.mediaRoots[0]!, `bench-${c.label}.mp4`);
      fs.mkdirSync(path.dirname(clip), { recursive: true });
      await makeTestClip({ file: clip, seconds: options.seconds, width: c.width, height: c.height, fps: 24, audio: true });
      const started = performance.now();
      const startedAtMs = Date.now();
      const triggered = await titles.trigger(clip);
      let firstSegmentSeconds: number | undefined;
      for (;;) {
        const job = await stack.store.latestJobForTitle(triggered.titleKey);
        if (job && job.segments > 0 && firstSegmentSeconds === undefined) firstSegmentSeconds = (performance.now() - started) / 1000;
        if (job && TERMINAL_JOB_STATES.includes(job.state)) {
          if (job.state !== 'complete') throw new Error(`bench ${c.label} ${job.state}: ${job.failureReason}`);
          const result: BenchResult = {
            input: `${c.width}x${c.height}`,
            output: `${job.plan?.outputWidth}x${job.plan?.outputHeight}`,
            clipSeconds: options.seconds,
            firstSegmentSeconds: firstSegmentSeconds ?? NaN,
            encoderStartSeconds: job.streamStartedAt ? (Date.parse(job.streamStartedAt) - startedAtMs) / 1000 : NaN,
            rate: job.rate ?? NaN,
            fps: job.fps ?? NaN,
            totalSeconds: (performance.now() - started) / 1000,
          };
          results.push(result);
          if (options.json) process.stdout.write(`${JSON.stringify({ case: c.label, ...result })}\n`);
          break;
        }
        await new Promise((r) => setTimeout(r, POLL_MS));
      }
    }
  } finally {
    await stack.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  if (!options.json) {
    process.stdout.write('\nffmpeg-only path (lanczos + libx264), whole stack, this machine:\n');
    process.stdout.write('input      output     first segment (encoder start)   real-time   fps    total\n');
    for (const r of results) {
      process.stdout.write(
        `${r.input.padEnd(10)} ${r.output.padEnd(10)} ${`${r.firstSegmentSeconds.toFixed(2)} s (${r.encoderStartSeconds.toFixed(2)} s)`.padEnd(31)} ${`${r.rate.toFixed(2)}x`.padEnd(11)} ${r.fps.toFixed(1).padEnd(6)} ${r.totalSeconds.toFixed(1)} s\n`,
      );
    }
  }
  return results;
}
