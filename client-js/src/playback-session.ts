/**
 * One viewing of one Jellyfin item in one `<video>`: asks Upflow, triggers if configured,
 * polls while it processes, and switches (or offers to) once enough is upscaled ahead of the
 * viewer. Ends when the player goes away or starts another item.
 */
import type { ItemStatus } from '../../core/jellyfin-items';
import { CATCH_UP_MARGIN_SECONDS } from '../../core/switch-lead';
import type { UpflowClientConfig } from './config';
import { caughtUp, fragmentStartSeconds, madeAhead, readiness, retryDelayMs, secondsToReady, upscaledKeepsUp, waitingPollMs } from './decide';
import type { JellyfinHls } from './jellyfin-hls';
import { stopTranscode, transcodeSession, viewerToken } from './jellyfin-server';
import { PlayerControls } from './player-controls';
import { capturePlayback, sameSource, StreamSwitcher, type HlsEngine, type OriginalSource, type PlaybackState } from './stream-switcher';
import type { UpflowApi } from './upflow-api';

/**
 * `original`: Jellyfin's source plays; `switching`/`restoring`: the script is moving the
 * element between sources; `upscaled`: Upflow's HLS plays; `ended`: the player went away.
 */
export type SessionMode = 'original' | 'switching' | 'upscaled' | 'restoring' | 'ended';

export interface SessionSummary {
  itemId: string;
  mode: SessionMode;
  engine: HlsEngine | null;
  status: ItemStatus | null;
  /** Why the script stopped asking or offering for this playback, if it did. */
  stoppedBecause: string | null;
}

/**
 * A viewer who moved on the upscaled stream to a part not made yet waits there while Upflow
 * keeps up (upscaledKeepsUp); past this long without picture, the original plays there instead
 * (all of Upflow's workers busy with other titles, say). Measured from a seek to the first
 * segment there on a 2-core CPU: 1.1 s with ffmpeg alone, 5.6 s with Anime4K S
 * (docs/benchmarks.md, "A viewer at 50 %, a second title, seeks").
 */
const STALL_FALLBACK_MS = 8000;
/** The soonest the script looks again at the status in hand for a viewer about to reach a ready part (a timer may fire a hair early). */
const RECHECK_MIN_MS = 10;
/** What the viewer does on the original that Upflow is told about (reportPosition). */
const ORIGINAL_MOVES = ['seeking', 'pause', 'play'] as const;

export interface SessionDeps {
  config: UpflowClientConfig;
  api: UpflowApi;
  /** jellyfin-web's hls.js players (a transcode plays through one). */
  jellyfinHls: JellyfinHls;
  log(message: string): void;
  emit(event: 'change' | 'switched' | 'original' | 'prompt', summary: SessionSummary, extra?: Record<string, unknown>): void;
}

export class PlaybackSession {
  mode: SessionMode = 'original';
  private status: ItemStatus | undefined;
  private engine: HlsEngine | undefined;
  private stoppedBecause: string | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  /** Waiting on the original: when the script asks Upflow next (`waitForSwitch` may decide sooner from the status in hand). */
  private nextPollAt = 0;
  private failures = 0;
  private triggered = false;
  /** The viewer chose the original ("back to original" or ×): offer, never switch by itself. */
  private preferOriginal = false;
  private dismissed = false;
  /** The viewer caught up with the upscaling and went back to the original for now. */
  private returnWhenReady = false;
  private readonly switcher: StreamSwitcher;
  private readonly controls: PlayerControls;
  private readonly onSeeking = () => this.checkSeek();
  private readonly onOriginalMove = (event: Event) => {
    if (event.type !== 'seeking') this.viewerPaused = event.type === 'pause';
    this.reportPosition();
  };
  /**
   * The viewer paused the original (a `pause` until the next `play`). Not the element's own
   * `paused`: before jellyfin-web's first play() it is paused too, and a viewer who has just
   * pressed play is about to play on.
   */
  private viewerPaused = false;
  /** When the upscaled stream last ran out of picture (the element's `waiting`), until it plays again. */
  private waitingSince: number | undefined;
  private readonly onWaiting = () => {
    this.waitingSince ??= Date.now();
  };
  private readonly onPlaying = () => {
    this.waitingSince = undefined;
  };

