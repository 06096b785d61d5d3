/**
 * `upflow monitor [title|job]`: a live view of the titles being upscaled, one progress bar
 * each (segments, content done, %, rate, ETA, model), with a warning while a stream runs
 * slower than real time. It reads the running API and exits when the watched jobs have ended.
 */
import { MultiBar, Presets, type SingleBar } from 'cli-progress';
import type { JobView } from '../services';
import type { Config } from '../core/config';
import { placeInLine } from '../core/domain';
import { formatEta, formatRate } from './format';
import { isActive, listJobs, selectJobs } from './job-selection';
import { pollUntilDone } from './poll-until-done';
import { callApi, requireRunningApi } from './targets';

const POLL_MS = 1000;
/** Without a selector, jobs started meanwhile join the view; looking for them is cheaper less often. */
const DISCOVER_EVERY_POLLS = 3;
/** Plain lines (no terminal) come this often per job. */
const PLAIN_LINE_MS = 5000;
/** Longer names are cut so the bars line up. */
const NAME_WIDTH = 28;

export interface MonitorOptions {
  json: boolean;
}

const round = (n: number | null, digits: number) => (n === null ? null : Number(n.toFixed(digits)));

/** One job's figures, as the JSON lines and the bars show them. */
export function monitorFigures(job: JobView) {
  const durationSeconds = job.source?.durationSeconds ?? job.plan?.durationSeconds ?? null;
  return {
    job: job.id,
    title: job.titleKey,
    name: job.name,
    state: job.state,
    waiting_for_worker: waitingForWorker(job),
    queue_position: job.queuePosition ?? null,
    segments: job.segments,
    content_seconds: Math.round(job.contentSeconds * 10) / 10,
    duration_seconds: durationSeconds,
    percent: Math.round(job.percent * 10) / 10,
    rate: round(job.rate, 3),
    fps: round(job.fps, 1),
    eta_seconds: round(job.etaSeconds, 0),
    model: job.model ?? job.upscaler,
    below_real_time: belowRealTime(job),
  };
}

/** The workflow is at its stream step, but every worker is busy with another stream. */
function waitingForWorker(job: JobView): boolean {
  return job.state === 'streaming' && job.streamStartedAt === null;
}

/** The state as the bars and plain lines say it: a waiting job with its place in line. */
export function stateText(figures: ReturnType<typeof monitorFigures>): string {
  if (!figures.waiting_for_worker) return figures.state;
  return figures.queue_position === null ? 'waiting for a free worker' : `waiting for a free worker (${placeInLine(figures.queue_position)})`;
}

/** Only a stream in progress with a measured rate can fall behind its viewers. */
function belowRealTime(job: JobView): boolean {
  return job.state === 'streaming' && job.segments > 1 && job.rate !== null && job.rate < 1;
}

function describeEnd(job: JobView): string {
  if (job.state === 'complete') return `complete: ${job.finalPath ?? ''} (${formatRate(job.rate)})`;
  if (job.state === 'failed') return `failed: ${job.failureReason ?? 'unknown reason'}`;
  return job.state;
}

export async function monitorCommand(config: Config, selector: string | undefined, options: MonitorOptions): Promise<number> {
  const api = await requireRunningApi(config);
  const initial = selector ? await selectJobs(api, selector) : (await listJobs(api)).filter(isActive);
  if (selector && initial.length === 0) throw new Error(`no job matches "${selector}" (a job id, a title key or part of a name)`);
  const watched = new Map(initial.map((job) => [job.id, job]));
  const say = (line: string) => {
    if (!options.json) process.stdout.write(`${line}\n`);
  };
  if (watched.size === 0) {
    say('Nothing is being upscaled now. (`upflow monitor <title>` shows a finished one.)');
    return 0;
  }

  const tty = !options.json && process.stdout.isTTY;
  const bars = tty
    ? new MultiBar({
      format: ' {name} {bar} {percentage}% | {segments} seg | {content} | {rate} | ETA {remaining} | {model} | {state}{warning}',
      barsize: 24,
      hideCursor: true,
      clearOnComplete: false,
      autopadding: true,
    }, Presets.shades_classic)
    : undefined;
  const barOf = new Map<string, SingleBar>();
  const lastPlainLine = new Map<string, number>();
  const ended = new Set<string>();

  const show = (job: JobView) => {
    const f = monitorFigures(job);
    if (options.json) {
      process.stdout.write(`${JSON.stringify({ event: 'progress', ...f })}\n`);
      return;
    }
    const content = `${f.content_seconds.toFixed(0)}/${f.duration_seconds === null ? '?' : f.duration_seconds.toFixed(0)} s`;
    const warning = f.below_real_time ? '  ⚠ below real time: viewers will catch up and wait' : '';
    if (bars) {
      const nameWidth = Math.min(NAME_WIDTH, Math.max(...[...watched.values()].map((j) => j.name.length)));
      const payload = { name: job.name.slice(0, nameWidth).padEnd(nameWidth), segments: f.segments, content, rate: formatRate(f.rate), remaining: formatEta(f.eta_seconds), model: f.model ?? '-', state: stateText(f), warning };
      let bar = barOf.get(job.id);
      if (!bar) {
        bar = bars.create(100, 0, payload);
        barOf.set(job.id, bar);
      }
      bar.update(Math.floor(f.percent), payload);
      return;
    }
    const now = Date.now();
    if (isActive(job) && now - (lastPlainLine.get(job.id) ?? 0) < PLAIN_LINE_MS) return;
    lastPlainLine.set(job.id, now);
    say(`${job.name}: ${stateText(f)} ${f.percent.toFixed(0)}% ${f.segments} segments ${content} ${formatRate(f.rate)} ETA ${formatEta(f.eta_seconds)} ${f.model ?? '-'}${warning}`);
  };

  const allEnded = await pollUntilDone(async (poll) => {
    if (!selector && poll > 0 && poll % DISCOVER_EVERY_POLLS === 0) {
      for (const job of await listJobs(api)) if (isActive(job) && !watched.has(job.id)) watched.set(job.id, job);
    }
    for (const [id, previous] of watched) {
      if (ended.has(id)) continue;
      const job = (poll === 0 ? previous : await callApi<JobView>(api, 'GET', `/jobs/${id}`)) ?? previous;
      watched.set(id, job);
      show(job);
      if (!isActive(job)) {
        ended.add(id);
        if (options.json) process.stdout.write(`${JSON.stringify({ event: 'ended', job: id, state: job.state, reason: job.failureReason })}\n`);
        else if (!bars) say(`${job.name}: ${describeEnd(job)}`);
      }
    }
    return ended.size === watched.size ? true : undefined;
  }, { intervalMs: POLL_MS });
  if (!allEnded) {
    bars?.stop();
    say('Stopped watching; the jobs go on.');
    return 130;
  }
  bars?.stop();
  if (bars) for (const job of watched.values()) say(`${job.name}: ${describeEnd(job)}`);
  return 0;
}
