/**
 * `npm run bench:jellyfin`: what a viewer sees, measured in a real browser. Debian's Chromium
 * plays a clip in the reproduced jellyfin-web player (tests/support/jellyfin-web.ts) while
 * the real Upflow stack upscales it, triggered by the Webhook plugin's PlaybackStart as
 * Jellyfin sends it; the Upflow script switches with its default settings. For each upscaler:
 * seconds from play to the first upscaled segment and to the switch, how long the picture
 * stood still during the switch, then stalls and fallbacks over the following seconds.
 *
 *   npm run bench:jellyfin -- [--seconds 60] [--width 640 --height 360] [--watch 30] [--starts 0,0.6] [--modes direct,transcode] [--upscalers lanczos,anime4k-s-an (or anime4k-m-an, anime4k-l-an)] [--min-buffered S] [--cold] [--json] [--json-file <file>]
 *
 * `--starts`: where the viewer presses play, as fractions of the clip (0.6: resumes at 60 %, as
 * Jellyfin does with `#t=` and the PlaybackStart's PlaybackPositionTicks); one run per start.
 * `--modes`: direct play (the file in the element's `src`) and Jellyfin's transcode (its hls.js
 * on an HLS transcode ffmpeg made as Jellyfin's transcoder does, made before play starts).
 * Each run's Upflow has first made a 10 s title of the same size, as any Upflow after its first
 * title: the viewer's lead is sized from it (docs/architecture.md). `--cold`: a fresh Upflow
 * that has made nothing (a new install's first title): the lead comes once the title has
 * measured itself.
 *
 * The figures go, with the machine, the commit and the settings, to docs/bench/jellyfin.json
 * (the docs' table is generated from it).
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { figuresFile, figuresHeader, writeFiguresFile } from '../../cli/figures-file';
import { firstSegmentAfterStreamStart, type ModelChange, type ModelStepUp } from '../../core/domain';
import type { ItemStatus } from '../../core/jellyfin-items';
import { median } from '../../core/statistics';
import { SCRIPT_TIMING, type PartMove } from '../../core/switch-lead';
import { launchChromium, openPage, scriptErrors } from '../support/browser';
import { makeClip } from '../support/fixtures';
import { startJellyfinStandIn } from '../support/jellyfin-stand-in';
import { addWebPlayer, playerPageUrl } from '../support/jellyfin-web';
import { addTranscoder } from '../support/jellyfin-transcode';
import { startUpflow, waitFor } from '../support/upflow-process';
import { harnessEvents, playOriginal, videoFacts, type HarnessEvent } from './player-page';
import type { SwitchResult } from './switch-result';

const ITEM = 'b0c1d2e3f4a54b6c8d7e6f5a4b3c2d1e';
/** How long after play the timeline follows the making and the rate (SwitchResult.timeline). */
const TIMELINE_SECONDS = 15;
/** How many of the first segments made the timeline lists. */
const TIMELINE_SEGMENTS = 6;

const UPSCALERS: { id: string; label: string; env: NodeJS.ProcessEnv }[] = [
  { id: 'lanczos', label: 'ffmpeg lanczos (SRGAN_ENABLE=0)', env: { SRGAN_ENABLE: '0' } },
  { id: 'anime4k-s-an', label: 'anime4k-s-an (ONNX, CPU)', env: { SRGAN_ENABLE: '1', UPFLOW_MODEL: 'anime4k-s-an' } },
  // Asked for by name (--upscalers): the larger networks, in the precision `auto` runs them in here.
  { id: 'anime4k-m-an', label: 'anime4k-m-an (ONNX, CPU)', env: { SRGAN_ENABLE: '1', UPFLOW_MODEL: 'anime4k-m-an' } },
  { id: 'anime4k-l-an', label: 'anime4k-l-an (ONNX, CPU)', env: { SRGAN_ENABLE: '1', UPFLOW_MODEL: 'anime4k-l-an' } },
];
/** What a run measures unless told: the fallback and the default model. */
const DEFAULT_UPSCALERS = ['lanczos', 'anime4k-s-an'];