  constructor(
    readonly video: HTMLVideoElement,
    readonly itemId: string,
    /** What Jellyfin plays: a URL, or its hls.js player; undefined when the script cannot tell (an hls.js it did not see made). */
    private original: OriginalSource | undefined,
    private readonly deps: SessionDeps,
  ) {
    this.switcher = new StreamSwitcher(video, deps.jellyfinHls, (reason) => void this.onUpscaledFailed(reason));
    this.controls = new PlayerControls({
      switchToUpscaled: () => void this.switchToUpscaled(),
      switchToOriginal: () => void this.switchToOriginal(),
      dismiss: () => this.dismiss(),
    });
  }

  start(): void {
    // A seek moves the viewer; a pause or play changes whether their part is made a lead ahead.
    for (const event of ORIGINAL_MOVES) this.video.addEventListener(event, this.onOriginalMove);
    void this.poll();
  }

  summary(): SessionSummary {
    return {
      itemId: this.itemId,
      mode: this.mode,
      engine: this.engine ?? null,
      status: this.status ?? null,
      stoppedBecause: this.stoppedBecause ?? null,
    };
  }

  /** The element's source changes the script did not make are Jellyfin's. */
  ownsSourceChange(): boolean {
    return this.mode === 'switching' || this.mode === 'upscaled' || this.mode === 'restoring';
  }

  /** Jellyfin set a new source for this same item (another audio track, a new transcode...). */
  jellyfinSource(source: OriginalSource | undefined): void {
    if (sameSource(source, this.original)) return;
    if (this.mode !== 'original') {
      this.leaveUpscaled();
      this.switcher.abandon();
      this.setMode('original');
      this.controls.hide();
    }
    this.original = source;
  }

  /** The viewer asked for the upscaled stream (or autoSwitch decided). */
  async switchToUpscaled(): Promise<void> {
    const hlsUrl = this.status?.hls_url;
    const original = this.original;
    // Stopped (the job failed or was cancelled, the viewer dismissed it): its stream will not grow.
    if (this.mode !== 'original' || !hlsUrl || !original || this.stoppedBecause) return;
    // A source still loading or seeking (the original just put back, Jellyfin's own seek) shows
    // neither the viewer's pause nor their position yet: the next answer will switch.
    if (this.video.seeking || this.video.readyState < HTMLMediaElement.HAVE_METADATA) {
      this.schedule(this.deps.config.pollIntervalMs);
      return;
    }
    this.preferOriginal = false;
    this.returnWhenReady = false;
    const before = capturePlayback(this.video);
    this.setMode('switching');
    this.controls.hide();
    try {
      this.engine = await this.switcher.toUpscaled(hlsUrl, before, original);
    } catch (err) {
      if (!this.inMode('switching')) return; // ended, or Jellyfin took the element back
      this.stop(`the upscaled stream did not start: ${(err as Error).message}`);
      await this.restoreOriginal(before, 'Upscaled stream could not start — playing the original');
      return;
    }
    if (!this.inMode('switching')) return;
    this.setMode('upscaled');
    this.interceptSeeks();
    this.video.addEventListener('seeking', this.onSeeking);
    this.video.addEventListener('waiting', this.onWaiting);
    this.video.addEventListener('playing', this.onPlaying);
    this.controls.showUpscaled(this.status?.model ? `Upscaled · ${this.status.model}` : 'Upscaled');
    this.deps.emit('switched', this.summary(), { before, live: this.status?.status !== 'complete' });
    this.schedule(this.deps.config.pollIntervalMs);
    if (original.kind === 'hls.js') void this.stopJellyfinTranscode(original.player.url);
  }

