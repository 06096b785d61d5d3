/** Media fixtures for tests, made with the real ffmpeg: good clips and the bad inputs. */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { makeTestClip } from '../../adapters/ffmpeg';

export async function makeClip(file: string, o: { seconds: number; width?: number; height?: number; fps?: number; audio?: boolean }): Promise<string> {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  await makeTestClip({ file, seconds: o.seconds, width: o.width ?? 320, height: o.height ?? 180, fps: o.fps ?? 25, audio: o.audio ?? true });
  return file;
}

/** Files that are not videos, each with the reason the probe must give. */
export interface BadInput {
  file: string;
  reason: RegExp;
}

export async function makeBadInputs(dir: string): Promise<Record<'text' | 'empty' | 'audioOnly' | 'truncated', BadInput>> {
  fs.mkdirSync(dir, { recursive: true });
  const text = path.join(dir, 'notes.mkv');
  fs.writeFileSync(text, 'this is not a video\n'.repeat(50));
  const empty = path.join(dir, 'empty.mp4');
  fs.writeFileSync(empty, '');
  const audioOnly = path.join(dir, 'song.m4a');
  execFileSync('ffmpeg', ['-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'sine=frequency=440:duration=3', '-c:a', 'aac', audioOnly]);
  const good = await makeClip(path.join(dir, '.whole.mp4'), { seconds: 4 });
  const truncated = path.join(dir, 'truncated.mp4');
  const bytes = fs.readFileSync(good);
  // An MP4 cut short before its index (moov) is written at the end by ffmpeg's default muxer.
  fs.writeFileSync(truncated, bytes.subarray(0, Math.floor(bytes.length / 3)));
  fs.rmSync(good);
  return {
    text: { file: text, reason: /notes\.mkv is not a readable video/ },
    empty: { file: empty, reason: /empty\.mp4 is empty \(0 bytes\)/ },
    audioOnly: { file: audioOnly, reason: /song\.m4a is audio only/ },
    truncated: { file: truncated, reason: /truncated\.mp4 is not a readable video/ },
  };
}

export function ffprobe(file: string): { durationSeconds: number; width?: number; height?: number; hasAudio: boolean } {
  const out = execFileSync('ffprobe', ['-v', 'error', '-print_format', 'json', '-show_format', '-show_streams', file], { encoding: 'utf8' });
  const json = JSON.parse(out) as { format: { duration: string }; streams: Array<{ codec_type: string; width?: number; height?: number }> };
  const video = json.streams.find((s) => s.codec_type === 'video');
  return {
    durationSeconds: Number(json.format.duration),
    width: video?.width,
    height: video?.height,
    hasAudio: json.streams.some((s) => s.codec_type === 'audio'),
  };
}
