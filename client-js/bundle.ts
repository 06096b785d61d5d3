/** Where set-up writes the bundled Jellyfin script and the API serves it from (`GET /client/upflow-jellyfin.js`). */
import path from 'node:path';

export const CLIENT_BUNDLE = path.join(__dirname, 'dist', 'upflow-jellyfin.js');
