/** The API's HTTP server: listening with a clear message for a taken port, and closing promptly. */
import type { Server } from 'node:http';
import { createApp, type ApiDeps } from './app';

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
  return {
    url: `http://${host === '0.0.0.0' ? 'localhost' : host}:${port}`,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      // Live-playlist polls keep connections open; they must not hold the stop up.
      server.closeAllConnections();
    }),
  };
}