  /**
   * Jellyfin keeps transcoding for a detached player (jellyfin-web's progress reports keep the
   * job alive): ask it to stop, with the viewer's token. Going back, Jellyfin's player asks for
   * its segments again and Jellyfin starts a new transcode there.
   */
  private async stopJellyfinTranscode(playlistUrl: string | null): Promise<void> {
    const session = transcodeSession(playlistUrl, location.href);
    if (!session) {
      this.deps.log("Jellyfin's transcode URL names no play session; its transcode runs on until Jellyfin ends it");
      return;
    }
    const failure = await stopTranscode(session, viewerToken(window), this.deps.config.requestTimeoutMs);
    if (failure) this.deps.log(`Jellyfin's transcode was not stopped (${failure}); it runs on until Jellyfin ends it`);
  }

  /** "Back to original": Jellyfin's source again, at the same position. */
  async switchToOriginal(): Promise<void> {
    if (this.mode !== 'upscaled') return;
    this.preferOriginal = true;
    await this.restoreOriginal(capturePlayback(this.video));
    this.schedule(this.deps.config.pollIntervalMs);
  }

  end(): void {
    if (this.mode === 'ended') return;
    const wasOurs = this.mode !== 'original';
    this.setMode('ended');
    clearTimeout(this.timer);
    for (const event of ORIGINAL_MOVES) this.video.removeEventListener(event, this.onOriginalMove);
    this.leaveUpscaled();
    // Removed element: just stop; still on screen (another item): give the element back to Jellyfin.
    if (wasOurs && this.video.isConnected) this.switcher.abandon();
    else this.switcher.destroy();
    this.controls.remove();
  }

  private async poll(): Promise<void> {
    if (this.mode === 'ended' || this.stoppedBecause) return;
    const trigger = this.deps.config.autoTrigger && !this.triggered;
    const sentPaused = this.viewerPaused;
    const answer = trigger ? await this.deps.api.upscale(this.itemId, this.viewerPosition(), sentPaused) : await this.deps.api.status(this.itemId);
    // The player may have closed, or the viewer dismissed the prompt, while the answer was on its way.
    if (this.inMode('ended') || this.stoppedBecause) return;
    if (!answer.ok) {
      if (answer.kind === 'refused' && answer.httpStatus !== undefined && answer.httpStatus < 500 && answer.httpStatus !== 429) {
        // Upflow said no for this item (outside the media folders, unknown to Jellyfin...): asking again will not help.
        this.stop(`Upflow: ${answer.reason}`);
        return;
      }
      this.failures += 1;
      if (this.failures === 1) this.deps.log(`Upflow is not answering (${answer.reason}); asking again less often`);
      this.schedule(retryDelayMs(this.deps.config.pollIntervalMs, this.failures));
      return;
    }
    this.failures = 0;
    // Paused or played while the trigger was on its way: told again next time.
    if (trigger) this.triggered = sentPaused === this.viewerPaused;
    this.status = answer.status;
    this.onStatus(answer.status);
  }

  /**
   * Where the viewer is: the element's position once it knows it; before that (a resume still
   * loading) where the source's `#t=` starts it.
   */
  private viewerPosition(): number {
    if (this.video.readyState >= HTMLMediaElement.HAVE_METADATA) return this.video.currentTime;
    // jellyfin-web resumes a transcode with hls.js's startPosition.
    const start = this.original?.kind === 'hls.js' ? this.original.player.config.startPosition : fragmentStartSeconds(this.video.getAttribute('src') ?? undefined);
    return start !== undefined && start > 0 ? start : this.video.currentTime;
  }

