/**
 * Bundles the browser scripts of client-js/src, each with hls.js, into one file apiece:
 * client-js/dist/upflow-jellyfin.js (the Jellyfin script, served at /client/upflow-jellyfin.js)
 * and client-js/dist/status-page.js (the status page's, served at /client/status-page.js).
 * Run by set-up; `npx tsx client-js/build.ts` by hand.
 */
import path from 'node:path';
import { build, type BuildOptions } from 'esbuild';
import { version } from '../package.json';
import { CLIENT_BUNDLE, STATUS_PAGE_BUNDLE } from './bundle';

const COMMON_OPTIONS: BuildOptions = {
  bundle: true,
  // One classic script: an IIFE keeps every name out of the page's globals.
  format: 'iife',
  platform: 'browser',
  // Old enough for the browsers of TVs and tablets that run jellyfin-web.
  target: 'es2019',
  minify: true,
  legalComments: 'eof',
  // hls.js's light build: plain playback, without subtitles, alternate audio or DRM (a third of the size).
  alias: { 'hls.js': 'hls.js/dist/hls.light.mjs' },
  define: { UPFLOW_VERSION: JSON.stringify(`${version}`) },
  metafile: true,
  logLevel: 'silent',
};

const BUNDLES: { entry: string; outfile: string; banner: string }[] = [
  {
    entry: 'upflow-jellyfin.ts',
    outfile: CLIENT_BUNDLE,
    banner: `/*! Upflow ${version} for Jellyfin, MIT. Includes hls.js (Apache-2.0, https://github.com/video-dev/hls.js). */`,
  },
  {
    entry: 'status-page.ts',
    outfile: STATUS_PAGE_BUNDLE,
    banner: `/*! Upflow ${version} status page, MIT. Includes hls.js (Apache-2.0, https://github.com/video-dev/hls.js). */`,
  },
];

export async function buildClient(): Promise<{ file: string; bytes: number }[]> {
  const built: { file: string; bytes: number }[] = [];
  for (const bundle of BUNDLES) {
    const result = await build({
      ...COMMON_OPTIONS,
      entryPoints: [path.join(__dirname, 'src', bundle.entry)],
      outfile: bundle.outfile,
      banner: { js: bundle.banner },
    });
    built.push({ file: bundle.outfile, bytes: result.metafile?.outputs[path.relative(process.cwd(), bundle.outfile)]?.bytes ?? 0 });
  }
  return built;
}

if (require.main === module) {
  buildClient().then(
    (built) => {
      for (const { file, bytes } of built) console.error(`built ${path.relative(process.cwd(), file)} (${Math.round(bytes / 1024)} KiB)`);
    },
    (err: Error) => {
      console.error(`client-js build failed: ${err.message}`);
      process.exit(1);
    },
  );
}
