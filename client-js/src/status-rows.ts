/**
 * The status page's list: one row per title (its newest job), built once and then updated in
 * place on every poll, so nothing flickers and focus stays put. Every text from the server
 * goes in through `textContent`: names are users' file names.
 */
import { TERMINAL_JOB_STATES, type JobState } from '../../core/domain';
import type { JobSummary } from './status-api';
import { stateLabel } from './status-labels';

export interface RowActions {
  play(job: JobSummary): void;
  cancel(job: JobSummary): void;
}

/** States whose HLS can be played: growing (streaming) or whole (finalizing, complete). */
const PLAYABLE_STATES: readonly JobState[] = ['streaming', 'finalizing', 'complete'];

/** The newest job of each title (`GET /jobs` answers newest first). */
export function latestPerTitle(jobs: JobSummary[]): JobSummary[] {
  const newest = new Map<string, JobSummary>();
  for (const job of jobs) if (!newest.has(job.titleKey)) newest.set(job.titleKey, job);
  return [...newest.values()];
}

/** `75` → `1:15`, `3725` → `1:02:05`. */
export function formatClock(seconds: number): string {
  const total = Math.max(0, Math.round(seconds));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`;
}

/** `[[0, 120], [2700, 2760]]` → `0:00–2:00, 45:00–46:00`. */
export function formatRanges(ranges: readonly [number, number][]): string {
  return ranges.map(([start, end]) => `${formatClock(start)}–${formatClock(end)}`).join(', ');
}

export function formatRate(rate: number): string {
  return `${rate.toFixed(2)}x`;
}

/** A time today as `14:03`, an older one with its date. */
export function formatWhen(iso: string, now = new Date()): string {
  const at = new Date(iso);
  const time = at.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  return at.toDateString() === now.toDateString() ? time : `${at.toLocaleDateString()} ${time}`;
}

export function isPlayable(job: JobSummary): boolean {
  return job.hlsUrl !== null && job.segments > 0 && PLAYABLE_STATES.includes(job.state);
}

export function isCancellable(job: JobSummary): boolean {
  return !TERMINAL_JOB_STATES.includes(job.state);
}

function modelLabel(job: JobSummary): string | undefined {
  const model = job.model ?? job.upscaler;
  if (!model) return undefined;
  const scale = job.scaleFactor ? ` ×${job.scaleFactor}` : '';
  const size = job.plan ? ` → ${job.plan.outputWidth}×${job.plan.outputHeight}` : '';
  return `${model}${scale}${size}`;
}

export class TitleRow {
  readonly element: HTMLLIElement;
  private job: JobSummary;
  private playing = false;
  /** Cancel was sent; shown until the job's state says it is over. */
  private cancelling = false;
  /** Why the last cancel did not go through; kept until the next try. */
  private cancelError: string | undefined;
  private readonly name = span('name');
  private readonly state = span('state');
  private readonly bar = document.createElement('div');
  private readonly barFill = document.createElement('span');
  private readonly percent = span('percent');
  private readonly content = span('content');
  private readonly segments = span('segments');
  private readonly ready = span('ready');
  private readonly rate = span('rate');
  private readonly model = span('model');
  private readonly eta = span('eta');
  private readonly finished = span('finished');
  private readonly reason = paragraph('reason');
  private readonly note = paragraph('note');
  private readonly error = paragraph('error');
  private readonly playButton: HTMLButtonElement;
  private readonly cancelButton: HTMLButtonElement;

  constructor(job: JobSummary, actions: RowActions) {
    this.job = job;
    this.element = document.createElement('li');
    this.element.className = 'title';
    this.bar.className = 'bar';
    this.bar.setAttribute('role', 'progressbar');
    this.bar.setAttribute('aria-valuemin', '0');
    this.bar.setAttribute('aria-valuemax', '100');
    this.bar.append(this.barFill);
    this.playButton = button('play', 'Play', () => actions.play(this.job));
    this.cancelButton = button('cancel', 'Cancel', () => actions.cancel(this.job));
    const head = document.createElement('div');
    head.className = 'head';
    head.append(this.name, this.state);
    const facts = document.createElement('div');
    facts.className = 'facts';
    facts.append(this.percent, this.content, this.segments, this.ready, this.rate, this.model, this.eta, this.finished);
    const buttons = document.createElement('div');
    buttons.className = 'actions';
    buttons.append(this.playButton, this.cancelButton);
    this.element.append(head, this.bar, facts, this.reason, this.note, this.error, buttons);
    this.update(job);
  }

  setPlaying(playing: boolean): void {
    if (playing === this.playing) return;
    this.playing = playing;
    this.update(this.job);
  }

  markCancelling(): void {
    this.cancelling = true;
    this.cancelError = undefined;
    this.update(this.job);
  }

  /** A cancel that did not go through: back to what the server says, with its reason. */
  cancelFailed(reason: string): void {
    this.cancelling = false;
    this.cancelError = `Could not cancel: ${reason}`;
    this.update(this.job);
  }

  update(job: JobSummary): void {
    this.job = job;
    if (!isCancellable(job)) {
      this.cancelling = false;
      this.cancelError = undefined;
    }
    const playing = this.playing;
    const el = this.element;
    el.dataset.title = job.titleKey;
    el.dataset.job = job.id;
    el.dataset.state = job.state;
    el.classList.toggle('playing', playing);

    this.setText(this.name, job.name);
    this.name.title = job.name;
    const label = stateLabel(job, this.cancelling);
    this.setText(this.state, label);
    this.state.className = `state state-${this.cancelling ? 'cancelling' : job.state}`;

    // A job that stopped before its first segment has no progress worth a bar.
    const noProgress = (job.state === 'failed' || job.state === 'cancelled') && job.segments === 0;
    const percent = Math.max(0, Math.min(100, job.percent));
    this.bar.hidden = noProgress;
    this.barFill.style.width = `${percent}%`;
    this.bar.setAttribute('aria-valuenow', percent.toFixed(1));
    this.bar.setAttribute('aria-label', `${job.name}: ${percent.toFixed(1)}% upscaled`);
    this.bar.classList.toggle('done', job.state === 'complete');
    this.setText(this.percent, noProgress ? undefined : `${percent < 100 ? percent.toFixed(1) : '100'}%`);
    const duration = job.source?.durationSeconds;
    this.setText(this.content, duration && !noProgress ? `${formatClock(job.state === 'complete' ? duration : job.contentSeconds)} of ${formatClock(duration)}` : undefined);
    this.setText(this.segments, noProgress ? undefined : `${job.segments} segment${job.segments === 1 ? '' : 's'}`);
    // Chunks make the title where viewers are first: which parts exist, while it is made.
    const ranges = job.ready ?? [];
    this.setText(this.ready, job.state === 'streaming' && ranges.length > 0 ? `ready ${formatRanges(ranges)}` : undefined);

    const streaming = job.state === 'streaming';
    const rate = job.rate && job.rate > 0 ? job.rate : undefined;
    // Only a stream still being made can fall behind a viewer.
    const slow = streaming && rate !== undefined && rate < 1;
    this.setText(this.rate, rate === undefined ? undefined : `${slow ? '⚠ ' : ''}${formatRate(rate)}`);
    this.rate.classList.toggle('slow', slow);
    this.rate.title = slow ? 'Slower than real time: a viewer will catch up with the upscaling and wait' : 'Content seconds upscaled per second';
    this.setText(this.model, modelLabel(job));
    this.setText(this.eta, streaming && job.etaSeconds !== null && job.segments > 0 ? `ETA ${formatClock(job.etaSeconds)}` : undefined);
    this.setText(this.finished, job.finishedAt && !isCancellable(job) ? `${job.state === 'complete' ? 'finished' : job.state} ${formatWhen(job.finishedAt)}` : undefined);
    if (job.finishedAt) this.finished.title = new Date(job.finishedAt).toLocaleString();

    this.setText(this.reason, job.state === 'failed' ? job.failureReason ?? 'failed without a reason' : undefined);
    // Retention removed the segments: nothing to play, but the final file is kept.
    this.setText(this.note, job.state === 'complete' && job.hlsUrl === null ? 'HLS stream removed after the retention period; the upscaled file is kept.' : undefined);

    this.setText(this.error, this.cancelError);

    this.playButton.hidden = !isPlayable(job);
    this.playButton.textContent = playing ? 'Playing' : 'Play';
    this.playButton.disabled = playing;
    this.playButton.title = `Play ${job.state === 'complete' ? 'the upscaled stream' : 'the stream as it is upscaled'}`;
    this.cancelButton.hidden = !isCancellable(job);
    this.cancelButton.disabled = this.cancelling;
  }

  /** Hides an element with nothing to say; writes only on change (screen readers, selection). */
  private setText(element: HTMLElement, text: string | undefined): void {
    element.hidden = text === undefined;
    if (text !== undefined && element.textContent !== text) element.textContent = text;
  }
}

/** The rows in the list element, one per title in the order given, added, updated and removed as they change. */
export class TitleList {
  private readonly rows = new Map<string, TitleRow>();

  constructor(
    private readonly list: HTMLElement,
    private readonly actions: RowActions,
  ) {}

  /** `titles`: each title's newest job (latestPerTitle), newest title first. */
  update(titles: JobSummary[], playingKey: string | undefined): void {
    const keep = new Set(titles.map((job) => job.titleKey));
    for (const [key, row] of this.rows) {
      if (!keep.has(key)) {
        row.element.remove();
        this.rows.delete(key);
      }
    }
    titles.forEach((job, index) => {
      let row = this.rows.get(job.titleKey);
      if (row) row.update(job);
      else {
        row = new TitleRow(job, this.actions);
        this.rows.set(job.titleKey, row);
      }
      row.setPlaying(job.titleKey === playingKey);
      // Move only what is out of place: moving a focused button would drop its focus.
      if (this.list.children[index] !== row.element) this.list.insertBefore(row.element, this.list.children[index] ?? null);
    });
  }

  row(titleKey: string): TitleRow | undefined {
    return this.rows.get(titleKey);
  }

  markPlaying(playingKey: string | undefined): void {
    for (const [key, row] of this.rows) row.setPlaying(key === playingKey);
  }
}

function span(className: string): HTMLSpanElement {
  const el = document.createElement('span');
  el.className = className;
  return el;
}

function paragraph(className: string): HTMLParagraphElement {
  const el = document.createElement('p');
  el.className = className;
  el.hidden = true;
  return el;
}

function button(className: string, text: string, onClick: () => void): HTMLButtonElement {
  const el = document.createElement('button');
  el.type = 'button';
  el.className = className;
  el.textContent = text;
  el.addEventListener('click', onClick);
  return el;
}
