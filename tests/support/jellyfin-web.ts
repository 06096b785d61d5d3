/**
 * The parts of jellyfin-web the Upflow script meets, reproduced on the Jellyfin stand-in from
 * jellyfin-web's source (src/plugins/htmlVideoPlayer/plugin.js, src/components/htmlMediaHelper.js):
 * - the player's DOM: `<video class="htmlvideoplayer" autoplay>` created inside
 *   `div.videoPlayerContainer` when playback starts, removed when it stops;
 * - direct play: `/Videos/{id}/stream.mp4?Static=true&mediaSourceId={id}&api_key=…` in `src`
 *   (with `#t=<seconds>` when it resumes, as setCurrentSrc writes it);
 * - transcode: hls.js loaded lazily and set as `window.Hls` (requireHlsPlayer), then
 *   `new Hls({startPosition, manifestLoadingTimeOut: 20000, maxBufferLength: 30, …})`,
 *   `loadSource('/videos/{id}/master.m3u8?DeviceId=…&PlaySessionId=…&api_key=…')`,
 *   `attachMedia(video)`, play on MANIFEST_PARSED, the player kept as `_hlsPlayer` and destroyed
 *   when playback stops (setSrcWithHlsJs, bindEventsToHlsPlayer, destroyHlsPlayer);
 * - `window.ApiClient` with the logged-in viewer's `accessToken()`;
 * - the playback report playbackManager sends once an item plays (its player's play() resolved:
 *   `POST /Sessions/Playing` with `PositionTicks`), and the Webhook plugin's `PlaybackStart`
 *   that Jellyfin's session event makes of it.
 */
import fs from 'node:fs';
import express from 'express';
import { VIEWER_TOKEN, type JellyfinStandIn } from './jellyfin-stand-in';

/** The browser's Jellyfin device id: in its play reports, its transcode URLs, and so in the Webhook plugin's DeviceId. */
export const DEVICE_ID = 'stand-in-browser';

export interface WebPlayerOptions {
  /** Where the Webhook plugin posts (Upflow's /upscale-trigger); unset: no webhook. */
  webhookUrl?: string;
}

export interface PlayerPageOptions {
  itemId: string;
  /** The page's `window.UpflowConfig`. */
  upflowConfig: Record<string, unknown>;
  /** Where the page loads the Upflow script from (Upflow's API, or a copy). */
  scriptUrl: string;
  /** Load hls.js before the Upflow script, exposing `window.Hls` from the start. */
  jellyfinHls?: boolean;
  /** Play as Jellyfin does when it transcodes: its own hls.js on its HLS transcode (jellyfin-transcode.ts). */
  transcode?: boolean;
  /** The logged-in viewer's access token (`ApiClient.accessToken()`); default the stand-in's viewer. */
  viewerToken?: string;
}

export function playerPageUrl(standIn: JellyfinStandIn, options: PlayerPageOptions): string {
  const query = new URLSearchParams({
    item: options.itemId,
    config: JSON.stringify(options.upflowConfig),
    script: options.scriptUrl,
    hls: options.jellyfinHls ? '1' : '0',
    mode: options.transcode ? 'transcode' : 'direct',
    token: options.viewerToken ?? VIEWER_TOKEN,
  });
  return `${standIn.url}/web/index.html?${query.toString()}`;
}

