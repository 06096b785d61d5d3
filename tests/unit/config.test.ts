import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseEnv } from 'node:util';
import { CONFIG_VARIABLES, formatDurationMs, isLoopbackHost, loadConfig, parseDurationMs, parseOrigins, parseTrustedProxies } from '../../core/config';
import { DEFAULT_MODEL_FOR, modelFor } from '../../core/content-kind';
import { inferenceLanesHere } from '../../adapters/onnx';

describe('loadConfig', () => {
  it('gives the documented defaults', () => {
    const config = loadConfig({ HOME: '/home/u' }, '/srv/upflow');
    expect(config.dataDir).toBe('/srv/upflow/.upflow');
    expect(config.mediaRoots).toEqual(['/srv/upflow/.upflow/media']);
    expect(config.outputDir).toBe('/srv/upflow/.upflow/output');
    expect(config.hlsDir).toBe('/srv/upflow/.upflow/hls');
    // No key: this machine only, no other site's pages, no proxy believed.
    expect(config.api).toEqual({ host: '127.0.0.1', port: 5000, apiKey: undefined, triggerRateLimit: 60, corsOrigins: [], trustProxy: [] });
    expect(config.streamsPerWorker).toBe(1);
    expect(config.hls).toEqual({ segmentSeconds: 2, listSize: 0, retentionMs: 24 * 3600_000, tokenTtlMs: 6 * 3600_000 });
    expect(config.upscale).toEqual({ aiEnabled: false, contentKind: 'live-action', scaleFactor: 2, preset: 'veryfast', crf: 20, encoderThreads: 0 });
    expect(config.rateControl).toEqual({ stepDownWindowSeconds: 8, stepDownBelowRate: 1 });
    expect(config.hlsBaseUrl).toBe('http://localhost:5000/hls');
    expect(config.hlsBaseUrlFromRequest).toBe(true);
    expect(config.streamingEnabled).toBe(true);
    expect(config.temporal.address).toBeUndefined();
    expect(config.databaseUrl).toBeUndefined();
  });

  it('reads the seed variables and Upflow paths', () => {
    const config = loadConfig({
      ENABLE_HLS_STREAMING: 'false',
      HLS_SERVER_HOST: 'media.lan',
      HLS_SERVER_PORT: '8080',
      HLS_SEGMENT_TIME: '4',
      HLS_LIST_SIZE: '10',
      SRGAN_SCALE_FACTOR: '3',
      SRGAN_ENABLE: '0',
      SRGAN_FFMPEG_PRESET: 'fast',
      SRGAN_FFMPEG_CRF: '18',
      UPFLOW_MEDIA_ROOTS: '/media/films:/media/tv',
      UPFLOW_HLS_RETENTION: '90s',
      UPFLOW_HLS_TOKEN_TTL: '45m',
      UPFLOW_TEMPORAL_ADDRESS: 'temporal:7233',
      DATABASE_URL: 'postgres://u:p@db/upflow',
    }, '/x');
    expect(config.streamingEnabled).toBe(false);
    expect(config.hlsBaseUrl).toBe('http://media.lan:8080/hls');
    expect(config.hlsBaseUrlFromRequest).toBe(false);
    expect(config.hls).toEqual({ segmentSeconds: 4, listSize: 10, retentionMs: 90_000, tokenTtlMs: 45 * 60_000 });
    expect(config.upscale).toEqual({ aiEnabled: false, contentKind: 'live-action', scaleFactor: 3, preset: 'fast', crf: 18, encoderThreads: 0 });
    expect(config.mediaRoots).toEqual(['/media/films', '/media/tv']);
    expect(config.temporal.address).toBe('temporal:7233');
    expect(config.databaseUrl).toBe('postgres://u:p@db/upflow');
  });

  it('treats an empty variable as unset', () => {
    expect(loadConfig({ HLS_SEGMENT_TIME: '' }, '/x').hls.segmentSeconds).toBe(2);
  });

  it('makes 1 s segments by default when a model makes the picture, 2 s with ffmpeg alone; a set length wins', () => {
    expect(loadConfig({ SRGAN_ENABLE: '1' }, '/x').hls.segmentSeconds).toBe(1);
    expect(loadConfig({ SRGAN_ENABLE: '0' }, '/x').hls.segmentSeconds).toBe(2);
    expect(loadConfig({ SRGAN_ENABLE: '1', HLS_SEGMENT_TIME: '2' }, '/x').hls.segmentSeconds).toBe(2);
  });

  it.each([
    ['HLS_SEGMENT_TIME', 'six'],
    ['HLS_SEGMENT_TIME', '0'],
    ['SRGAN_FFMPEG_CRF', '99'],
    ['SRGAN_FFMPEG_PRESET', 'warp'],
    ['UPFLOW_API_PORT', '70000'],
    ['ENABLE_HLS_STREAMING', 'maybe'],
    ['UPFLOW_HLS_RETENTION', 'forever'],
    ['UPFLOW_HLS_TOKEN_TTL', '5s'],
    ['UPFLOW_HLS_TOKEN_TTL', '30d'],
    ['UPFLOW_TEMPORAL_ADDRESS', 'no-port'],
    ['DATABASE_URL', 'mysql://x'],
  ])('names %s when it is %p', (name, value) => {
    expect(() => loadConfig({ [name]: value }, '/x')).toThrow(new RegExp(`^${name}[= ]`));
  });

  it('turns the ONNX path on with SRGAN_ENABLE=1 and validates the model id', () => {
    const config = loadConfig({ SRGAN_ENABLE: '1', UPFLOW_MODEL: 'anime4k-m-an', UPFLOW_INFERENCE_THREADS: '3' }, '/x');
    expect(config.upscale).toMatchObject({ aiEnabled: true, model: 'anime4k-m-an' });
    expect(config.inference).toEqual({ executionProvider: 'auto', threads: 3, precision: 'auto' });
    expect(() => loadConfig({ UPFLOW_MODEL: 'esrgan-9000' }, '/x')).toThrow(/^UPFLOW_MODEL=/);
    expect(() => loadConfig({ UPFLOW_EXECUTION_PROVIDER: 'tpu' }, '/x')).toThrow(/^UPFLOW_EXECUTION_PROVIDER=/);
  });

  it('without UPFLOW_MODEL, picks each kind\'s default model; UPFLOW_CONTENT_KIND is the kind of titles Jellyfin does not tell', () => {
    const byKind = loadConfig({ SRGAN_ENABLE: '1' }, '/x').upscale;
    expect(byKind.model).toBeUndefined();
    expect(byKind.contentKind).toBe('live-action');
    expect(modelFor(byKind)).toBe(DEFAULT_MODEL_FOR['live-action']);
    expect(modelFor(byKind, 'animation')).toBe(DEFAULT_MODEL_FOR.animation);
    expect(modelFor(loadConfig({ UPFLOW_CONTENT_KIND: 'animation' }, '/x').upscale)).toBe(DEFAULT_MODEL_FOR.animation);
    // A model set by the owner is used for every title, whatever its kind.
    expect(modelFor(loadConfig({ UPFLOW_MODEL: 'anime4k-m-rl' }, '/x').upscale, 'animation')).toBe('anime4k-m-rl');
    expect(() => loadConfig({ UPFLOW_CONTENT_KIND: 'cartoon' }, '/x')).toThrow(/^UPFLOW_CONTENT_KIND=/);
  });

  it('gives inference every core a slot has, unless UPFLOW_INFERENCE_THREADS says', () => {
    const cores = os.availableParallelism();
    expect(loadConfig({}, '/x').inference.threads).toBe(cores);
    expect(loadConfig({ UPFLOW_GPU_CONCURRENCY: '2' }, '/x').inference.threads).toBe(Math.max(1, Math.floor(cores / 2)));
    expect(loadConfig({ UPFLOW_GPU_CONCURRENCY: String(cores * 2) }, '/x').inference.threads).toBe(1);
    expect(loadConfig({ UPFLOW_INFERENCE_THREADS: '3' }, '/x').inference.threads).toBe(3);
  });

  it('judges rate control over UPFLOW_RATE_STEPDOWN_SECONDS of content, and names the setting that replaced the count of segments', () => {
    expect(loadConfig({ UPFLOW_RATE_STEPDOWN_SECONDS: '0' }, '/x').rateControl.stepDownWindowSeconds).toBe(0);
    expect(loadConfig({ UPFLOW_RATE_STEPDOWN_SECONDS: '2.5' }, '/x').rateControl.stepDownWindowSeconds).toBe(2.5);
    expect(() => loadConfig({ UPFLOW_RATE_STEPDOWN_SECONDS: '-1' }, '/x')).toThrow(/^UPFLOW_RATE_STEPDOWN_SECONDS=/);
    expect(() => loadConfig({ UPFLOW_RATE_STEPDOWN_SEGMENTS: '2' }, '/x')).toThrow(/^UPFLOW_RATE_STEPDOWN_SEGMENTS is no longer read: .* Set UPFLOW_RATE_STEPDOWN_SECONDS instead \(default 8; 0 turns rate control off\)$/);
    // docker-compose.yml passes every variable through, unset as empty.
    expect(loadConfig({ UPFLOW_RATE_STEPDOWN_SEGMENTS: '' }, '/x').rateControl.stepDownWindowSeconds).toBe(8);
  });

  it('upscales two frames at once on a CPU, one with CUDA, unless UPFLOW_INFERENCE_LANES says', () => {
    expect(loadConfig({}, '/x').inference.lanes).toBeUndefined();
    expect(loadConfig({ UPFLOW_INFERENCE_LANES: '3' }, '/x').inference.lanes).toBe(3);
    expect(() => loadConfig({ UPFLOW_INFERENCE_LANES: '0' }, '/x')).toThrow(/UPFLOW_INFERENCE_LANES/);
    expect(inferenceLanesHere({ executionProvider: 'cpu', threads: 2 })).toEqual({ lanes: 2, threadsPerLane: 1 });
    expect(inferenceLanesHere({ executionProvider: 'cpu', threads: 8 })).toEqual({ lanes: 2, threadsPerLane: 4 });
    expect(inferenceLanesHere({ executionProvider: 'cpu', threads: 1 })).toEqual({ lanes: 1, threadsPerLane: 1 });
    expect(inferenceLanesHere({ executionProvider: 'cuda', threads: 8 })).toEqual({ lanes: 1, threadsPerLane: 8 });
    expect(inferenceLanesHere({ executionProvider: 'cpu', threads: 2, lanes: 4 })).toEqual({ lanes: 4, threadsPerLane: 1 });
  });

  it('resolves relative folders against the working directory', () => {
    const config = loadConfig({ UPFLOW_DATA_DIR: 'data', UPFLOW_OUTPUT_DIR: 'out' }, '/srv');
    expect(config.dataDir).toBe(path.resolve('/srv/data'));
    expect(config.outputDir).toBe('/srv/out');
  });
});

