/**
 * Configuration: environment variables parsed and validated once, at start-up.
 * A wrong value stops start-up with one message naming the variable (immich-style).
 * The seed's names (HLS_*, SRGAN_*, ENABLE_HLS_STREAMING) keep working.
 */
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { CronExpressionParser } from 'cron-parser';
import { z } from 'zod';
import { ConfigError } from './errors';
import { isInside } from './media-paths';
import { CONTENT_KINDS, type ContentKind } from './content-kind';
import { MODEL_IDS, type ModelId } from './models';
import { PRECISION_SETTINGS, type PrecisionSetting } from './precision';

const X264_PRESETS = [
  'ultrafast', 'superfast', 'veryfast', 'faster', 'fast', 'medium', 'slow', 'slower', 'veryslow',
] as const;

const booleanFlag = z
  .enum(['1', '0', 'true', 'false', 'yes', 'no', 'on', 'off'], {
    message: 'expected 1/0, true/false, yes/no or on/off',
  })
  .transform((v) => ['1', 'true', 'yes', 'on'].includes(v));

const port = z.coerce.number().int().min(1).max(65535);

/** "90s", "15m", "24h", "7d"; a bare number means hours (the original cron's --max-age unit). */
export function parseDurationMs(text: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/.exec(text);
  if (!match) throw new Error(`"${text}" is not a duration like 90s, 15m, 24h or 7d`);
  const unitMs = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
  const unit = (match[2] ?? 'h') as keyof typeof unitMs;
  return Math.round(Number(match[1]) * unitMs[unit]);
}

/** The other way round, for messages: "45s", "20m", "6h", "1.5h", "3d". */
export function formatDurationMs(ms: number): string {
  const round = (n: number) => String(Math.round(n * 10) / 10);
  if (ms < 60_000) return `${round(ms / 1000)}s`;
  if (ms < 3_600_000) return `${round(ms / 60_000)}m`;
  if (ms < 2 * 86_400_000) return `${round(ms / 3_600_000)}h`;
  return `${round(ms / 86_400_000)}d`;
}

/** A five-field cron expression ("0 3 * * *"), as Temporal Schedules take it. */
const cron = z.string().refine((text) => {
  if (text.trim().split(/\s+/).length !== 5) return false;
  try {
    CronExpressionParser.parse(text);
    return true;
  } catch {
    return false;
  }
}, 'expected a cron expression of five fields such as "0 3 * * *" (minute hour day month weekday)');

/** Text read by `parse`, whose error message becomes the setting's. */
const parsedText = <T>(parse: (text: string) => T) =>
  z.string().transform((text, ctx) => {
    try {
      return parse(text);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: (err as Error).message });
      return z.NEVER;
    }
  });

const duration = parsedText(parseDurationMs);

/**
 * HLS_SEGMENT_TIME unset: the grid's segment length by what makes the picture. With a model on
 * the CPU each frame costs far more than a segment does (a keyframe, a report, a record), and a
 * viewer's switch waits for the segment at their position and the next: at 1 s Anime4K S made
 * titles as fast as at 2 s (1.62x and 1.43x against 1.50x and 1.39x) and switched Jellyfin
 * viewers 1–2 s sooner (within 5 s in six rows of twelve), for about 4 % more bytes. ffmpeg alone, whose
 * segments come every half second anyway, made a whole title about 30 % slower at 1 s
 * (docs/benchmarks.md, "How long a segment").
 */
export const SEGMENT_SECONDS_WITH_MODEL = 1;
export const SEGMENT_SECONDS_FFMPEG_ONLY = 2;

/**
 * Rate control's window: longer than the slow start of a chunk beside a starting player (S at
 * 0.83–0.99x for two or three 1 s segments, then 1.0–1.5x, in the Jellyfin bench), so that start
 * alone does not step a title down for good; short enough that a model far below real time
 * costs a watching viewer little (at 0.8x the window takes 10 s: 2 s of what is made ahead).
 */
export const DEFAULT_STEPDOWN_WINDOW_SECONDS = 8;

