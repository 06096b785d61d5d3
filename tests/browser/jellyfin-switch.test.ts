/**
 * The Upflow script in a real browser against the real Upflow stack. Debian's Chromium
 * (headless, driven by playwright-core) opens a page that reproduces jellyfin-web's player
 * (tests/support/jellyfin-web.ts) on a Jellyfin stand-in: the real Jellyfin server cannot be
 * installed from this machine's package registries, so a small local server answers the two
 * Jellyfin API calls Upflow makes and serves the original clip for direct play. Upflow
 * (Temporal, Postgres, ffmpeg, Anime4K through onnxruntime) upscales the clip while the page
 * plays it, and the script switches the page's <video> to the upscaled HLS stream.
 */
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { CLIENT_BUNDLE } from '../../client-js/bundle';
import type { JobView } from '../../services';
import { TERMINAL_JOB_STATES } from '../../core/domain';
import { SEGMENT_SECONDS_WITH_MODEL } from '../../core/config';
import { MAX_LEAD_SECONDS } from '../../core/switch-lead';
import { findFreePort } from '../../adapters/process';
import { launchChromium, openPage, scriptErrors, type WatchedPage } from '../support/browser';
import { makeClip } from '../support/fixtures';
import { startJellyfinStandIn, type JellyfinStandIn } from '../support/jellyfin-stand-in';
import { addWebPlayer, playerPageUrl } from '../support/jellyfin-web';
import { harnessEvents, nextUpflowEvent, playFor, playOriginal, scriptState, videoFacts, type PageGlobals, type SwitchEvent } from './player-page';
import { startUpflow, stopAndRemove, waitFor, type UpflowProcess } from '../support/upflow-process';

const AUTO_ITEM = '6a1f0c3d9b8e4c2d8a7b6c5d4e3f2a10';
const PROMPT_ITEM = '7b2e1d4c0a9f4e3b9c8d7e6f5a4b3c21';
const DOWN_ITEM = '8c3f2e5d1b0a4f4ca0d9e8f7a6b5c432';
const FAILING_ITEM = '9d4a3f6e2c1b4a5db1e0f9a8b7c6d543';
const SEEK_ITEM = 'ae5b4a7f3d2c4b6ec2f1a0b9c8d7e654';
const RESUME_ITEM = 'bf6c5b8a4e3d4c7fd3a2b1c0d9e8f765';
const SOURCE = { width: 320, height: 180, seconds: 40 };
const LONG_SOURCE_SECONDS = 90;
/** HLS_SEGMENT_TIME's default with a model: this stack leaves it unset. */
const DEFAULT_SEGMENT_SECONDS = SEGMENT_SECONDS_WITH_MODEL;

