/**
 * The script's settings: defaults below, overridden by `window.UpflowConfig` set before the
 * script loads. A wrong value is named in one console warning and its default is kept.
 */
import { DEFAULT_MIN_BUFFERED_SECONDS, DEFAULT_POLL_INTERVAL_MS } from '../../core/switch-lead';

export interface UpflowClientConfig {
  /** Where Upflow's API is; default: the origin the script itself was loaded from. */
  apiUrl: string;
  /** How often to ask Upflow while a title is being upscaled. */
  pollIntervalMs: number;
  /** Switch by itself once enough is upscaled; false shows a prompt in the player instead. */
  autoSwitch: boolean;
  /** Ask Upflow to upscale the item when playback starts (needed when no webhook is set up). */
  autoTrigger: boolean;
  /** Upscaled content that must lie ahead of the viewer's position before switching. */
  minBufferedSeconds: number;
  /** One request to Upflow gives up after this long. */
  requestTimeoutMs: number;
}

export const DEFAULT_CONFIG: Omit<UpflowClientConfig, 'apiUrl'> = {
  // The workflow's lead (core/switch-lead.ts) counts on the script seeing within this much that it can switch.
  pollIntervalMs: DEFAULT_POLL_INTERVAL_MS,
  autoSwitch: true,
  autoTrigger: true,
  // One segment of the default grid: the segment at the viewer's position and the next made,
  // and more as the measured rate asks (core/switch-lead.ts). The workflow's lead is planned for it.
  minBufferedSeconds: DEFAULT_MIN_BUFFERED_SECONDS,
  requestTimeoutMs: 5000,
};

const NUMBER_LIMITS: Record<'pollIntervalMs' | 'minBufferedSeconds' | 'requestTimeoutMs', [number, number]> = {
  pollIntervalMs: [250, 600_000],
  minBufferedSeconds: [0, 3600],
  requestTimeoutMs: [500, 120_000],
};

/** Merges the page's overrides into the defaults; returns the settings and a warning per rejected value. */
export function resolveConfig(overrides: unknown, scriptSrc: string | undefined): { config: UpflowClientConfig; warnings: string[] } {
  const warnings: string[] = [];
  const config: UpflowClientConfig = { apiUrl: apiUrlFromScriptSrc(scriptSrc) ?? '', ...DEFAULT_CONFIG };
  if (overrides === undefined || overrides === null) return { config, warnings };
  if (typeof overrides !== 'object') return { config, warnings: ['UpflowConfig must be an object; using the defaults'] };
  const given = overrides as Record<string, unknown>;
  for (const [key, value] of Object.entries(given)) {
    if (key === 'apiUrl') {
      if (typeof value === 'string' && /^https?:\/\/[^\s]+$/i.test(value)) config.apiUrl = value.replace(/\/+$/, '');
      else warnings.push(`UpflowConfig.apiUrl must be an http(s) URL, got ${JSON.stringify(value)}`);
    } else if (key === 'apiKey') {
      // Settings of older versions: the page must not hold Upflow's key (the viewer's Jellyfin token is used).
      warnings.push("UpflowConfig.apiKey is no longer read: the script triggers with the viewer's Jellyfin token; remove Upflow's key from the page");
    } else if (key === 'autoSwitch' || key === 'autoTrigger') {
      if (typeof value === 'boolean') config[key] = value;
      else warnings.push(`UpflowConfig.${key} must be true or false, got ${JSON.stringify(value)}`);
    } else if (key in NUMBER_LIMITS) {
      const name = key as keyof typeof NUMBER_LIMITS;
      const [min, max] = NUMBER_LIMITS[name];
      if (typeof value === 'number' && Number.isFinite(value) && value >= min && value <= max) config[name] = value;
      else warnings.push(`UpflowConfig.${key} must be a number from ${min} to ${max}, got ${JSON.stringify(value)}`);
    } else {
      warnings.push(`UpflowConfig.${key} is not a setting (known: apiUrl, ${Object.keys(DEFAULT_CONFIG).join(', ')})`);
    }
  }
  return { config, warnings };
}

/**
 * `http://host:5000/base/client/upflow-jellyfin.js?v=1` → `http://host:5000/base`: the API that
 * served the script. A copy served from elsewhere (Jellyfin's web folder) names no API.
 */
function apiUrlFromScriptSrc(src: string | undefined): string | undefined {
  return src ? /^(https?:\/\/.+?)\/client\/[^/?#]+\.js(?:[?#]|$)/i.exec(src)?.[1] : undefined;
}