const envSchema = z.object({
  // The seed's variables.
  ENABLE_HLS_STREAMING: booleanFlag.default(true),
  HLS_SERVER_HOST: z.string().min(1).optional(),
  HLS_SERVER_PORT: port.optional(),
  // Unset: SEGMENT_SECONDS_WITH_MODEL or SEGMENT_SECONDS_FFMPEG_ONLY (below).
  HLS_SEGMENT_TIME: z.coerce.number().min(1).max(60).optional(),
  HLS_LIST_SIZE: z.coerce.number().int().min(0).default(0),
  SRGAN_SCALE_FACTOR: z.coerce.number().int().min(1).max(4).default(2),
  SRGAN_ENABLE: booleanFlag.default(false),
  SRGAN_FFMPEG_PRESET: z.enum(X264_PRESETS).default('veryfast'),
  SRGAN_FFMPEG_CRF: z.coerce.number().int().min(0).max(51).default(20),
  // Upflow's own.
  // Unset: each title's kind picks its model (core/content-kind.ts); set: every title uses it.
  UPFLOW_MODEL: z.enum(MODEL_IDS).optional(),
  // A title's kind when Jellyfin's genres do not say (a path trigger, an item without genres).
  UPFLOW_CONTENT_KIND: z.enum(CONTENT_KINDS).default('live-action'),
  UPFLOW_EXECUTION_PROVIDER: z.enum(['auto', 'cuda', 'cpu']).default('auto'),
  UPFLOW_PRECISION: z.enum(PRECISION_SETTINGS).default('auto'),
  UPFLOW_INFERENCE_THREADS: z.coerce.number().int().min(1).max(256).optional(),
  // Frames a slot upscales at once; unset: 2 on a CPU, 1 with CUDA (adapters/onnx.ts inferenceLanesHere).
  UPFLOW_INFERENCE_LANES: z.coerce.number().int().min(1).max(16).optional(),
  // Content seconds a chunk's model is judged over (core/rate-control.ts); 0 turns rate control off.
  UPFLOW_RATE_STEPDOWN_SECONDS: z.coerce.number().min(0).max(600).default(DEFAULT_STEPDOWN_WINDOW_SECONDS),
  UPFLOW_RATE_STEPDOWN_BELOW: z.coerce.number().min(0.01).max(100).default(1),
  UPFLOW_DATA_DIR: z.string().min(1).default('./.upflow'),
  UPFLOW_MEDIA_ROOTS: z.string().optional(),
  UPFLOW_OUTPUT_DIR: z.string().optional(),
  UPFLOW_CACHE_DIR: z.string().optional(),
  // Unset: this machine only (127.0.0.1) without UPFLOW_API_KEY, every interface (0.0.0.0) with it.
  UPFLOW_API_HOST: z.string().min(1).optional(),
  UPFLOW_API_PORT: port.default(5000),
  UPFLOW_TEMPORAL_ADDRESS: z.string().regex(/^[^\s:]+:\d+$/, 'expected host:port').optional(),
  UPFLOW_TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  UPFLOW_TEMPORAL_PORT: port.default(7233),
  UPFLOW_TEMPORAL_UI_PORT: port.default(8233),
  DATABASE_URL: z.string().regex(/^postgres(ql)?:\/\//, 'expected a postgres:// URL').optional(),
  // Jellyfin's address and an API key (Dashboard → API Keys): the Webhook plugin sends item ids, not paths.
  JELLYFIN_URL: z.url({ protocol: /^https?$/, message: 'expected an http(s) URL such as http://jellyfin:8096' }).optional(),
  JELLYFIN_API_KEY: z.string().min(1).optional(),
  // A playback of a video this tall or taller (the Webhook plugin's Video_0_Height) starts no
  // upscaling: it is sharp enough already. 0: every height.
  UPFLOW_SKIP_FROM_HEIGHT: z.coerce.number().int().min(0).max(100_000).default(1080),
  // A finished movie's upscale is copied beside it as a version every Jellyfin app offers.
  UPFLOW_JELLYFIN_PUBLISH: booleanFlag.default(false),
  UPFLOW_HLS_RETENTION: duration.default(parseDurationMs('24h')),
  // How long a signed hls_url stays playable: a player keeps the URL it was given for the whole
  // viewing, pauses included. Bounded: shorter could not start a film, longer is no longer short-lived.
  UPFLOW_HLS_TOKEN_TTL: duration
    .default(parseDurationMs('6h'))
    .refine((ms) => ms >= 10_000 && ms <= 7 * 86_400_000, 'expected a duration from 10s to 7d'),
  // Cleanup: when the schedule runs it, and how long a stream may go without a new segment
  // (its workflow gone) before its HLS folder counts as abandoned.
  UPFLOW_CLEANUP_SCHEDULE: cron.default('0 3 * * *'),
  UPFLOW_CLEANUP_ABANDONED_AFTER: duration.default(parseDurationMs('6h')),
  // Required on every request but the few open ones (header X-Api-Key or ?api_key=) when set.
  UPFLOW_API_KEY: z.string().min(16, 'use at least 16 characters (`openssl rand -hex 16` makes one)').optional(),
  // Origins of browser pages that may call the API besides Jellyfin's (JELLYFIN_URL) and Upflow's own.
  UPFLOW_CORS_ORIGINS: parsedText(parseOrigins).optional(),
  // Proxies whose X-Forwarded-* headers are believed (Express's trust proxy list); unset: none.
  UPFLOW_TRUST_PROXY: parsedText(parseTrustedProxies).optional(),
  // Triggers one client may send per minute; more are answered 429.
  UPFLOW_TRIGGER_RATE_LIMIT: z.coerce.number().int().min(1).max(100_000).default(60),
  // Chunks one worker process makes at once (one encode already uses a GPU or every core).
  UPFLOW_GPU_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(1),
  // x264's threads per encode; 0: x264 chooses (about 1.5 per core). Set 1 with several slots on one CPU.
  UPFLOW_ENCODER_THREADS: z.coerce.number().int().min(0).max(64).default(0),
  // A stream does not start, and stops, when less is free under the data or output folder; 0 = off.
  UPFLOW_MIN_FREE_GB: z.coerce.number().min(0).max(1_000_000).default(2),
  UPFLOW_DEMO: booleanFlag.default(true),
  UPFLOW_LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
  // Unset: pretty lines in a terminal, JSON lines elsewhere.
  UPFLOW_LOG_FORMAT: z.enum(['json']).optional(),
});

/** Every environment variable the configuration reads (docker-compose.yml is checked against it). */
export const CONFIG_VARIABLES: readonly string[] = Object.keys(envSchema.shape);

export type X264Preset = (typeof X264_PRESETS)[number];

export interface Config {
  streamingEnabled: boolean;
  dataDir: string;
  mediaRoots: string[];
  outputDir: string;
  hlsDir: string;
  cacheDir: string;
  /**
   * `apiKey`: required on every request but the open ones when set. `triggerRateLimit`:
   * triggers per client per minute. `corsOrigins`: origins of other sites' pages that may call
   * the API (Jellyfin's and UPFLOW_CORS_ORIGINS). `trustProxy`: Express's trust proxy list,
   * empty to believe no X-Forwarded-* header.
   */
  api: { host: string; port: number; apiKey?: string; triggerRateLimit: number; corsOrigins: string[]; trustProxy: string[] };
  /** Bytes that must stay free under the data and output folders while a stream runs (0: no check). */
  minFreeBytes: number;
  /** Streams one worker runs at once; the rest wait in Temporal's task queue. */
  streamsPerWorker: number;
  /** Where players fetch HLS from: the API itself unless HLS_SERVER_* point elsewhere (nginx). */
  hlsBaseUrl: string;
  /**
   * Neither HLS_SERVER_HOST nor HLS_SERVER_PORT is set: an HTTP answer's `hls_url` uses the
   * address the request came to, which the asking browser can reach (`localhost` is only
   * right on the server itself).
   */
  hlsBaseUrlFromRequest: boolean;
  /**
   * `segmentSeconds`: the grid's segment length. `listSize` (HLS_LIST_SIZE): while someone
   * watches, at most this many segments are made ahead of the newest viewer before the rest of
   * the title (0: no limit). `tokenTtlMs`: how long a signed `hls_url` (handed out when
   * `api.apiKey` is set) stays valid.
   */
  hls: { segmentSeconds: number; listSize: number; retentionMs: number; tokenTtlMs: number };
  /**
   * The cleanup Schedule: its cron, read in `timeZone` (this machine's, or TZ's), and how long
   * a stream may go without a new segment, its workflow gone, before it counts as abandoned.
   */
  cleanup: { schedule: string; timeZone: string; abandonedAfterMs: number };
  /** `model`: UPFLOW_MODEL, for every title; unset, each title's `contentKind` picks (modelFor). */
  upscale: { aiEnabled: boolean; model?: ModelId; contentKind: ContentKind; scaleFactor: number; preset: X264Preset; crf: number; encoderThreads: number };
  /**
   * The ONNX path: where it runs and with how many threads. `threads`: a slot's onnxruntime
   * threads, by default the cores shared out among the worker's slots (inference is the slowest
   * stage, and idle onnxruntime threads sleep while the decoder and x264 run). `lanes`: frames a
   * slot upscales at once, each in a thread of its own with `threads ÷ lanes` onnxruntime
   * threads; unset, the worker decides from its execution provider (adapters/onnx.ts).
   */
  inference: { executionProvider: 'auto' | 'cuda' | 'cpu'; threads: number; lanes?: number; precision: PrecisionSetting };
  /**
   * The content seconds a chunk's model is judged over: below `stepDownBelowRate` (1.0x: real
   * time) across them, the workflow steps down to a faster model; 0 turns rate control off
   * (the bench measures each model so).
   */
  rateControl: { stepDownWindowSeconds: number; stepDownBelowRate: number };
  /** Unset: `upflow up` starts a Temporal dev server on `temporal.port` (web UI on `uiPort`). */
  temporal: { address?: string; namespace: string; port: number; uiPort: number };
  /** Unset: `upflow up` runs a Postgres cluster under `<dataDir>/postgres`. */
  databaseUrl?: string;
  /** Set: webhook bodies and the script may name Jellyfin items; Upflow asks Jellyfin for their files. */
  jellyfin?: { url: string; apiKey: string };
  /** A webhook's playback of a video at least this tall is not upscaled (0: every height). */
  skipFromHeight: number;
  /** Copy a finished movie's upscale beside it as a Jellyfin version, and have Jellyfin scan it. */
  jellyfinPublish: boolean;
  demoEnabled: boolean;
  logLevel: z.infer<typeof envSchema>['UPFLOW_LOG_LEVEL'];
  /** `json`: JSON log lines in a terminal too. */
  logFormat?: 'json';
}

/** Settings whose values are keys, or may hold a password (DATABASE_URL). */
function isSecretSetting(name: string): boolean {
  return name.endsWith('_KEY') || name === 'DATABASE_URL';
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): Config {
  const parsed = envSchema.safeParse(emptyAsUnset(env));
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const name = String(issue.path[0]);
    // Error messages reach logs (docker compose logs): a key or a database password never does.
    const shown = isSecretSetting(name) ? ' (its value not shown: it is secret)' : `=${JSON.stringify(env[name] ?? '')}`;
    throw new ConfigError(`${name}${shown} is invalid: ${issue.message}`);
  }
  const e = parsed.data;
  if (env.UPFLOW_RATE_STEPDOWN_SEGMENTS) {
    throw new ConfigError(`UPFLOW_RATE_STEPDOWN_SEGMENTS is no longer read: rate control now judges content seconds, not segments in a row. Set UPFLOW_RATE_STEPDOWN_SECONDS instead (default ${DEFAULT_STEPDOWN_WINDOW_SECONDS}; 0 turns rate control off)`);
  }
  if (e.UPFLOW_JELLYFIN_PUBLISH && !e.JELLYFIN_URL) {
    throw new ConfigError('UPFLOW_JELLYFIN_PUBLISH needs Jellyfin: set JELLYFIN_URL and JELLYFIN_API_KEY');
  }
  if (Boolean(e.JELLYFIN_URL) !== Boolean(e.JELLYFIN_API_KEY)) {
    const missing = e.JELLYFIN_URL ? 'JELLYFIN_API_KEY' : 'JELLYFIN_URL';
    throw new ConfigError(`${missing} is not set: Jellyfin needs both JELLYFIN_URL and JELLYFIN_API_KEY`);
  }
  const apiHost = e.UPFLOW_API_HOST ?? (e.UPFLOW_API_KEY ? '0.0.0.0' : '127.0.0.1');
  if (!e.UPFLOW_API_KEY && !isLoopbackHost(apiHost)) {
    throw new ConfigError(`UPFLOW_API_HOST=${apiHost} lets other machines reach the API, which then needs UPFLOW_API_KEY: set UPFLOW_API_KEY (\`openssl rand -hex 16\` makes one), or unset UPFLOW_API_HOST to listen on this machine only`);
  }
  const dataDir = path.resolve(cwd, e.UPFLOW_DATA_DIR);
  const mediaRoots = (e.UPFLOW_MEDIA_ROOTS ?? path.join(dataDir, 'media'))
    .split(':')
    .filter((root) => root.length > 0)
    .map((root) => path.resolve(cwd, root));
  const outputDir = path.resolve(cwd, e.UPFLOW_OUTPUT_DIR ?? path.join(dataDir, 'output'));
  refuseWritesIntoMedia(mediaRoots, { UPFLOW_OUTPUT_DIR: outputDir, UPFLOW_DATA_DIR: dataDir });
  const jellyfinUrl = e.JELLYFIN_URL?.replace(/\/+$/, '');
  const corsOrigins = [...new Set([...(jellyfinUrl ? [new URL(jellyfinUrl).origin] : []), ...(e.UPFLOW_CORS_ORIGINS ?? [])])];
  const hlsPort = e.HLS_SERVER_PORT ?? e.UPFLOW_API_PORT;
  return {
    streamingEnabled: e.ENABLE_HLS_STREAMING,
    dataDir,
    mediaRoots,
    outputDir,
    hlsDir: path.join(dataDir, 'hls'),
    cacheDir: path.resolve(cwd, e.UPFLOW_CACHE_DIR ?? path.join(os.homedir(), '.cache', 'upflow')),
    api: {
      host: apiHost,
      port: e.UPFLOW_API_PORT,
      apiKey: e.UPFLOW_API_KEY,
      triggerRateLimit: e.UPFLOW_TRIGGER_RATE_LIMIT,
      corsOrigins,
      trustProxy: e.UPFLOW_TRUST_PROXY ?? [],
    },
    streamsPerWorker: e.UPFLOW_GPU_CONCURRENCY,
    minFreeBytes: Math.round(e.UPFLOW_MIN_FREE_GB * 1024 ** 3),
    hlsBaseUrl: `http://${e.HLS_SERVER_HOST ?? 'localhost'}:${hlsPort}/hls`,
    hlsBaseUrlFromRequest: e.HLS_SERVER_HOST === undefined && e.HLS_SERVER_PORT === undefined,
    hls: {
      segmentSeconds: e.HLS_SEGMENT_TIME ?? (e.SRGAN_ENABLE ? SEGMENT_SECONDS_WITH_MODEL : SEGMENT_SECONDS_FFMPEG_ONLY),
      listSize: e.HLS_LIST_SIZE,
      retentionMs: e.UPFLOW_HLS_RETENTION,
      tokenTtlMs: e.UPFLOW_HLS_TOKEN_TTL,
    },
    cleanup: {
      schedule: e.UPFLOW_CLEANUP_SCHEDULE.trim(),
      timeZone: Intl.DateTimeFormat().resolvedOptions().timeZone,
      abandonedAfterMs: e.UPFLOW_CLEANUP_ABANDONED_AFTER,
    },
    upscale: {
      aiEnabled: e.SRGAN_ENABLE,
      ...(e.UPFLOW_MODEL ? { model: e.UPFLOW_MODEL } : {}),
      contentKind: e.UPFLOW_CONTENT_KIND,
      scaleFactor: e.SRGAN_SCALE_FACTOR,
      preset: e.SRGAN_FFMPEG_PRESET,
      crf: e.SRGAN_FFMPEG_CRF,
      encoderThreads: e.UPFLOW_ENCODER_THREADS,
    },
    inference: {
      executionProvider: e.UPFLOW_EXECUTION_PROVIDER,
      threads: e.UPFLOW_INFERENCE_THREADS ?? Math.max(1, Math.floor(os.availableParallelism() / e.UPFLOW_GPU_CONCURRENCY)),
      ...(e.UPFLOW_INFERENCE_LANES ? { lanes: e.UPFLOW_INFERENCE_LANES } : {}),
      precision: e.UPFLOW_PRECISION,
    },
    rateControl: { stepDownWindowSeconds: e.UPFLOW_RATE_STEPDOWN_SECONDS, stepDownBelowRate: e.UPFLOW_RATE_STEPDOWN_BELOW },
    temporal: {
      address: e.UPFLOW_TEMPORAL_ADDRESS,
      namespace: e.UPFLOW_TEMPORAL_NAMESPACE,
      port: e.UPFLOW_TEMPORAL_PORT,
      uiPort: e.UPFLOW_TEMPORAL_UI_PORT,
    },
    databaseUrl: e.DATABASE_URL,
    jellyfin: jellyfinUrl && e.JELLYFIN_API_KEY ? { url: jellyfinUrl, apiKey: e.JELLYFIN_API_KEY } : undefined,
    skipFromHeight: e.UPFLOW_SKIP_FROM_HEIGHT,
    jellyfinPublish: e.UPFLOW_JELLYFIN_PUBLISH,
    demoEnabled: e.UPFLOW_DEMO,
    logLevel: e.UPFLOW_LOG_LEVEL,
    ...(e.UPFLOW_LOG_FORMAT ? { logFormat: e.UPFLOW_LOG_FORMAT } : {}),
  };
}

