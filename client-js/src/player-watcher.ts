/**
 * Finds jellyfin-web's video player and the item it plays, by watching the page (a
 * MutationObserver on elements and `src` attributes), not by polling on a timer.
 */
import { itemIdFromPlayerUrl } from '../../core/jellyfin-items';
import type { HlsPlayer, JellyfinHls } from './jellyfin-hls';
import type { OriginalSource } from './stream-switcher';

/** jellyfin-web's HTML video player: `<video class="htmlvideoplayer">` inside its container. */
export const PLAYER_SELECTOR = 'div.videoPlayerContainer video.htmlvideoplayer';

export interface PlayingItem {
  itemId: string;
  /** What plays it, as the script can take it over and give it back; undefined when it cannot. */
  original: OriginalSource | undefined;
}

/**
 * The item the element plays. Direct play and native HLS put a `/Videos/{id}/…` URL in `src`.
 * With Jellyfin's hls.js (a transcode in Chrome or Firefox) `src` is a blob: URL, and the
 * player attached to the element loaded `/videos/{id}/master.m3u8`. A player made before the
 * script loaded is unknown to it: the newest such playlist the page fetched names the item.
 */
export function playingItem(video: HTMLVideoElement, jellyfinHls: JellyfinHls): PlayingItem | undefined {
  const src = video.getAttribute('src') ?? '';
  const itemId = itemIdFromPlayerUrl(src);
  if (itemId) return { itemId, original: { kind: 'url', url: src } };
  const player = jellyfinHls.playerOf(video);
  if (player) return hlsPlayingItem(player);
  if (!src.startsWith('blob:')) return undefined;
  const resources = performance.getEntriesByType('resource');
  for (let i = resources.length - 1; i >= 0; i--) {
    const fromPlaylist = itemIdFromPlayerUrl(resources[i]!.name);
    if (fromPlaylist) return { itemId: fromPlaylist, original: undefined };
  }
  return undefined;
}

/** The item one of Jellyfin's hls.js players plays, from the playlist it loads. */
export function hlsPlayingItem(player: HlsPlayer): PlayingItem | undefined {
  const itemId = itemIdFromPlayerUrl(player.url ?? '');
  return itemId ? { itemId, original: { kind: 'hls.js', player } } : undefined;
}

export class PlayerWatcher {
  private video: HTMLVideoElement | undefined;
  private readonly observer: MutationObserver;

  constructor(
    /** The player appeared, went away (undefined) or was replaced by another element. */
    private readonly onPlayer: (video: HTMLVideoElement | undefined) => void,
    /** The current player's `src` changed. */
    private readonly onSource: (video: HTMLVideoElement) => void,
  ) {
    this.observer = new MutationObserver((mutations) => this.check(mutations));
  }

  start(): void {
    this.observer.observe(document.documentElement, { childList: true, subtree: true, attributes: true, attributeFilter: ['src'] });
    this.check([]);
  }

  stop(): void {
    this.observer.disconnect();
    if (this.video) {
      this.video = undefined;
      this.onPlayer(undefined);
    }
  }

  private check(mutations: MutationRecord[]): void {
    const video = document.querySelector<HTMLVideoElement>(PLAYER_SELECTOR) ?? undefined;
    if (video !== this.video) {
      this.video = video;
      this.onPlayer(video);
      return;
    }
    if (video && mutations.some((m) => m.type === 'attributes' && m.target === video)) this.onSource(video);
  }
}