  /** `fresh`: just answered by Upflow; otherwise the last answer, looked at again as the viewer reaches a part it made ready. */
  private onStatus(status: ItemStatus, fresh = true): void {
    const position = this.viewerPosition();
    if (this.mode === 'upscaled') {
      if (this.behindUpscaling(status, position)) {
        void this.catchUp();
        return;
      }
      if (status.status !== 'complete') this.schedule(this.deps.config.pollIntervalMs);
      return;
    }
    if (this.mode !== 'original') return;
    if (fresh) this.deps.emit('change', this.summary());
    if (!this.original) {
      this.stop("Jellyfin plays this item through an hls.js player made before the Upflow script loaded; load the script in jellyfin-web's index.html");
      return;
    }
    const ready = readiness(status, position, this.deps.config.minBufferedSeconds);
    if (ready === 'never') {
      this.stop(status.reason ? `Upflow: ${status.status}: ${status.reason}` : `Upflow: the title is ${status.status} with no stream to play`);
      return;
    }
    if (ready === 'ready') {
      if ((this.deps.config.autoSwitch || this.returnWhenReady) && !this.preferOriginal) {
        void this.switchToUpscaled();
        return;
      }
      this.controls.showPrompt();
      this.deps.emit('prompt', this.summary());
      // A shown prompt stays true only while the viewer stays behind the upscaling: keep asking.
      if (status.status !== 'complete') this.schedule(this.deps.config.pollIntervalMs);
      return;
    }
    this.controls.hide();
    // One segment from the switch: asked often, so that it comes in the first moments it can.
    if (fresh) this.nextPollAt = Date.now() + waitingPollMs(status, position, this.deps.config);
    this.waitForSwitch(status, position);
  }

