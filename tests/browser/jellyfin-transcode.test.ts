/**
 * The Upflow script when Jellyfin transcodes: jellyfin-web plays Jellyfin's HLS transcode through
 * its own hls.js (tests/support/jellyfin-web.ts, transcode mode), made by ffmpeg as Jellyfin's
 * transcoder makes it (tests/support/jellyfin-transcode.ts). The script takes the element from
 * Jellyfin's player, stops Jellyfin's transcode for that play session, and gives the element back.
 * Upflow here is the real stack with ffmpeg alone, which makes a title faster than real time on
 * this machine: the case where a seek stays on the upscaled stream. It has an API key, which the
 * page does not hold: the script triggers with the viewer's own Jellyfin token (no webhook here).
 */
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, openPage, scriptErrors, type WatchedPage } from '../support/browser';
import { makeClip } from '../support/fixtures';
import { startJellyfinStandIn, VIEWER_TOKEN, type JellyfinStandIn } from '../support/jellyfin-stand-in';
import { addTranscoder, type StandInTranscoder } from '../support/jellyfin-transcode';
import { addWebPlayer, playerPageUrl } from '../support/jellyfin-web';
import { nextUpflowEvent, playFor, playOriginal, scriptState, videoFacts, type PageGlobals } from './player-page';
import { startUpflow, stopAndRemove, waitFor, type UpflowProcess } from '../support/upflow-process';

const FROM_START_ITEM = 'c07d6c9b5f4e4d80e4b3c2d1e0f9a876';
const RESUME_ITEM = 'd18e7dac6a5f4e91f5c4d3e2f1a0b987';
const REFUSED_ITEM = 'f3a09fce8c7b4fb3b7e6f5a4b3c2d1e0';
const API_KEY = 'transcode-test-key-0123456789';
const KID_TOKEN = 'kid-viewer-token-0123456789';
const SOURCE = { width: 320, height: 180 };

/** The subtitle track jellyfin-web shows on the element (its external subtitles are text tracks there): its mode and the cue shown now. */
function subtitleShown(page: Page): Promise<{ mode: string; cue: string | null } | null> {
  return page.evaluate(() => {
    const video = document.querySelector<HTMLVideoElement>('video.htmlvideoplayer')!;
    const track = [...video.textTracks].find((t) => t.label === 'English');
    const cue = track?.activeCues?.[0] as VTTCue | undefined;
    return track ? { mode: track.mode, cue: cue?.text ?? null } : null;
  });
}

function playSessionId(page: Page): Promise<string | null> {
  return page.evaluate(() => (window as unknown as PageGlobals).jellyfinStandIn.harness.playSessionId);
}

