/**
 * Debian's Chromium, headless, driven by playwright-core: set-up installs /usr/bin/chromium,
 * and nothing is ever downloaded. Every console message and page error is kept for asserting.
 */
import { chromium, type Browser, type Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      // Jellyfin starts playback after the viewer's click; a test page has no click to give.
      '--autoplay-policy=no-user-gesture-required',
      '--mute-audio',
    ],
  });
}

export interface ConsoleEntry {
  type: string;
  text: string;
}

export interface WatchedPage {
  page: Page;
  console: ConsoleEntry[];
  pageErrors: string[];
}

export async function openPage(browser: Browser): Promise<WatchedPage> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 720 } });
  const page = await context.newPage();
  const watched: WatchedPage = { page, console: [], pageErrors: [] };
  page.on('console', (message) => watched.console.push({ type: message.type(), text: message.text() }));
  page.on('pageerror', (error) => watched.pageErrors.push(error.message));
  return watched;
}

/**
 * Console errors a page script caused. Chromium itself logs each failed request ("Failed to
 * load resource: net::ERR_CONNECTION_REFUSED") and no script can silence that: those are
 * left out, and a test that cares counts the requests instead.
 */
export function scriptErrors(entries: ConsoleEntry[]): ConsoleEntry[] {
  return entries.filter((e) => e.type === 'error' && !e.text.startsWith('Failed to load resource'));
}
