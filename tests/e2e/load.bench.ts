/**
 * `npm run bench:load`: the API under a bounded load while a stream is being made, on the real
 * stack (`upflow up`: Temporal, Postgres, the worker, the API; Jellyfin is the stand-in).
 *
 * The stream is the product's main path: a 480x270 clip upscaled to 960x540 by the ONNX model
 * anime4k-s-rl, 1 s segments, rate control off so the model stays the same. While it runs,
 * short windows alternate unloaded and loaded (A B A B … A). The stream's rate in a window
 * comes from the segments Postgres recorded (content seconds ÷ wall seconds) whose making fell
 * wholly inside it; each loaded window is compared with the unloaded ones either side, so that
 * a drift in the stream's speed, or another program on the machine, weighs on both sides alike,
 * and the median of those ratios is the figure. The load is autocannon on loopback at a fixed overall rate for
 * a fixed time, so it stops by itself, in a child process at the lowest CPU priority: the
 * players stand for other devices, and their HTTP client's own work should take as little as
 * it can from the stream. The stack's parts' CPU is read from /proc for each window.
 *
 * The load: `players` viewers, each doing what the web script and hls.js do while watching a
 * title that is still being upscaled: `GET /items/:id/status` and `GET /hls-status/:file`
 * every `pollSeconds`, and the playlist and the newest segment once a segment length.
 *
 *   npm run bench:load -- [--players 10] [--window 4] [--loaded-windows 8] [--json] [--json-file <file>]
 *
 * The figures go, with the machine, the commit and the plan, to docs/bench/load.json (the docs'
 * tables are generated from it); the load test writes the same file when UPFLOW_RECORD_FIGURES=1.
 */