describe('the Upflow script on a Jellyfin transcode (jellyfin-web\'s hls.js, Chromium, real Upflow stack)', () => {
  let upflow: UpflowProcess;
  let standIn: JellyfinStandIn;
  let transcoder: StandInTranscoder;
  let browser: Browser;

  beforeAll(async () => {
    standIn = await startJellyfinStandIn();
    upflow = await startUpflow({ UPFLOW_API_KEY: API_KEY, JELLYFIN_URL: standIn.url, JELLYFIN_API_KEY: standIn.apiKey });
    addWebPlayer(standIn);
    transcoder = addTranscoder(standIn);
    standIn.users.set(KID_TOKEN, { name: 'kid', hidden: new Set([REFUSED_ITEM]) });
    standIn.items.set(REFUSED_ITEM, { name: 'Not for everyone', path: await makeClip(path.join(upflow.mediaDir, 'Not for everyone.mp4'), { ...SOURCE, seconds: 10 }) });
    await Promise.all(([[FROM_START_ITEM, 'From the start', 40], [RESUME_ITEM, 'Resume', 90]] as const).map(async ([id, name, seconds]) => {
      standIn.items.set(id, { name, path: await makeClip(path.join(upflow.mediaDir, `${name}.mp4`), { ...SOURCE, seconds }) });
      await transcoder.prepare(id);
    }));
    browser = await launchChromium();
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    await stopAndRemove(upflow);
    await standIn?.close();
    transcoder?.close();
  });

  async function openTranscode(itemId: string, options: { viewerToken?: string; transcode?: boolean } = {}): Promise<WatchedPage> {
    const watched = await openPage(browser);
    await watched.page.goto(playerPageUrl(standIn, {
      itemId,
      upflowConfig: { pollIntervalMs: 500 },
      scriptUrl: `${upflow.apiUrl}/client/upflow-jellyfin.js`,
      transcode: options.transcode ?? true,
      ...(options.viewerToken ? { viewerToken: options.viewerToken } : {}),
    }));
    return watched;
  }

  it('takes the element from Jellyfin\'s hls.js at the same position, stops Jellyfin\'s transcode for that play session, and gives the element back', async () => {
    const { page, console: messages, pageErrors } = await openTranscode(FROM_START_ITEM);
    const switched = nextUpflowEvent(page, 'switched');
    await playOriginal(page);
    // Subtitles as jellyfin-web shows external ones: a text track on the element, showing.
    await page.evaluate(() => {
      const track = document.querySelector<HTMLVideoElement>('video.htmlvideoplayer')!.addTextTrack('subtitles', 'English', 'en');
      track.mode = 'showing';
      track.addCue(new VTTCue(0, 3600, 'Shown by Jellyfin'));
    });
    const { detail, after } = await switched;
    const session = await playSessionId(page);
    expect(session).toMatch(/^[0-9a-f]{32}$/);

    // Jellyfin's player let go of the element; Upflow's plays it, upscaled, where the viewer was.
    expect(detail.engine).toBe('jellyfin-hls.js');
    expect(Math.abs(after.position - detail.before.positionSeconds)).toBeLessThanOrEqual(0.5);
    expect(after).toMatchObject({ paused: false });
    expect([after.videoWidth, after.videoHeight]).toEqual([SOURCE.width * 2, SOURCE.height * 2]);
    expect(await page.evaluate(() => (window as unknown as PageGlobals).jellyfinStandIn.harness.hlsPlayer?.media ?? null)).toBeNull();

    // Jellyfin's transcode for this play session was stopped, with the viewer's token, and
    // nothing asks Jellyfin for its segments while the upscaled stream plays.
    const stop = await waitFor('the ActiveEncodings DELETE', async () => transcoder.stops.find((s) => s.playSessionId === session), 5000, 100);
    expect(stop).toMatchObject({ deviceId: 'stand-in-browser', token: VIEWER_TOKEN, accepted: true });
    expect(transcoder.running.has(session!)).toBe(false);
    const played = await playFor(page, 4);
    expect(played.advanced).toBeGreaterThan(3.5);
    expect(await subtitleShown(page)).toEqual({ mode: 'showing', cue: 'Shown by Jellyfin' });
    expect(transcoder.segmentRequests.filter((r) => r.playSessionId === session && r.at > stop.at)).toEqual([]);

    // "Back to original": Jellyfin's own player takes the element again where the viewer is,
    // and Jellyfin transcodes again from there.
    const back = nextUpflowEvent(page, 'original');
    await page.evaluate(() => (window as unknown as PageGlobals).Upflow.switchToOriginal());
    const restored = await back;
    expect(restored.after.videoHeight).toBe(SOURCE.height);
    expect(Math.abs(restored.after.position - (await videoFacts(page)).position)).toBeLessThan(1.5);
    const resumedAt = restored.after.position;
    expect(await page.evaluate(() => (window as unknown as PageGlobals).jellyfinStandIn.harness.hlsPlayer?.media !== null)).toBe(true);
    const again = await playFor(page, 3);
    expect(again.advanced).toBeGreaterThan(2.5);
    expect(await subtitleShown(page)).toEqual({ mode: 'showing', cue: 'Shown by Jellyfin' });
    const asked = transcoder.segmentRequests.filter((r) => r.playSessionId === session && r.at > stop.at);
    expect(asked.length).toBeGreaterThan(0);
    // From the viewer's position, not from 0:00 (3 s segments).
    expect(asked[0]!.index).toBe(Math.floor(resumedAt / 3));
    expect((await scriptState(page))?.mode).toBe('original');

    // The player closes: jellyfin-web destroys its player, the script lets go, nothing breaks.
    await page.evaluate(() => (window as unknown as PageGlobals).jellyfinStandIn.stop());
    expect(await scriptState(page)).toBeNull();
    const hlsErrors = await page.evaluate(() => (window as unknown as PageGlobals).jellyfinStandIn.harness.hlsErrors);
    expect(hlsErrors.filter((e) => e.fatal)).toEqual([]);
    // Upflow.stop(): window.Hls is jellyfin-web's class again, not the script's Proxy (which V8 prints as native code).
    const hlsSource = () => page.evaluate(() => Function.prototype.toString.call((window as unknown as { Hls: unknown }).Hls));
    expect(await hlsSource()).toMatch(/native code/);
    await page.evaluate(() => (window as unknown as PageGlobals).Upflow.stop());
    expect(await hlsSource()).not.toMatch(/native code/);
    expect(pageErrors).toEqual([]);
    expect(scriptErrors(messages)).toEqual([]);
  }, 120_000);

  it('resumed at 60 %: switches there within seconds; a seek back to a part not made yet stays on the upscaled stream and plays on there', async () => {
    const { page, pageErrors } = await openTranscode(RESUME_ITEM);
    const switched = nextUpflowEvent(page, 'switched');
    const pressed = Date.now();
    await playOriginal(page, 54);
    const { detail, after } = await switched;
    const seconds = (Date.now() - pressed) / 1000;
    expect(detail.before.positionSeconds).toBeGreaterThanOrEqual(54);
    expect(after.position).toBeGreaterThanOrEqual(54);
    expect(after.videoHeight).toBe(SOURCE.height * 2);
    // ffmpeg alone makes the first segments there in about a second (docs/benchmarks.md); the
    // switch came 2.6 s after play here, on a quiet machine.
    expect(seconds).toBeLessThan(8);

    // Back to 0:20, which is made last (from the viewer on to the end first): the player waits
    // there for the segment, which Upflow makes next, on the upscaled stream.
    const target = 20;
    const state = await scriptState(page);
    expect(state?.mode).toBe('upscaled');
    expect(state?.status?.ready.some(([from, to]) => from <= target && target < to)).toBe(false);
    // jellyfin-web seeks an HLS stream on the element itself.
    await page.evaluate((at) => {
      document.querySelector<HTMLVideoElement>('video.htmlvideoplayer')!.currentTime = at;
    }, target);
    const playing = await waitFor('playing on at the new position', async () => {
      const facts = await videoFacts(page);
      return facts.position > target + 1 && !facts.paused ? facts : undefined;
    }, 20_000, 200);
    expect(playing.videoHeight).toBe(SOURCE.height * 2);
    expect((await scriptState(page))?.mode).toBe('upscaled');
    const events = await page.evaluate(() => (window as unknown as PageGlobals).jellyfinStandIn.harness.events);
    expect(events.filter((e) => e.type === 'loadstart').length).toBe(2); // Jellyfin's source, then Upflow's: no way back
    expect(pageErrors).toEqual([]);
  }, 60_000);

  it("with a token Jellyfin refuses, or for an item the viewer may not see, nothing starts and the script says why", async () => {
    const refusedItemStatus = async () => (await upflow.api<{ status: string }>('GET', `/items/${REFUSED_ITEM}/status`)).json.status;
    for (const [token, reason] of [
      ['forged-token-0123456789', /Upflow: Jellyfin did not accept the viewer's token/],
      [KID_TOKEN, new RegExp(`Upflow: this Jellyfin user may not play item ${REFUSED_ITEM}`)],
    ] as const) {
      // Direct play: the stand-in serves the file whatever the token; only Upflow's answer is tested here.
      const { page, pageErrors } = await openTranscode(REFUSED_ITEM, { viewerToken: token, transcode: false });
      await playOriginal(page);
      const stopped = await waitFor('the script to stop asking', async () => (await scriptState(page))?.stoppedBecause ?? undefined, 10_000, 100);
      expect(stopped).toMatch(reason);
      expect((await scriptState(page))?.mode).toBe('original');
      expect(await refusedItemStatus()).toBe('not_started');
      expect(pageErrors).toEqual([]);
      await page.context().close();
    }
    // The same item with the viewer's token who may see it starts.
    const { page } = await openTranscode(REFUSED_ITEM, { transcode: false });
    await playOriginal(page);
    await waitFor('the upscale to start', async () => ((await refusedItemStatus()) !== 'not_started' ? true : undefined), 10_000, 100);
    // The page was never given Upflow's key.
    expect(await page.content()).not.toContain(API_KEY);
  }, 60_000);
});
