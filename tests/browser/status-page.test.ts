/**
 * The status page (`GET /`) in Debian's Chromium against the real Upflow stack (Temporal,
 * Postgres, ffmpeg; lanczos, the fast ffmpeg-only mode): a finished and a failed title are
 * listed, a stream being made appears and grows across polls without a reload and plays in the
 * page with the bundled hls.js at the upscaled size, a queued job is cancelled from the page,
 * the API vanishing shows a banner that goes away by itself, and a finished stream plays too.
 * Then, with `GET /jobs` answers altered on their way in: escaping, the slow-rate warning, the
 * HLS-removed note, and a phone's width.
 * `UPFLOW_SCREENSHOT_DIR=docs npx jest tests/browser` refreshes docs/status-page.png.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, openPage, scriptErrors, type WatchedPage } from '../support/browser';
import { makeClip } from '../support/fixtures';
import { startUpflow, stopAndRemove, waitFor, type UpflowProcess } from '../support/upflow-process';

const FINISHED_SOURCE = { width: 320, height: 180, seconds: 4 };
/** Long and large enough that lanczos on 2 cores is still making it while the page is looked at. */
const LIVE_SOURCE = { width: 640, height: 360, seconds: 120 };

/** One title's row as the page shows it; hidden parts are null. */
interface RowFacts {
  name: string;
  state: string;
  label: string;
  percent: string | null;
  barPercent: number;
  segments: number;
  rate: string | null;
  slow: boolean;
  model: string | null;
  eta: string | null;
  finished: string | null;
  reason: string | null;
  note: string | null;
  play: string | null;
  cancel: boolean;
  playing: boolean;
}

interface PlayerFacts {
  visible: boolean;
  heading: string;
  currentTime: number;
  videoWidth: number;
  videoHeight: number;
  paused: boolean;
  src: string;
}

function rowFacts(page: Page, titleKey: string): Promise<RowFacts | null> {
  return page.evaluate((key) => {
    const row = document.querySelector<HTMLElement>(`#titles li.title[data-title="${CSS.escape(key)}"]`);
    if (!row) return null;
    const shown = (selector: string): string | null => {
      const el = row.querySelector<HTMLElement>(selector);
      return el && !el.hidden ? el.textContent : null;
    };
    const fill = row.querySelector<HTMLElement>('.bar > span')!;
    return {
      name: row.querySelector('.name')!.textContent ?? '',
      state: row.dataset.state ?? '',
      label: row.querySelector('.state')!.textContent ?? '',
      percent: shown('.percent'),
      barPercent: parseFloat(fill.style.width),
      segments: parseInt(shown('.segments') ?? '0', 10),
      rate: shown('.rate'),
      slow: row.querySelector('.rate')!.classList.contains('slow'),
      model: shown('.model'),
      eta: shown('.eta'),
      finished: shown('.finished'),
      reason: shown('.reason'),
      note: shown('.note'),
      play: shown('button.play'),
      cancel: shown('button.cancel') !== null,
      playing: row.classList.contains('playing'),
    };
  }, titleKey);
}

function playerFacts(page: Page): Promise<PlayerFacts> {
  return page.evaluate(() => {
    const video = document.querySelector<HTMLVideoElement>('#video')!;
    return {
      visible: !document.querySelector<HTMLElement>('#player')!.hidden,
      heading: document.querySelector('#player-title')!.textContent ?? '',
      currentTime: video.currentTime,
      videoWidth: video.videoWidth,
      videoHeight: video.videoHeight,
      paused: video.paused,
      src: video.currentSrc,
    };
  });
}

/** The row once `accept` says it is what the test waits for (polls the page, not the API). */
function rowWhen(page: Page, titleKey: string, what: string, accept: (row: RowFacts) => boolean, timeoutMs = 30_000): Promise<RowFacts> {
  return waitFor(what, async () => {
    const row = await rowFacts(page, titleKey);
    return row && accept(row) ? row : undefined;
  }, timeoutMs, 200);
}

/** Plays until the position has moved `seconds` past where it was when asked. */
async function playsOn(page: Page, seconds: number): Promise<PlayerFacts> {
  const start = (await playerFacts(page)).currentTime;
  return waitFor(`playback to move ${seconds} s`, async () => {
    const facts = await playerFacts(page);
    return facts.currentTime >= start + seconds ? facts : undefined;
  }, 20_000, 200);
}

