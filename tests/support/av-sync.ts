/**
 * Audio/video sync, measured on the content: a clip flashes a white frame and beeps at the
 * start of every second; in a produced file each flash is found in the decoded pictures and each
 * beep in the decoded samples, both on the file's own timeline, and paired.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const SAMPLE_RATE = 48_000;

/** A test-pattern clip with a white frame and a 40 ms 1 kHz beep at each whole second. */
export function makeFlashBeepClip(file: string, o: { seconds: number; width: number; height: number; fps: number }): string {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const flash = `drawbox=x=0:y=0:w=iw:h=ih:color=white:t=fill:enable='lt(mod(t\\,1)\\,${(0.5 / o.fps).toFixed(4)})'`;
  execFileSync('ffmpeg', [
    '-hide_banner', '-nostdin', '-y', '-loglevel', 'error',
    '-f', 'lavfi', '-i', `testsrc2=size=${o.width}x${o.height}:rate=${o.fps}:duration=${o.seconds},${flash}`,
    // Per sample (aevalsrc), not per audio frame as a filter's `enable` would be.
    '-f', 'lavfi', '-i', `aevalsrc='if(lt(mod(t\\,1)\\,0.04)\\,0.5*sin(2*PI*1000*t)\\,0)':s=${SAMPLE_RATE}:d=${o.seconds}`,
    '-c:v', 'libx264', '-preset', 'veryfast', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-shortest', file,
  ]);
  return file;
}

/** Presentation times of the white frames (mean luma far above the test pattern's). */
export function flashTimes(file: string): number[] {
  const escaped = file.replace(/\\/g, '\\\\').replace(/'/g, "\\'").replace(/:/g, '\\:').replace(/,/g, '\\,');
  const out = execFileSync('ffprobe', [
    '-v', 'error', '-f', 'lavfi', '-i', `movie='${escaped}',signalstats`,
    '-show_entries', 'frame=pts_time:frame_tags=lavfi.signalstats.YAVG', '-of', 'csv=p=0',
  ], { encoding: 'utf8', maxBuffer: 64 << 20 });
  return out.trim().split('\n')
    .map((line) => line.split(',').map(Number) as [number, number])
    .filter(([, luma]) => luma > 200)
    .map(([time]) => time);
}

/**
 * Times the beeps start, on the file's timeline: samples are placed by their timestamps
 * (a gap between packets is filled with silence, as a player keeps time), from the audio
 * stream's start time.
 */
export function beepOnsets(file: string): number[] {
  const start = Number(execFileSync('ffprobe', ['-v', 'error', '-select_streams', 'a:0', '-show_entries', 'stream=start_time', '-of', 'csv=p=0', file], { encoding: 'utf8' }).trim()) || 0;
  const pcm = execFileSync('ffmpeg', [
    '-hide_banner', '-nostdin', '-loglevel', 'error', '-i', file, '-map', '0:a:0',
    '-af', `aresample=${SAMPLE_RATE}:async=1:min_hard_comp=0.001:first_pts=0`, '-ac', '1', '-f', 's16le', 'pipe:1',
  ], { maxBuffer: 256 << 20 });
  const samples = new Int16Array(pcm.buffer, pcm.byteOffset, Math.floor(pcm.length / 2));
  const onsets: number[] = [];
  let quietSince = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < samples.length; i += 1) {
    const loud = Math.abs(samples[i]!) > 3000;
    if (loud && i - quietSince > SAMPLE_RATE * 0.3) onsets.push(start + i / SAMPLE_RATE);
    if (loud) quietSince = i;
  }
  return onsets;
}

/** Each flash paired with the nearest beep: video time − audio time, in seconds. */
export function syncOffsets(file: string): Array<{ at: number; offset: number }> {
  const beeps = beepOnsets(file);
  return flashTimes(file).map((at) => {
    const nearest = beeps.reduce((best, b) => (Math.abs(b - at) < Math.abs(best - at) ? b : best), Number.POSITIVE_INFINITY);
    return { at, offset: at - nearest };
  });
}