  /**
   * Waiting on the original: asks Upflow again at `nextPollAt`, or, when the viewer gets sooner
   * to a part this status already makes ready (`secondsToReady`), looks at it again then and
   * switches without asking: segments once made stay made, and the switch need not wait for a
   * poll and its answer (up to a tenth of a second and a request).
   */
  private waitForSwitch(status: ItemStatus, position: number): void {
    const untilPollMs = Math.max(0, this.nextPollAt - Date.now());
    const rate = this.video.playbackRate;
    const toReady = this.viewerPaused || !(rate > 0) ? undefined : secondsToReady(status, position, this.deps.config.minBufferedSeconds);
    const arrivalMs = toReady === undefined ? Infinity : Math.max(RECHECK_MIN_MS, (toReady * 1000) / rate);
    if (arrivalMs >= untilPollMs) {
      this.schedule(untilPollMs);
      return;
    }
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      if (this.inMode('original') && !this.stoppedBecause && this.status) this.onStatus(this.status, false);
    }, arrivalMs);
  }

  /**
   * A seek past what is upscaled would stall the player, and a growing stream's media source
   * clamps it to the live edge, losing where the viewer wanted to go. So while the upscaled
   * stream plays, the element's `currentTime` setter (what Jellyfin's seek bar calls) sends such
   * seeks to the original instead; `leaveUpscaled` removes the override.
   */
  private interceptSeeks(): void {
    const video = this.video;
    const native = Object.getOwnPropertyDescriptor(HTMLMediaElement.prototype, 'currentTime');
    if (!native?.get || !native.set) return;
    const { get, set } = native;
    Object.defineProperty(video, 'currentTime', {
      configurable: true,
      get: () => get.call(video),
      set: (seconds: number) => {
        const status = this.status;
        if (this.mode === 'upscaled' && status && caughtUp(status, seconds, CATCH_UP_MARGIN_SECONDS)) {
          if (!upscaledKeepsUp(status)) {
            void this.catchUp(seconds);
            return;
          }
          // Upflow is told at once where the viewer went (the player's segment request says it too).
          if (this.deps.config.autoTrigger) this.triggered = false;
          this.schedule(0);
        }
        set.call(video, seconds);
      },
    });
  }

  /** Undoes what taking over the element added: the seek override and listeners. */
  private leaveUpscaled(): void {
    delete (this.video as Partial<Pick<HTMLVideoElement, 'currentTime'>>).currentTime;
    this.video.removeEventListener('seeking', this.onSeeking);
    this.video.removeEventListener('waiting', this.onWaiting);
    this.video.removeEventListener('playing', this.onPlaying);
    this.waitingSince = undefined;
    this.engine = undefined;
  }

  /**
   * The viewer on the upscaled stream is where too little is made: the original plays there
   * when Upflow cannot keep up, or when the player has waited too long for picture.
   */
  private behindUpscaling(status: ItemStatus, position: number): boolean {
    if (!caughtUp(status, position, CATCH_UP_MARGIN_SECONDS)) return false;
    if (!upscaledKeepsUp(status, madeAhead(status, position))) return true;
    return this.waitingSince !== undefined && Date.now() - this.waitingSince > STALL_FALLBACK_MS;
  }

  /**
   * The viewer moved on the original (Jellyfin's resume position, a seek), paused or played on:
   * Upflow is told at once (the trigger again, idempotent), so the part there is made first.
   */
  private reportPosition(): void {
    if (this.mode !== 'original' || !this.deps.config.autoTrigger || !this.triggered || this.stoppedBecause) return;
    this.triggered = false;
    this.schedule(0);
  }

  /** Any other seek near the live edge (the browser's own controls): same outcome. */
  private checkSeek(): void {
    if (this.mode !== 'upscaled' || !this.status) return;
    if (this.behindUpscaling(this.status, this.video.currentTime)) void this.catchUp();
  }

  private async catchUp(positionSeconds?: number): Promise<void> {
    this.returnWhenReady = true;
    const state = capturePlayback(this.video);
    if (positionSeconds !== undefined) state.positionSeconds = positionSeconds;
    await this.restoreOriginal(state, 'Upscaling is behind your position — playing the original until it catches up');
    // Upflow learns where the viewer now is, so the part there is made first.
    if (this.deps.config.autoTrigger) this.triggered = false;
    this.schedule(this.deps.config.pollIntervalMs);
  }

  private async onUpscaledFailed(reason: string): Promise<void> {
    if (this.mode !== 'upscaled') return;
    this.stop(`the upscaled stream failed: ${reason}`);
    await this.restoreOriginal(capturePlayback(this.video), 'Upscaled stream failed — back to the original');
  }

  private async restoreOriginal(state: PlaybackState, notice?: string): Promise<void> {
    const original = this.original;
    if (!original) return;
    this.leaveUpscaled();
    this.setMode('restoring');
    this.controls.hide();
    try {
      await this.switcher.toOriginal(original, state);
    } catch (err) {
      // Jellyfin's own error handling sees the element's error; nothing more to do here.
      this.deps.log(`the original source did not resume: ${(err as Error).message}`);
    }
    if (!this.inMode('restoring')) return;
    this.setMode('original');
    if (notice) this.controls.showNotice(notice);
    this.deps.emit('original', this.summary(), { notice: notice ?? null });
  }

  private dismiss(): void {
    this.dismissed = true;
    this.preferOriginal = true;
    this.controls.hide();
    this.stop('the viewer dismissed the prompt');
  }

  /** No more asking or offering for this playback (a switched stream keeps playing). */
  private stop(reason: string): void {
    if (this.stoppedBecause) return;
    this.stoppedBecause = reason;
    clearTimeout(this.timer);
    // A prompt shown on the original offers nothing any more.
    if (this.mode === 'original') this.controls.hide();
    if (!this.dismissed) this.deps.log(reason);
    this.deps.emit('change', this.summary());
  }

  private schedule(delayMs: number): void {
    clearTimeout(this.timer);
    if (this.mode === 'ended' || this.stoppedBecause) return;
    this.timer = setTimeout(() => void this.poll(), delayMs);
  }

  /** The mode now: it can change during any await (the player closes, Jellyfin sets a source). */
  private inMode(mode: SessionMode): boolean {
    return this.mode === mode;
  }

  private setMode(mode: SessionMode): void {
    this.mode = mode;
    this.deps.emit('change', this.summary());
  }
}
