/** A newcomer's first stream: a short generated clip in the media folder, when it has no video. */
import fs from 'node:fs';
import path from 'node:path';
import { makeTestClip } from '../adapters/ffmpeg';

const VIDEO_EXTENSIONS = new Set(['.mkv', '.mp4', '.m4v', '.avi', '.mov', '.webm', '.ts', '.wmv', '.mpg', '.mpeg']);

function hasVideo(dir: string): boolean {
  if (!fs.existsSync(dir)) return false;
  return fs.readdirSync(dir, { withFileTypes: true }).some((entry) =>
    entry.isDirectory() ? hasVideo(path.join(dir, entry.name)) : VIDEO_EXTENSIONS.has(path.extname(entry.name).toLowerCase()));
}

/** Returns the demo clip's path when one was made, undefined when the folder already has videos. */
export async function makeDemoClipIfEmpty(mediaRoot: string): Promise<string | undefined> {
  if (hasVideo(mediaRoot)) return undefined;
  fs.mkdirSync(mediaRoot, { recursive: true });
  const file = path.join(mediaRoot, 'upflow-demo.mp4');
  await makeTestClip({ file, seconds: 30, width: 640, height: 360, fps: 24, audio: true });
  return file;
}
