/**
 * A signed `hls_url` in hls.js, in Debian's Chromium, against the real Upflow stack with
 * UPFLOW_API_KEY set and a short UPFLOW_HLS_TOKEN_TTL. The player is a page of another origin
 * (as Jellyfin's is) that has the URL and nothing else: no key, no header. It plays; it stops
 * once the token expires (the next segment is refused, and the same URL no longer loads); a
 * fresh `hls_url` plays again; the token put on another title's path loads nothing.
 */
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, openPage, type WatchedPage } from '../support/browser';
import { makeClip } from '../support/fixtures';
import { startHlsJsSite, type LocalServer } from '../support/local-server';
import { startUpflow, stopAndRemove, waitFor, type UpflowProcess } from '../support/upflow-process';

const API_KEY = 'signed-hls-key-0123456789';
const TTL_SECONDS = 20;
/** Longer than the token lives, so that playback is still going when it expires. */
const FILM_SECONDS = 50;

/** What the page records of its hls.js player. */
interface PlayerFacts {
  position: number;
  paused: boolean;
  videoWidth: number;
  /** hls.js's errors: fatal or not, what failed, and the HTTP status it got. */
  errors: { fatal: boolean; details: string; code: number | null }[];
  /** Every playlist or segment load hls.js finished, with its URL. */
  loaded: string[];
}

interface PageApi {
  play(url: string): void;
  facts(): PlayerFacts;
}

/**
 * The player page: hls.js from the repository's node_modules, buffering little ahead
 * (2 s: it fetches segments as it plays, as a long film does), recording errors and loads.
 */
const PAGE = `<!doctype html><html><head><script src="/hls.js"></script></head><body>
<video id="video" muted autoplay playsinline></video>
<script>
  const video = document.getElementById('video');
  const facts = { errors: [], loaded: [] };
  let hls;
  window.player = {
    play(url) {
      if (hls) hls.destroy();
      facts.errors = [];
      facts.loaded = [];
      hls = new Hls({ maxBufferLength: 2, maxMaxBufferLength: 4, startPosition: 0 });
      hls.on(Hls.Events.ERROR, (_e, data) => facts.errors.push({ fatal: data.fatal, details: data.details, code: data.response ? data.response.code : null }));
      hls.on(Hls.Events.FRAG_LOADED, (_e, data) => facts.loaded.push(data.frag.url));
      hls.on(Hls.Events.MANIFEST_LOADED, (_e, data) => facts.loaded.push(data.url));
      hls.loadSource(url);
      hls.attachMedia(video);
      video.play().catch(() => undefined);
    },
    facts() {
      return { ...facts, position: video.currentTime, paused: video.paused, videoWidth: video.videoWidth };
    },
  };
</script></body></html>`;

/** Errors that stop or refuse something: fatal ones and failed loads (not hls.js skipping a gap in the buffer). */
const loadErrors = (facts: PlayerFacts) => facts.errors.filter((e) => e.fatal || e.code !== null);

const play = (page: Page, url: string) => page.evaluate((u) => (window as unknown as { player: PageApi }).player.play(u), url);
const factsOf = (page: Page) => page.evaluate(() => (window as unknown as { player: PageApi }).player.facts());

/** The player's facts once hls.js has reported a fatal error (a refused playlist). */
const whenRefused = (page: Page, what: string) => waitFor(what, async () => {
  const facts = await factsOf(page);
  return facts.errors.some((e) => e.fatal) ? facts : undefined;
}, 15_000, 200);