describe('who may reach the API', () => {
  const KEY = 'k'.repeat(32);

  it('listens on loopback without a key, on every interface with one, and where UPFLOW_API_HOST says', () => {
    expect(loadConfig({}, '/x').api.host).toBe('127.0.0.1');
    expect(loadConfig({ UPFLOW_API_KEY: KEY }, '/x').api.host).toBe('0.0.0.0');
    expect(loadConfig({ UPFLOW_API_KEY: KEY, UPFLOW_API_HOST: '192.168.1.20' }, '/x').api.host).toBe('192.168.1.20');
    for (const host of ['127.0.0.1', '127.0.1.1', 'localhost', '::1', '[::1]']) expect(loadConfig({ UPFLOW_API_HOST: host }, '/x').api.host).toBe(host);
  });

  it.each(['0.0.0.0', '::', '192.168.1.20', 'upflow.lan'])('stops start-up on UPFLOW_API_HOST=%s without a key, in one line naming what to set', (host) => {
    let message = '';
    try {
      loadConfig({ UPFLOW_API_HOST: host }, '/x');
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toBe(`UPFLOW_API_HOST=${host} lets other machines reach the API, which then needs UPFLOW_API_KEY: set UPFLOW_API_KEY (\`openssl rand -hex 16\` makes one), or unset UPFLOW_API_HOST to listen on this machine only`);
    expect(message).not.toContain('\n');
  });

  it('never repeats a key or a database URL in its error (they reach logs)', () => {
    expect(() => loadConfig({ UPFLOW_API_KEY: 'hunter2' }, '/x')).toThrow(/^UPFLOW_API_KEY \(its value not shown: it is secret\) is invalid: use at least 16 characters/);
    expect(() => loadConfig({ DATABASE_URL: 'mysql://upflow:hunter2@db/upflow' }, '/x')).toThrow(/^DATABASE_URL \(its value not shown: it is secret\) is invalid: expected a postgres:\/\/ URL$/);
  });

  it('tells loopback addresses from the others', () => {
    expect(['127.0.0.1', '127.255.0.9', 'localhost', 'LOCALHOST', '::1', '[::1]', '::ffff:127.0.0.1'].filter((h) => !isLoopbackHost(h))).toEqual([]);
    expect(['0.0.0.0', '::', '10.0.0.1', '128.0.0.1', 'localhost.evil.example', '127.0.0.1.nip.io', '::2', ''].filter(isLoopbackHost)).toEqual([]);
  });

  it("allows Jellyfin's origin and UPFLOW_CORS_ORIGINS' for CORS, once each", () => {
    const config = loadConfig({ JELLYFIN_URL: 'http://jellyfin:8096/', JELLYFIN_API_KEY: 'j', UPFLOW_CORS_ORIGINS: 'http://jellyfin.lan:8096, https://media.example.org/ ,http://jellyfin:8096' }, '/x');
    expect(config.api.corsOrigins).toEqual(['http://jellyfin:8096', 'http://jellyfin.lan:8096', 'https://media.example.org']);
    // A base path in JELLYFIN_URL is not part of its origin.
    expect(loadConfig({ JELLYFIN_URL: 'https://home.example.org/jellyfin', JELLYFIN_API_KEY: 'j' }, '/x').api.corsOrigins).toEqual(['https://home.example.org']);
    expect(parseOrigins('HTTP://Jellyfin.LAN:80')).toEqual(['http://jellyfin.lan']);
  });

  it.each(['*', 'jellyfin.lan:8096', 'http://jellyfin.lan:8096/web', 'http://jellyfin.lan:8096?x=1', 'ftp://jellyfin.lan', 'http://user:pw@jellyfin.lan', 'null', ','])(
    'refuses UPFLOW_CORS_ORIGINS=%p, naming it',
    (value) => {
      expect(() => loadConfig({ UPFLOW_CORS_ORIGINS: value }, '/x')).toThrow(/^UPFLOW_CORS_ORIGINS=.* is invalid: .*(is not an origin such as http:\/\/jellyfin\.lan:8096|expected a comma-separated list of origins)/);
    },
  );

  it("takes UPFLOW_TRUST_PROXY in Express's syntax: addresses, ranges and names", () => {
    expect(loadConfig({ UPFLOW_TRUST_PROXY: 'loopback, 192.168.1.10,10.0.0.0/8, fd00::/8, 172.16.0.0/255.240.0.0' }, '/x').api.trustProxy)
      .toEqual(['loopback', '192.168.1.10', '10.0.0.0/8', 'fd00::/8', '172.16.0.0/255.240.0.0']);
    expect(parseTrustedProxies('uniquelocal')).toEqual(['uniquelocal']);
  });

  it.each(['true', '*', '1', 'proxy.lan', '10.0.0.0/33', '::1/129', '10.0.0.1/8/8', 'loopback,nope', ' , '])('refuses UPFLOW_TRUST_PROXY=%p, naming it', (value) => {
    expect(() => loadConfig({ UPFLOW_TRUST_PROXY: value }, '/x')).toThrow(/^UPFLOW_TRUST_PROXY=.* is invalid: /);
  });
});

describe('folders Upflow writes', () => {
  it('refuses an output folder inside a media folder, naming both', () => {
    expect(() => loadConfig({ UPFLOW_MEDIA_ROOTS: '/srv/films:/srv/tv', UPFLOW_OUTPUT_DIR: '/srv/tv/upscaled' }, '/x'))
      .toThrow('UPFLOW_OUTPUT_DIR (/srv/tv/upscaled) is inside the media folder /srv/tv (UPFLOW_MEDIA_ROOTS): Upflow would find its own upscales there and could upscale them again; choose a folder outside the media folders');
    expect(() => loadConfig({ UPFLOW_MEDIA_ROOTS: '/srv/films', UPFLOW_OUTPUT_DIR: '/srv/films' }, '/x')).toThrow(/^UPFLOW_OUTPUT_DIR \(\/srv\/films\) is inside the media folder \/srv\/films/);
  });

  it('refuses a data folder inside a media folder (its HLS would be sources too), relative paths resolved', () => {
    expect(() => loadConfig({ UPFLOW_MEDIA_ROOTS: '/srv', UPFLOW_DATA_DIR: 'upflow', UPFLOW_OUTPUT_DIR: '/out' }, '/srv')).toThrow(/^UPFLOW_DATA_DIR \(\/srv\/upflow\) is inside the media folder \/srv \(UPFLOW_MEDIA_ROOTS\)/);
  });

  it('accepts folders beside the media, and media inside the data folder (the default)', () => {
    expect(() => loadConfig({ UPFLOW_MEDIA_ROOTS: '/srv/media', UPFLOW_DATA_DIR: '/srv/upflow', UPFLOW_OUTPUT_DIR: '/srv/media-upscaled' }, '/x')).not.toThrow();
    expect(() => loadConfig({}, '/srv')).not.toThrow();
  });
});

describe('parseDurationMs', () => {
  it.each([
    ['24h', 86_400_000], ['2', 7_200_000], ['90s', 90_000], ['15m', 900_000], ['1d', 86_400_000], ['500ms', 500], ['1.5h', 5_400_000],
  ])('%s', (text, ms) => expect(parseDurationMs(text)).toBe(ms));
  it('rejects junk', () => expect(() => parseDurationMs('soon')).toThrow(/not a duration/));
});

describe('formatDurationMs', () => {
  it('writes durations in the units the settings take, and they read back', () => {
    expect([45_000, 20 * 60_000, 6 * 3_600_000, 5_400_000, 36 * 3_600_000, 3 * 86_400_000].map(formatDurationMs))
      .toEqual(['45s', '20m', '6h', '1.5h', '36h', '3d']);
    for (const text of ['45s', '20m', '1.5h', '3d']) expect(formatDurationMs(parseDurationMs(text))).toBe(text);
  });
});

describe('.env.example', () => {
  const example = parseEnv(fs.readFileSync(path.join(__dirname, '..', '..', '.env.example'), 'utf8'));

  it('lists every variable the configuration reads, and no other', () => {
    expect(Object.keys(example).sort()).toEqual([...CONFIG_VARIABLES].sort());
  });

  it('holds values the configuration accepts', () => {
    expect(() => loadConfig(example, '/srv/upflow')).not.toThrow();
  });

  it('shows the defaults: copied to .env as it is, it changes nothing, with a model or without', () => {
    expect(loadConfig(example, '/srv/upflow')).toEqual(loadConfig({}, '/srv/upflow'));
    expect(loadConfig({ ...example, SRGAN_ENABLE: '1' }, '/srv/upflow')).toEqual(loadConfig({ SRGAN_ENABLE: '1' }, '/srv/upflow'));
  });

  it('rejects a cleanup schedule that is not a five-field cron, naming the variable', () => {
    expect(() => loadConfig({ UPFLOW_CLEANUP_SCHEDULE: 'daily at 3' })).toThrow(/^UPFLOW_CLEANUP_SCHEDULE="daily at 3" is invalid: expected a cron expression/);
    expect(() => loadConfig({ UPFLOW_CLEANUP_SCHEDULE: '0 0 3 * * *' })).toThrow(/UPFLOW_CLEANUP_SCHEDULE/);
    expect(loadConfig({ UPFLOW_CLEANUP_SCHEDULE: '15 2 * * SUN' }).cleanup.schedule).toBe('15 2 * * SUN');
  });
});