/** A job's stream start and first segment, as GET /jobs/:id gives them. */
type JobTimes = Parameters<typeof firstSegmentAfterStreamStart>[0];

/** Waiting spans after `from` (page time): each 'waiting' until the next 'playing'. */
function stallsAfter(events: HarnessEvent[], from: number): { stalls: number; seconds: number } {
  let stalls = 0;
  let seconds = 0;
  let waitingSince: number | undefined;
  for (const e of events.filter((x) => x.at >= from)) {
    if (e.type === 'waiting' && waitingSince === undefined) {
      waitingSince = e.at;
      stalls += 1;
    } else if (e.type === 'playing' && waitingSince !== undefined) {
      seconds += (e.at - waitingSince) / 1000;
      waitingSince = undefined;
    }
  }
  return { stalls, seconds };
}

/**
 * The made part a viewer switched into at `position`: from the segment there back while the one
 * before was made too, all by `switchedAtMs` (wall clock); and the model of the segment there.
 */
function switchedIntoPart(
  made: readonly { index: number; startSeconds: number; model: string | null; producedAt: string }[],
  position: number,
  switchedAtMs: number,
): { fromSeconds: number; model: string | null } | undefined {
  const byIndex = new Map(made.filter((s) => Date.parse(s.producedAt) <= switchedAtMs).map((s) => [s.index, s]));
  const at = [...byIndex.values()].filter((s) => s.startSeconds <= position).sort((a, b) => b.startSeconds - a.startSeconds)[0];
  if (!at) return undefined;
  let first = at;
  for (let before = byIndex.get(first.index - 1); before; before = byIndex.get(first.index - 1)) first = before;
  return { fromSeconds: first.startSeconds, model: at.model };
}