/** Only this machine can reach an address on the loopback interface (127.0.0.0/8, ::1, localhost). */
export function isLoopbackHost(host: string): boolean {
  const address = host.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  if (address === 'localhost') return true;
  if (net.isIPv4(address)) return address.startsWith('127.');
  if (net.isIPv6(address)) return address === '::1' || /^::ffff:127\./.test(address);
  return false;
}

/**
 * "http://jellyfin.lan:8096, https://media.example.org" → their origins. Each entry must be an
 * origin (scheme, host and optional port; a trailing slash is forgiven), not a page or a pattern.
 */
export function parseOrigins(text: string): string[] {
  const origins = text.split(',').map((entry) => entry.trim()).filter((entry) => entry.length > 0);
  if (origins.length === 0) throw new Error('expected a comma-separated list of origins such as http://jellyfin.lan:8096');
  return origins.map((entry) => {
    let url: URL | undefined;
    try {
      url = new URL(entry);
    } catch {
      url = undefined;
    }
    const isOrigin = url !== undefined && /^https?:$/.test(url.protocol) && !url.username && !url.password
      && url.pathname === '/' && !url.search && !url.hash && new RegExp(`^${url.protocol}//[^/]+/?$`, 'i').test(entry);
    if (!url || !isOrigin) throw new Error(`${JSON.stringify(entry)} is not an origin such as http://jellyfin.lan:8096 (http or https, a host and a port, nothing after)`);
    return url.origin;
  });
}

