/**
 * Moves Jellyfin's own `<video>` between its original source and Upflow's HLS stream, keeping
 * what the viewer set. The element stays Jellyfin's, so its on-screen controls, seek bar and
 * progress reports keep working on the upscaled picture (same timeline: both start at 0).
 */
import BundledHls from 'hls.js';
import { isHlsClass, type HlsClass, type HlsPlayer, type JellyfinHls } from './jellyfin-hls';

/**
 * What Jellyfin plays in the element: a URL in `src` (direct play, native HLS), or its own
 * hls.js player (a transcode in Chrome or Firefox), which the script detaches and re-attaches.
 */
export type OriginalSource = { kind: 'url'; url: string } | { kind: 'hls.js'; player: HlsPlayer };

export function sameSource(a: OriginalSource | undefined, b: OriginalSource | undefined): boolean {
  if (!a || !b) return a === b;
  if (a.kind === 'url') return b.kind === 'url' && a.url === b.url;
  return b.kind === 'hls.js' && a.player === b.player;
}

/** What the viewer set on the element; loading a new source resets some of it (playbackRate, paused). */
export interface PlaybackState {
  positionSeconds: number;
  paused: boolean;
  volume: number;
  muted: boolean;
  playbackRate: number;
}

export function capturePlayback(video: HTMLVideoElement): PlaybackState {
  return {
    positionSeconds: video.currentTime,
    paused: video.paused,
    volume: video.volume,
    muted: video.muted,
    playbackRate: video.playbackRate,
  };
}

/** Which player takes the HLS stream: Jellyfin's bundled hls.js, ours, or the browser's own. */
export type HlsEngine = 'jellyfin-hls.js' | 'bundled-hls.js' | 'native';

export function chooseEngine(video: HTMLVideoElement, pageHls: unknown): HlsEngine | undefined {
  if (isHlsClass(pageHls) && pageHls.isSupported()) return 'jellyfin-hls.js';
  if (BundledHls.isSupported()) return 'bundled-hls.js';
  if (video.canPlayType('application/vnd.apple.mpegurl')) return 'native';
  return undefined;
}

/** How long a new source may take to play at the viewer's position before it counts as failed. */
const START_TIMEOUT_MS = 20_000;

export class StreamSwitcher {
  private hls: HlsPlayer | undefined;
  private detachListeners: (() => void) | undefined;

  constructor(
    private readonly video: HTMLVideoElement,
    /** jellyfin-web's hls.js: its players, and its class once it has loaded it. */
    private readonly jellyfinHls: JellyfinHls,
    /** A fatal error of the upscaled stream after it started (network gone, bad segment). */
    private readonly onFatal: (reason: string) => void,
  ) {}

  /**
   * Plays `hlsUrl` from `state.positionSeconds` (not the live edge) and restores the rest of
   * `state`. Jellyfin's own hls.js player stops loading and lets go of the element first.
   */
  async toUpscaled(hlsUrl: string, state: PlaybackState, original: OriginalSource): Promise<HlsEngine> {
    const pageHls = this.jellyfinHls.hlsClass();
    const engine = chooseEngine(this.video, pageHls);
    if (!engine) throw new Error('this browser plays neither HLS nor Media Source Extensions');
    if (original.kind === 'hls.js') {
      original.player.stopLoad();
      original.player.detachMedia();
    }
    if (engine === 'native') {
      await this.load(() => {
        this.video.src = hlsUrl;
      }, state);
      return engine;
    }
    const Hls = engine === 'jellyfin-hls.js' ? (pageHls as HlsClass) : BundledHls;
    let started = false;
    let failedBeforeStart: ((err: Error) => void) | undefined;
    const startFailure = new Promise<never>((_, reject) => (failedBeforeStart = reject));
    await this.load(() => {
      // startPosition: a growing EVENT playlist has no ENDLIST, and hls.js would otherwise
      // start it at the live edge, far from where the viewer is.
      const hls = new Hls({ startPosition: state.positionSeconds, lowLatencyMode: false, backBufferLength: 30 });
      this.hls = hls;
      hls.on(Hls.Events.ERROR, (_event, data) => {
        if (!data.fatal) return;
        const reason = `${data.type}: ${data.details}`;
        if (started) this.onFatal(reason);
        else failedBeforeStart?.(new Error(reason));
      });
      hls.loadSource(hlsUrl);
      hls.attachMedia(this.video);
    }, state, startFailure);
    started = true;
    return engine;
  }

