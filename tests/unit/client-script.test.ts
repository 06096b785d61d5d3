/** The Jellyfin script's pure parts: its settings, finding the item in a player URL, and when to switch. */
import { resolveConfig } from '../../client-js/src/config';
import { caughtUp, fragmentStartSeconds, madeAhead, readiness, retryDelayMs, secondsToReady, upscaledKeepsUp, waitingPollMs } from '../../client-js/src/decide';
import { activeEncodingsUrl, transcodeSession } from '../../client-js/src/jellyfin-server';
import { itemIdFromPlayerUrl } from '../../core/jellyfin-items';
import type { ItemStatus } from '../../core/jellyfin-items';
import { SWITCH_POLL_INTERVAL_MS } from '../../core/switch-lead';

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
    expect(config).toEqual({ apiUrl: 'https://media.example.net/upflow', pollIntervalMs: 1000, autoSwitch: true, autoTrigger: true, minBufferedSeconds: 2, requestTimeoutMs: 5000 });
    expect(warnings).toEqual([]);
  });

  it('names no API for a copy served from elsewhere', () => {
    expect(resolveConfig(undefined, 'http://jf:8096/web/upflow-jellyfin.js').config.apiUrl).toBe('');
  });

  it("holds no Upflow key: an apiKey left from an older page is named and not read", () => {
    const old = resolveConfig({ apiKey: 'k'.repeat(20) }, undefined);
    expect(old.config).not.toHaveProperty('apiKey');
    expect(old.warnings).toEqual(["UpflowConfig.apiKey is no longer read: the script triggers with the viewer's Jellyfin token; remove Upflow's key from the page"]);
  });

  it('takes valid overrides and names each rejected one, keeping its default', () => {
    const { config, warnings } = resolveConfig(
      { apiUrl: 'http://upflow.lan:5000/', autoSwitch: false, pollIntervalMs: 10, minBufferedSeconds: 'lots', colour: 'red' },
      undefined,
    );
    expect(config).toMatchObject({ apiUrl: 'http://upflow.lan:5000', autoSwitch: false, pollIntervalMs: 1000, minBufferedSeconds: 2 });
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

/** A title being made; `ready` defaults to one part from 0:00 as long as `content_seconds`. */
function status(patch: Partial<ItemStatus>): ItemStatus {
  const contentSeconds = patch.content_seconds ?? 13;
  return {
    item_id: ID,
    status: 'streaming',
    hls_url: 'http://upflow:5000/hls/t/stream.m3u8',
    segments: 3,
    content_seconds: contentSeconds,
    ready: contentSeconds > 0 ? [[0, contentSeconds]] : [],
    duration_seconds: 600,
    segment_seconds: 2,
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

  it('switches a viewer mid-title once the part where they are is made, whatever is made elsewhere', () => {
    // Resumed at 45:00: the part there is made first; the start of the title is not made at all.
    // (Made at 4x: the next segment comes long before the viewer is near the end of this one.)
    const resumed = status({ content_seconds: 3, ready: [[2700, 2703]], duration_seconds: 5400, rate: 4 });
    expect(madeAhead(resumed, 2700.4)).toBeCloseTo(2.6);
    expect(readiness(resumed, 2700.4, 2)).toBe('ready');
    expect(readiness(resumed, 2702, 2)).toBe('wait');
    // Made before the viewer or after a gap does not count.
    const apart = status({ content_seconds: 30, ready: [[0, 20], [62, 72]] });
    expect(madeAhead(apart, 30)).toBe(0);
    expect(madeAhead(apart, 61.9)).toBeCloseTo(10.1); // on the upscaled stream, the segment about to start counts
    // To switch just before a made part, hls.js would load the segment before it: not yet; a tenth of a second in, it may.
    expect(readiness(apart, 61.9, 2)).toBe('wait');
    expect(readiness(apart, 62.05, 2)).toBe('wait');
    expect(readiness(apart, 62.1, 2)).toBe('ready');
    expect(readiness(apart, 30, 2)).toBe('wait');
  });

  it('knows from the status in hand when the viewer gets to a part it already makes ready: the switch comes then, without asking again', () => {
    // Anime4K S at 1.4x on the 1 s grid: 2.21 s must lie ahead (1.5 s and the next segment at the rate).
    const planned = status({ content_seconds: 3, ready: [[4, 7]], duration_seconds: 60, rate: 1.4, segment_seconds: 1 });
    expect(secondsToReady(planned, 3.5, 2)).toBeCloseTo(0.6);
    expect(readiness(planned, 3.5 + 0.6, 2)).toBe('ready');
    // One segment fewer: not enough there yet, the script asks again.
    expect(secondsToReady(status({ ...planned, ready: [[4, 6]] }), 3.5, 2)).toBeUndefined();
    // In the part already (readiness decides), past a lead's reach, or failed: nothing to wait for.
    expect(secondsToReady(planned, 4.2, 2)).toBeUndefined();
    expect(secondsToReady(status({ ...planned, ready: [[70, 73]], duration_seconds: 600 }), 3.5, 2)).toBeUndefined();
    expect(secondsToReady({ ...planned, status: 'failed' }, 3.5, 2)).toBeUndefined();
    // The nearest of two.
    expect(secondsToReady(status({ ...planned, ready: [[4, 7], [10, 14]] }), 3.5, 2)).toBeCloseTo(0.6);
  });

  it('slower than real time, switches only with enough ahead to play a while upscaled (no flapping)', () => {
    // 0.8x: the lead shrinks by 0.2 s a second, so 30 s of upscaled play needs 6 s ahead.
    expect(readiness(status({ content_seconds: 7, rate: 0.8 }), 2, 2)).toBe('wait');
    expect(readiness(status({ content_seconds: 8.5, rate: 0.8 }), 2, 2)).toBe('ready');
  });

  it('at or above real time, switches once the viewer stays ahead of the catch-up margin until the next segment comes', () => {
    // 2 s segments at 1.1x: the next comes within 1.8 s, so 1.5 s + 1.8 s ahead.
    expect(readiness(status({ content_seconds: 5.2, rate: 1.1 }), 2, 2)).toBe('wait');
    expect(readiness(status({ content_seconds: 5.4, rate: 1.1 }), 2, 2)).toBe('ready');
    // At 4x within 0.5 s: the segment at the viewer's position and the next are enough.
    expect(readiness(status({ content_seconds: 4, rate: 4 }), 2, 2)).toBe('ready');
    expect(readiness(status({ content_seconds: 3.9, rate: 4 }), 2, 2)).toBe('wait');
    // 6 s segments: the next may take 5.5 s at 1.1x.
    expect(readiness(status({ content_seconds: 8, rate: 1.1, segment_seconds: 6 }), 2, 2)).toBe('wait');
    expect(readiness(status({ content_seconds: 9.5, rate: 1.1, segment_seconds: 6 }), 2, 2)).toBe('ready');
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
    // A viewer who seeks into a part not made has caught up; the last second of a made title has not.
    expect(caughtUp(status({ content_seconds: 30, ready: [[0, 20], [60, 70]] }), 40, 1.5)).toBe(true);
    expect(caughtUp(status({ content_seconds: 30, ready: [[0, 20], [590, 600]] }), 599.2, 1.5)).toBe(false);
  });

  it('a seek while upscaled stays there only when Upflow makes the title faster than real time, by its measured rate', () => {
    expect(upscaledKeepsUp(status({ rate: 1.2 }))).toBe(true);
    expect(upscaledKeepsUp(status({ rate: 1 }))).toBe(true);
    expect(upscaledKeepsUp(status({ rate: 0.84 }))).toBe(false);
    // Not measured yet: the original plays there until enough is made.
    expect(upscaledKeepsUp(status({ rate: null }))).toBe(false);
    // All made: nothing to wait for, whatever the rate was.
    expect(upscaledKeepsUp(status({ rate: 0.5, content_seconds: 600, status: 'finalizing' }))).toBe(true);
    expect(upscaledKeepsUp(status({ rate: null, status: 'complete' }))).toBe(true);
  });

  it('a viewer on the upscaled stream stays on it just below real time while catching up would take 30 s or more', () => {
    // Measured in the Jellyfin bench: 1.29 s ahead at 0.992x lasts 160 s.
    expect(upscaledKeepsUp(status({ rate: 0.992 }), 1.29)).toBe(true);
    expect(upscaledKeepsUp(status({ rate: 0.95 }), 1.6)).toBe(true);
    expect(upscaledKeepsUp(status({ rate: 0.95 }), 1.4)).toBe(false);
    expect(upscaledKeepsUp(status({ rate: 0.84 }), 1.4)).toBe(false);
    expect(upscaledKeepsUp(status({ rate: null }), 1.4)).toBe(false);
  });

  it("reads a resume position from the source's media fragment, as jellyfin-web writes it", () => {
    expect(fragmentStartSeconds(`/Videos/${ID}/stream.mkv?Static=true&mediaSourceId=${ID}#t=2700.5`)).toBe(2700.5);
    expect(fragmentStartSeconds('/v/stream.mp4#t=npt:90')).toBe(90);
    expect(fragmentStartSeconds(`/Videos/${ID}/stream.mkv?Static=true&t=5`)).toBeUndefined();
    expect(fragmentStartSeconds(undefined)).toBeUndefined();
  });

  it('asks every tenth of a second while the switch is a segment away for a viewer on the original, else at its interval', () => {
    const config = { pollIntervalMs: 1000, minBufferedSeconds: 2 };
    // At 1.2x in 2 s segments the script wants 1.5 + 2 / 1.2 = 3.17 s ahead: a part reaching 1.17 s past the viewer is a segment away.
    expect(waitingPollMs(status({ ready: [[0, 10], [52, 54]] }), 50, config)).toBe(SWITCH_POLL_INTERVAL_MS);
    expect(waitingPollMs(status({ ready: [[48, 51.2]] }), 50, config)).toBe(SWITCH_POLL_INTERVAL_MS);
    expect(waitingPollMs(status({ ready: [[48, 51]] }), 50, config)).toBe(1000);
    expect(waitingPollMs(status({ ready: [[0, 10], [200, 202]] }), 50, config)).toBe(1000);
    expect(waitingPollMs(status({ ready: [], content_seconds: 0 }), 50, config)).toBe(1000);
    // Below real time the script wants 30 s of play's worth ahead: far from it, the usual pace.
    expect(waitingPollMs(status({ ready: [[48, 54]], rate: 0.7 }), 50, config)).toBe(1000);
    expect(waitingPollMs(status({ ready: [[48, 59]], rate: 0.7 }), 50, config)).toBe(SWITCH_POLL_INTERVAL_MS);
    // No rate yet (a part's first segment sets none): its next segment may be the one.
    expect(waitingPollMs(status({ ready: [[48, 51]], rate: null }), 50, config)).toBe(SWITCH_POLL_INTERVAL_MS);
    expect(waitingPollMs(status({ ready: [[0, 10], [200, 202]], rate: null }), 50, config)).toBe(1000);
    // Nothing more is coming: the usual pace; a page that asks more often keeps its pace away from a switch.
    expect(waitingPollMs(status({ ready: [[52, 54]], status: 'failed' }), 50, config)).toBe(1000);
    expect(waitingPollMs(status({ ready: [[52, 54]] }), 50, { ...config, pollIntervalMs: 250 })).toBe(SWITCH_POLL_INTERVAL_MS);
    expect(waitingPollMs(status({ ready: [[0, 10], [200, 202]] }), 50, { ...config, pollIntervalMs: 250 })).toBe(250);
  });

  it('asks less often while Upflow does not answer, never more often than configured', () => {
    expect([0, 1, 2, 3, 10].map((n) => retryDelayMs(500, n))).toEqual([500, 1000, 2000, 4000, 60_000]);
    expect(retryDelayMs(120_000, 3)).toBe(120_000);
  });
});

describe("Jellyfin's transcode, from the playlist URL jellyfin-web's hls.js loads", () => {
  it('names the play session to stop and the viewer token in it, whatever the case of the names', () => {
    const session = transcodeSession(`/videos/${ID}/master.m3u8?DeviceId=dev1&MediaSourceId=${ID}&PlaySessionId=ps1&api_key=tok&VideoCodec=h264`, 'http://jellyfin:8096/web/index.html');
    expect(session).toMatchObject({ deviceId: 'dev1', playSessionId: 'ps1', token: 'tok' });
    expect(session?.url.origin).toBe('http://jellyfin:8096');
    expect(transcodeSession(`/videos/${ID}/master.m3u8?deviceid=d&playsessionid=p`, 'http://j/')).toMatchObject({ deviceId: 'd', playSessionId: 'p', token: undefined });
  });

  it('stops the transcode on the server and under the base path that served it', () => {
    const atRoot = transcodeSession(`/videos/${ID}/master.m3u8?DeviceId=d&PlaySessionId=p`, 'http://jellyfin:8096/web/index.html')!;
    expect(activeEncodingsUrl(atRoot).href).toBe('http://jellyfin:8096/Videos/ActiveEncodings?deviceId=d&playSessionId=p');
    const underPath = transcodeSession(`/jellyfin/videos/${ID}/master.m3u8?DeviceId=d&PlaySessionId=p`, 'https://media.example.net/jellyfin/web/')!;
    expect(activeEncodingsUrl(underPath).href).toBe('https://media.example.net/jellyfin/Videos/ActiveEncodings?deviceId=d&playSessionId=p');
  });

  it('names nothing without both ids', () => {
    expect(transcodeSession(`/videos/${ID}/master.m3u8?DeviceId=dev1`, 'http://j/')).toBeUndefined();
    expect(transcodeSession(null, 'http://j/')).toBeUndefined();
  });
});
