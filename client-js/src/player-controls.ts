/**
 * The script's few words on screen: the "switch" prompt, the "back to original" control and
 * short notices. One fixed box above the player, because jellyfin-web's on-screen display
 * covers the video container and would swallow clicks on anything inside it.
 */

export interface ControlHandlers {
  switchToUpscaled(): void;
  switchToOriginal(): void;
  dismiss(): void;
}

const STYLE_ID = 'upflow-style';
const CSS = `
.upflow-ui{position:fixed;top:4.5em;right:1.5em;z-index:2147483000;display:flex;flex-direction:column;align-items:flex-end;gap:.5em;font:14px/1.3 system-ui,sans-serif;color:#fff;pointer-events:none}
.upflow-box{display:flex;align-items:center;gap:.6em;padding:.55em .7em .55em .9em;border-radius:.6em;background:rgba(20,20,20,.82);box-shadow:0 2px 10px rgba(0,0,0,.5);pointer-events:auto}
.upflow-box[hidden]{display:none}
.upflow-box button{font:inherit;color:inherit;border:0;border-radius:.4em;padding:.35em .75em;cursor:pointer;background:#00a4dc}
.upflow-box button.upflow-close{background:transparent;padding:.2em .4em;font-size:1.1em;opacity:.75}
.upflow-box button.upflow-original{background:rgba(255,255,255,.18)}
.upflow-notice{background:rgba(120,70,0,.9)}
`;

export class PlayerControls {
  private readonly root: HTMLDivElement;
  private readonly prompt: HTMLDivElement;
  private readonly upscaled: HTMLDivElement;
  private readonly notice: HTMLDivElement;
  private noticeTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(handlers: ControlHandlers) {
    if (!document.getElementById(STYLE_ID)) {
      const style = document.createElement('style');
      style.id = STYLE_ID;
      style.textContent = CSS;
      document.head.appendChild(style);
    }
    this.root = element('div', 'upflow-ui');
    this.root.setAttribute('role', 'status');

    this.prompt = element('div', 'upflow-box upflow-prompt');
    this.prompt.append(
      element('span', 'upflow-text', 'Upscaled stream ready'),
      button('upflow-switch', 'Switch', 'Play the upscaled stream from here', handlers.switchToUpscaled),
      button('upflow-close', '×', 'Dismiss', handlers.dismiss),
    );

    this.upscaled = element('div', 'upflow-box upflow-active');
    this.upscaled.append(
      element('span', 'upflow-text', 'Upscaled'),
      button('upflow-original', 'Back to original', 'Play the original source from here', handlers.switchToOriginal),
    );

    this.notice = element('div', 'upflow-box upflow-notice');
    this.notice.append(element('span', 'upflow-text'));

    this.root.append(this.prompt, this.upscaled, this.notice);
    this.showOnly(undefined);
    this.notice.hidden = true;
    document.body.appendChild(this.root);
  }

  /** "Upscaled stream ready — Switch ×". */
  showPrompt(): void {
    this.showOnly(this.prompt);
  }

  /** While the upscaled stream plays: a label saying so and the way back. */
  showUpscaled(label: string): void {
    this.upscaled.querySelector('.upflow-text')!.textContent = label;
    this.showOnly(this.upscaled);
  }

  hide(): void {
    this.showOnly(undefined);
  }

  /** A short message that goes away by itself (text only: reasons come from the network). */
  showNotice(text: string, durationMs = 8000): void {
    this.notice.querySelector('.upflow-text')!.textContent = text;
    this.notice.hidden = false;
    clearTimeout(this.noticeTimer);
    this.noticeTimer = setTimeout(() => (this.notice.hidden = true), durationMs);
  }

  remove(): void {
    clearTimeout(this.noticeTimer);
    this.root.remove();
  }

  private showOnly(box: HTMLDivElement | undefined): void {
    this.prompt.hidden = box !== this.prompt;
    this.upscaled.hidden = box !== this.upscaled;
  }
}

function element<K extends 'div' | 'span'>(tag: K, className: string, text?: string): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  el.className = className;
  if (text !== undefined) el.textContent = text;
  return el;
}

function button(className: string, text: string, title: string, onClick: () => void): HTMLButtonElement {
  const el = document.createElement('button');
  el.type = 'button';
  el.className = className;
  el.textContent = text;
  el.title = title;
  el.addEventListener('click', (event) => {
    // Jellyfin's player pauses or shows its controls on clicks that reach it.
    event.stopPropagation();
    onClick();
  });
  return el;
}
