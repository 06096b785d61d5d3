/**
 * One JSON request from a browser script to Upflow. Failures come back as values, never thrown:
 * a down Upflow must never surface as an error on the page that loaded the script.
 */
export type JsonAnswer<T> =
  | { ok: true; value: T }
  /** `unreachable`: no answer (down, timeout, CORS); `refused`: an answer saying why not (4xx/5xx) or not the expected shape. */
  | { ok: false; kind: 'unreachable' | 'refused'; httpStatus?: number; reason: string };

/**
 * `headers`: each one costs a CORS preflight from Jellyfin's page (no body and no custom header
 * keep a request "simple"), so only the trigger's viewer token and the status page's key send one.
 */
export async function requestJson<T>(
  url: string,
  method: 'GET' | 'POST',
  timeoutMs: number,
  isExpected: (body: unknown) => body is T,
  headers: Record<string, string> = {},
): Promise<JsonAnswer<T>> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  try {
    const response = await fetch(url, { method, headers, signal: controller.signal, credentials: 'omit', cache: 'no-store' });
    const body: unknown = await response.json().catch(() => undefined);
    if (!response.ok) {
      const reason = isErrorBody(body) ? body.error : `HTTP ${response.status}`;
      return { ok: false, kind: 'refused', httpStatus: response.status, reason };
    }
    if (!isExpected(body)) return { ok: false, kind: 'refused', httpStatus: response.status, reason: 'unexpected answer from Upflow' };
    return { ok: true, value: body };
  } catch (err) {
    const reason = controller.signal.aborted ? `no answer within ${timeoutMs / 1000} s` : (err as Error).message;
    return { ok: false, kind: 'unreachable', reason };
  } finally {
    clearTimeout(timer);
  }
}

function isErrorBody(body: unknown): body is { error: string } {
  return typeof body === 'object' && body !== null && typeof (body as { error?: unknown }).error === 'string';
}