  /**
   * Back to Jellyfin's source at `state.positionSeconds`: its URL again, or its hls.js player
   * attached again and loading from there.
   */
  async toOriginal(original: OriginalSource, state: PlaybackState): Promise<void> {
    await this.load(() => {
      if (original.kind === 'url') {
        this.video.src = original.url;
        return;
      }
      // Attached again, a player that has played before loads from the element's position, which
      // the new source has reset to 0 (Jellyfin's transcode would restart there): it starts
      // loading only once attached, from the viewer's position.
      const player = original.player;
      const autoStartLoad = player.config.autoStartLoad;
      player.config.autoStartLoad = false;
      player.once(BundledHls.Events.MEDIA_ATTACHED, () => {
        player.config.autoStartLoad = autoStartLoad;
        player.startLoad(state.positionSeconds);
      });
      this.jellyfinHls.reattach(player, this.video);
    }, state);
  }

  /** Stops the script's HLS player without touching the element's source (Jellyfin has set its own). */
  abandon(): void {
    const jellyfinSrc = this.video.getAttribute('src');
    this.release();
    // hls.js detaching clears `src` and reloads; put Jellyfin's URL back if it did (a blob: URL
    // is a MediaSource's: Jellyfin's hls.js attaches its own).
    if (jellyfinSrc && !jellyfinSrc.startsWith('blob:') && this.video.getAttribute('src') !== jellyfinSrc) this.video.src = jellyfinSrc;
  }

  private release(): void {
    this.detachListeners?.();
    this.detachListeners = undefined;
    if (this.hls) {
      this.hls.destroy();
      this.hls = undefined;
    }
  }

  /**
   * Sets a new source, then seeks to the viewer's position (hls.js does it itself through
   * startPosition), restores rate, volume and mute, and plays only if the viewer was playing.
   */
  private async load(setSource: () => void, state: PlaybackState, failure?: Promise<never>): Promise<void> {
    this.release();
    const video = this.video;
    // jellyfin-web's element has `autoplay`; a paused viewer must stay paused.
    const autoplay = video.autoplay;
    if (state.paused) video.autoplay = false;
    try {
      const settled = this.settle(state);
      // A start abandoned for another source rejects later, with no one waiting: not an error.
      settled.catch(() => undefined);
      failure?.catch(() => undefined);
      setSource();
      await (failure ? Promise.race([settled, failure]) : settled);
    } finally {
      // pause() clears the element's "can autoplay" flag: with `autoplay` back on, a paused
      // viewer's element would otherwise start by itself once it next has enough data (a seek).
      if (state.paused) video.pause();
      video.autoplay = autoplay;
    }
  }

  private settle(state: PlaybackState): Promise<void> {
    const video = this.video;
    video.volume = state.volume;
    video.muted = state.muted;
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => finish(new Error(`did not start within ${START_TIMEOUT_MS / 1000} s`)), START_TIMEOUT_MS);
      const onMetadata = () => {
        if (Math.abs(video.currentTime - state.positionSeconds) > 0.25) video.currentTime = state.positionSeconds;
      };
      // A paused element with preload="metadata" (jellyfin-web's) may load no more than the frame shown.
      const needed = state.paused ? HTMLMediaElement.HAVE_CURRENT_DATA : HTMLMediaElement.HAVE_FUTURE_DATA;
      const onReady = () => {
        if (video.readyState < needed) return;
        if (Math.abs(video.currentTime - state.positionSeconds) > 0.5 || video.seeking) return;
        video.playbackRate = state.playbackRate;
        if (state.paused) {
          finish();
          return;
        }
        video.play().then(() => finish(), (err: Error) => finish(new Error(`could not resume playback: ${err.message}`)));
      };
      const onError = () => finish(new Error(`the video element failed: ${describeMediaError(video.error)}`));
      const events: [string, () => void][] = [['loadedmetadata', onMetadata], ['loadeddata', onReady], ['canplay', onReady], ['seeked', onReady], ['error', onError]];
      for (const [name, handler] of events) video.addEventListener(name, handler);
      const removeAll = () => {
        for (const [name, handler] of events) video.removeEventListener(name, handler);
      };
      let done = false;
      const finish = (err?: Error) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        removeAll();
        this.detachListeners = undefined;
        if (err) reject(err);
        else resolve();
      };
      this.detachListeners = () => finish(new Error('replaced by another source'));
    });
  }

  destroy(): void {
    this.release();
  }
}

function describeMediaError(error: MediaError | null): string {
  if (!error) return 'unknown error';
  const names: Record<number, string> = { 1: 'aborted', 2: 'network error', 3: 'decode error', 4: 'source not supported' };
  return `${names[error.code] ?? `code ${error.code}`}${error.message ? ` (${error.message})` : ''}`;
}
