/**
 * Finds jellyfin-web's video player and the item it plays, by watching the page (a
 * MutationObserver on elements and `src` attributes), not by polling on a timer.
 */
import { itemIdFromPlayerUrl } from '../../core/jellyfin-items';

/** jellyfin-web's HTML video player: `<video class="htmlvideoplayer">` inside its container. */
export const PLAYER_SELECTOR = 'div.videoPlayerContainer video.htmlvideoplayer';

export interface PlayingItem {
  itemId: string;
  /** The source as a URL that can be set back on the element (direct play, native HLS). */
  restorableUrl: string | undefined;
}

/**
 * The item the element plays. Direct play and native HLS put a `/Videos/{id}/…` URL in `src`.
 * With Jellyfin's hls.js (a transcode in Chrome or Firefox) `src` is a blob: URL; the
 * playlist it loaded, `/videos/{id}/master.m3u8`, is then the newest such resource the page
 * fetched.
 */
export function playingItem(video: HTMLVideoElement): PlayingItem | undefined {
  const src = video.getAttribute('src') ?? '';
  const itemId = itemIdFromPlayerUrl(src);
  if (itemId) return { itemId, restorableUrl: src };
  if (!src.startsWith('blob:')) return undefined;
  const resources = performance.getEntriesByType('resource');
  for (let i = resources.length - 1; i >= 0; i--) {
    const fromPlaylist = itemIdFromPlayerUrl(resources[i]!.name);
    if (fromPlaylist) return { itemId: fromPlaylist, restorableUrl: undefined };
  }
  return undefined;
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