/** Adds the web player page and the direct-play stream to the stand-in. */
export function addWebPlayer(standIn: JellyfinStandIn, options: WebPlayerOptions = {}): { webhooks: Promise<Response>[] } {
  const webhooks: Promise<Response>[] = [];
  const started = new Set<string>();

  standIn.app.get('/web/index.html', (req, res) => {
    const itemId = String(req.query.item ?? '');
    const item = standIn.items.get(itemId);
    res.type('html').send(playerPage({
      itemId,
      name: item?.name ?? 'Unknown',
      upflowConfig: String(req.query.config ?? '{}'),
      scriptUrl: String(req.query.script ?? ''),
      viewerToken: String(req.query.token ?? ''),
      jellyfinHls: req.query.hls === '1',
      transcode: req.query.mode === 'transcode',
    }));
  });

  // jellyfin-web bundles hls.js and exposes it as window.Hls.
  standIn.app.get('/web/libraries/hls.js', (_req, res) => res.type('js').sendFile(require.resolve('hls.js/dist/hls.min.js')));

  standIn.app.get('/Videos/:itemId/stream.:container', (req, res) => {
    const itemId = String(req.params.itemId);
    const item = standIn.items.get(itemId);
    if (!item || !fs.existsSync(item.path)) {
      res.status(404).send('Item not found.');
      return;
    }
    res.sendFile(item.path, { headers: { 'Content-Type': 'video/mp4' } });
  });

  // The page's playback report: Jellyfin's session event, which the Webhook plugin turns into
  // its PlaybackStart (once per item here: the tests play each item in one session).
  standIn.app.post('/Sessions/Playing', express.json(), (req, res) => {
    const report = req.body as { ItemId?: string; PositionTicks?: number; PlayMethod?: string };
    const itemId = String(report.ItemId ?? '');
    const item = standIn.items.get(itemId);
    if (options.webhookUrl && item && !started.has(itemId)) {
      started.add(itemId);
      // The plugin's default request: the template in docs/ rendered, sent as text/plain.
      webhooks.push(fetch(options.webhookUrl, {
        method: 'POST',
        headers: { 'content-type': 'text/plain; charset=utf-8' },
        body: JSON.stringify({
          NotificationType: 'PlaybackStart',
          ItemId: itemId,
          Name: item.name,
          PlaybackPositionTicks: String(report.PositionTicks ?? 0),
          Video_0_Height: '',
          DeviceId: DEVICE_ID,
          UserId: 'viewer',
          ServerUrl: standIn.url,
          NotificationUsername: 'viewer',
        }),
      }));
    }
    res.status(204).end();
  });
  return { webhooks };
}

interface PageParts {
  itemId: string;
  name: string;
  upflowConfig: string;
  scriptUrl: string;
  viewerToken: string;
  jellyfinHls: boolean;
  transcode: boolean;
}

