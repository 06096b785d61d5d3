/**
 * Watch from anywhere, as a player sees it: hls.js in Debian's Chromium plays the real stack's
 * HLS (`upflow up`, real ffmpeg, lanczos) of a two-minute title triggered at 60 %. It starts
 * there with `startPosition`, on the upscaled picture, and plays on without a stall; a seek
 * backwards to a part nobody has made plays upscaled again within seconds, and on.
 */
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, openPage, type WatchedPage } from '../support/browser';
import { makeClip } from '../support/fixtures';
import { startHlsJsSite, type LocalServer } from '../support/local-server';
import { startUpflow, stopAndRemove, waitFor, type UpflowProcess } from '../support/upflow-process';

const FILM_SECONDS = 120;
const START_AT = 72; // 60 %

interface PlayerFacts {
  position: number;
  paused: boolean;
  videoWidth: number;
  /** `waiting` events since the last `playing`: the player ran out of picture. */
  stalls: number;
  playing: boolean;
  fatal: string[];
}

interface PageApi {
  play(url: string, startPosition: number): void;
  seek(seconds: number): void;
  facts(): PlayerFacts;
}

/** A player page of another origin than Upflow's, as Jellyfin's is: hls.js from node_modules. */
const PAGE = `<!doctype html><html><head><script src="/hls.js"></script></head><body>
<video id="video" muted autoplay playsinline></video>
<script>
  const video = document.getElementById('video');
  const facts = { stalls: 0, playing: false, fatal: [] };
  video.addEventListener('playing', () => { facts.playing = true; });
  video.addEventListener('waiting', () => { if (facts.playing) facts.stalls += 1; });
  window.player = {
    play(url, startPosition) {
      const hls = new Hls({ startPosition });
      hls.on(Hls.Events.ERROR, (_e, data) => { if (data.fatal) facts.fatal.push(data.details); });
      hls.loadSource(url);
      hls.attachMedia(video);
      video.play().catch(() => undefined);
    },
    seek(seconds) {
      facts.playing = false;
      facts.stalls = 0;
      video.currentTime = seconds;
    },
    facts() {
      return { ...facts, position: video.currentTime, paused: video.paused, videoWidth: video.videoWidth };
    },
  };
</script></body></html>`;

describe('a player on the grid', () => {
  let upflow: UpflowProcess;
  let browser: Browser;
  let watched: WatchedPage;
  let site: LocalServer;

  const player = (page: Page) => ({
    play: (url: string, at: number) => page.evaluate(([u, s]) => (window as unknown as { player: PageApi }).player.play(u as string, s as number), [url, at] as const),
    seek: (at: number) => page.evaluate((s) => (window as unknown as { player: PageApi }).player.seek(s), at),
    facts: () => page.evaluate(() => (window as unknown as { player: PageApi }).player.facts()),
  });

  beforeAll(async () => {
    upflow = await startUpflow({ HLS_SEGMENT_TIME: '2' });
    site = await startHlsJsSite(PAGE);
    browser = await launchChromium();
    watched = await openPage(browser);
    await watched.page.goto(site.url);
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await site?.close();
    await stopAndRemove(upflow);
  }, 120_000);

  it('starts at 60 % on the upscaled picture, plays on without a stall, and plays upscaled again after a seek backwards', async () => {
    const clip = await makeClip(path.join(upflow.mediaDir, 'film.mp4'), { seconds: FILM_SECONDS, width: 320, height: 180 });
    const triggered = await upflow.api<{ hls_url: string }>('POST', '/upscale-trigger', { Item: { Path: clip }, position_seconds: START_AT });
    expect(triggered.status).toBe(202);
    const p = player(watched.page);
    const playAt = Date.now();
    await p.play(triggered.json.hls_url, START_AT);

    const started = await waitFor('playing at 60 %', async () => {
      const facts = await p.facts();
      if (facts.fatal.length > 0) throw new Error(`hls.js failed: ${facts.fatal.join(', ')}`);
      return facts.playing && facts.position > START_AT ? facts : undefined;
    }, 30_000, 100);
    const startSeconds = (Date.now() - playAt) / 1000;
    expect(started.videoWidth).toBe(640);
    expect(started.position).toBeLessThan(START_AT + 3);
    // Eight seconds of watching: the picture moves on with it, and never waits.
    const from = started.position;
    await new Promise((resolve) => setTimeout(resolve, 8000));
    const later = await p.facts();
    expect(later.stalls).toBe(0);
    expect(later.position - from).toBeGreaterThan(7);

    // Back to 20 s, which nobody has made yet (the title is made from 72 s on first).
    const seekAt = Date.now();
    await p.seek(20);
    const resumed = await waitFor('playing at 20 s', async () => {
      const facts = await p.facts();
      if (facts.fatal.length > 0) throw new Error(`hls.js failed: ${facts.fatal.join(', ')}`);
      return facts.playing && facts.position > 20 && facts.position < 30 ? facts : undefined;
    }, 30_000, 100);
    const seekSeconds = (Date.now() - seekAt) / 1000;
    expect(resumed.videoWidth).toBe(640);
    const afterSeek = resumed.position;
    await new Promise((resolve) => setTimeout(resolve, 5000));
    const on = await p.facts();
    expect(on.position - afterSeek).toBeGreaterThan(4);
    expect(on.stalls).toBe(0);
    expect(watched.pageErrors).toEqual([]);
    process.stdout.write(`grid playback (lanczos): playing at 60 % ${startSeconds.toFixed(1)} s after the trigger, again ${seekSeconds.toFixed(1)} s after a seek backwards\n`);
  }, 120_000);
});