describe('a signed hls_url in hls.js (Chromium, real stack, key set)', () => {
  let upflow: UpflowProcess;
  let site: LocalServer;
  let browser: Browser;
  let watched: WatchedPage;
  let page: Page;
  const keys = { film: '', other: '' };

  /** A fresh `hls_url` for a title, as the status endpoint hands it out. */
  const hlsUrlOf = async (file: string): Promise<string> => {
    const answer = await fetch(`${upflow.apiUrl}/hls-status/${file}`, { headers: { 'x-api-key': API_KEY } });
    return ((await answer.json()) as { hls_url: string }).hls_url;
  };

  beforeAll(async () => {
    upflow = await startUpflow({ UPFLOW_API_KEY: API_KEY, UPFLOW_HLS_TOKEN_TTL: `${TTL_SECONDS}s`, HLS_SEGMENT_TIME: '2' });
    for (const [name, seconds] of [['film.mp4', FILM_SECONDS], ['other.mp4', 4]] as const) {
      const clip = await makeClip(path.join(upflow.mediaDir, name), { seconds, width: 160, height: 90 });
      const started = await fetch(`${upflow.apiUrl}/upscale-trigger`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': API_KEY },
        body: JSON.stringify({ Item: { Path: clip } }),
      });
      expect(started.status).toBe(202);
    }
    const completed = async (file: string) => {
      const answer = await fetch(`${upflow.apiUrl}/hls-status/${file}`, { headers: { 'x-api-key': API_KEY } });
      const status = (await answer.json()) as { complete: boolean; title_key: string };
      return status.complete ? status.title_key : undefined;
    };
    keys.film = await waitFor('the film to complete', () => completed('film.mp4'), 120_000, 250);
    keys.other = await waitFor('the other title to complete', () => completed('other.mp4'), 60_000, 250);
    site = await startHlsJsSite(PAGE);
    browser = await launchChromium();
    watched = await openPage(browser);
    page = watched.page;
    await page.goto(site.url);
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    await site?.close();
    await stopAndRemove(upflow);
  });

  afterEach(() => {
    expect(watched?.pageErrors ?? []).toEqual([]);
  });

  it('plays with the URL alone, then stops at the next segment once the token has expired', async () => {
    const url = await hlsUrlOf('film.mp4');
    const issuedAt = Date.now();
    expect(url).toMatch(new RegExp(`/hls/t/\\d+\\.[A-Za-z0-9_-]{43}/${keys.film}/stream\\.m3u8$`));
    await play(page, url);
    const playing = await waitFor('playback to pass 3 s', async () => {
      const facts = await factsOf(page);
      return facts.position >= 3 ? facts : undefined;
    }, 15_000, 200);
    expect(playing).toMatchObject({ paused: false, videoWidth: 320 });
    expect(loadErrors(playing)).toEqual([]);
    // Segments come from under the same token, resolved against the playlist's URL.
    const token = new URL(url).pathname.split('/')[3]!;
    expect(playing.loaded.length).toBeGreaterThanOrEqual(2);
    for (const loaded of playing.loaded) expect(new URL(loaded).pathname.startsWith(`/hls/t/${token}/${keys.film}/`)).toBe(true);

    // The token expires TTL_SECONDS after it was issued; hls.js asks for the next segment soon after.
    const refused = await waitFor('a segment to be refused', async () => {
      const facts = await factsOf(page);
      return facts.errors.some((e) => e.details === 'fragLoadError') ? facts : undefined;
    }, (TTL_SECONDS + 20) * 1000, 250);
    expect(Date.now() - issuedAt).toBeGreaterThanOrEqual((TTL_SECONDS - 1) * 1000);
    expect(refused.errors.filter((e) => e.details === 'fragLoadError').map((e) => e.code)).toEqual([403]);
    // hls.js retries (each time refused) while what was buffered plays out; then it stalls, long before the end.
    const stalledAt = await waitFor('playback to stall', async () => {
      const before = await factsOf(page);
      await new Promise((resolve) => setTimeout(resolve, 2000));
      const after = await factsOf(page);
      return after.position === before.position ? after : undefined;
    }, 20_000, 0);
    expect(stalledAt.position).toBeGreaterThan(TTL_SECONDS - 8);
    expect(stalledAt.position).toBeLessThan(FILM_SECONDS - 10);
    expect(stalledAt.loaded.length).toBe(refused.loaded.length);
    for (const error of loadErrors(stalledAt)) expect(`${error.details} ${error.code}`).toBe('fragLoadError 403');

    // The same URL no longer loads at all.
    await play(page, url);
    const again = await whenRefused(page, 'the expired URL to be refused');
    expect(again.errors.filter((e) => e.fatal)).toEqual([{ fatal: true, details: 'manifestLoadError', code: 403 }]);
    const refusal = await fetch(url);
    expect([refusal.status, await refusal.json()]).toEqual([403, { error: 'the HLS token in this URL has expired: ask Upflow for a fresh hls_url' }]);
  }, 90_000);

  it('plays again from a fresh hls_url', async () => {
    await play(page, await hlsUrlOf('film.mp4'));
    const playing = await waitFor('playback to pass 2 s', async () => {
      const facts = await factsOf(page);
      return facts.position >= 2 ? facts : undefined;
    }, 15_000, 200);
    expect(loadErrors(playing)).toEqual([]);
  }, 30_000);

  it("loads nothing of another title with this title's token", async () => {
    const url = await hlsUrlOf('film.mp4');
    const otherTitles = url.replace(`/${keys.film}/`, `/${keys.other}/`);
    await play(page, otherTitles);
    const refused = await whenRefused(page, 'the other title to be refused');
    expect(refused.errors.filter((e) => e.fatal)).toEqual([{ fatal: true, details: 'manifestLoadError', code: 403 }]);
    expect(refused.loaded).toEqual([]);
    // Its own signed URL plays.
    await play(page, await hlsUrlOf('other.mp4'));
    await waitFor('the other title to play', async () => ((await factsOf(page)).position >= 1 || undefined), 15_000, 200);
  }, 40_000);
});