function playerPage(p: PageParts): string {
  const json = (value: unknown) => JSON.stringify(value).replace(/</g, '\\u003c');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Jellyfin</title>
<link rel="icon" href="data:,">
<style>
  html, body { margin: 0; height: 100%; background: #101010; color: #ddd; font-family: system-ui, sans-serif; }
  .skinHeader { position: fixed; top: 0; left: 0; right: 0; z-index: 2; padding: 1em 1.5em; font-size: 1.1em; background: linear-gradient(rgba(0,0,0,.7), transparent); }
  .videoPlayerContainer { position: fixed; inset: 0; background: #000; z-index: 1; }
  .htmlvideoplayer { width: 100%; height: 100%; object-fit: contain; }
  .videoOsdBottom { position: fixed; left: 0; right: 0; bottom: 0; z-index: 2; padding: 1.2em 2em 1.6em; background: linear-gradient(transparent, rgba(0,0,0,.85)); }
  .osdTitle { font-size: 1.3em; margin-bottom: .6em; }
  .osdBar { height: 4px; background: rgba(255,255,255,.25); border-radius: 2px; }
  .osdBarFill { height: 4px; width: 0; background: #00a4dc; border-radius: 2px; }
</style>
${p.jellyfinHls ? '<script src="/web/libraries/hls.js"></script>' : ''}
<script>window.UpflowConfig = ${p.upflowConfig.replace(/</g, '\\u003c')};</script>
<script src="${encodeURI(p.scriptUrl)}"></script>
</head>
<body>
<div class="skinHeader">Jellyfin</div>
<div class="videoOsdBottom" hidden><div class="osdTitle"></div><div class="osdBar"><div class="osdBarFill"></div></div></div>
<script>
  // What jellyfin-web's htmlVideoPlayer does, reduced to what the Upflow script relies on.
  // jellyfin-apiclient's ApiClient: the viewer's token, and the device id its play reports (and so the Webhook plugin) name.
  window.ApiClient = { accessToken: () => ${json(p.viewerToken)}, deviceId: () => ${json(DEVICE_ID)}, serverAddress: () => location.origin };
  window.jellyfinStandIn = (() => {
    const itemId = ${json(p.itemId)};
    const transcode = ${json(p.transcode)};
    const token = ${json(p.viewerToken)};
    const osd = document.querySelector('.videoOsdBottom');
    const harness = { events: [], hlsErrors: [], playSessionId: null, hlsPlayer: null };
    let reportedItem = '';
    // playbackManager's start report, once per item.
    function reportPlaying(id, startSeconds) {
      if (id === reportedItem) return;
      reportedItem = id;
      fetch('/Sessions/Playing', { method: 'POST', headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ ItemId: id, PositionTicks: Math.round(startSeconds * 1e7), PlayMethod: transcode ? 'Transcode' : 'DirectPlay', PlaySessionId: harness.playSessionId }) });
    }
    // Direct play: the item and the resume position from the element's source (tests also set
    // the next item's source on the same element, as Jellyfin does when it moves on).
    function reportDirectPlay(video) {
      const match = /\\/Videos\\/([0-9a-f]{32})\\/stream[^#]*(?:#t=([\\d.]+))?/.exec(video.getAttribute('src') || '');
      if (match) reportPlaying(match[1], Number(match[2] || 0));
    }
    // requireHlsPlayer: hls.js is imported only when a transcode needs it, then set as window.Hls.
    function requireHlsPlayer() {
      if (window.Hls) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const script = document.createElement('script');
        script.src = '/web/libraries/hls.js';
        script.onload = () => {
          Hls.DefaultConfig.lowLatencyMode = false;
          Hls.DefaultConfig.backBufferLength = Infinity;
          Hls.DefaultConfig.liveBackBufferLength = 90;
          resolve();
        };
        script.onerror = reject;
        document.head.appendChild(script);
      });
    }
    // setSrcWithHlsJs and bindEventsToHlsPlayer.
    async function setSrcWithHlsJs(video, startSeconds) {
      await requireHlsPlayer();
      harness.playSessionId = Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('');
      const url = '/videos/' + itemId + '/master.m3u8?DeviceId=' + ${json(DEVICE_ID)} + '&MediaSourceId=' + itemId
        + '&PlaySessionId=' + harness.playSessionId + '&api_key=' + token + '&VideoCodec=h264&AudioCodec=aac&SegmentContainer=ts';
      const hls = new Hls({ startPosition: startSeconds, manifestLoadingTimeOut: 20000, maxBufferLength: 30, maxMaxBufferLength: 30, videoPreference: { preferHDR: true } });
      hls.loadSource(url);
      hls.attachMedia(video);
      hls.on(Hls.Events.MANIFEST_PARSED, () => { video.play().then(() => reportPlaying(itemId, startSeconds), () => undefined); });
      hls.on(Hls.Events.ERROR, (_event, data) => { harness.hlsErrors.push({ details: data.details, fatal: data.fatal }); });
      harness.hlsPlayer = hls;
    }
    function play(startSeconds) {
      const container = document.createElement('div');
      container.className = 'videoPlayerContainer';
      const video = document.createElement('video');
      video.className = 'htmlvideoplayer moveUpSubtitles';
      video.setAttribute('preload', 'metadata');
      video.setAttribute('autoplay', 'autoplay');
      video.setAttribute('playsinline', '');
      container.appendChild(video);
      document.body.insertBefore(container, document.body.firstChild);
      // playbackManager reports the start once the player's play() has resolved (onPlaybackStarted):
      // the picture moves then, a few tenths of a second after the source is set.
      video.addEventListener('playing', () => { if (!transcode) reportDirectPlay(video); });
      for (const type of ['loadstart', 'timeupdate', 'playing', 'pause', 'waiting', 'seeking', 'seeked', 'error']) {
        video.addEventListener(type, () => harness.events.push({ type, at: performance.now(), position: video.currentTime, src: video.currentSrc }));
      }
      video.addEventListener('timeupdate', () => {
        const fill = osd.querySelector('.osdBarFill');
        if (video.duration > 0 && isFinite(video.duration)) fill.style.width = (100 * video.currentTime / video.duration) + '%';
      });
      osd.querySelector('.osdTitle').textContent = ${json(p.name)};
      osd.hidden = false;
      // Set after insertion, as jellyfin-web does: the element exists before its source.
      setTimeout(async () => {
        if (!transcode) {
          video.src = '/Videos/' + itemId + '/stream.mp4?Static=true&mediaSourceId=' + itemId + '&api_key=' + token
            + (startSeconds > 0 ? '#t=' + startSeconds : '');
          return;
        }
        await setSrcWithHlsJs(video, startSeconds);
      }, 50);
      return video;
    }
    function stop() {
      const container = document.querySelector('.videoPlayerContainer');
      if (!container) return;
      const video = container.querySelector('video');
      // destroyHlsPlayer, then the element's source cleared.
      if (harness.hlsPlayer) { harness.hlsPlayer.destroy(); harness.hlsPlayer = null; }
      video.removeAttribute('src');
      video.load();
      container.remove();
      osd.hidden = true;
    }
    // The player element's state as the tests compare it before and after a switch.
    function facts() {
      const video = document.querySelector('div.videoPlayerContainer video.htmlvideoplayer');
      return {
        at: performance.now(), position: video.currentTime, paused: video.paused, volume: video.volume,
        muted: video.muted, playbackRate: video.playbackRate, videoWidth: video.videoWidth,
        videoHeight: video.videoHeight, src: video.getAttribute('src') || '',
      };
    }
    return { play, stop, facts, harness };
  })();
</script>
</body>
</html>`;
}