/** Express's names for address ranges in a trust proxy list. */
const PROXY_RANGE_NAMES = ['loopback', 'linklocal', 'uniquelocal'];

/**
 * "loopback, 192.168.1.10, 10.0.0.0/8" → its entries, each an address, a CIDR range (address/bits
 * or address/netmask) or one of Express's names. A hop count or `true` is refused: they believe
 * any client that talks to Upflow directly about its own address.
 */
export function parseTrustedProxies(text: string): string[] {
  const entries = text.split(',').map((entry) => entry.trim()).filter((entry) => entry.length > 0);
  if (entries.length === 0) throw new Error('expected the proxy\'s address, a range such as 172.16.0.0/12, or loopback');
  for (const entry of entries) {
    if (PROXY_RANGE_NAMES.includes(entry)) continue;
    const [address = '', range, ...rest] = entry.split('/');
    const version = net.isIP(address);
    const bits = version === 4 ? 32 : 128;
    const rangeOk = range === undefined
      || (/^\d{1,3}$/.test(range) && Number(range) <= bits)
      || (version === 4 && net.isIPv4(range));
    if (version === 0 || !rangeOk || rest.length > 0) {
      throw new Error(`${JSON.stringify(entry)} is not an address, a range (address/bits) or one of ${PROXY_RANGE_NAMES.join(', ')}: name the proxy in front of Upflow`);
    }
  }
  return entries;
}

/** Upflow writes under the output and data folders: inside a media folder, upscales would be sources for upscaling again. */
function refuseWritesIntoMedia(mediaRoots: string[], written: Record<'UPFLOW_OUTPUT_DIR' | 'UPFLOW_DATA_DIR', string>): void {
  for (const [name, folder] of Object.entries(written)) {
    const root = mediaRoots.find((mediaRoot) => isInside(mediaRoot, folder));
    if (root) {
      throw new ConfigError(`${name} (${folder}) is inside the media folder ${root} (UPFLOW_MEDIA_ROOTS): Upflow would find its own upscales there and could upscale them again; choose a folder outside the media folders`);
    }
  }
}

/** `FOO=` in a shell or .env file means "use the default", as with the original scripts. */
function emptyAsUnset(env: NodeJS.ProcessEnv): Record<string, string> {
  return Object.fromEntries(
    Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined && entry[1] !== ''),
  );
}