describe('the Upflow script in a jellyfin-web player (Chromium, real Upflow stack)', () => {
  let upflow: UpflowProcess;
  let standIn: JellyfinStandIn;
  let web: ReturnType<typeof addWebPlayer>;
  let browser: Browser;

  beforeAll(async () => {
    standIn = await startJellyfinStandIn();
    upflow = await startUpflow({
      SRGAN_ENABLE: '1',
      UPFLOW_MODEL: 'anime4k-s-rl',
      JELLYFIN_URL: standIn.url,
      JELLYFIN_API_KEY: standIn.apiKey,
    });
    web = addWebPlayer(standIn, { webhookUrl: `${upflow.apiUrl}/upscale-trigger` });
    for (const [id, name] of [[AUTO_ITEM, 'Auto switch'], [PROMPT_ITEM, 'Prompt'], [DOWN_ITEM, 'Upflow down']] as const) {
      standIn.items.set(id, { name, path: await makeClip(path.join(upflow.mediaDir, `${name}.mp4`), SOURCE) });
    }
    // Long ones: still growing while the playlist is cut off, and long enough to seek well past
    // the upscaling and then watch it catch up.
    for (const [id, name] of [[FAILING_ITEM, 'Stream fails'], [SEEK_ITEM, 'Seek ahead'], [RESUME_ITEM, 'Resume']] as const) {
      standIn.items.set(id, { name, path: await makeClip(path.join(upflow.mediaDir, `${name}.mp4`), { ...SOURCE, seconds: LONG_SOURCE_SECONDS }) });
    }
    browser = await launchChromium();
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    await stopAndRemove(upflow);
    await standIn?.close();
  });

  const open = (): Promise<WatchedPage> => openPage(browser);

  /** A page whose player plays `itemId` and has switched to the upscaled stream by itself. */
  async function openSwitched(itemId: string, options: { impatientHls?: boolean } = {}): Promise<WatchedPage & { switched: SwitchEvent }> {
    const watched = await open();
    await watched.page.goto(playerPageUrl(standIn, {
      itemId,
      upflowConfig: { pollIntervalMs: 500, minBufferedSeconds: 4 },
      scriptUrl: `${upflow.apiUrl}/client/upflow-jellyfin.js`,
      jellyfinHls: options.impatientHls ?? false,
    }));
    if (options.impatientHls) {
      // The page's hls.js (which the script uses) with a short buffer and one quick retry: on a
      // VOD playlist hls.js would otherwise play out up to 30 s of buffer, then retry for ~30 s
      // before its fatal error; the script's answer to that error is what is tested here.
      await watched.page.evaluate(() => {
        type Policy = { default: Record<string, unknown> };
        const Hls = (window as unknown as { Hls: { DefaultConfig: Record<string, unknown> & { fragLoadPolicy: Policy } } }).Hls;
        const defaults = Hls.DefaultConfig;
        const quickRetry = { maxNumRetry: 1, retryDelayMs: 200, maxRetryDelayMs: 200 };
        Hls.DefaultConfig = {
          ...defaults,
          maxBufferLength: 4,
          maxMaxBufferLength: 4,
          fragLoadPolicy: { default: { ...defaults.fragLoadPolicy.default, errorRetry: quickRetry, timeoutRetry: quickRetry } },
        };
      });
    }
    const switched = nextUpflowEvent(watched.page, 'switched');
    await playOriginal(watched.page);
    return { ...watched, switched: await switched };
  }

  /**
   * Cancels what earlier tests left streaming or waiting. One stream runs at a time
   * (UPFLOW_GPU_CONCURRENCY=1), and a test that reasons about how far its own title is upscaled
   * needs it to start at once, not after the long titles before it.
   */
  async function freeTheWorker(): Promise<void> {
    const unfinished = async () =>
      (await upflow.api<{ jobs: JobView[] }>('GET', '/jobs')).json.jobs.filter((j) => !TERMINAL_JOB_STATES.includes(j.state));
    for (const job of await unfinished()) expect((await upflow.api('POST', `/jobs/${job.id}/cancel`)).status).toBe(202);
    await waitFor('every earlier job to end', async () => ((await unfinished()).length === 0 ? true : undefined), 30_000, 200).catch(async (err: Error) => {
      const left = await unfinished();
      const log = upflow.output().split('\n').filter((l) => left.some((j) => l.includes(j.id) || l.includes(j.titleKey))).slice(-30).join('\n');
      throw new Error(`${err.message}: ${JSON.stringify(left.map((j) => ({ id: j.id, state: j.state, name: j.name })))}\n${log}`);
    });
  }

  it('switches a playing viewer by itself, at the same position, with the volume kept, and plays on', async () => {
    const { page, console: messages, pageErrors } = await open();
    // apiUrl left out: the script finds Upflow from where it was loaded. No trigger from the
    // script: the stand-in posts the Webhook plugin's PlaybackStart, as Jellyfin would.
    await page.goto(playerPageUrl(standIn, {
      itemId: AUTO_ITEM,
      upflowConfig: { pollIntervalMs: 500, minBufferedSeconds: 4, autoTrigger: false },
      scriptUrl: `${upflow.apiUrl}/client/upflow-jellyfin.js`,
    }));
    const switched = nextUpflowEvent(page, 'switched');
    await page.evaluate(() => {
      const video = (window as unknown as PageGlobals).jellyfinStandIn.play();
      video.volume = 0.4;
    });
    const { detail, after } = await switched;
    const webhook = await Promise.all(web.webhooks);
    expect(webhook.map((r) => r.status)).toContain(202);

    // Where the original was when the script took over, by the page's own clock.
    const events = await harnessEvents(page);
    const loads = events.filter((e) => e.type === 'loadstart');
    expect(loads.length).toBeGreaterThanOrEqual(2);
    const switchLoad = loads[1]!;
    // (Loading the new source resets the position to 0 with a timeupdate of its own: skip it.)
    const lastOriginal = events.filter((e) => e.type === 'timeupdate' && e.at < switchLoad.at && e.src.includes('/Videos/') && e.position > 0).pop();
    expect(lastOriginal).toBeDefined();
    expect(Math.abs(detail.before.positionSeconds - lastOriginal!.position)).toBeLessThan(0.5);

    expect(detail.engine).toBe('bundled-hls.js');
    expect(detail.live).toBe(true); // taken over while the stream was still growing
    expect(Math.abs(after.position - detail.before.positionSeconds)).toBeLessThanOrEqual(0.5);
    expect(after).toMatchObject({ paused: false, volume: 0.4, muted: false, playbackRate: 1 });
    expect([after.videoWidth, after.videoHeight]).toEqual([SOURCE.width * 2, SOURCE.height * 2]);
    expect(after.src).toMatch(/^blob:/);

    const played = await playFor(page, 5);
    expect(played.advanced).toBeGreaterThan(4.5);
    expect(played.waits).toBe(0);
    expect((await scriptState(page))?.mode).toBe('upscaled');

    // Jellyfin moves the same element on to the next item: the script lets the new source be
    // and follows the new item (not upscaled: it stays on the original).
    const next = `/Videos/${DOWN_ITEM}/stream.mp4?Static=true&mediaSourceId=${DOWN_ITEM}`;
    await page.evaluate((src) => {
      document.querySelector<HTMLVideoElement>('video.htmlvideoplayer')!.src = src;
    }, next);
    const following = await waitFor('the script to follow the next item', async () => {
      const state = await scriptState(page);
      return state?.itemId === DOWN_ITEM && state.status ? state : undefined;
    }, 10_000);
    // Fetching the next item's stream made Jellyfin post its PlaybackStart too: depending on
    // whether the script asked before or after that trigger, Upflow has not started the item or
    // has it in line (or, once the first title is done, streaming); either way not yet playable.
    expect(following.mode).toBe('original');
    expect(['not_started', 'queued', 'streaming']).toContain(following.status?.status);
    const facts = await waitFor('the next item to load', async () => {
      const f = await videoFacts(page);
      return f.videoWidth > 0 ? f : undefined;
    }, 10_000);
    expect(facts.src).toBe(next);
    expect(facts.videoWidth).toBe(SOURCE.width);
    // The page reports the next item once it plays, after its size is known (CI once read the
    // webhooks between the two and found one).
    await waitFor("the next item's PlaybackStart", async () => (web.webhooks.length >= 2 ? true : undefined), 10_000);
    expect((await Promise.all(web.webhooks)).map((r) => r.status)).toEqual([202, 202]);
    expect(pageErrors).toEqual([]);
    expect(scriptErrors(messages)).toEqual([]);
  }, 120_000);

  it('prompt mode: offers the switch in the player, and a click switches a paused viewer keeping volume, mute and speed', async () => {
    await freeTheWorker();
    const { page, console: messages, pageErrors } = await open();
    await page.goto(playerPageUrl(standIn, {
      itemId: PROMPT_ITEM,
      upflowConfig: { apiUrl: upflow.apiUrl, autoSwitch: false, pollIntervalMs: 500, minBufferedSeconds: 4 },
      scriptUrl: `${upflow.apiUrl}/client/upflow-jellyfin.js`,
      jellyfinHls: true,
    }));
    await playOriginal(page);
    await waitFor('the original to play 1.5 s', async () => ((await videoFacts(page)).position >= 1.5 ? true : undefined), 30_000);
    await page.evaluate(() => {
      const video = document.querySelector<HTMLVideoElement>('video.htmlvideoplayer')!;
      video.pause();
      video.volume = 0.7;
      video.muted = true;
      video.playbackRate = 1.5;
    });
    const paused = await videoFacts(page);

    const prompt = page.locator('.upflow-prompt');
    await prompt.waitFor({ state: 'visible', timeout: 90_000 });
    expect(await prompt.textContent()).toContain('Upscaled stream ready');
    const screenshotDir = process.env.UPFLOW_SCREENSHOT_DIR ?? upflow.dir;
    await page.screenshot({ path: path.join(screenshotDir, 'jellyfin-prompt.png') });

    const switched = nextUpflowEvent(page, 'switched');
    await page.locator('.upflow-prompt .upflow-switch').click();
    const { detail, after } = await switched;
    expect(detail.engine).toBe('jellyfin-hls.js');
    expect(Math.abs(after.position - paused.position)).toBeLessThanOrEqual(0.5);
    expect(after).toMatchObject({ paused: true, volume: 0.7, muted: true, playbackRate: 1.5 });
    expect([after.videoWidth, after.videoHeight]).toEqual([SOURCE.width * 2, SOURCE.height * 2]);
    await expect(prompt.isVisible()).resolves.toBe(false);
    await page.locator('.upflow-active .upflow-original').waitFor({ state: 'visible' });
    // Seeks while paused on the upscaled stream (a second back, then to where it was): jellyfin-web's
    // element has `autoplay`, and it stays paused once it has data again.
    await page.evaluate(async () => {
      const video = document.querySelector<HTMLVideoElement>('video.htmlvideoplayer')!;
      const seekTo = (seconds: number) => new Promise((resolve) => {
        video.addEventListener('seeked', resolve, { once: true });
        video.currentTime = seconds;
      });
      const at = video.currentTime;
      await seekTo(Math.max(0, at - 1));
      await seekTo(at);
      await new Promise((resolve) => setTimeout(resolve, 1000));
    });
    expect(await videoFacts(page)).toMatchObject({ paused: true });

    // Back to the original while paused: same place, still paused; the prompt offers the switch again.
    const pausedBack = nextUpflowEvent(page, 'original');
    await page.locator('.upflow-active .upflow-original').click();
    const restored = await pausedBack;
    expect(restored.after).toMatchObject({ paused: true, volume: 0.7, muted: true, playbackRate: 1.5, videoWidth: SOURCE.width });
    expect(Math.abs(restored.after.position - paused.position)).toBeLessThanOrEqual(0.5);
    await prompt.waitFor({ state: 'visible', timeout: 30_000 });
    const switchedAgain = nextUpflowEvent(page, 'switched');
    await page.locator('.upflow-prompt .upflow-switch').click();
    expect((await switchedAgain).after).toMatchObject({ paused: true, videoWidth: SOURCE.width * 2 });

    await page.evaluate(() => document.querySelector<HTMLVideoElement>('video.htmlvideoplayer')!.play());
    const played = await playFor(page, 4);
    expect(played.advanced).toBeGreaterThan(4 * 1.5 * 0.85);
    expect(played.waits).toBe(0);

    // Back to the original, at the same position, still playing.
    const atClick = await videoFacts(page);
    const back = nextUpflowEvent(page, 'original');
    await page.locator('.upflow-active .upflow-original').click();
    const original = await back;
    expect(original.after.src).toContain(`/Videos/${PROMPT_ITEM}/stream.mp4`);
    expect(Math.abs(original.after.position - atClick.position)).toBeLessThanOrEqual(0.5 + 1.5 * ((original.after.at - atClick.at) / 1000));
    expect(original.after).toMatchObject({ paused: false, volume: 0.7, muted: true, playbackRate: 1.5 });
    expect(original.after.videoWidth).toBe(SOURCE.width);

    // Jellyfin closes the player: the script lets go and its controls leave the page.
    await page.evaluate(() => (window as unknown as PageGlobals).jellyfinStandIn.stop());
    await waitFor('the session to end', async () => ((await scriptState(page)) === null ? true : undefined), 5000);
    expect(await page.locator('.upflow-ui').count()).toBe(0);
    expect(pageErrors).toEqual([]);
    expect(scriptErrors(messages)).toEqual([]);
  }, 150_000);

  it('prompt mode: × dismisses the prompt for this playback and nothing switches', async () => {
    const { page, console: messages, pageErrors } = await open();
    await page.goto(playerPageUrl(standIn, {
      itemId: PROMPT_ITEM,
      upflowConfig: { autoSwitch: false, pollIntervalMs: 500, minBufferedSeconds: 4 },
      scriptUrl: `${upflow.apiUrl}/client/upflow-jellyfin.js`,
    }));
    await playOriginal(page);
    const prompt = page.locator('.upflow-prompt');
    await prompt.waitFor({ state: 'visible', timeout: 60_000 });
    await page.locator('.upflow-prompt .upflow-close').click();
    await prompt.waitFor({ state: 'hidden' });
    expect(await scriptState(page)).toMatchObject({ mode: 'original', stoppedBecause: 'the viewer dismissed the prompt' });
    await page.waitForTimeout(2000);
    expect(await prompt.isVisible()).toBe(false);
    expect((await videoFacts(page)).src).toContain(`/Videos/${PROMPT_ITEM}/stream.mp4`);
    expect(pageErrors).toEqual([]);
    expect(scriptErrors(messages)).toEqual([]);
  }, 90_000);

  it('goes back to the original, with a notice, when the upscaled stream fails mid-play', async () => {
    await freeTheWorker();
    const { page, console: messages, pageErrors } = await openSwitched(FAILING_ITEM, { impatientHls: true });
    // The HLS server vanishes for this page: playlist reloads and segments fail, hls.js gives up.
    await page.route(`${upflow.apiUrl}/hls/**`, (route) => route.abort('connectionrefused'));
    const back = await nextUpflowEvent(page, 'original');
    expect(back.detail).toMatchObject({ notice: 'Upscaled stream failed — back to the original' });
    expect(back.after.src).toContain(`/Videos/${FAILING_ITEM}/stream.mp4`);
    expect(back.after.paused).toBe(false);
    await expect(page.locator('.upflow-notice').textContent()).resolves.toContain('Upscaled stream failed');
    const played = await playFor(page, 3);
    expect(played.advanced).toBeGreaterThan(2.5);
    expect((await videoFacts(page)).videoWidth).toBe(SOURCE.width);
    expect((await scriptState(page))?.stoppedBecause).toMatch(/^the upscaled stream failed: networkError: /);
    expect(pageErrors).toEqual([]);
    // hls.js's own failed requests are Chromium's network lines; nothing else.
    expect(scriptErrors(messages)).toEqual([]);
  }, 120_000);

  it('a seek past the upscaling: the original plays there when Upflow is slower than real time, and the upscaled stream again once it has caught up', async () => {
    await freeTheWorker();
    const { page, console: messages, pageErrors } = await openSwitched(SEEK_ITEM);

    // 15 s past what is upscaled: stalling there would be the alternative.
    const upscaled = (await (await fetch(`${upflow.apiUrl}/items/${SEEK_ITEM}/status`)).json()) as { content_seconds: number };
    const target = Math.round(upscaled.content_seconds + 15);
    expect(target).toBeLessThan(LONG_SOURCE_SECONDS - 30);
    const back = nextUpflowEvent(page, 'original');
    await page.evaluate((seconds) => {
      document.querySelector<HTMLVideoElement>('video.htmlvideoplayer')!.currentTime = seconds;
    }, target);
    // Anime4K S makes ~0.8–1.0x on this CPU: the script decides from the measured rate it holds.
    // At 1.0x or more it stays upscaled and the player waits for the segment there (tested with
    // ffmpeg alone in jellyfin-transcode.test.ts); below, the original plays there.
    const outcome = await Promise.race([
      back.then((event) => ({ kind: 'original' as const, event })),
      waitFor('the upscaled stream to play on past the seek', async () => {
        const facts = await videoFacts(page);
        return facts.position > target + 1 && facts.videoWidth === SOURCE.width * 2 ? { kind: 'upscaled' as const, facts } : undefined;
      }, 60_000, 250),
    ]);
    if (outcome.kind === 'upscaled') {
      const rate = (await scriptState(page))?.status?.rate ?? null;
      expect(rate).not.toBeNull();
      expect(rate!).toBeGreaterThanOrEqual(1);
      expect(pageErrors).toEqual([]);
      return;
    }
    const original = outcome.event;
    expect(original.detail).toMatchObject({ notice: 'Upscaling is behind your position — playing the original until it catches up' });
    expect(original.after.src).toContain(`/Videos/${SEEK_ITEM}/stream.mp4`);
    expect(Math.abs(original.after.position - target)).toBeLessThanOrEqual(0.5);
    expect(original.after.paused).toBe(false);

    // Once enough is made ahead of the viewer, back to the upscaled stream by itself.
    const again = await nextUpflowEvent(page, 'switched');
    expect(again.after.position).toBeGreaterThan(target);
    expect(again.after.videoWidth).toBe(SOURCE.width * 2);
    // Still playing; on failure the page's last media events show what paused it.
    const lastEvents = again.after.paused ? (await harnessEvents(page)).filter((e) => e.type !== 'timeupdate').slice(-25) : [];
    expect({ paused: again.after.paused, lastEvents }).toEqual({ paused: false, lastEvents: [] });
    expect(pageErrors).toEqual([]);
    expect(scriptErrors(messages)).toEqual([]);
  }, 120_000);

  it('resumed at 60 %: the part where the viewer is going is made first, and the player switches there with the default settings', async () => {
    await freeTheWorker();
    const resumeAt = Math.round(LONG_SOURCE_SECONDS * 0.6);
    const { page, console: messages, pageErrors } = await open();
    // The script's defaults but a faster poll; the webhook (PlaybackPositionTicks) and the
    // script's own trigger both say where the viewer is.
    await page.goto(playerPageUrl(standIn, {
      itemId: RESUME_ITEM,
      upflowConfig: { pollIntervalMs: 500 },
      scriptUrl: `${upflow.apiUrl}/client/upflow-jellyfin.js`,
    }));
    const switched = nextUpflowEvent(page, 'switched');
    await playOriginal(page, resumeAt);
    const { detail, after } = await switched;
    expect(detail.before.positionSeconds).toBeGreaterThanOrEqual(resumeAt);
    expect(Math.abs(after.position - detail.before.positionSeconds)).toBeLessThanOrEqual(0.5);
    expect([after.videoWidth, after.videoHeight]).toEqual([SOURCE.width * 2, SOURCE.height * 2]);
    expect(after.paused).toBe(false);
    const webhook = await (await Promise.all(web.webhooks)).at(-1)!.json() as { job_id: string };

    // What was made first is where the viewer was going (their segment or a lead after 60 %,
    // planned from the titles made before in this file), not 0:00; the switch came there.
    const made = (await upflow.api<{ segments: { startSeconds: number; producedAt: string }[] }>('GET', `/jobs/${webhook.job_id}/segments`)).json.segments;
    const first = [...made].sort((a, b) => a.producedAt.localeCompare(b.producedAt))[0]!;
    expect(first.startSeconds).toBeGreaterThan(resumeAt - DEFAULT_SEGMENT_SECONDS);
    expect(first.startSeconds).toBeLessThanOrEqual(resumeAt + MAX_LEAD_SECONDS + DEFAULT_SEGMENT_SECONDS);
    expect(detail.before.positionSeconds).toBeGreaterThanOrEqual(first.startSeconds - 0.5);
    const played = await playFor(page, 4);
    expect(played.advanced).toBeGreaterThan(3.5);
    expect(played.waits).toBe(0);

    // Upflow.stop() while upscaled: the viewer is put back on the original where they are, playing.
    const atStop = await videoFacts(page);
    await page.evaluate(() => (window as unknown as PageGlobals).Upflow.stop());
    const stopped = await videoFacts(page);
    expect(stopped.src).toContain(`/Videos/${RESUME_ITEM}/stream`);
    expect(stopped).toMatchObject({ paused: false, videoWidth: SOURCE.width });
    expect(Math.abs(stopped.position - atStop.position)).toBeLessThanOrEqual(0.5 + (stopped.at - atStop.at) / 1000);
    expect(await scriptState(page)).toBeNull();
    expect(pageErrors).toEqual([]);
    expect(scriptErrors(messages)).toEqual([]);
  }, 90_000);

  it('leaves the player alone, with no errors on the page, when Upflow is down', async () => {
    // The script as a copy in Jellyfin's web folder, pointed at an Upflow that is not running.
    standIn.app.get('/web/upflow-jellyfin.js', (_req, res) => res.type('js').sendFile(CLIENT_BUNDLE));
    const downUrl = `http://127.0.0.1:${await findFreePort()}`;
    const { page, console: messages, pageErrors } = await open();
    const upflowRequests: string[] = [];
    page.on('request', (request) => {
      if (request.url().startsWith(downUrl)) upflowRequests.push(request.url());
    });
    await page.goto(playerPageUrl(standIn, {
      itemId: DOWN_ITEM,
      upflowConfig: { apiUrl: downUrl, pollIntervalMs: 300 },
      scriptUrl: `${standIn.url}/web/upflow-jellyfin.js`,
    }));
    await playOriginal(page);
    const played = await playFor(page, 5);
    expect(played.advanced).toBeGreaterThan(4);

    const facts = await videoFacts(page);
    expect(facts.src).toContain(`/Videos/${DOWN_ITEM}/stream.mp4`);
    expect((await scriptState(page))?.mode).toBe('original');
    expect(await page.locator('.upflow-prompt').isVisible()).toBe(false);
    // It kept asking, less and less often (300 ms doubling: about 4 tries in 5 s).
    expect(upflowRequests.length).toBeGreaterThanOrEqual(2);
    expect(upflowRequests.length).toBeLessThanOrEqual(8);
    expect(messages.filter((c) => c.text.includes('Upflow is not answering'))).toHaveLength(1);
    expect(pageErrors).toEqual([]);
    expect(scriptErrors(messages)).toEqual([]);
    // No globals but the one namespace (and `Hls`, the script's watch for jellyfin-web's hls.js,
    // undefined until jellyfin-web loads it): compare with a blank frame's window.
    const added = await page.evaluate(() => {
      const frame = document.createElement('iframe');
      document.body.appendChild(frame);
      const blank = new Set(Object.keys(frame.contentWindow!));
      frame.remove();
      return Object.keys(window).filter((k) => !blank.has(k));
    });
    expect(added.sort()).toEqual(['ApiClient', 'Hls', 'Upflow', 'UpflowConfig', 'jellyfinStandIn']);
    expect(await page.evaluate(() => (window as unknown as { Hls?: unknown }).Hls)).toBeUndefined();
  }, 60_000);
});
