/**
 * Knows every hls.js player jellyfin-web makes. jellyfin-web loads hls.js lazily, sets it as
 * `window.Hls`, calls `new Hls(…)`, `loadSource('/videos/{id}/master.m3u8?…')`,
 * `attachMedia(video)` and keeps the player to itself (htmlVideoPlayer's `_hlsPlayer`). So the
 * script puts a Proxy in `window.Hls` (now, or when jellyfin-web sets it) that records each
 * player and says when one attaches to an element; taking over a transcode is then detaching
 * Jellyfin's player, and giving it back attaching it again (stream-switcher.ts).
 */
import type BundledHls from 'hls.js';

export type HlsClass = typeof BundledHls;
export type HlsPlayer = InstanceType<HlsClass>;

export function isHlsClass(value: unknown): value is HlsClass {
  return typeof value === 'function' && typeof (value as Partial<HlsClass>).isSupported === 'function';
}

export class JellyfinHls {
  private readonly players = new Set<HlsPlayer>();
  /** The class jellyfin-web loaded, unwrapped: the script's own players are not Jellyfin's. */
  private loaded: HlsClass | undefined;
  private ownAttach = false;
  /** After `uninstall`: players made before it tell nothing any more. */
  private stopped = false;
  private restore: (() => void) | undefined;

  constructor(
    /** One of Jellyfin's players is about to attach to `media` (a new item, another audio track…). */
    private readonly onJellyfinAttach: (player: HlsPlayer, media: HTMLMediaElement) => void,
  ) {}

  /** Wraps `window.Hls`, now if it is there, and whenever the page sets it. */
  install(win: Window & { Hls?: unknown }): void {
    let set: unknown = win.Hls;
    let current: unknown = this.wrap(set);
    Object.defineProperty(win, 'Hls', {
      configurable: true,
      enumerable: true,
      get: () => current,
      set: (value: unknown) => {
        set = value;
        current = this.wrap(value);
      },
    });
    this.restore = () => Object.defineProperty(win, 'Hls', { configurable: true, enumerable: true, writable: true, value: set });
  }

  /** `window.Hls` is what the page set again, and Jellyfin's players go their own way (`Upflow.stop()`). */
  uninstall(): void {
    this.stopped = true;
    this.restore?.();
    this.restore = undefined;
    this.players.clear();
  }

  /** The hls.js class the page loaded, if it did (unwrapped). */
  hlsClass(): HlsClass | undefined {
    return this.loaded;
  }

  /** Jellyfin's player attached to `media`, if one is. */
  playerOf(media: HTMLMediaElement): HlsPlayer | undefined {
    for (const player of this.players) if (player.media === media) return player;
    return undefined;
  }

  /** Puts Jellyfin's player back on the element without it counting as Jellyfin's own move. */
  reattach(player: HlsPlayer, media: HTMLMediaElement): void {
    this.ownAttach = true;
    try {
      player.attachMedia(media);
    } finally {
      this.ownAttach = false;
    }
  }

  private wrap(value: unknown): unknown {
    if (!isHlsClass(value) || value === this.loaded) return value;
    this.loaded = value;
    const track = (player: HlsPlayer) => this.track(player);
    return new Proxy(value, {
      construct(target, args, newTarget) {
        const player = Reflect.construct(target, args, newTarget) as HlsPlayer;
        track(player);
        return player;
      },
    });
  }

  private track(player: HlsPlayer): void {
    this.players.add(player);
    const attach = player.attachMedia.bind(player);
    const destroy = player.destroy.bind(player);
    player.attachMedia = (data) => {
      const media = data instanceof HTMLMediaElement ? data : data.media;
      if (!this.ownAttach && !this.stopped) this.onJellyfinAttach(player, media);
      attach(data);
    };
    player.destroy = () => {
      this.players.delete(player);
      destroy();
    };
  }
}