async function measure(
  upscaler: (typeof UPSCALERS)[number],
  clip: { seconds: number; width: number; height: number },
  watchSeconds: number,
  scriptConfig: Record<string, unknown>,
  startSeconds: number,
  mode: 'direct' | 'transcode',
  warmUp: boolean,
): Promise<SwitchResult> {
  const standIn = await startJellyfinStandIn();
  const transcoder = addTranscoder(standIn);
  const upflow = await startUpflow({ ...upscaler.env, JELLYFIN_URL: standIn.url, JELLYFIN_API_KEY: standIn.apiKey });
  const browser = await launchChromium();
  try {
    addWebPlayer(standIn, { webhookUrl: `${upflow.apiUrl}/upscale-trigger` });
    const file = await makeClip(path.join(upflow.mediaDir, 'bench.mp4'), { ...clip, fps: 24 });
    let earlierSpeed: { firstSegmentSeconds: number; rate: number } | null = null;
    if (warmUp) {
      const earlier = await makeClip(path.join(upflow.mediaDir, 'earlier.mp4'), { ...clip, seconds: 10, fps: 24 });
      const { json } = await upflow.api<{ job_id: string }>('POST', '/upscale-trigger', { Item: { Path: earlier, Name: 'Earlier' } });
      const job = await waitFor('the earlier title', async () => {
        const { json: view } = await upflow.api<JobTimes & { state: string }>('GET', `/jobs/${json.job_id}`);
        return view.state === 'complete' ? view : undefined;
      }, 300_000, 250);
      // What the viewer's part is planned from (adapters/postgres.ts makingSpeed): the start to the first segment, the others' median rate.
      const { json: { segments } } = await upflow.api<{ segments: { producedAt: string; rate: number | null }[] }>('GET', `/jobs/${json.job_id}/segments`);
      const rates = segments.sort((a, b) => a.producedAt.localeCompare(b.producedAt)).slice(1).flatMap((s) => (s.rate === null ? [] : [s.rate]));
      const first = firstSegmentAfterStreamStart(job);
      if (first !== null && rates.length > 0) earlierSpeed = { firstSegmentSeconds: first, rate: median(rates) };
    }
    standIn.items.set(ITEM, { name: 'Bench', path: file, width: clip.width, height: clip.height });
    if (mode === 'transcode') await transcoder.prepare(ITEM);
    const { page, console: messages } = await openPage(browser);
    // The script's defaults, but for the trigger: the webhook does it, as in a real set-up.
    await page.goto(playerPageUrl(standIn, {
      itemId: ITEM,
      upflowConfig: { ...scriptConfig, autoTrigger: false },
      scriptUrl: `${upflow.apiUrl}/client/upflow-jellyfin.js`,
      transcode: mode === 'transcode',
    }));
    await page.evaluate(() => {
      window.addEventListener('upflow:switched', () => ((window as unknown as { switchedAt?: number }).switchedAt ??= performance.now()), { once: true });
      window.addEventListener('upflow:original', () => {
        const w = window as unknown as { fallbacks?: number; fallbackAt?: { at: number; position: number }[] };
        w.fallbacks = (w.fallbacks ?? 0) + 1;
        const video = document.querySelector('video');
        (w.fallbackAt ??= []).push({ at: Date.now(), position: video?.currentTime ?? NaN });
      });
    });
    const playedAt = Date.now();
    const pagePlayedAt = await page.evaluate(() => performance.now());
    await playOriginal(page, startSeconds);

    const status = () => fetch(`${upflow.apiUrl}/items/${ITEM}/status`).then((r) => r.json() as Promise<ItemStatus>);
    // What Upflow answered over time, to say what a fallback to the original saw.
    const answers: { at: number; status: ItemStatus }[] = [];
    const sampler = setInterval(() => void status().then((answer) => answers.push({ at: Date.now(), status: answer }), () => undefined), 250);
    await waitFor('the first segment', async () => ((await status()).segments > 0 ? true : undefined), 120_000, 50);
    const firstSegmentSeconds = (Date.now() - playedAt) / 1000;
    // A switch counts while the original still plays: once it has reached its end there is nothing left to switch.
    const playingFor = (clip.seconds - startSeconds) * 1000 - (Date.now() - playedAt);
    const switchedAt = await waitFor('the switch', () => page.evaluate(() => (window as unknown as { switchedAt?: number }).switchedAt), playingFor, 100).catch(() => undefined);

    const start = await videoFacts(page);
    await page.waitForTimeout(watchSeconds * 1000);
    const end = await videoFacts(page);
    const events = await harnessEvents(page);
    const switchLoad = switchedAt === undefined ? undefined : events.filter((e) => e.type === 'loadstart' && e.at <= switchedAt).pop();
    const stalls = stallsAfter(events, start.at);
    clearInterval(sampler);
    const final = await status();
    const fallbackAt = await page.evaluate(() => (window as unknown as { fallbackAt?: { at: number; position: number }[] }).fallbackAt ?? []);
    const fallbacks = fallbackAt.map(({ at, position }) => {
      const seen = answers.filter((a) => a.at <= at).pop()?.status;
      const part = seen?.ready.find(([from, to]) => from <= position && position < to);
      return { afterPlaySeconds: (at - playedAt) / 1000, position, ahead: part ? part[1] - position : 0, rate: seen?.rate ?? null };
    });
    // The viewed title's own start to first segment, as `earlierSpeed` counts it: how much Chromium beside it slowed the first segment.
    const job = final.job_id ? (await upflow.api<JobTimes & { createdAt: string; events?: { at: string; kind: string; data: unknown }[] }>('GET', `/jobs/${final.job_id}`)).json : undefined;
    const firstSegmentFromStreamStart = job ? firstSegmentAfterStreamStart(job) : null;
    const made = final.job_id ? (await upflow.api<{ segments: { index: number; startSeconds: number; durationSeconds: number; model: string | null; producedAt: string }[] }>('GET', `/jobs/${final.job_id}/segments`)).json.segments : [];
    const firstMade = made.sort((a, b) => a.producedAt.localeCompare(b.producedAt))[0];
    const afterPlay = (wallMs: number) => Math.round(wallMs - playedAt) / 1000;
    const firstPicture = events.find((e) => e.type === 'playing');
    const timeline = {
      earlierSpeed,
      firstSegmentFromStreamStart,
      script: SCRIPT_TIMING,
      // Where the first seconds went: the job registered (the webhook, the API, the workflow's start) and its stream started (the probe, the plan, the playlist).
      registeredAfterPlaySeconds: job ? afterPlay(Date.parse(job.createdAt)) : null,
      streamStartedAfterPlaySeconds: job?.streamStartedAt ? afterPlay(Date.parse(job.streamStartedAt)) : null,
      playing: firstPicture ? { afterPlaySeconds: (firstPicture.at - pagePlayedAt) / 1000, position: firstPicture.position } : null,
      made: made.slice(0, TIMELINE_SEGMENTS).map((s) => ({ index: s.index, startSeconds: s.startSeconds, afterPlaySeconds: afterPlay(Date.parse(s.producedAt)) })),
      rates: answers.filter((a) => a.at - playedAt <= TIMELINE_SECONDS * 1000).map((a) => ({ afterPlaySeconds: afterPlay(a.at), rate: a.status.rate })),
      // A viewer's part moved on once this title's own speed was in (the job's `part-moved` events).
      moves: (job?.events ?? []).filter((e) => e.kind === 'part-moved').map((e) => {
        const move = e.data as Pick<PartMove, 'fromSeconds' | 'toSeconds'>;
        return { afterPlaySeconds: afterPlay(Date.parse(e.at)), fromSeconds: move.fromSeconds, toSeconds: move.toSeconds };
      }),
    };
    const positionAtSwitch = switchedAt === undefined ? null : events.filter((e) => e.at <= switchedAt && e.type === 'playing').pop()?.position ?? null;
    const switchedInto = positionAtSwitch === null || switchedAt === undefined ? undefined : switchedIntoPart(made, positionAtSwitch, playedAt + (switchedAt - pagePlayedAt));
    return {
      upscaler: upscaler.label,
      mode,
      startSeconds,
      firstSegmentSeconds,
      segmentSeconds: final.segment_seconds,
      madeFromSeconds: firstMade?.startSeconds ?? null,
      switchSeconds: switchedAt === undefined ? null : (switchedAt - pagePlayedAt) / 1000,
      positionAtSwitch,
      switchedIntoFromSeconds: switchedInto?.fromSeconds ?? null,
      modelAtSwitch: switchedInto?.model ?? null,
      modelAtEnd: modelAt(made, Math.min(end.position, clip.seconds - 0.01)),
      stepDowns: (job?.events ?? []).filter((e) => e.kind === 'model-step-down').map((e) => {
        const change = e.data as Pick<ModelChange, 'fromModel' | 'toModel' | 'window'>;
        return { afterPlaySeconds: afterPlay(Date.parse(e.at)), fromModel: change.fromModel, toModel: change.toModel, windowRate: change.window?.rate ?? null };
      }),
      stepUps: (job?.events ?? []).filter((e) => e.kind === 'model-step-up').map((e) => {
        const change = e.data as Pick<ModelStepUp, 'fromModel' | 'toModel' | 'leadSeconds'>;
        return { afterPlaySeconds: afterPlay(Date.parse(e.at)), fromModel: change.fromModel, toModel: change.toModel, leadSeconds: change.leadSeconds };
      }),
      switchGapSeconds: switchLoad && switchedAt !== undefined ? (switchedAt - switchLoad.at) / 1000 : null,
      watchedSeconds: watchSeconds,
      advancedSeconds: end.position - start.position,
      stalls: stalls.stalls,
      stalledSeconds: stalls.seconds,
      fallbacksToOriginal: await page.evaluate(() => (window as unknown as { fallbacks?: number }).fallbacks ?? 0),
      fallbacks,
      upscaleRate: final.rate,
      consoleErrors: scriptErrors(messages).length,
      timeline,
    };
  } finally {
    await browser.close();
    await upflow.stop();
    await standIn.close();
    transcoder.close();
    fs.rmSync(upflow.dir, { recursive: true, force: true });
  }
}

