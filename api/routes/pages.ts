/** The status page (`/`) and the browser scripts: the status page's and the one Jellyfin's page loads (bundled by set-up: client-js/build.ts). */
import fs from 'node:fs';
import path from 'node:path';
import express from 'express';
import { UpflowError } from '../../core/errors';
import { CLIENT_BUNDLE, STATUS_PAGE_BUNDLE } from '../../client-js/bundle';

/** The status page at `/`; its script is client-js/src/status-page.ts. */
const STATUS_PAGE_HTML = path.join(__dirname, '..', 'status-page.html');

export function pageRoutes(): express.Router {
  const router = express.Router();
  router.get('/client/upflow-jellyfin.js', (_req, res) => {
    if (!fs.existsSync(CLIENT_BUNDLE)) throw new UpflowError('Unavailable', 'the Jellyfin script is not built: run `npm run setup`');
    res.sendFile(CLIENT_BUNDLE, { headers: { 'Content-Type': 'text/javascript; charset=utf-8', 'Cache-Control': 'no-cache' } });
  });

  /** The status page: titles, progress, rate, a player and cancel, all from the API's endpoints. */
  router.get('/', (_req, res) => {
    res.sendFile(STATUS_PAGE_HTML, { headers: { 'Cache-Control': 'no-cache' } });
  });

  router.get('/client/status-page.js', (_req, res) => {
    if (!fs.existsSync(STATUS_PAGE_BUNDLE)) throw new UpflowError('Unavailable', 'the status page script is not built: run `npm run setup`');
    res.sendFile(STATUS_PAGE_BUNDLE, { headers: { 'Content-Type': 'text/javascript; charset=utf-8', 'Cache-Control': 'no-cache' } });
  });
  return router;
}