import { fork, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { jStat } from 'jstat';
import { figuresFile, figuresHeader, writeFiguresFile, type FiguresHeader } from '../../cli/figures-file';
import { median } from '../../core/statistics';
import { makeClip } from '../support/fixtures';
import { startJellyfinStandIn, type JellyfinStandIn } from '../support/jellyfin-stand-in';
import { descendantsOf, startUpflow, waitFor, type UpflowProcess } from '../support/upflow-process';

const ITEM = '10ad10adaaaa4bbb8ccc000000000007';

export interface LoadPlan {
  /** Simulated viewers; each polls status and fetches HLS as the web script and hls.js do. */
  players: number;
  /** Seconds between one player's status polls (the web script polls every 2 s). */
  pollSeconds: number;
  /** Length of each window, unloaded or loaded. */
  windowSeconds: number;
  /** Loaded windows; there is one unloaded window more (A B A … B A). */
  loadedWindows: number;
}

export const DEFAULT_PLAN: LoadPlan = { players: 10, pollSeconds: 2, windowSeconds: 4, loadedWindows: 8 };

/**
 * The stream under load: longer than the windows need; cancelled once they are over. The 17
 * windows and their set-up take about 70 s; S makes this size at 3.0–3.2x on the CI machine, so a
 * 200 s title ran out after 16 of them (stop 36). 400 s leaves room up to about 5.5x.
 */
export const STREAM = { width: 480, height: 270, seconds: 400, segmentSeconds: 1, model: 'anime4k-s-rl' } as const;

/** Segments made before the first window: the first (short, start-up) ones are not typical. */
const WARM_UP_SEGMENTS = 3;

/** How often the segments are read while the windows run (in both kinds alike). */
const SEGMENT_POLL_MS = 500;

export interface WindowFigures {
  loaded: boolean;
  /** Segments made wholly inside the window: how many, their content and wall seconds. */
  segments: number;
  contentSeconds: number;
  wallSeconds: number;
  rate: number;
  /** CPU the stack and the load generator used, in cores, by part. */
  cores: Record<string, number>;
}

export interface EndpointFigures {
  endpoint: string;
  requests: number;
  /** Requests per second over the loaded windows. */
  rps: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Connection errors and timeouts (all endpoints together: a failed connection names none). */
  errors?: number;
  non2xx: number;
}

export interface LoadReport {
  plan: LoadPlan;
  /** Overall request rate applied while loaded. */
  appliedRps: number;
  /** The mean size of the segments the players fetched from. */
  segmentKilobytes: number;
  windows: WindowFigures[];
  /** The stream's rate over all unloaded and all loaded windows. */
  unloadedRate: number;
  loadedRate: number;
  /**
   * Each loaded window's rate ÷ the mean rate of the unloaded windows just before and after it
   * (where all three have segments): a change of speed that lasts (another program on the
   * machine) is cancelled in each, and the median leaves out the few a sudden change upsets.
   */
  localRatios: number[];
  /** The median of `localRatios`: the share of its rate the stream keeps under the load. */
  ratio: number;
  /**
   * The most the stream can keep that these ratios still allow: the one-sided 95 % upper
   * confidence bound of their mean (Student's t). Below 0.9, the measurement shows, beyond
   * this machine's spread, that the load cost the stream more than 10 % of its rate.
   */
  ratioUpperBound: number;
  /** Average cores by part, unloaded and loaded. */
  cores: { unloaded: Record<string, number>; loaded: Record<string, number> };
  endpoints: EndpointFigures[];
  total: EndpointFigures;
}

export interface LoadStack {
  upflow: UpflowProcess;
  standIn: JellyfinStandIn;
  itemId: string;
  fileName: string;
  stop(): Promise<number | null>;
}

/** The real stack with the stand-in Jellyfin, and a clip known to it as an item. */
export async function startLoadStack(): Promise<LoadStack> {
  const fileName = 'load test.mp4';
  // The clip is made while the stack starts (mostly waiting for Temporal and Postgres).
  const clipDir = fs.mkdtempSync(path.join(os.tmpdir(), 'upflow-load-clip-'));
  const clip = makeClip(path.join(clipDir, fileName), { seconds: STREAM.seconds, width: STREAM.width, height: STREAM.height });
  clip.catch(() => {}); // awaited below
  const standIn = await startJellyfinStandIn();
  let upflow: UpflowProcess | undefined;
  try {
    upflow = await startUpflow({
      JELLYFIN_URL: standIn.url,
      JELLYFIN_API_KEY: standIn.apiKey,
      SRGAN_ENABLE: '1',
      UPFLOW_MODEL: STREAM.model,
      HLS_SEGMENT_TIME: String(STREAM.segmentSeconds),
      // Rate control off: a model step-down mid-run would change the rate being compared.
      UPFLOW_RATE_STEPDOWN_SECONDS: '0',
    });
    const inMedia = path.join(upflow.mediaDir, fileName);
    fs.copyFileSync(await clip, inMedia);
    standIn.items.set(ITEM, { name: 'Load test', path: inMedia });
  } catch (err) {
    await upflow?.stop();
    await standIn.close();
    throw err;
  } finally {
    await clip.catch(() => {});
    fs.rmSync(clipDir, { recursive: true, force: true });
  }
  const started = upflow;
  return {
    upflow: started,
    standIn,
    itemId: ITEM,
    fileName,
    async stop() {
      const code = await started.stop();
      await standIn.close();
      fs.rmSync(started.dir, { recursive: true, force: true });
      return code;
    },
  };
}

interface Segment {
  index: number;
  durationSeconds: number;
  bytes: number;
  wallSeconds: number | null;
}

interface Samples {
  latenciesMs: number[];
  non2xx: number;
}

/** One player: one connection cycling through `paths` at `rps`, from `delayMs` on for `seconds`. */
interface Player {
  paths: string[];
  rps: number;
  delayMs: number;
  seconds: number;
}

/** What a player saw: latencies and non-2xx answers by index in its `paths`, connection errors and timeouts. */
interface PlayerResult {
  latenciesMs: number[][];
  non2xx: number[];
  errors: number;
}

async function play(url: string, player: Player): Promise<PlayerResult> {
  await sleep(player.delayMs);
  const result: PlayerResult = { latenciesMs: player.paths.map(() => []), non2xx: player.paths.map(() => 0), errors: 0 };
  let answered = 0;
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url,
        connections: 1,
        overallRate: player.rps,
        duration: player.seconds,
        timeout: 10,
        requests: player.paths.map((p) => ({ method: 'GET', path: p })),
      },
      (err: unknown, totals: autocannon.Result) => {
        if (err) {
          reject(err instanceof Error ? err : new Error(String(err)));
          return;
        }
        result.errors = totals.errors + totals.timeouts;
        resolve(result);
      },
    );
    // One connection, no pipelining: the answers come in the order of `paths`, round and round.
    instance.on('response', (_client: autocannon.Client, statusCode: number, _bytes: number, responseTimeMs: number) => {
      const index = answered % player.paths.length;
      answered += 1;
      result.latenciesMs[index]!.push(responseTimeMs);
      if (statusCode < 200 || statusCode > 299) result.non2xx[index]! += 1;
    });
  });
}

