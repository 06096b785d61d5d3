import fs from 'node:fs';
import path from 'node:path';
import { parseEnv } from 'node:util';
import { CONFIG_VARIABLES, formatDurationMs, loadConfig, parseDurationMs } from '../../common/config';

describe('loadConfig', () => {
  it('gives the documented defaults', () => {
    const config = loadConfig({ HOME: '/home/u' }, '/srv/upflow');
    expect(config.dataDir).toBe('/srv/upflow/.upflow');
    expect(config.mediaRoots).toEqual(['/srv/upflow/.upflow/media']);
    expect(config.outputDir).toBe('/srv/upflow/.upflow/output');
    expect(config.hlsDir).toBe('/srv/upflow/.upflow/hls');
    expect(config.api).toEqual({ host: '0.0.0.0', port: 5000, apiKey: undefined, triggerRateLimit: 60 });
    expect(config.streamsPerWorker).toBe(1);
    expect(config.hls).toEqual({ segmentSeconds: 2, listSize: 0, retentionMs: 24 * 3600_000, tokenTtlMs: 6 * 3600_000 });
    expect(config.upscale).toEqual({ aiEnabled: false, model: 'anime4k-s-rl', scaleFactor: 2, preset: 'veryfast', crf: 20, encoderThreads: 0 });
    expect(config.rateControl).toEqual({ slowSegmentsBeforeStepDown: 2, stepDownBelowRate: 1 });
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
    expect(config.upscale).toEqual({ aiEnabled: false, model: 'anime4k-s-rl', scaleFactor: 3, preset: 'fast', crf: 18, encoderThreads: 0 });
    expect(config.mediaRoots).toEqual(['/media/films', '/media/tv']);
    expect(config.temporal.address).toBe('temporal:7233');
    expect(config.databaseUrl).toBe('postgres://u:p@db/upflow');
  });

  it('treats an empty variable as unset', () => {
    expect(loadConfig({ HLS_SEGMENT_TIME: '' }, '/x').hls.segmentSeconds).toBe(2);
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
    expect(() => loadConfig({ [name]: value }, '/x')).toThrow(new RegExp(`^${name}=`));
  });

  it('turns the ONNX path on with SRGAN_ENABLE=1 and validates the model id', () => {
    const config = loadConfig({ SRGAN_ENABLE: '1', UPFLOW_MODEL: 'anime4k-m-an', UPFLOW_INFERENCE_THREADS: '3' }, '/x');
    expect(config.upscale).toMatchObject({ aiEnabled: true, model: 'anime4k-m-an' });
    expect(config.inference).toEqual({ executionProvider: 'auto', threads: 3 });
    expect(() => loadConfig({ UPFLOW_MODEL: 'esrgan-9000' }, '/x')).toThrow(/^UPFLOW_MODEL=/);
    expect(() => loadConfig({ UPFLOW_EXECUTION_PROVIDER: 'tpu' }, '/x')).toThrow(/^UPFLOW_EXECUTION_PROVIDER=/);
  });

  it('resolves relative folders against the working directory', () => {
    const config = loadConfig({ UPFLOW_DATA_DIR: 'data', UPFLOW_OUTPUT_DIR: 'out' }, '/srv');
    expect(config.dataDir).toBe(path.resolve('/srv/data'));
    expect(config.outputDir).toBe('/srv/out');
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

  it('rejects a cleanup schedule that is not a five-field cron, naming the variable', () => {
    expect(() => loadConfig({ UPFLOW_CLEANUP_SCHEDULE: 'daily at 3' })).toThrow(/^UPFLOW_CLEANUP_SCHEDULE="daily at 3" is invalid: expected a cron expression/);
    expect(() => loadConfig({ UPFLOW_CLEANUP_SCHEDULE: '0 0 3 * * *' })).toThrow(/UPFLOW_CLEANUP_SCHEDULE/);
    expect(loadConfig({ UPFLOW_CLEANUP_SCHEDULE: '15 2 * * SUN' }).cleanup.schedule).toBe('15 2 * * SUN');
  });
});
