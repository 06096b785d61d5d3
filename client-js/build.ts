/**
 * Bundles the Jellyfin script (client-js/src) with hls.js into one file,
 * client-js/dist/upflow-jellyfin.js, which the API serves at /client/upflow-jellyfin.js.
 * Run by set-up; `npx tsx client-js/build.ts` by hand.
 */
import path from 'node:path';
import { build } from 'esbuild';
import { version } from '../package.json';
import { CLIENT_BUNDLE } from './bundle';

export async function buildClient(): Promise<{ file: string; bytes: number }> {
  const result = await build({
    entryPoints: [path.join(__dirname, 'src', 'upflow-jellyfin.ts')],
    outfile: CLIENT_BUNDLE,
    bundle: true,
    // One classic script: an IIFE keeps every name out of the page's globals.
    format: 'iife',
    platform: 'browser',
    // Old enough for the browsers of TVs and tablets that run jellyfin-web.
    target: 'es2019',
    minify: true,
    legalComments: 'eof',
    banner: { js: `/*! Upflow ${version} for Jellyfin, MIT. Includes hls.js (Apache-2.0, https://github.com/video-dev/hls.js). */` },
    // hls.js's light build: plain playback, without subtitles, alternate audio or DRM (a third of the size).
    alias: { 'hls.js': 'hls.js/dist/hls.light.mjs' },
    define: { UPFLOW_VERSION: JSON.stringify(`${version}`) },
    metafile: true,
    logLevel: 'silent',
  });
  return { file: CLIENT_BUNDLE, bytes: result.metafile.outputs[path.relative(process.cwd(), CLIENT_BUNDLE)]?.bytes ?? 0 };
}

if (require.main === module) {
  buildClient().then(
    ({ file, bytes }) => console.error(`built ${path.relative(process.cwd(), file)} (${Math.round(bytes / 1024)} KiB)`),
    (err: Error) => {
      console.error(`client-js build failed: ${err.message}`);
      process.exit(1);
    },
  );
}