/** The model of the made segment at a content position (a viewer at the clip's very end: its last frame's). */
function modelAt(made: { startSeconds: number; durationSeconds: number; model: string | null }[], position: number): string | null {
  return made.find((s) => s.startSeconds <= position && position < s.startSeconds + s.durationSeconds)?.model ?? null;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      seconds: { type: 'string', default: '60' },
      width: { type: 'string', default: '640' },
      height: { type: 'string', default: '360' },
      watch: { type: 'string', default: '30' },
      starts: { type: 'string', default: '0,0.6' },
      modes: { type: 'string', default: 'direct,transcode' },
      upscalers: { type: 'string', default: DEFAULT_UPSCALERS.join(',') },
      'min-buffered': { type: 'string' },
      cold: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      'json-file': { type: 'string', default: figuresFile('jellyfin') },
    },
  });
  const args = process.argv.slice(2);
  const header = await figuresHeader(args.length > 0 ? `npm run bench:jellyfin -- ${args.join(' ')}` : 'npm run bench:jellyfin');
  const clip = { seconds: Number(values.seconds), width: Number(values.width), height: Number(values.height) };
  // The script's own default unless given.
  const scriptConfig = values['min-buffered'] === undefined ? {} : { minBufferedSeconds: Number(values['min-buffered']) };
  const results: SwitchResult[] = [];
  const starts = values.starts.split(',').map((fraction) => Math.round(Number(fraction) * clip.seconds));
  const modes = values.modes.split(',').map((mode) => {
    if (mode !== 'direct' && mode !== 'transcode') throw new Error(`--modes: ${JSON.stringify(mode)} is neither direct nor transcode`);
    return mode;
  });
  const upscalers = values.upscalers.split(',').map((id) => {
    const upscaler = UPSCALERS.find((u) => u.id === id);
    if (!upscaler) throw new Error(`--upscalers: ${JSON.stringify(id)} is none of ${UPSCALERS.map((u) => u.id).join(', ')}`);
    return upscaler;
  });
  for (const upscaler of upscalers) {
    for (const mode of modes) {
      for (const startSeconds of starts) {
        process.stderr.write(`measuring ${upscaler.label}, ${mode}, on a ${clip.width}x${clip.height} ${clip.seconds} s clip, play at ${startSeconds} s...\n`);
        results.push(await measure(upscaler, clip, Number(values.watch), scriptConfig, startSeconds, mode, !values.cold));
      }
    }
  }
  writeFiguresFile(path.resolve(values['json-file']), { ...header, settings: { clip: { ...clip, fps: 24 }, watchSeconds: Number(values.watch), scriptConfig, warmUp: !values.cold }, results });
  process.stderr.write(`figures written to ${values['json-file']}\n`);
  if (values.json) {
    process.stdout.write(`${JSON.stringify({ clip, scriptConfig, results }, null, 2)}\n`);
    return;
  }
  const f = (n: number | null, digits = 2) => (n === null ? '—' : n.toFixed(digits));
  const rows = [
    ['upscaler', 'mode', 'from s', 'first segment s', 'made from s', 'switch s', 'at position s', 'part from s', 'model there', 'model at the end', 'switch gap s', `played in ${values.watch} s`, 'stalls (s)', 'fallbacks', 'rate', 'console errors'],
    ...results.map((r) => [
      r.upscaler, r.mode ?? 'direct', f(r.startSeconds ?? 0, 0), f(r.firstSegmentSeconds), f(r.madeFromSeconds ?? null, 1), f(r.switchSeconds), f(r.positionAtSwitch), f(r.switchedIntoFromSeconds ?? null, 1), r.switchSeconds === null ? '—' : r.modelAtSwitch ?? 'ffmpeg', r.modelAtEnd ?? '—', f(r.switchGapSeconds), f(r.advancedSeconds, 1),
      `${r.stalls} (${f(r.stalledSeconds, 1)})`, String(r.fallbacksToOriginal), r.upscaleRate === null ? '—' : `${r.upscaleRate.toFixed(2)}x`, String(r.consoleErrors),
    ]),
  ];
  process.stdout.write(`${rows.map((row) => `| ${row.join(' | ')} |`).join('\n').replace(/\n/, `\n|${' --- |'.repeat(rows[0]!.length)}\n`)}\n`);
}

main().catch((err: Error) => {
  process.stderr.write(`bench failed: ${err.message}\n`);
  process.exit(1);
});
