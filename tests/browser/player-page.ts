/**
 * Reading the reproduced jellyfin-web player page (tests/support/jellyfin-web.ts) from the
 * test process: what the page exposes, and the few reads the browser tests and the switch
 * benchmark both make.
 */
import type { Page } from 'playwright-core';

/** A media event the page's harness recorded on the player element (page clock, ms). */
export interface HarnessEvent {
  type: string;
  at: number;
  position: number;
  src: string;
}

/** The player element's state at one moment. */
export interface VideoFacts {
  at: number;
  position: number;
  paused: boolean;
  volume: number;
  muted: boolean;
  playbackRate: number;
  videoWidth: number;
  videoHeight: number;
  src: string;
}

/** `window.Upflow.state()`, the parts the tests read. */
export interface ScriptState {
  itemId: string;
  mode: string;
  engine: string | null;
  status: { status: string; rate: number | null; ready: [number, number][] } | null;
  stoppedBecause: string | null;
}

/** What the page exposes (its jellyfin-web stand-in) and the script's namespace. */
export interface PageGlobals {
  jellyfinStandIn: {
    /** Plays the page's item from the start, or resumes at `startSeconds` as Jellyfin does. */
    play(startSeconds?: number): HTMLVideoElement;
    stop(): void;
    facts(): VideoFacts;
    harness: {
      events: HarnessEvent[];
      /** Transcode mode: hls.js errors of Jellyfin's player, its play session, the player itself. */
      hlsErrors: { details: string; fatal: boolean }[];
      playSessionId: string | null;
      hlsPlayer: { media: HTMLMediaElement | null } | null;
    };
  };
  Upflow: { state(): ScriptState | null; switchToOriginal(): Promise<void>; switchToUpscaled(): Promise<void>; stop(): Promise<void> };
}

/** Starts playback of the page's item, as pressing play (or resume at `startSeconds`) in Jellyfin does. */
export async function playOriginal(page: Page, startSeconds = 0): Promise<void> {
  await page.evaluate((seconds) => {
    (window as unknown as PageGlobals).jellyfinStandIn.play(seconds);
  }, startSeconds);
}

export function videoFacts(page: Page): Promise<VideoFacts> {
  return page.evaluate(() => (window as unknown as PageGlobals).jellyfinStandIn.facts());
}

export function scriptState(page: Page): Promise<ScriptState | null> {
  return page.evaluate(() => (window as unknown as PageGlobals).Upflow.state());
}

export function harnessEvents(page: Page): Promise<HarnessEvent[]> {
  return page.evaluate(() => (window as unknown as PageGlobals).jellyfinStandIn.harness.events);
}

export interface SwitchEvent {
  detail: { engine: string; live: boolean; before: { positionSeconds: number; paused: boolean } };
  after: VideoFacts;
}

/** Resolves with the next `upflow:<name>` event's detail and the video's facts at that moment. */
export function nextUpflowEvent(page: Page, name: 'switched' | 'original'): Promise<SwitchEvent> {
  return page.evaluate(
    (eventName) =>
      new Promise<SwitchEvent>((resolve) => {
        window.addEventListener(`upflow:${eventName}`, (event) => {
          resolve({ detail: (event as CustomEvent).detail, after: (window as unknown as PageGlobals).jellyfinStandIn.facts() });
        }, { once: true });
      }),
    name,
  );
}

/** Plays on for `seconds` and returns how far the position moved and how often the player waited for data. */
export async function playFor(page: Page, seconds: number): Promise<{ advanced: number; waits: number }> {
  const start = await videoFacts(page);
  const before = (await harnessEvents(page)).length;
  await page.waitForTimeout(seconds * 1000);
  const end = await videoFacts(page);
  const waits = (await harnessEvents(page)).slice(before).filter((e) => e.type === 'waiting').length;
  return { advanced: end.position - start.position, waits };
}
