/**
 * ffmpeg and ffprobe, behind one module (immich-style): pure functions build arguments from
 * typed options and are unit-tested without running anything; the runners below only run what
 * they build. A thin spawn adapter rather than fluent-ffmpeg: that library is archived, and the
 * tee + segment muxer set-up here would go through its raw-option escape hatch anyway.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import type { SourceInfo, StreamPlan } from '../common/domain';
import { FailureType } from '../common/errors';
import { segmentBoundaries } from '../workflows/plan';

export class MediaToolError extends Error {
  constructor(
    message: string,
    readonly failureType: FailureType,
  ) {
    super(message);
    this.name = 'MediaToolError';
  }
}

// ---------------------------------------------------------------- probing

export function buildProbeArgs(file: string): string[] {
  return ['-v', 'error', '-print_format', 'json', '-show_format', '-show_streams', file];
}

interface ProbeStream {
  codec_type?: string;
  codec_name?: string;
  width?: number;
  height?: number;
  avg_frame_rate?: string;
  r_frame_rate?: string;
  duration?: string;
  nb_frames?: string;
  disposition?: { attached_pic?: number };
}
export interface ProbeJson {
  streams?: ProbeStream[];
  format?: { duration?: string; format_name?: string };
}

const STILL_IMAGE_CODECS = new Set(['png', 'mjpeg', 'bmp', 'gif', 'webp', 'tiff', 'jpeg2000']);

function parseRate(rate: string | undefined): number {
  if (!rate) return 0;
  const [num, den] = rate.split('/').map(Number);
  if (!num || !Number.isFinite(num)) return 0;
  return den ? num / den : num;
}

/** ffprobe's JSON → SourceInfo, or an InvalidMedia error saying what is wrong with the file. */
export function parseSourceInfo(probe: ProbeJson, label: string): SourceInfo {
  const streams = probe.streams ?? [];
  const video = streams.find((s) => s.codec_type === 'video' && !s.disposition?.attached_pic);
  const audio = streams.find((s) => s.codec_type === 'audio');
  if (!video) {
    const what = audio ? 'is audio only' : 'has no video stream';
    throw new MediaToolError(`${label} ${what}`, FailureType.InvalidMedia);
  }
  const formatName = probe.format?.format_name ?? '';
  if (STILL_IMAGE_CODECS.has(video.codec_name ?? '') && (formatName.includes('pipe') || formatName.includes('image2') || video.nb_frames === '1' || formatName === 'png_pipe')) {
    throw new MediaToolError(`${label} is a still image, not a video`, FailureType.InvalidMedia);
  }
  const durationSeconds = Number(probe.format?.duration ?? video.duration ?? NaN);
  if (!Number.isFinite(durationSeconds) || durationSeconds <= 0) {
    throw new MediaToolError(`${label} has no duration (empty or truncated video)`, FailureType.InvalidMedia);
  }
  const fps = parseRate(video.avg_frame_rate) || parseRate(video.r_frame_rate);
  if (!video.width || !video.height || !fps) {
    throw new MediaToolError(`${label} has no readable picture size or frame rate`, FailureType.InvalidMedia);
  }
  return {
    durationSeconds,
    fps: Math.round(fps * 1000) / 1000,
    width: video.width,
    height: video.height,
    videoCodec: video.codec_name ?? 'unknown',
    hasAudio: Boolean(audio),
    ...(audio?.codec_name ? { audioCodec: audio.codec_name } : {}),
  };
}

// ---------------------------------------------------------------- encoding

/** Quotes a file name for the tee muxer's slave list, where `|`, `[`, `]`, `:` and `\` are syntax. */
export function teeQuote(file: string): string {
  return `'${file.replace(/'/g, `'\\''`)}'`;
}

export interface StreamEncodeOptions {
  sourcePath: string;
  plan: StreamPlan;
  /** Names relative to ffmpeg's working directory, which is the title's HLS folder. */
  segmentPattern: string;
  segmentList: string;
  /** Absolute path of the final file being written. */
  partialFinal: string;
}

/**
 * One decode → lanczos scale → x264 encode, written twice by the tee muxer: MPEG-TS segments
 * cut on forced keyframes (a short first one, then `segmentSeconds`), each listed in a CSV as
 * it completes, and the full-length Matroska final file.
 */
export function buildLanczosStreamArgs(o: StreamEncodeOptions): string[] {
  const { plan } = o;
  const cuts = segmentBoundaries(plan).join(',');
  const segmentOptions = [
    'f=segment',
    ...(cuts ? [`segment_times=${cuts}`] : []),
    'segment_format=mpegts',
    `segment_list=${o.segmentList}`,
    'segment_list_type=csv',
    // x264 writes SPS/PPS once as global headers for Matroska; each segment needs them in-band.
    'bsfs/v=dump_extra=freq=keyframe',
  ].join(':');
  return [
    '-hide_banner', '-nostdin', '-y',
    '-loglevel', 'error',
    '-progress', 'pipe:1', '-nostats',
    '-i', o.sourcePath,
    '-map', '0:v:0',
    ...(plan.keepAudio ? ['-map', '0:a:0'] : []),
    '-vf', `scale=${plan.outputWidth}:${plan.outputHeight}:flags=lanczos,format=yuv420p`,
    '-c:v', plan.encoder,
    '-preset', plan.preset,
    '-crf', String(plan.crf),
    ...(cuts ? ['-force_key_frames', cuts] : []),
    ...(plan.keepAudio ? ['-c:a', 'aac', '-b:a', '160k'] : []),
    '-flags', '+global_header',
    '-f', 'tee',
    `[${segmentOptions}]${o.segmentPattern}|[f=matroska]${teeQuote(o.partialFinal)}`,
  ];
}

/** One block of `-progress` output, reduced to what Upflow reports. */
export interface EncodeProgress {
  frame: number;
  outTimeSeconds: number;
  done: boolean;
}

/** Parses `key=value` lines of one `-progress` block (ending at `progress=continue|end`). */
export function parseProgressBlock(lines: string[]): EncodeProgress {
  const values = new Map(lines.map((line) => {
    const at = line.indexOf('=');
    return [line.slice(0, at).trim(), line.slice(at + 1).trim()] as const;
  }));
  const outTimeUs = Number(values.get('out_time_us') ?? values.get('out_time_ms') ?? 0);
  return {
    frame: Number(values.get('frame') ?? 0) || 0,
    outTimeSeconds: Number.isFinite(outTimeUs) && outTimeUs > 0 ? outTimeUs / 1e6 : 0,
    done: values.get('progress') === 'end',
  };
}

export interface TestClipOptions {
  file: string;
  seconds: number;
  width: number;
  height: number;
  fps: number;
  audio: boolean;
}

/** A synthetic clip (moving test pattern + tone): the demo and the tests' source. */
export function buildTestClipArgs(o: TestClipOptions): string[] {
  return [
    '-hide_banner', '-nostdin', '-y', '-loglevel', 'error',
    '-f', 'lavfi', '-i', `testsrc2=size=${o.width}x${o.height}:rate=${o.fps}:duration=${o.seconds}`,
    ...(o.audio ? ['-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=48000:duration=${o.seconds}`] : []),
    '-c:v', 'libx264', '-preset', 'veryfast', '-pix_fmt', 'yuv420p',
    ...(o.audio ? ['-c:a', 'aac', '-shortest'] : []),
    o.file,
  ];
}

