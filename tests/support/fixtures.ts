/** Media fixtures for tests, made with the real ffmpeg: good clips and the bad inputs. */
import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { makeTestClip } from '../../adapters/ffmpeg';

const execFileAsync = promisify(execFile);

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

/** Runs ffmpeg quietly: `args` are its inputs, filters and codecs, `file` its output. */
async function ffmpegTo(file: string, args: string[]): Promise<string> {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  await execFileAsync('ffmpeg', ['-hide_banner', '-nostdin', '-loglevel', 'error', '-y', ...args, file]);
  return file;
}

/** ffmpeg's moving test pattern (and a tone) as inputs. */
const pattern = (size: string, seconds: number, rate = 25) => ['-f', 'lavfi', '-i', `testsrc2=size=${size}:rate=${rate}:duration=${seconds}`];
const tone = (seconds: number) => ['-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=48000:duration=${seconds}`];
const X264 = ['-c:v', 'libx264', '-preset', 'veryfast'];

/** `source` with a display matrix that turns it by `degrees` when played; the stream itself is copied. */
async function rotatedCopy(file: string, source: string, degrees: number): Promise<string> {
  try {
    // ffmpeg 6 and later.
    return await ffmpegTo(file, ['-display_rotation', String(degrees), '-i', source, '-c', 'copy']);
  } catch {
    // ffmpeg 5: the mp4 muxer writes the `rotate` tag as a display matrix.
    return ffmpegTo(file, ['-i', source, '-c', 'copy', '-metadata:s:v:0', `rotate=${degrees}`]);
  }
}

/** A valid but unusual video; `width`×`height` is its picture as a player shows it (after rotation). */
export interface OddMedia {
  file: string;
  width: number;
  height: number;
  /** An HDR source: the output must be SDR BT.709. */
  hdr?: boolean;
}

/**
 * Valid videos that are easy to get wrong: odd dimensions, a rotation in the display matrix,
 * variable frame rate, 10-bit, HDR (PQ, BT.2020), a single frame, an MPEG-TS cut short (it has
 * no index or duration to contradict it: what is there is a shorter video). Each about 2 s at 160x90.
 */
export async function makeOddMedia(dir: string): Promise<Record<'oddSize' | 'oddSizeLossless' | 'rotated90' | 'rotated270' | 'variableFrameRate' | 'tenBit' | 'hdr' | 'singleFrame' | 'cutShortTs', OddMedia>> {
  const at = (name: string) => path.join(dir, name);
  const upright = await ffmpegTo(at('.upright.mp4'), [...pattern('160x90', 2), ...tone(2), ...X264, '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-shortest']);
  const wholeTs = await ffmpegTo(at('.whole.ts'), ['-i', upright, '-c', 'copy']);
  const cutShortTs = at('cut short.ts');
  const tsPackets = Math.floor(fs.statSync(wholeTs).size / 188);
  fs.writeFileSync(cutShortTs, fs.readFileSync(wholeTs).subarray(0, Math.floor(tsPackets / 4) * 188));
  const media = {
    // 4:4:4 and FFV1's 4:2:0 both allow an odd size; x264's 4:2:0 output does not.
    oddSize: { file: await ffmpegTo(at('odd 161x91.mp4'), [...pattern('160x90', 2), '-vf', 'scale=161:91,format=yuv444p', ...X264]), width: 161, height: 91 },
    oddSizeLossless: { file: await ffmpegTo(at('odd 161x91.mkv'), [...pattern('160x90', 2), ...tone(2), '-vf', 'scale=161:91,format=yuv420p', '-c:v', 'ffv1', '-c:a', 'flac', '-shortest']), width: 161, height: 91 },
    rotated90: { file: await rotatedCopy(at('rotated 90.mp4'), upright, 90), width: 90, height: 160 },
    rotated270: { file: await rotatedCopy(at('rotated 270.mp4'), upright, 270), width: 90, height: 160 },
    // 30 fps for a second, then every fourth frame: timestamps 1/30 s apart, then 2/15 s.
    variableFrameRate: {
      file: await ffmpegTo(at('vfr.mp4'), [...pattern('160x90', 3, 30), ...tone(3), '-vf', String.raw`select='lt(n\,30)+not(mod(n\,4))'`, '-fps_mode', 'vfr', ...X264, '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-shortest']),
      width: 160,
      height: 90,
    },
    tenBit: { file: await ffmpegTo(at('10-bit.mp4'), [...pattern('160x90', 2), ...X264, '-pix_fmt', 'yuv420p10le']), width: 160, height: 90 },
    hdr: {
      file: await ffmpegTo(at('hdr pq.mkv'), [...pattern('160x90', 2), ...tone(2), ...X264, '-pix_fmt', 'yuv420p10le', '-color_primaries', 'bt2020', '-color_trc', 'smpte2084', '-colorspace', 'bt2020nc', '-c:a', 'aac', '-shortest']),
      width: 160,
      height: 90,
      hdr: true,
    },
    singleFrame: { file: await ffmpegTo(at('one frame.mp4'), [...pattern('160x90', 1), '-frames:v', '1', ...X264, '-pix_fmt', 'yuv420p']), width: 160, height: 90 },
    cutShortTs: { file: cutShortTs, width: 160, height: 90 },
  };
  fs.rmSync(upright);
  fs.rmSync(wholeTs);
  return media;
}

/**
 * More files that are not usable videos than `makeBadInputs`, each with the reason the job must
 * fail with: pictures, zero duration, no video at all, noise, cut short.
 */
export async function makeMoreBadInputs(dir: string): Promise<Record<'png' | 'jpeg' | 'pngNamedMp4' | 'zeroDuration' | 'zeroFrames' | 'subtitlesOnly' | 'coverArtOnly' | 'noise' | 'headerOnly' | 'truncatedMkv', BadInput>> {
  const at = (name: string) => path.join(dir, name);
  const png = await ffmpegTo(at('picture.png'), [...pattern('160x90', 1), '-frames:v', '1']);
  const pngNamedMp4 = at('picture.mp4');
  fs.copyFileSync(png, pngNamedMp4);
  const subtitlesOnly = at('subtitles.srt');
  fs.writeFileSync(subtitlesOnly, '1\n00:00:01,000 --> 00:00:02,000\nonly words\n');
  const noise = at('noise.mp4');
  fs.writeFileSync(noise, Buffer.from(Array.from({ length: 64 * 1024 }, (_, i) => (i * 7919 + 13) % 251)));
  const wholeMkv = await ffmpegTo(at('.whole.mkv'), [...pattern('160x90', 2), ...tone(2), ...X264, '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-shortest']);
  const wholeMp4 = await ffmpegTo(at('.whole.mp4'), ['-i', wholeMkv, '-c', 'copy']);
  const headerOnly = at('header only.mp4');
  fs.writeFileSync(headerOnly, fs.readFileSync(wholeMp4).subarray(0, 2000));
  const truncatedMkv = at('truncated.mkv');
  // Matroska keeps its duration in the header: the probe believes it, the encode finds a third.
  const mkvBytes = fs.readFileSync(wholeMkv);
  fs.writeFileSync(truncatedMkv, mkvBytes.subarray(0, Math.floor(mkvBytes.length / 3)));
  fs.rmSync(wholeMkv);
  fs.rmSync(wholeMp4);
  return {
    png: { file: png, reason: /picture\.png is a still image, not a video/ },
    jpeg: { file: await ffmpegTo(at('picture.jpg'), [...pattern('160x90', 1), '-frames:v', '1']), reason: /picture\.jpg is a still image, not a video/ },
    pngNamedMp4: { file: pngNamedMp4, reason: /picture\.mp4 is a still image, not a video/ },
    // `-t 0`: a Matroska header and nothing after it.
    zeroDuration: { file: await ffmpegTo(at('zero duration.mkv'), [...pattern('160x90', 2), '-t', '0', ...X264]), reason: /zero duration\.mkv (is not a readable video|has no duration)/ },
    zeroFrames: { file: await ffmpegTo(at('zero frames.mp4'), [...pattern('160x90', 2), '-frames:v', '0', ...X264]), reason: /zero frames\.mp4 has no video stream/ },
    subtitlesOnly: { file: subtitlesOnly, reason: /subtitles\.srt is a srt file, not a video container Upflow reads/ },
    coverArtOnly: {
      file: await ffmpegTo(at('cover art.mp3'), [...tone(2), ...pattern('160x90', 0.04), '-map', '0', '-map', '1', '-c:a', 'libmp3lame', '-c:v', 'mjpeg', '-disposition:v:0', 'attached_pic']),
      reason: /cover art\.mp3 is audio only/,
    },
    noise: { file: noise, reason: /noise\.mp4 is not a readable video/ },
    headerOnly: { file: headerOnly, reason: /header only\.mp4 is not a readable video/ },
    // On the default 2 s grid the clip's picture ends inside its only segment, so the final
    // file's check finds it short (on a 1 s grid the encode runs out of picture before the last
    // segment and says so: "the source has no picture after 1.0 s, before the 2.0 s it states").
    truncatedMkv: { file: truncatedMkv, reason: /final file failed verification: duration is [\d.]+ s, source has [\d.]+ s/ },
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

/** Video frames in a file, counted by reading every packet. */
export function countVideoFrames(file: string): number {
  const out = execFileSync('ffprobe', ['-v', 'error', '-count_packets', '-select_streams', 'v:0', '-show_entries', 'stream=nb_read_packets', '-of', 'csv=p=0', file], { encoding: 'utf8' });
  return Number(out.trim());
}
