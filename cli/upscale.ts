/** `upflow upscale <file>`: one title, with a progress bar (or JSON lines) until it is done. */
import fs from 'node:fs/promises';
import path from 'node:path';
import { SingleBar } from 'cli-progress';
import { TERMINAL_JOB_STATES } from '../core/domain';
import { UpflowError } from '../core/errors';
import type { Config } from '../core/config';
import type { ModelId } from '../core/models';
import type { Logger } from '../adapters/logger';
import { formatEta, formatRate } from './format';
import { nextInterrupt, pollUntilDone } from './poll-until-done';
import { apiTarget, embeddedTarget, runningApi, type UpflowTarget } from './targets';

const POLL_MS = 500;

export interface UpscaleCommandOptions {
  json: boolean;
  force: boolean;
  /** Upscale with this model (SRGAN_ENABLE on) in a stack of its own. */
  model?: ModelId;
  /** Copy the final file here when done. */
  output?: string;
}

export async function upscaleCommand(fileArg: string, options: UpscaleCommandOptions, config: Config, logger: Logger): Promise<number> {
  const file = path.resolve(fileArg);
  const api = await runningApi(config);
  if (api && options.model) {
    throw new Error(`Upflow is running at ${api.url} with its own UPFLOW_MODEL; drop --model, or stop it to upscale with ${options.model} in a stack of its own`);
  }
  const env = options.model ? { ...process.env, SRGAN_ENABLE: '1', UPFLOW_MODEL: options.model } : process.env;
  const target: UpflowTarget = api ? apiTarget(api) : await embeddedTarget(file, env, logger);
  const say = (line: string) => {
    if (!options.json) process.stdout.write(`${line}\n`);
  };
  const emit = (event: Record<string, unknown>) => {
    if (options.json) process.stdout.write(`${JSON.stringify(event)}\n`);
  };
  // Listening from here: a Ctrl-C while the title is triggered stops the watching at its first look.
  const interrupted = nextInterrupt();
  try {
    say(`Upscaling ${file} with ${target.description}`);
    const triggered = await target.trigger(file, options.force).catch((err: unknown) => {
      // The running Upflow reads only its media folders; a stack of this command's own takes any file.
      if (api && err instanceof UpflowError && err.kind === 'Forbidden') {
        throw new UpflowError('Forbidden', `${err.message}: put it in a media folder, add its folder to UPFLOW_MEDIA_ROOTS and restart Upflow, or stop Upflow and run this again (it then starts a stack of its own for this file)`);
      }
      throw err;
    });
    emit({ event: 'triggered', status: triggered.status, title: triggered.titleKey, job: triggered.jobId ?? null, hls_url: triggered.hlsUrl });
    if (triggered.status === 'complete') {
      say(`Already upscaled: ${triggered.finalFile} (use --force to do it again)`);
      emit({ event: 'complete', final_file: triggered.finalFile ?? null, hls_url: triggered.hlsUrl });
      return 0;
    }
    say(`Live HLS: ${triggered.hlsUrl}`);
    const jobId = triggered.jobId!;
    const bar = !options.json && process.stdout.isTTY
      ? new SingleBar({ format: ' {bar} {percentage}% | {rate} | ETA {eta} | {segments} segments | {state}', hideCursor: true })
      : undefined;
    bar?.start(100, 0, { rate: '-', eta: '--:--', segments: 0, state: 'queued' });

    let lastPlainLine = 0;
    const view = await pollUntilDone(async () => {
      const current = await target.job(jobId);
      if (!current) return undefined;
      const rate = formatRate(current.rate);
      bar?.update(Math.floor(current.percent), { rate, eta: formatEta(current.etaSeconds), segments: current.segments, state: current.state });
      emit({ event: 'progress', state: current.state, percent: Math.round(current.percent * 10) / 10, rate: current.rate, fps: current.fps, eta_seconds: current.etaSeconds, segments: current.segments });
      if (!bar && !options.json && Date.now() - lastPlainLine > 5000) {
        lastPlainLine = Date.now();
        say(`${current.state} ${current.percent.toFixed(0)}% ${rate} ETA ${formatEta(current.etaSeconds)} ${current.segments} segments`);
      }
      return TERMINAL_JOB_STATES.includes(current.state) ? current : undefined;
    }, { intervalMs: POLL_MS, interrupted });
    if (!view) {
      bar?.stop();
      say('Stopped watching; the job goes on (cancel it with POST /jobs/<id>/cancel).');
      return 130;
    }
    bar?.stop();
    if (view.state !== 'complete') {
      say(`Upscale ${view.state}: ${view.failureReason ?? 'cancelled'}`);
      emit({ event: view.state, reason: view.failureReason });
      return 1;
    }
    say(`HLS playlist: ${view.hlsUrl}`);
    say(`Final file:   ${view.finalPath}`);
    if (options.output && view.finalPath) {
      await fs.copyFile(view.finalPath, path.resolve(options.output));
      say(`Copied to:    ${path.resolve(options.output)}`);
    }
    say(`Rate: ${view.rate?.toFixed(2)}x real time, ${view.fps?.toFixed(1)} fps`);
    emit({ event: 'complete', final_file: view.finalPath, hls_url: view.hlsUrl, rate: view.rate, fps: view.fps });
    return 0;
  } finally {
    await target.close();
  }
}
