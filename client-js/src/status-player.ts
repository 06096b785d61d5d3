/**
 * The status page's player: one `<video>` that plays a title's HLS stream, growing or
 * finished, with the bundled hls.js (the browser's own HLS where there are no Media Source
 * Extensions: older iPhones). It lives outside the list, so list updates never touch it.
 */
import Hls from 'hls.js';

export interface PlayingTitle {
  titleKey: string;
  name: string;
  hlsUrl: string;
  live: boolean;
}

export class StatusPlayer {
  private hls: Hls | undefined;
  private current: PlayingTitle | undefined;

  constructor(
    private readonly section: HTMLElement,
    private readonly video: HTMLVideoElement,
    private readonly heading: HTMLElement,
    private readonly message: HTMLElement,
    /** Called whenever what plays changes, so the list can mark the playing row. */
    private readonly onChange: (titleKey: string | undefined) => void,
  ) {}

  get titleKey(): string | undefined {
    return this.current?.titleKey;
  }

  play(title: PlayingTitle): void {
    this.release();
    this.current = title;
    this.section.hidden = false;
    this.showHeading();
    this.showMessage(undefined);
    this.onChange(title.titleKey);
    if (Hls.isSupported()) {
      // From the start, not the live edge: a growing EVENT playlist has no ENDLIST, and hls.js
      // would otherwise join it a few segments from its end.
      const hls = new Hls({ startPosition: 0, lowLatencyMode: false, backBufferLength: 60 });
      this.hls = hls;
      hls.on(Hls.Events.ERROR, (_event, data) => {
        if (!data.fatal) return;
        this.release();
        this.showMessage(`The stream stopped (${data.type}: ${data.details}). It may have been removed; press Play to try again.`);
      });
      hls.loadSource(title.hlsUrl);
      hls.attachMedia(this.video);
    } else if (this.video.canPlayType('application/vnd.apple.mpegurl')) {
      this.video.src = title.hlsUrl;
    } else {
      this.showMessage('This browser plays neither HLS nor Media Source Extensions.');
      return;
    }
    this.video.play().catch((err: Error) => {
      // Autoplay refused (no click reached us) or the source was replaced: the controls still work.
      if (err.name === 'NotAllowedError') this.showMessage('Press play to start.');
    });
    this.section.scrollIntoView({ block: 'nearest' });
  }

  /** The list's latest word on the title playing: its name, and whether it is still being made. */
  update(titleKey: string, name: string, live: boolean): void {
    if (!this.current || this.current.titleKey !== titleKey) return;
    this.current = { ...this.current, name, live };
    this.showHeading();
  }

  close(): void {
    this.release();
    this.current = undefined;
    this.section.hidden = true;
    this.onChange(undefined);
  }

  private release(): void {
    this.hls?.destroy();
    this.hls = undefined;
    this.video.pause();
    this.video.removeAttribute('src');
    this.video.load();
  }

  private showHeading(): void {
    const title = this.current;
    const text = title ? `${title.name}${title.live ? ' — live, still being upscaled' : ''}` : '';
    if (this.heading.textContent !== text) this.heading.textContent = text;
  }

  private showMessage(text: string | undefined): void {
    this.message.textContent = text ?? '';
    this.message.hidden = text === undefined;
  }
}
