/**
 * Upflow's script for jellyfin-web: when the player plays an item, ask Upflow for its
 * upscaled stream and switch to it (or offer to) at the same position. Everything it exposes
 * lives under `window.Upflow`; settings come from `window.UpflowConfig` (see config.ts).
 */
import { itemIdFromPlayerUrl } from '../../core/jellyfin-items';
import { resolveConfig, type UpflowClientConfig } from './config';
import { JellyfinHls } from './jellyfin-hls';
import { viewerDevice, viewerToken } from './jellyfin-server';
import { PlaybackSession, type SessionSummary } from './playback-session';
import { hlsPlayingItem, playingItem, PlayerWatcher, type PlayingItem } from './player-watcher';
import { UpflowApi } from './upflow-api';

declare const UPFLOW_VERSION: string; // set by client-js/build.ts

export interface UpflowNamespace {
  version: string;
  config: Readonly<UpflowClientConfig>;
  /** The current playback as the script sees it; null when no player is open. */
  state(): SessionSummary | null;
  switchToUpscaled(): Promise<void>;
  switchToOriginal(): Promise<void>;
  /** Stops watching the page; a viewer on the upscaled stream is first put back on the original, where they are. */
  stop(): Promise<void>;
}

declare global {
  interface Window {
    Upflow?: UpflowNamespace;
    UpflowConfig?: unknown;
    Hls?: unknown;
    /** jellyfin-web's API client (the logged-in viewer's). */
    ApiClient?: unknown;
  }
}

const log = (message: string) => console.info(`[upflow] ${message}`);

function install(): void {
  if (window.Upflow) {
    log('already loaded; ignoring a second copy');
    return;
  }
  const script = document.currentScript instanceof HTMLScriptElement ? document.currentScript.src : undefined;
  const { config, warnings } = resolveConfig(window.UpflowConfig, script);
  for (const warning of warnings) console.warn(`[upflow] ${warning}`);
  let session: PlaybackSession | undefined;
  const namespace: UpflowNamespace = {
    version: UPFLOW_VERSION,
    config: Object.freeze({ ...config }),
    state: () => session?.summary() ?? null,
    switchToUpscaled: () => session?.switchToUpscaled() ?? Promise.resolve(),
    switchToOriginal: () => session?.switchToOriginal() ?? Promise.resolve(),
    stop: () => Promise.resolve(),
  };
  window.Upflow = namespace;
  if (!config.apiUrl) {
    console.warn('[upflow] no API URL: set window.UpflowConfig = { apiUrl: "http://<upflow-host>:5000" } before loading this script');
    return;
  }

  const api = new UpflowApi(config.apiUrl, config.requestTimeoutMs, () => viewerToken(window), () => viewerDevice(window));
  const emit = (event: string, summary: SessionSummary, extra: Record<string, unknown> = {}) =>
    window.dispatchEvent(new CustomEvent(`upflow:${event}`, { detail: { ...summary, ...extra } }));
  const begin = (video: HTMLVideoElement, item: PlayingItem | undefined) => {
    if (!item) return;
    session = new PlaybackSession(video, item.itemId, item.original, { config, api, jellyfinHls, log, emit });
    session.start();
  };
  /** What Jellyfin now plays in `video`: the same item from another source, or another item. */
  const jellyfinPlays = (video: HTMLVideoElement, item: PlayingItem) => {
    if (session && session.video === video && session.itemId === item.itemId) {
      session.jellyfinSource(item.original);
      return;
    }
    session?.end();
    session = undefined;
    begin(video, item);
  };
  // jellyfin-web's hls.js: a transcode (or a new one for another audio track, another item) is
  // about to play in the player: take it from the player itself, before its blob: URL appears.
  const jellyfinHls = new JellyfinHls((player, media) => {
    const item = hlsPlayingItem(player);
    if (session && media === session.video && item) jellyfinPlays(session.video, item);
  });
  jellyfinHls.install(window);
  const watcher = new PlayerWatcher(
    (video) => {
      session?.end();
      session = undefined;
      if (video) begin(video, playingItem(video, jellyfinHls));
    },
    (video) => {
      const src = video.getAttribute('src') ?? '';
      // The script's own changes: a blob: URL of hls.js, the HLS URL itself, a cleared src.
      if (session?.ownsSourceChange() && !itemIdFromPlayerUrl(src)) return;
      const item = playingItem(video, jellyfinHls);
      if (!item) return; // cleared: Jellyfin is stopping, or about to set the next source
      jellyfinPlays(video, item);
    },
  );
  namespace.stop = async () => {
    await session?.switchToOriginal();
    watcher.stop();
    jellyfinHls.uninstall();
    session?.end();
    session = undefined;
  };
  watcher.start();
}

install();
