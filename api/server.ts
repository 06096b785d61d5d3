/** The API's HTTP server: listening with a clear message for a taken port, and closing promptly. */
import { STATUS_CODES, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { createApp, type ApiDeps } from './app';

const KEEP_ALIVE_TIMEOUT_MS = 65_000;

export interface ApiServer {
  /** Where this machine reaches it. */
  url: string;
  close(): Promise<void>;
}

export async function startApiServer(deps: ApiDeps): Promise<ApiServer> {
  const { host, port } = deps.config.api;
  const app = createApp(deps);
  const server = await new Promise<Server>((resolve, reject) => {
    const s = app.listen(port, host, () => resolve(s));
    s.once('error', (err: NodeJS.ErrnoException) =>
      reject(err.code === 'EADDRINUSE'
        ? new Error(`port ${port} is in use: is Upflow already running? (set UPFLOW_API_PORT)`)
        : err));
  });
  server.on('clientError', answerUnparsableRequest);
  // Idle keep-alive connections outlive the clients' own idle timeouts (Node's agent: 5 s, the
  // same as the server's default), so a client never sends a request on a socket being closed
  // under it ("socket hang up").
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  server.headersTimeout = KEEP_ALIVE_TIMEOUT_MS + 1000;
  return {
    url: `http://${host === '0.0.0.0' ? 'localhost' : host}:${port}`,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      // Live-playlist polls keep connections open; they must not hold the stop up.
      server.closeAllConnections();
    }),
  };
}

/**
 * Requests Node refuses before Express sees them (headers or a URL over its 16 KB limit, a
 * request line that is not HTTP) get a reason in JSON, like every other refusal.
 */
function answerUnparsableRequest(err: NodeJS.ErrnoException, socket: Duplex): void {
  if (!socket.writable || err.code === 'ECONNRESET') {
    socket.destroy();
    return;
  }
  const [status, reason]: [number, string] = err.code === 'HPE_HEADER_OVERFLOW'
    ? [431, 'the request line or headers are too large (at most 16 KB)']
    : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? [408, 'the request took too long to arrive']
      : [400, 'the request is not valid HTTP'];
  const body = JSON.stringify({ error: reason });
  socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}
