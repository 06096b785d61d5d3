/**
 * The parts of jellyfin-web the Upflow script meets, reproduced on the Jellyfin stand-in:
 * the player's DOM (`<video class="htmlvideoplayer" autoplay>` created inside
 * `div.videoPlayerContainer` when playback starts, removed when it stops), direct-play URLs
 * `/Videos/{id}/stream.mp4?Static=true&mediaSourceId={id}` (with `#t=<seconds>` when it resumes,
 * as htmlVideoPlayer's setCurrentSrc writes it), the playback report jellyfin-web's
 * playbackManager sends when an item starts (`POST /Sessions/Playing` with `PositionTicks`), and
 * the Webhook plugin's `PlaybackStart` that Jellyfin's session event makes of it.
 */
import fs from 'node:fs';
import express from 'express';
import type { JellyfinStandIn } from './jellyfin-stand-in';

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
  /** Load hls.js as jellyfin-web does, exposing `window.Hls`. */
  jellyfinHls?: boolean;
}

export function playerPageUrl(standIn: JellyfinStandIn, options: PlayerPageOptions): string {
  const query = new URLSearchParams({
    item: options.itemId,
    config: JSON.stringify(options.upflowConfig),
    script: options.scriptUrl,
    hls: options.jellyfinHls ? '1' : '0',
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
      apiKey: standIn.apiKey,
      jellyfinHls: req.query.hls === '1',
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
    const report = req.body as { ItemId?: string; PositionTicks?: number };
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
          DeviceId: 'stand-in-browser',
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
  apiKey: string;
  jellyfinHls: boolean;
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
  window.jellyfinStandIn = (() => {
    const itemId = ${json(p.itemId)};
    const osd = document.querySelector('.videoOsdBottom');
    const harness = { events: [] };
    let reportedItem = '';
    // playbackManager's start report, once the element plays a new item's stream.
    function reportPlaying(video) {
      const match = /\\/Videos\\/([0-9a-f]{32})\\/stream[^#]*(?:#t=([\\d.]+))?/.exec(video.getAttribute('src') || '');
      if (!match || match[1] === reportedItem) return;
      reportedItem = match[1];
      const positionTicks = Math.round(Number(match[2] || 0) * 1e7);
      fetch('/Sessions/Playing', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ItemId: match[1], PositionTicks: positionTicks }) });
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
      video.addEventListener('loadstart', () => reportPlaying(video));
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
      setTimeout(() => {
        video.src = '/Videos/' + itemId + '/stream.mp4?Static=true&mediaSourceId=' + itemId + '&api_key=' + ${json(p.apiKey)}
          + (startSeconds > 0 ? '#t=' + startSeconds : '');
      }, 50);
      return video;
    }
    function stop() {
      const container = document.querySelector('.videoPlayerContainer');
      if (!container) return;
      const video = container.querySelector('video');
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