describe('the status page in Chromium (real Upflow stack)', () => {
  let upflow: UpflowProcess;
  let browser: Browser;
  let watched: WatchedPage;
  let page: Page;
  const keys = { finished: '', failed: '', live: '', long: '' };
  const jobIds = { live: '', long: '' };
  const clips = { live: '', long: '' };

  const api = <T>(method: string, route: string, body?: unknown) => upflow.api<T>(method, route, body);
  const trigger = async (file: string, name: string) => {
    const answer = await api<{ title_key: string; job_id: string }>('POST', '/upscale-trigger', { Item: { Path: file, Name: name } });
    expect(answer.status).toBe(202);
    return answer.json;
  };
  const jobState = async (jobId: string) => (await api<{ state: string }>('GET', `/jobs/${jobId}`)).json.state;

  beforeAll(async () => {
    // SRGAN_ENABLE unset: ffmpeg's lanczos, the quick mode; 2 s segments so the list moves often.
    upflow = await startUpflow({ HLS_SEGMENT_TIME: '2' });
    const finishedClip = await makeClip(path.join(upflow.mediaDir, 'Big Buck Bunny.mp4'), FINISHED_SOURCE);
    clips.live = await makeClip(path.join(upflow.mediaDir, 'Sintel.mp4'), LIVE_SOURCE);
    // The job to cancel waits behind the live one (one encode at a time): a copy will do.
    clips.long = path.join(upflow.mediaDir, 'Tears of Steel.mp4');
    fs.copyFileSync(clips.live, clips.long);
    const notAVideo = path.join(upflow.mediaDir, 'Elephants Dream.mkv');
    fs.writeFileSync(notAVideo, 'this is not a video\n'.repeat(50));

    const finished = await trigger(finishedClip, 'Big Buck Bunny');
    const failed = await trigger(notAVideo, 'Elephants Dream');
    keys.finished = finished.title_key;
    keys.failed = failed.title_key;
    await waitFor('the short title to complete', async () => ((await jobState(finished.job_id)) === 'complete' ? true : undefined), 60_000, 200);
    await waitFor('the bad input to fail', async () => ((await jobState(failed.job_id)) === 'failed' ? true : undefined), 60_000, 200);
    browser = await launchChromium();
    watched = await openPage(browser);
    page = watched.page;
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await stopAndRemove(upflow);
  });

  afterEach(() => {
    expect(watched?.pageErrors ?? []).toEqual([]);
    expect(scriptErrors(watched?.console ?? [])).toEqual([]);
  });

  it('lists a finished and a failed title', async () => {
    const answer = await fetch(`${upflow.apiUrl}/`);
    expect(answer.headers.get('content-type')).toMatch(/^text\/html/);
    await page.goto(`${upflow.apiUrl}/`);
    await page.evaluate(() => ((window as unknown as { loadedOnce: boolean }).loadedOnce = true));

    const finished = await rowWhen(page, keys.finished, 'the finished row', () => true, 10_000);
    expect(finished).toMatchObject({
      name: 'Big Buck Bunny', state: 'complete', label: 'complete', percent: '100%', barPercent: 100,
      play: 'Play', cancel: false, eta: null, reason: null, note: null, model: 'lanczos ×2 → 640×360',
    });
    expect(finished.segments).toBeGreaterThanOrEqual(2);
    expect(finished.finished).toMatch(/^finished /);
    const failed = (await rowFacts(page, keys.failed))!;
    // Stopped before its first segment: no bar or figures, the reason instead.
    expect(failed).toMatchObject({ name: 'Elephants Dream', state: 'failed', percent: null, segments: 0, model: null, play: null, cancel: false });
    expect(failed.reason).toMatch(/Elephants Dream\.mkv is not a readable video/);
    await expect(page.locator('#summary').textContent()).resolves.toMatch(/^2 titles · 0 running · updated /);
    await expect(page.locator('#banner').isVisible()).resolves.toBe(false);
  });

  it('shows a stream being made as soon as it starts, and its segments and progress grow across polls without a reload', async () => {
    const live = await trigger(clips.live, 'Sintel');
    keys.live = live.title_key;
    jobIds.live = live.job_id;
    const first = await rowWhen(page, keys.live, 'the live row with a segment', (r) => r.state === 'streaming' && r.segments >= 1);
    // Started once the live one holds the encoder (one at a time), so this one waits behind it.
    const long = await trigger(clips.long, 'Tears of Steel');
    keys.long = long.title_key;
    jobIds.long = long.job_id;

    const later = await rowWhen(page, keys.live, 'more segments on the page', (r) => r.segments >= first.segments + 2 && r.barPercent > first.barPercent);
    expect(later.state).toBe('streaming');
    expect(Number(later.percent!.replace('%', ''))).toBeGreaterThan(0);
    expect(later.rate).toMatch(/^\d+\.\d\dx$/); // lanczos runs faster than real time: no warning
    expect(later.slow).toBe(false);
    expect(later.eta).toMatch(/^ETA \d+:\d\d$/);
    expect(later.model).toBe('lanczos ×2 → 1280×720');
    expect(later).toMatchObject({ play: 'Play', cancel: true, finished: null });
    // The page is the one loaded in the first test: updated in place, never reloaded.
    expect(await page.evaluate(() => (window as unknown as { loadedOnce?: boolean }).loadedOnce)).toBe(true);
    // The queued one is listed too, waiting for the encoder, and can be cancelled.
    const queued = await rowWhen(page, keys.long, 'the queued row', () => true, 10_000);
    expect(queued).toMatchObject({ name: 'Tears of Steel', segments: 0, cancel: true, play: null });
  }, 60_000);

  it('Play plays the growing stream in the page with hls.js, at the upscaled size', async () => {
    await page.locator(`li.title[data-title="${keys.live}"] button.play`).click();
    const playing = await playsOn(page, 2);
    expect(playing).toMatchObject({ visible: true, paused: false, videoWidth: LIVE_SOURCE.width * 2, videoHeight: LIVE_SOURCE.height * 2 });
    expect(playing.src).toMatch(/^blob:/); // Media Source Extensions: hls.js, not the browser's own HLS
    expect(playing.heading).toBe('Sintel — live, still being upscaled');
    expect(await rowFacts(page, keys.live)).toMatchObject({ playing: true, play: 'Playing' });
    // The list keeps updating while it plays, and the player plays on.
    const before = (await rowFacts(page, keys.live))!;
    await rowWhen(page, keys.live, 'a poll while playing', (r) => r.segments > before.segments || r.state !== 'streaming');
    await playsOn(page, 1);
  }, 60_000);

  it('cancels a job from the page after a confirmation: its row and the API say cancelled', async () => {
    const dialog = new Promise<string>((resolve) => {
      page.once('dialog', (d) => {
        resolve(d.message());
        void d.accept();
      });
    });
    await page.locator(`li.title[data-title="${keys.long}"] button.cancel`).click();
    expect(await dialog).toMatch(/^Cancel upscaling “Tears of Steel”\?/);
    const cancelled = await rowWhen(page, keys.long, 'the row to say cancelled', (r) => r.state === 'cancelled');
    expect(cancelled).toMatchObject({ label: 'cancelled', cancel: false, play: null, percent: null });
    expect(cancelled.finished).toMatch(/^cancelled /);
    expect(await jobState(jobIds.long)).toBe('cancelled');
    expect(await jobState(jobIds.live)).not.toBe('cancelled');
    await playsOn(page, 1);

    // A moment worth a picture: one stream playing while it is made, one finished, one failed, one cancelled.
    const live = await rowFacts(page, keys.live);
    if (live?.state !== 'streaming') console.warn(`status-page screenshot: the live stream is already ${live?.state}`);
    await page.setViewportSize({ width: 1000, height: 900 });
    await playsOn(page, 1);
    await page.screenshot({ path: path.join(process.env.UPFLOW_SCREENSHOT_DIR ?? upflow.dir, 'status-page.png'), fullPage: true });
    await page.setViewportSize({ width: 1280, height: 720 });
  }, 60_000);

  it('says so in a banner when the API cannot be reached, keeps playing, and recovers by itself', async () => {
    await page.route(`${upflow.apiUrl}/jobs`, (route) => route.abort('connectionrefused'));
    const banner = page.locator('#banner');
    await banner.waitFor({ state: 'visible', timeout: 10_000 });
    expect(await banner.textContent()).toMatch(/^Cannot reach Upflow at 127\.0\.0\.1:\d+ \(.+\)\. Retrying every 2 s\. The list below is from /);
    expect(await page.locator('#titles li.title').count()).toBe(4);
    await playsOn(page, 1);
    await page.unroute(`${upflow.apiUrl}/jobs`);
    await banner.waitFor({ state: 'hidden', timeout: 10_000 });
    await expect(page.locator('#summary').textContent()).resolves.toMatch(/^4 titles · [01] running · updated /);
  }, 30_000);

  it('plays a finished stream', async () => {
    await page.locator(`li.title[data-title="${keys.finished}"] button.play`).click();
    await waitFor('the finished stream to load', async () => ((await playerFacts(page)).heading === 'Big Buck Bunny' ? true : undefined), 5000);
    const playing = await playsOn(page, 1.5);
    expect(playing).toMatchObject({ paused: false, videoWidth: FINISHED_SOURCE.width * 2, videoHeight: FINISHED_SOURCE.height * 2 });
    expect(await rowFacts(page, keys.finished)).toMatchObject({ playing: true, play: 'Playing' });
    expect(await rowFacts(page, keys.live)).toMatchObject({ playing: false, play: 'Play' });
    // To the end: the whole finished playlist is there.
    await waitFor('the end of the finished stream', async () => (await page.evaluate(() => document.querySelector<HTMLVideoElement>('#video')!.ended)) || undefined, 15_000, 200);
    await page.locator('#player-close').click();
    expect((await playerFacts(page)).visible).toBe(false);
  }, 40_000);

  it('follows the live stream to its end: complete, 100 %, when it finished', async () => {
    const done = await rowWhen(page, keys.live, 'the live title to complete', (r) => r.state === 'complete', 120_000);
    expect(done).toMatchObject({ percent: '100%', barPercent: 100, cancel: false, play: 'Play', eta: null });
    expect(done.finished).toMatch(/^finished /);
    await expect(page.locator('#summary').textContent()).resolves.toMatch(/^4 titles · 0 running · /);
  }, 130_000);

  it('escapes names, warns about a slow stream, says when the HLS was removed, and fits a phone', async () => {
    // The real `GET /jobs` answer with three things this run did not produce: a name made of
    // markup, a stream below real time, and a finished stream whose HLS retention removed.
    const phone = await openPage(browser);
    await phone.page.setViewportSize({ width: 375, height: 740 });
    await phone.page.route(`${upflow.apiUrl}/jobs`, async (route) => {
      const response = await route.fetch();
      const body = (await response.json()) as { jobs: Array<Record<string, unknown>> };
      for (const job of body.jobs) {
        if (job.titleKey === keys.finished) Object.assign(job, { name: '<img src=x onerror="window.injected=1"> & "Friends"', hlsUrl: null, hlsRemovedAt: new Date().toISOString() });
        if (job.titleKey === keys.live) Object.assign(job, { state: 'streaming', rate: 0.84, etaSeconds: 95, finishedAt: null, percent: 40 });
      }
      await route.fulfill({ response, json: body });
    });
    await phone.page.goto(`${upflow.apiUrl}/`);
    const renamed = await rowWhen(phone.page, keys.finished, 'the crafted finished row', () => true, 10_000);
    expect(renamed).toMatchObject({ name: '<img src=x onerror="window.injected=1"> & "Friends"', play: null });
    expect(renamed.note).toMatch(/HLS stream removed after the retention period/);
    expect(await phone.page.locator('#titles img').count()).toBe(0);
    expect(await phone.page.evaluate(() => (window as unknown as { injected?: number }).injected)).toBeUndefined();
    const slow = (await rowFacts(phone.page, keys.live))!;
    expect(slow).toMatchObject({ slow: true, rate: '⚠ 0.84x', eta: 'ETA 1:35', cancel: true });
    // Nothing wider than the phone: no sideways scrolling.
    expect(await phone.page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375);
    expect(phone.pageErrors).toEqual([]);
    expect(scriptErrors(phone.console)).toEqual([]);
    await phone.page.context().close();
  }, 30_000);
});