const GENERATOR_FLAG = '--load-generator';

/**
 * The players' side: autocannon in a child process at nice 19. Its own work (parsing 160 KB
 * segments in JavaScript is most of it) is not the server's; latencies it measures include
 * its own waits for the CPU, so they are upper bounds.
 */
class LoadGenerator {
  private constructor(private readonly child: ChildProcess) {}

  static async start(): Promise<LoadGenerator> {
    const child = fork(__filename, [GENERATOR_FLAG], { execArgv: ['--require', require.resolve('tsx/cjs')], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    await LoadGenerator.answer(child);
    os.setPriority(child.pid!, 19);
    return new LoadGenerator(child);
  }

  /** Runs the players together; resolves when the last one ends. */
  async play(url: string, players: Player[]): Promise<PlayerResult[]> {
    this.child.send({ url, players });
    const answer = await LoadGenerator.answer<{ results?: PlayerResult[]; error?: string }>(this.child);
    if (!answer.results) throw new Error(`the load generator failed: ${answer.error}`);
    return answer.results;
  }

  /** The child's next message, or an error if it exits first. */
  private static answer<T>(child: ChildProcess): Promise<T> {
    return new Promise((resolve, reject) => {
      const exited = (code: number | null) => reject(new Error(`the load generator exited with ${code}`));
      child.once('exit', exited);
      child.once('message', (message: T) => {
        child.off('exit', exited);
        resolve(message);
      });
    });
  }

  stop(): void {
    this.child.kill();
  }
}

/** The child's side of LoadGenerator. */
function serveLoadGenerator(): void {
  process.on('message', (order: { url: string; players: Player[] }) => {
    Promise.all(order.players.map((p) => play(order.url, p))).then(
      (results) => process.send!({ results }),
      (err: Error) => process.send!({ error: err.message }),
    );
  });
  process.on('disconnect', () => process.exit(0));
  process.send!({ ready: true });
}

/** One-sided upper confidence bound of the mean of `values` (at least two). */
function upperConfidenceBound(values: number[], confidence: number): number {
  const n = values.length;
  if (n < 2) return NaN;
  const mean = values.reduce((sum, v) => sum + v, 0) / n;
  const variance = values.reduce((sum, v) => sum + (v - mean) ** 2, 0) / (n - 1);
  return mean + jStat.studentt.inv(confidence, n - 1) * Math.sqrt(variance / n);
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

const round = (value: number, places = 1) => Math.round(value * 10 ** places) / 10 ** places;

function figures(endpoint: string, samples: Samples, seconds: number, errors?: number): EndpointFigures {
  const sorted = [...samples.latenciesMs].sort((a, b) => a - b);
  return {
    endpoint,
    requests: sorted.length,
    rps: round(sorted.length / seconds),
    p50Ms: round(percentile(sorted, 50)),
    p99Ms: round(percentile(sorted, 99)),
    maxMs: round(sorted.at(-1) ?? 0),
    ...(errors !== undefined ? { errors } : {}),
    non2xx: samples.non2xx,
  };
}

/** Which part of the stack a process is, from its command line. */
function partOf(args: string): string {
  if (args.includes(GENERATOR_FLAG)) return 'players';
  if (/upflow\.js up\b/.test(args)) return 'api';
  if (/upflow\.js worker\b/.test(args)) return 'worker';
  if (args.startsWith('ffmpeg')) return 'ffmpeg';
  if (args.includes('temporal')) return 'temporal';
  if (args.includes('postgres')) return 'postgres';
  return 'other';
}

/** CPU seconds used so far by this process, the load generator and each part of the stack (Linux). */
function cpuSeconds(): Record<string, number> {
  const ticksPerSecond = 100;
  const used: Record<string, number> = {};
  for (const pid of [process.pid, ...descendantsOf(process.pid)]) {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const seconds = (Number(fields[11]) + Number(fields[12])) / ticksPerSecond;
      const part = pid === process.pid ? 'bench' : partOf(fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' '));
      used[part] = (used[part] ?? 0) + seconds;
    } catch {
      // The process ended meanwhile.
    }
  }
  return used;
}

function coresBetween(before: Record<string, number>, after: Record<string, number>, seconds: number): Record<string, number> {
  return Object.fromEntries(Object.entries(after).map(([part, s]) => [part, round(Math.max(0, s - (before[part] ?? 0)) / seconds, 3)]));
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Starts the item's stream, waits for its first segments, runs the windows, cancels the stream
 * and reports. `log` gets a line as each window ends.
 */
export async function measureStreamUnderLoad(stack: LoadStack, plan: LoadPlan = DEFAULT_PLAN, log: (line: string) => void = () => {}): Promise<LoadReport> {
  if (process.platform !== 'linux') throw new Error('the load bench reads CPU times from /proc (Linux)');
  const { upflow } = stack;
  const api = async <T>(method: string, route: string): Promise<T> => {
    const response = await fetch(`${upflow.apiUrl}${route}`, { method });
    if (!response.ok) throw new Error(`${method} ${route}: ${response.status} ${await response.text()}`);
    return (await response.json()) as T;
  };
  const started = await api<{ job_id: string; title_key: string }>('POST', `/items/${stack.itemId}/upscale`);
  const jobId = started.job_id;
  const playlistPath = `/hls/${started.title_key}/stream.m3u8`;

  // Segments as Postgres has them. Their wall seconds, added up, say when each ended after the
  // stream's start; the start on this clock is at the latest a poll's time less the wall seconds
  // of the segments it found.
  let segments: Segment[] = [];
  let streamStartedBy = Infinity;
  const readSegments = async () => {
    const seenAt = Date.now();
    segments = (await api<{ segments: Segment[] }>('GET', `/jobs/${jobId}/segments`)).segments;
    const wall = segments.reduce((sum, s) => sum + (s.wallSeconds ?? 0), 0);
    if (segments.length > 0) streamStartedBy = Math.min(streamStartedBy, seenAt - wall * 1000);
  };
  // Until the workflow registers the job, its segments answer 404.
  const triggeredAt = Date.now();
  await waitFor('the first segments', async () => (await readSegments().then(() => segments.length >= WARM_UP_SEGMENTS, () => false)) || undefined, 60_000, 200);
  log(`${WARM_UP_SEGMENTS} segments after ${((Date.now() - triggeredAt) / 1000).toFixed(1)} s; windows start`);

  const endpoints = {
    itemStatus: { name: 'GET /items/:id/status', path: `/items/${stack.itemId}/status` },
    hlsStatus: { name: 'GET /hls-status/:file', path: `/hls-status/${encodeURIComponent(stack.fileName)}` },
    playlist: { name: 'GET /hls/…/stream.m3u8', path: playlistPath },
    segment: { name: 'GET /hls/…/segNNNNN.ts', path: '' },
  };
  type Endpoint = keyof typeof endpoints;
  const keys = Object.keys(endpoints) as Endpoint[];
  // One player's cycle: both status polls, and the playlist and a segment once a segment length.
  const cycle: Endpoint[] = ['itemStatus', 'hlsStatus'];
  for (let t = 0; t < plan.pollSeconds; t += STREAM.segmentSeconds) cycle.push('playlist', 'segment');
  const playerRps = cycle.length / plan.pollSeconds;
  const samples = Object.fromEntries(keys.map((k) => [k, { latenciesMs: [], non2xx: 0 }])) as unknown as Record<Endpoint, Samples>;
  let errors = 0;
  const madeSeconds = () => segments.reduce((sum, s) => sum + s.durationSeconds, 0);
  const streamEnded = () => madeSeconds() >= STREAM.seconds - 0.5;

  let polling = true;
  const poller = (async () => {
    while (polling) {
      await sleep(SEGMENT_POLL_MS);
      await readSegments().catch(() => {}); // the next poll reads them
    }
  })();
  const generator = await LoadGenerator.start();
  const windows: { loaded: boolean; from: number; to: number; cores: Record<string, number> }[] = [];
  try {
    for (let w = 0; w < 2 * plan.loadedWindows + 1 && !streamEnded(); w += 1) {
      const loaded = w % 2 === 1;
      const cpuBefore = cpuSeconds();
      const from = Date.now();
      if (loaded) {
        // The newest segments, as players at the live edge fetch them. The players start one
        // after another within one request interval, as real ones are not in step.
        const newest = segments.slice(-plan.players).map((s) => `${path.posix.dirname(playlistPath)}/seg${String(s.index).padStart(5, '0')}.ts`);
        const players = Array.from({ length: plan.players }, (_, p): Player => ({
          paths: cycle.map((key, i) => (key === 'segment' ? newest[(p + i) % newest.length]! : endpoints[key].path)),
          rps: playerRps,
          delayMs: (p * 1000) / playerRps / plan.players,
          seconds: plan.windowSeconds,
        }));
        const results = await generator.play(upflow.apiUrl, players);
        for (const result of results) {
          errors += result.errors;
          cycle.forEach((key, i) => {
            samples[key].latenciesMs.push(...result.latenciesMs[i]!);
            samples[key].non2xx += result.non2xx[i]!;
          });
        }
      } else {
        await sleep(plan.windowSeconds * 1000);
      }
      const to = Date.now();
      windows.push({ loaded, from, to, cores: coresBetween(cpuBefore, cpuSeconds(), (to - from) / 1000) });
    }
    // The segment being made as the last window ended.
    const last = segments.length;
    await waitFor('the segment after the windows', async () => (segments.length > last || streamEnded() ? true : undefined), 60_000, 100);
  } finally {
    generator.stop();
    polling = false;
    await poller;
  }
  if (!streamEnded()) {
    await api('POST', `/jobs/${jobId}/cancel`);
    await waitFor('the stream to stop', async () => ((await api<{ state: string }>('GET', `/jobs/${jobId}`)).state === 'streaming' ? undefined : true), 30_000, 250);
  }

  // Each segment's making, [end − wall, end] on this clock. Only segments made wholly inside a
  // window count: one that straddles a switch would blur loaded and unloaded together.
  let end = streamStartedBy;
  const made = segments.map((s) => {
    const wallMs = (s.wallSeconds ?? 0) * 1000;
    end += wallMs;
    return { index: s.index, from: end - wallMs, to: end, durationSeconds: s.durationSeconds, wallSeconds: wallMs / 1000 };
  }).filter((m) => m.index >= WARM_UP_SEGMENTS && m.wallSeconds > 0);
  const windowFigures: WindowFigures[] = windows.map((w) => {
    const inside = made.filter((m) => m.from >= w.from && m.to <= w.to);
    const contentSeconds = inside.reduce((sum, m) => sum + m.durationSeconds, 0);
    const wallSeconds = inside.reduce((sum, m) => sum + m.wallSeconds, 0);
    return { loaded: w.loaded, segments: inside.length, contentSeconds, wallSeconds, rate: wallSeconds > 0 ? contentSeconds / wallSeconds : 0, cores: w.cores };
  });
  windowFigures.forEach((w, i) => log(`window ${i + 1} ${w.loaded ? 'loaded  ' : 'unloaded'}: ${w.segments} segments, rate ${w.rate.toFixed(3)}x; cores ${JSON.stringify(w.cores)}`));

  const rateOf = (ws: WindowFigures[]) => ws.reduce((s, w) => s + w.contentSeconds, 0) / ws.reduce((s, w) => s + w.wallSeconds, 0);
  const averageCores = (ws: WindowFigures[]) => {
    const parts = [...new Set(ws.flatMap((w) => Object.keys(w.cores)))];
    return Object.fromEntries(parts.map((p) => [p, round(ws.reduce((s, w) => s + (w.cores[p] ?? 0), 0) / ws.length, 3)]));
  };
  const unloaded = windowFigures.filter((w) => !w.loaded);
  const loaded = windowFigures.filter((w) => w.loaded);
  if (windows.length < 2 * plan.loadedWindows + 1) {
    throw new Error(`the stream ended after ${windows.length} of ${2 * plan.loadedWindows + 1} windows: make STREAM.seconds longer`);
  }
  const localRatios = windowFigures.flatMap((w, i) => {
    const before = windowFigures[i - 1];
    const after = windowFigures[i + 1];
    if (!w.loaded || !before || !after || w.segments === 0 || before.segments === 0 || after.segments === 0) return [];
    return [w.rate / ((before.rate + after.rate) / 2)];
  });
  const loadedSeconds = windows.filter((w) => w.loaded).reduce((s, w) => s + (w.to - w.from) / 1000, 0);
  const all: Samples = {
    latenciesMs: Object.values(samples).flatMap((s) => s.latenciesMs),
    non2xx: Object.values(samples).reduce((sum, s) => sum + s.non2xx, 0),
  };
  return {
    plan,
    appliedRps: plan.players * playerRps,
    segmentKilobytes: Math.round(segments.reduce((sum, s) => sum + s.bytes, 0) / segments.length / 1000),
    windows: windowFigures,
    unloadedRate: rateOf(unloaded),
    loadedRate: rateOf(loaded),
    localRatios: localRatios.map((r) => round(r, 3)),
    ratio: median(localRatios),
    ratioUpperBound: upperConfidenceBound(localRatios, 0.95),
    cores: { unloaded: averageCores(unloaded), loaded: averageCores(loaded) },
    endpoints: keys.map((key) => figures(endpoints[key].name, samples[key], loadedSeconds)),
    total: figures('all', all, loadedSeconds, errors),
  };
}

/** What was applied, in one sentence. */
export function describePlan(plan: LoadPlan): string {
  const rps = 2 * (plan.players / plan.pollSeconds) + 2 * (plan.players / STREAM.segmentSeconds);
  return `${plan.players} players, each polling /items/:id/status and /hls-status every ${plan.pollSeconds} s and fetching the playlist and the newest `
    + `segment every ${STREAM.segmentSeconds} s: ${rps} requests/s in ${plan.loadedWindows} windows of ${plan.windowSeconds} s, alternating with `
    + `${plan.loadedWindows + 1} unloaded ones, while ${STREAM.model} upscales ${STREAM.width}x${STREAM.height} to ${2 * STREAM.width}x${2 * STREAM.height}`;
}

export function formatReport(report: LoadReport): string {
  const cores = (c: Record<string, number>) => Object.entries(c).map(([part, n]) => `${part} ${n.toFixed(2)}`).join(', ');
  return [
    `${describePlan(report.plan)} (segments of ${report.segmentKilobytes} KB)`,
    '',
    '| endpoint | requests | req/s | p50 | p99 | max | errors | non-2xx |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...[...report.endpoints, report.total].map((e) =>
      `| ${e.endpoint} | ${e.requests} | ${e.rps} | ${e.p50Ms} ms | ${e.p99Ms} ms | ${e.maxMs} ms | ${e.errors ?? ''} | ${e.non2xx} |`),
    '',
    `stream rate: unloaded ${report.unloadedRate.toFixed(3)}x, loaded ${report.loadedRate.toFixed(3)}x; `
      + `loaded ÷ unloaded either side: median ${(report.ratio * 100).toFixed(1)} % of ${report.localRatios.length} (${report.localRatios.map((r) => `${(r * 100).toFixed(0)} %`).join(', ')}); `
      + `95 % upper bound of their mean ${(report.ratioUpperBound * 100).toFixed(1)} %`,
    `windows (segments): ${report.windows.map((w) => `${w.loaded ? 'B' : 'A'} ${w.rate.toFixed(2)}x (${w.segments})`).join(', ')}`,
    `CPU (cores) unloaded: ${cores(report.cores.unloaded)}`,
    `CPU (cores) loaded:   ${cores(report.cores.loaded)}`,
  ].join('\n');
}

/** docs/bench/load.json: what was applied, to what stream, and what it measured. */
export function loadFigures(report: LoadReport): Record<string, unknown> {
  return { settings: { plan: report.plan, stream: STREAM, warmUpSegments: WARM_UP_SEGMENTS, load: describePlan(report.plan) }, ...report };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      players: { type: 'string', default: String(DEFAULT_PLAN.players) },
      window: { type: 'string', default: String(DEFAULT_PLAN.windowSeconds) },
      'loaded-windows': { type: 'string', default: String(DEFAULT_PLAN.loadedWindows) },
      json: { type: 'boolean', default: false },
      'json-file': { type: 'string', default: figuresFile('load') },
    },
  });
  const args = process.argv.slice(2);
  const header: FiguresHeader = await figuresHeader(args.length > 0 ? `npm run bench:load -- ${args.join(' ')}` : 'npm run bench:load');
  const plan: LoadPlan = {
    ...DEFAULT_PLAN,
    players: Number(values.players),
    windowSeconds: Number(values.window),
    loadedWindows: Number(values['loaded-windows']),
  };
  if (![plan.players, plan.windowSeconds, plan.loadedWindows].every((n) => Number.isInteger(n) && n > 0)) {
    throw new Error('--players, --window and --loaded-windows take whole numbers above 0');
  }
  const stack = await startLoadStack();
  try {
    const report = await measureStreamUnderLoad(stack, plan, (line) => process.stderr.write(`${line}\n`));
    writeFiguresFile(path.resolve(values['json-file']), { ...header, ...loadFigures(report) });
    process.stderr.write(`figures written to ${values['json-file']}\n`);
    process.stdout.write(values.json ? `${JSON.stringify(report)}\n` : `${formatReport(report)}\n`);
  } finally {
    await stack.stop();
  }
}

if (require.main === module && process.argv.includes(GENERATOR_FLAG)) {
  serveLoadGenerator();
} else if (require.main === module) {
  main().catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
    process.exit(1);
  });
}
