/** The Jellyfin script's pure parts: its settings, finding the item in a player URL, and when to switch. */
import { resolveConfig } from '../../client-js/src/config';
import { caughtUp, readiness, retryDelayMs } from '../../client-js/src/decide';
import { itemIdFromPlayerUrl } from '../../core/jellyfin-items';
import type { ItemStatus } from '../../core/jellyfin-items';

const ID = '5f0c3d1a9b8e4c2d8a7b6c5d4e3f2a10';
const DASHED = '5f0c3d1a-9b8e-4c2d-8a7b-6c5d4e3f2a10';

describe('the item a jellyfin-web player URL plays', () => {
  it.each([
    [`/Videos/${ID}/stream.mkv?Static=true&mediaSourceId=${ID}&api_key=k`, ID],
    [`https://jf.example.net/jellyfin/Videos/${ID}/stream?Static=true`, ID],
    [`/videos/${ID}/master.m3u8?DeviceId=x&MediaSourceId=${ID}&VideoCodec=h264`, ID],
    [`http://10.0.0.2:8096/videos/${DASHED}/main.m3u8?x=1`, ID],
    [`/Videos/${ID.toUpperCase()}/stream.mp4#t=12`, ID],
  ])('%s → the item', (url, expected) => {
    expect(itemIdFromPlayerUrl(url)).toBe(expected);
  });

  it.each([
    'blob:http://localhost:8096/5b1c7e0e-8a3f-4c7e-9d2b-1a2b3c4d5e6f',
    `/Items/${ID}/Images/Primary`,
    `/Videos/${ID}/subtitles.vtt`,
    '/Videos/not-a-guid/stream.mp4',
    '',
  ])('%s → no item', (url) => {
    expect(itemIdFromPlayerUrl(url)).toBeUndefined();
  });
});

describe('the script settings', () => {
  it('defaults to the API that served the script, base path included', () => {
    const { config, warnings } = resolveConfig(undefined, 'https://media.example.net/upflow/client/upflow-jellyfin.js?v=2');
    expect(config).toEqual({ apiUrl: 'https://media.example.net/upflow', pollIntervalMs: 2000, autoSwitch: true, autoTrigger: true, minBufferedSeconds: 10, requestTimeoutMs: 5000 });
    expect(warnings).toEqual([]);
  });

  it('names no API for a copy served from elsewhere', () => {
    expect(resolveConfig(undefined, 'http://jf:8096/web/upflow-jellyfin.js').config.apiUrl).toBe('');
  });

  it('takes the API key for its trigger, and refuses an empty one', () => {
    expect(resolveConfig({ apiKey: 'k'.repeat(20) }, undefined).config.apiKey).toBe('k'.repeat(20));
    const empty = resolveConfig({ apiKey: '' }, undefined);
    expect(empty.config.apiKey).toBeUndefined();
    expect(empty.warnings).toEqual(['UpflowConfig.apiKey must be a non-empty string']);
  });

  it('takes valid overrides and names each rejected one, keeping its default', () => {
    const { config, warnings } = resolveConfig(
      { apiUrl: 'http://upflow.lan:5000/', autoSwitch: false, pollIntervalMs: 10, minBufferedSeconds: 'lots', colour: 'red' },
      undefined,
    );
    expect(config).toMatchObject({ apiUrl: 'http://upflow.lan:5000', autoSwitch: false, pollIntervalMs: 2000, minBufferedSeconds: 10 });
    expect(warnings).toEqual([
      'UpflowConfig.pollIntervalMs must be a number from 250 to 600000, got 10',
      'UpflowConfig.minBufferedSeconds must be a number from 0 to 3600, got "lots"',
      expect.stringMatching(/^UpflowConfig\.colour is not a setting/),
    ]);
  });

  it('rejects a non-object', () => {
    expect(resolveConfig('yes', undefined).warnings).toEqual(['UpflowConfig must be an object; using the defaults']);
  });
});

function status(patch: Partial<ItemStatus>): ItemStatus {
  return {
    item_id: ID,
    status: 'streaming',
    hls_url: 'http://upflow:5000/hls/t/stream.m3u8',
    segments: 3,
    content_seconds: 13,
    duration_seconds: 600,
    rate: 1.2,
    complete: false,
    progress_percent: 2,
    model: 'anime4k-s-rl',
    title_key: 't',
    job_id: null,
    queue_position: null,
    ...patch,
  };
}

describe('when to switch', () => {
  it('switches once enough lies ahead of the viewer', () => {
    expect(readiness(status({ content_seconds: 13 }), 2, 10)).toBe('ready');
    expect(readiness(status({ content_seconds: 11 }), 2, 10)).toBe('wait');
  });

  it('waits for a viewer ahead of the upscaling', () => {
    expect(readiness(status({ content_seconds: 13 }), 120, 10)).toBe('wait');
  });

  it('near the end, what is left of the title is enough', () => {
    expect(readiness(status({ content_seconds: 599.8, duration_seconds: 600 }), 595, 10)).toBe('ready');
    expect(readiness(status({ content_seconds: 598, duration_seconds: 600 }), 590, 10)).toBe('wait');
  });

  it('a finished title is ready anywhere; without its HLS there is nothing to switch to', () => {
    expect(readiness(status({ status: 'complete', complete: true, content_seconds: 600 }), 599, 10)).toBe('ready');
    expect(readiness(status({ status: 'complete', complete: true, hls_url: null }), 0, 10)).toBe('never');
  });

  it('never switches to a failed or cancelled job, and waits before the first segment', () => {
    expect(readiness(status({ status: 'failed', reason: 'not a video' }), 0, 10)).toBe('never');
    expect(readiness(status({ status: 'cancelled' }), 0, 10)).toBe('never');
    expect(readiness(status({ status: 'probing', segments: 0, content_seconds: 0 }), 0, 0)).toBe('wait');
    expect(readiness(status({ status: 'not_started', hls_url: null, segments: 0, content_seconds: 0 }), 0, 0)).toBe('wait');
  });

  it('a viewer within the margin of the live edge has caught up, unless everything is made', () => {
    expect(caughtUp(status({ content_seconds: 13 }), 12, 1.5)).toBe(true);
    expect(caughtUp(status({ content_seconds: 13 }), 10, 1.5)).toBe(false);
    expect(caughtUp(status({ content_seconds: 600, status: 'finalizing' }), 599.5, 1.5)).toBe(false);
  });

  it('asks less often while Upflow does not answer, never more often than configured', () => {
    expect([0, 1, 2, 3, 10].map((n) => retryDelayMs(500, n))).toEqual([500, 1000, 2000, 4000, 60_000]);
    expect(retryDelayMs(120_000, 3)).toBe(120_000);
  });
});
