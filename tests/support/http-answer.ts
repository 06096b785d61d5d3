/**
 * One request by fetch with its answer read whole, for tests that look at what any caller gets:
 * the text, and the JSON when it is JSON ({} when not: an HLS file, the status page, a script,
 * metrics). A string body goes as it is (a malformed one on purpose), anything else as JSON.
 */
export interface HttpAnswer {
  status: number;
  text: string;
  json: Record<string, unknown>;
  headers: Headers;
}

export async function fetchAnswer(url: string, method: string, options: { body?: unknown; headers?: Record<string, string> } = {}): Promise<HttpAnswer> {
  const { body, headers = {} } = options;
  const response = await fetch(url, {
    method,
    headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // not JSON
  }
  return { status: response.status, text, json, headers: response.headers };
}
