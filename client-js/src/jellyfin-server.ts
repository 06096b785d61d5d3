/**
 * The viewer's Jellyfin, as the script meets it in jellyfin-web's page: the viewer's access
 * token (jellyfin-web's `window.ApiClient`), and the one call the script makes to Jellyfin
 * itself: stopping Jellyfin's transcode of a play session the upscaled stream has replaced.
 */

/** The part of jellyfin-web's API client (jellyfin-apiclient's ApiClient) the script reads. */
interface JellyfinApiClient {
  accessToken(): string | null | undefined;
  /** The browser's Jellyfin device id: the `DeviceId` the Webhook plugin sends for this viewer. */
  deviceId?(): string | null | undefined;
}

function hasAccessToken(value: unknown): value is JellyfinApiClient {
  return typeof value === 'object' && value !== null && typeof (value as Partial<JellyfinApiClient>).accessToken === 'function';
}

/** The logged-in viewer's token; undefined on a page without jellyfin-web's API client. */
export function viewerToken(win: { ApiClient?: unknown }): string | undefined {
  const client = win.ApiClient;
  if (!hasAccessToken(client)) return undefined;
  try {
    return client.accessToken() || undefined;
  } catch {
    return undefined;
  }
}

/** The browser's Jellyfin device id; undefined on a page without jellyfin-web's API client or an older one. */
export function viewerDevice(win: { ApiClient?: unknown }): string | undefined {
  const client = win.ApiClient;
  if (!hasAccessToken(client) || typeof client.deviceId !== 'function') return undefined;
  try {
    return client.deviceId() || undefined;
  } catch {
    return undefined;
  }
}

/** Jellyfin's transcode for one playback, as its HLS URL names it (`/videos/{id}/master.m3u8?DeviceId=…&PlaySessionId=…&api_key=…`). */
export interface TranscodeSession {
  url: URL;
  deviceId: string;
  playSessionId: string;
  /** The viewer's token, as jellyfin-web put it in the URL. */
  token: string | undefined;
}

export function transcodeSession(playlistUrl: string | null | undefined, base: string): TranscodeSession | undefined {
  if (!playlistUrl) return undefined;
  let url: URL;
  try {
    url = new URL(playlistUrl, base);
  } catch {
    return undefined;
  }
  // Jellyfin binds query names case-insensitively; jellyfin-web writes DeviceId, PlaySessionId, api_key.
  const query = new Map([...url.searchParams].map(([name, value]) => [name.toLowerCase(), value]));
  const deviceId = query.get('deviceid');
  const playSessionId = query.get('playsessionid');
  if (!deviceId || !playSessionId) return undefined;
  return { url, deviceId, playSessionId, token: query.get('api_key') ?? query.get('apikey') };
}

/**
 * Jellyfin's `/Videos/ActiveEncodings` for the transcode, on the server and under the base path
 * (a Jellyfin at `https://host/jellyfin/`) its playlist URL was served from.
 */
export function activeEncodingsUrl(session: TranscodeSession): URL {
  const videos = session.url.pathname.toLowerCase().lastIndexOf('/videos/');
  const basePath = videos > 0 ? session.url.pathname.slice(0, videos) : '';
  const target = new URL(`${basePath}/Videos/ActiveEncodings`, session.url);
  target.search = new URLSearchParams({ deviceId: session.deviceId, playSessionId: session.playSessionId }).toString();
  return target;
}

/**
 * `DELETE /Videos/ActiveEncodings?deviceId=…&playSessionId=…` on the server that serves the
 * transcode, with the viewer's token. Answers undefined when Jellyfin stopped it, else why not.
 * jellyfin-web starts a new transcode by itself when its player loads again (give-back).
 */
export async function stopTranscode(session: TranscodeSession, token: string | undefined, timeoutMs: number): Promise<string | undefined> {
  const target = activeEncodingsUrl(session);
  const given = token ?? session.token;
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  try {
    const response = await fetch(target, {
      method: 'DELETE',
      headers: given ? { Authorization: `MediaBrowser Token="${given}"` } : {},
      signal: controller.signal,
    });
    return response.ok ? undefined : `Jellyfin answered HTTP ${response.status}`;
  } catch (err) {
    return controller.signal.aborted ? `no answer within ${timeoutMs / 1000} s` : (err as Error).message;
  } finally {
    clearTimeout(timer);
  }
}
