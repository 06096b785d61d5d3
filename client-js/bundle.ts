/** Where set-up writes the bundled scripts and the API serves them from (`GET /client/...`). */
import path from 'node:path';

/** The Jellyfin script: `GET /client/upflow-jellyfin.js`. */
export const CLIENT_BUNDLE = path.join(__dirname, 'dist', 'upflow-jellyfin.js');

/** The status page's script: `GET /client/status-page.js`, loaded by `GET /`. */
export const STATUS_PAGE_BUNDLE = path.join(__dirname, 'dist', 'status-page.js');
