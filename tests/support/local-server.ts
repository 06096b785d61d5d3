/**
 * A server of the test's own (a page of another origin, a stand-in, a router under test) on a
 * free port of 127.0.0.1, and its closing: open keep-alive connections are cut first, or a
 * browser's would hold the close until they time out.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';

export interface LocalServer {
  port: number;
  /** `http://127.0.0.1:<port>`, no trailing slash. */
  url: string;
  close(): Promise<void>;
}

export async function listenLocally(handler: http.RequestListener): Promise<LocalServer> {
  const server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

/**
 * A player page that loads hls.js from the repository's node_modules, served at `/` of its own
 * origin; `url` is on localhost, another origin than Upflow's 127.0.0.1, as Jellyfin's page is.
 */
export async function startHlsJsSite(page: string): Promise<LocalServer> {
  const app = express();
  app.get('/', (_req, res) => res.type('html').send(page));
  app.get('/hls.js', (_req, res) => res.type('js').sendFile(require.resolve('hls.js/dist/hls.min.js')));
  const site = await listenLocally(app);
  return { ...site, url: `http://localhost:${site.port}/` };
}