describe('the status page of an Upflow with UPFLOW_API_KEY (Chromium, real stack)', () => {
  const API_KEY = 'status-page-key-0123456789';
  let upflow: UpflowProcess;
  let browser: Browser;
  let watched: WatchedPage;
  let page: Page;
  let finishedKey = '';
  let queued = { titleKey: '', jobId: '' };
  /** Every prompt the page shows, answered in turn from `answers`. */
  const prompts: string[] = [];
  let answers: string[] = [];
  /** The page's requests to the API: where the key went. */
  const requests: Array<{ url: string; key: string | undefined }> = [];

  beforeAll(async () => {
    upflow = await startUpflow({ UPFLOW_API_KEY: API_KEY, HLS_SEGMENT_TIME: '2' });
    const finished = await makeClip(path.join(upflow.mediaDir, 'Big Buck Bunny.mp4'), FINISHED_SOURCE);
    const answer = await upflow.api<{ title_key: string; job_id: string }>('POST', '/upscale-trigger', { Item: { Path: finished, Name: 'Big Buck Bunny' } });
    finishedKey = answer.json.title_key;
    await waitFor('the title to complete', async () => ((await upflow.api<{ state: string }>('GET', `/jobs/${answer.json.job_id}`)).json.state === 'complete' ? true : undefined), 60_000, 200);
    browser = await launchChromium();
    watched = await openPage(browser);
    page = watched.page;
    page.on('dialog', (dialog) => {
      prompts.push(`${dialog.type()}: ${dialog.message()}`);
      void (dialog.type() === 'prompt' ? dialog.accept(answers.shift() ?? '') : dialog.accept());
    });
    page.on('request', (request) => {
      if (request.url().startsWith(`${upflow.apiUrl}/jobs`)) requests.push({ url: request.url(), key: request.headers()['x-api-key'] });
    });
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await stopAndRemove(upflow);
  });

  afterEach(() => {
    expect(watched?.pageErrors ?? []).toEqual([]);
    expect(scriptErrors(watched?.console ?? []).filter((e) => !/status of 401/.test(e.text))).toEqual([]);
  });

  it('asks for the key once, and says so plainly when it is wrong, without asking again', async () => {
    answers = ['not-the-key'];
    await page.goto(`${upflow.apiUrl}/`);
    const banner = page.locator('#banner');
    await banner.waitFor({ state: 'visible', timeout: 10_000 });
    expect(await banner.textContent()).toBe("The API key is wrong: Upflow refused it. Reload the page to enter it again (UPFLOW_API_KEY in Upflow's settings).");
    expect(await page.locator('#summary').textContent()).toBe('wrong API key');
    expect(prompts).toEqual([`prompt: this request reads Upflow's jobs or settings and needs the API key (UPFLOW_API_KEY): send it as the X-Api-Key header or ?api_key=.\n\nUpflow's API key (UPFLOW_API_KEY):`]);
    // No prompt loop, no polling on: one refused request without the key, one with the wrong one.
    await page.waitForTimeout(2500);
    expect(prompts).toHaveLength(1);
    expect(requests.map((r) => r.key)).toEqual([undefined, 'not-the-key']);
    expect(await page.locator('#titles li.title').count()).toBe(0);
  });

  it('with the right key after a reload: lists the titles, sends the key as a header (never in a URL) and keeps it for the tab', async () => {
    answers = [API_KEY];
    requests.length = 0;
    await page.reload();
    await rowWhen(page, finishedKey, 'the finished row', () => true, 10_000);
    expect(prompts).toHaveLength(2);
    await expect(page.locator('#banner').isVisible()).resolves.toBe(false);
    await waitFor('a few polls', async () => (requests.length >= 3 ? true : undefined), 10_000, 200);
    expect(requests.slice(1).every((r) => r.key === API_KEY && !r.url.includes(API_KEY))).toBe(true);
    // Kept for the tab: a reload does not ask.
    await page.reload();
    await rowWhen(page, finishedKey, 'the finished row again', () => true, 10_000);
    expect(prompts).toHaveLength(2);
  });

  it('cancels with the key it has, without asking', async () => {
    // A long title and one behind it (one encode at a time): the one behind waits in line.
    const live = await makeClip(path.join(upflow.mediaDir, 'Sintel.mp4'), LIVE_SOURCE);
    const behind = path.join(upflow.mediaDir, 'Tears of Steel.mp4');
    fs.copyFileSync(live, behind);
    const first = await upflow.api<{ job_id: string }>('POST', '/upscale-trigger', { Item: { Path: live, Name: 'Sintel' } });
    const second = await upflow.api<{ title_key: string; job_id: string }>('POST', '/upscale-trigger', { Item: { Path: behind, Name: 'Tears of Steel' } });
    queued = { titleKey: second.json.title_key, jobId: second.json.job_id };
    await rowWhen(page, queued.titleKey, 'the waiting row with its cancel button', (r) => r.cancel, 30_000);
    await page.locator(`li.title[data-title="${queued.titleKey}"] button.cancel`).click();
    await rowWhen(page, queued.titleKey, 'the row to say cancelled', (r) => r.state === 'cancelled');
    expect(prompts.slice(2)).toEqual(['confirm: Cancel upscaling “Tears of Steel”?\n\nThe stream stops and the partial upscaled file is removed.']);
    expect((await upflow.api<{ state: string }>('GET', `/jobs/${queued.jobId}`)).json.state).toBe('cancelled');
    expect((await upflow.api('POST', `/jobs/${first.json.job_id}/cancel`)).status).toBe(202);
  }, 60_000);
});
