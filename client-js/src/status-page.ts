/**
 * Upflow's status page (`GET /` on the API, api/status-page.html): every title with its state,
 * progress and rate, polled every 2 s and updated in place; any stream with HLS still on disk
 * plays in the page; running jobs can be cancelled. Talks only to the API that served it; when
 * that has UPFLOW_API_KEY, the page asks for the key once and keeps it for the tab.
 */
import { StatusApi, type Answer, type JobSummary } from './status-api';
import { StatusPlayer } from './status-player';
import { isCancellable, latestPerTitle, TitleList } from './status-rows';

const POLL_INTERVAL_MS = 2000;
const REQUEST_TIMEOUT_MS = 5000;
const API_KEY_STORAGE = 'upflow-api-key';

function byId<T extends HTMLElement>(id: string): T {
  const element = document.getElementById(id);
  if (!element) throw new Error(`the status page has no #${id}`);
  return element as T;
}

/**
 * UPFLOW_API_KEY for this tab: asked for once per page load, on the first 401, and kept in
 * sessionStorage (gone with the tab). A key Upflow refuses is forgotten, so a reload asks again.
 */
class ApiKeyKeeper {
  private asked = false;

  get current(): string | undefined {
    return sessionStorage.getItem(API_KEY_STORAGE) ?? undefined;
  }

  /** The key the person types; undefined when they decline, or were asked already. */
  ask(reason: string): string | undefined {
    if (this.asked) return undefined;
    this.asked = true;
    const key = window.prompt(`${reason}.\n\nUpflow's API key (UPFLOW_API_KEY):`)?.trim();
    if (!key) return undefined;
    sessionStorage.setItem(API_KEY_STORAGE, key);
    return key;
  }

  forget(): void {
    sessionStorage.removeItem(API_KEY_STORAGE);
  }
}

function start(): void {
  const api = new StatusApi(document.baseURI, REQUEST_TIMEOUT_MS);
  const banner = byId('banner');
  const summary = byId('summary');
  const empty = byId('empty');
  const player = new StatusPlayer(byId('player'), byId<HTMLVideoElement>('video'), byId('player-title'), byId('player-message'), (key) => list.markPlaying(key));
  byId('player-close').addEventListener('click', () => player.close());

  let lastUpdate: Date | undefined;
  let polling: ReturnType<typeof setTimeout> | undefined;
  const keys = new ApiKeyKeeper();
  /** Upflow refused the page's key, or has one and the page has none: polling stops until a reload. */
  let keyRefused = false;

  /** After a 401: forget a key Upflow refused, ask for one (once per page load) and try again with it. */
  async function retryWithKey<T>(refused: Answer<T>, retry: (key: string) => Promise<Answer<T>>): Promise<Answer<T>> {
    if (keys.current !== undefined) keys.forget();
    const key = keys.ask(refused.ok ? '' : refused.reason);
    return key ? retry(key) : refused;
  }

  const list: TitleList = new TitleList(byId('titles'), {
    play: (job) => player.play({ titleKey: job.titleKey, name: job.name, hlsUrl: job.hlsUrl!, live: job.state === 'streaming' }),
    cancel: (job) => void cancel(job),
  });

  async function cancel(job: JobSummary): Promise<void> {
    if (!window.confirm(`Cancel upscaling “${job.name}”?\n\nThe stream stops and the partial upscaled file is removed.`)) return;
    list.row(job.titleKey)?.markCancelling();
    let answer = await api.cancel(job.id, keys.current);
    if (!answer.ok && answer.httpStatus === 401) answer = await retryWithKey(answer, (key) => api.cancel(job.id, key));
    if (!answer.ok) list.row(job.titleKey)?.cancelFailed(answer.reason);
    // The workflow records `cancelled` a moment after the signal: ask now rather than in 2 s.
    pollSoon();
  }

  function showProblem(answer: Exclude<Answer<unknown>, { ok: true }>): void {
    const since = lastUpdate ? ` The list below is from ${lastUpdate.toLocaleTimeString()}.` : '';
    banner.textContent = answer.kind === 'unreachable'
      ? `Cannot reach Upflow at ${new URL(api.baseUrl).host} (${answer.reason}). Retrying every ${POLL_INTERVAL_MS / 1000} s.${since}`
      : `Upflow answered with an error: ${answer.reason}. Retrying every ${POLL_INTERVAL_MS / 1000} s.${since}`;
    banner.hidden = false;
    document.body.classList.add('stale');
  }

  /** The key is missing or wrong: said in the banner, and in the summary where the count would be. */
  function showKeyNeeded(sent: boolean): void {
    banner.textContent = sent
      ? 'The API key is wrong: Upflow refused it. Reload the page to enter it again (UPFLOW_API_KEY in Upflow\'s settings).'
      : 'This Upflow needs its API key (UPFLOW_API_KEY) to show its titles. Reload the page to enter it.';
    banner.hidden = false;
    summary.textContent = sent ? 'wrong API key' : 'API key needed';
    document.body.classList.add('stale');
  }

  function showJobs(jobs: JobSummary[]): void {
    banner.hidden = true;
    document.body.classList.remove('stale');
    lastUpdate = new Date();
    const titles = latestPerTitle(jobs);
    list.update(titles, player.titleKey);
    const playing = titles.find((job) => job.titleKey === player.titleKey);
    if (playing) player.update(playing.titleKey, playing.name, playing.state === 'streaming');
    empty.hidden = titles.length > 0;
    const running = titles.filter(isCancellable).length;
    summary.textContent = `${titles.length} title${titles.length === 1 ? '' : 's'} · ${running} running · updated ${lastUpdate.toLocaleTimeString()}`;
  }

  let inFlight = false;
  async function poll(): Promise<void> {
    if (inFlight || keyRefused) return;
    inFlight = true;
    clearTimeout(polling);
    try {
      let sentKey = keys.current;
      let answer = await api.jobs(sentKey);
      if (!answer.ok && answer.httpStatus === 401) {
        answer = await retryWithKey(answer, (key) => {
          sentKey = key;
          return api.jobs(key);
        });
      }
      if (answer.ok) showJobs(answer.value);
      else if (answer.httpStatus === 401) {
        // Asking again every 2 s would be a prompt loop: a reload asks again.
        keyRefused = true;
        keys.forget();
        showKeyNeeded(sentKey !== undefined);
      } else showProblem(answer);
    } finally {
      inFlight = false;
      if (!keyRefused) polling = setTimeout(() => void poll(), POLL_INTERVAL_MS);
    }
  }

  function pollSoon(): void {
    if (inFlight) return; // the answer on its way is recent enough
    void poll();
  }

  void poll();
}

start();