// ---------------------------------------------------------------- runners

export interface RunOptions {
  cwd?: string;
  signal?: AbortSignal;
  timeoutMs?: number;
  /** Called for each complete `-progress` block on stdout. */
  onProgress?: (progress: EncodeProgress) => void;
}

interface RunResult {
  stdout: string;
}

/** Runs ffmpeg or ffprobe; rejects with the tail of stderr. A missing binary says so plainly. */
function run(tool: 'ffmpeg' | 'ffprobe', args: string[], options: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(tool, args, {
      cwd: options.cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
      signal: options.signal,
      timeout: options.timeoutMs,
      killSignal: 'SIGKILL',
    });
    let stdout = '';
    let stderr = '';
    let pending: string[] = [];
    let partialLine = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      if (!options.onProgress) {
        stdout += chunk;
        return;
      }
      const lines = (partialLine + chunk).split('\n');
      partialLine = lines.pop() ?? '';
      for (const line of lines) {
        pending.push(line);
        if (line.startsWith('progress=')) {
          options.onProgress(parseProgressBlock(pending));
          pending = [];
        }
      }
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-4000);
    });
    child.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') {
        reject(new Error(`${tool} is not installed or not on PATH (apt-get install ffmpeg)`));
      } else {
        reject(err);
      }
    });
    child.on('close', (code, signal) => {
      if (code === 0) {
        resolve({ stdout });
        return;
      }
      const why = stderr.trim().split('\n').slice(-3).join(' / ') || `exit ${code ?? signal}`;
      reject(new Error(`${tool} failed: ${why}`));
    });
  });
}

export async function probeSource(file: string, label = file): Promise<SourceInfo> {
  if ((await fs.stat(file)).size === 0) throw new MediaToolError(`${label} is empty (0 bytes)`, FailureType.InvalidMedia);
  let stdout: string;
  try {
    ({ stdout } = await run('ffprobe', buildProbeArgs(file), { timeoutMs: 60_000 }));
  } catch (err) {
    const message = (err as Error).message;
    if (message.includes('not installed')) throw err;
    // ffprobe's last line says what is wrong ("<file>: Invalid data found when processing input").
    const detail = (message.split(' / ').pop() ?? message).replace(/^ffprobe failed: /, '').replace(`${file}: `, '');
    throw new MediaToolError(`${label} is not a readable video (${detail})`, FailureType.InvalidMedia);
  }
  return parseSourceInfo(JSON.parse(stdout) as ProbeJson, label);
}

/** The raw probe of a produced file, for verification. */
export async function probeJson(file: string): Promise<ProbeJson> {
  const { stdout } = await run('ffprobe', buildProbeArgs(file), { timeoutMs: 60_000 });
  return JSON.parse(stdout) as ProbeJson;
}

export async function encodeStream(options: StreamEncodeOptions, run_: RunOptions): Promise<void> {
  await run('ffmpeg', buildLanczosStreamArgs(options), run_);
}

export async function makeTestClip(options: TestClipOptions): Promise<void> {
  await run('ffmpeg', buildTestClipArgs(options), { timeoutMs: 10 * 60_000 });
}

/** Version line of each tool, or an error naming the missing one. */
export async function checkMediaTools(): Promise<{ ffmpeg: string; ffprobe: string }> {
  const [ffmpeg, ffprobe] = await Promise.all([run('ffmpeg', ['-version']), run('ffprobe', ['-version'])]);
  return { ffmpeg: ffmpeg.stdout.split('\n')[0] ?? '', ffprobe: ffprobe.stdout.split('\n')[0] ?? '' };
}
