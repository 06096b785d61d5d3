/**
 * ffmpeg and ffprobe, behind one module (immich-style): pure functions build arguments from
 * typed options and are unit-tested without running anything; the runners below only run what
 * they build. A thin spawn adapter rather than fluent-ffmpeg: that library is archived, and the
 * segment muxer and concat set-up here would go through its raw-option escape hatch anyway.
 *
 * Every input is a URL of an allowed protocol (`-protocol_whitelist`: `file:` for files, `pipe:`
 * for frames, `concatf:` of `file:`s for the join) read by an allowed demuxer: a source only in
 * one of the video containers below, probed with `-format_whitelist` and read afterwards with
 * the probed demuxer forced (`-f`), so that no playlist, manifest or list of files is ever
 * followed to files the media-folder guard never saw.
 */
import { spawn } from 'node:child_process';
import fsSync from 'node:fs';
import fs from 'node:fs/promises';
import type { Readable, Writable } from 'node:stream';
import type { SourceInfo, StreamPlan } from '../core/domain';
import type { FrameFormat } from '../core/models';
import { FailureType } from '../core/errors';
import { frameRateArg, segmentCutSeconds, segmentStartSeconds } from '../core/grid';
import { gridOf } from '../core/plan';

export class MediaToolError extends Error {
  constructor(
    message: string,
    readonly failureType: FailureType,
  ) {
    super(message);
    this.name = 'MediaToolError';
  }
}

// ---------------------------------------------------------------- sources and what reads them

/**
 * The containers video files come in, as ffprobe names them (`format_name`), each with the
 * demuxer that is forced when the file is read after the probe. None of them reads other files.
 */
export const SOURCE_CONTAINERS: Readonly<Record<string, string>> = {
  'matroska,webm': 'matroska', // .mkv .webm
  'mov,mp4,m4a,3gp,3g2,mj2': 'mov', // .mp4 .m4v .mov .3gp
  avi: 'avi',
  mpegts: 'mpegts', // .ts .m2ts .mts
  mpeg: 'mpeg', // MPEG program stream: .mpg .vob
  flv: 'flv',
  asf: 'asf', // .wmv
  ogg: 'ogg', // .ogv
  mxf: 'mxf',
  nut: 'nut',
  dv: 'dv',
  rm: 'rm', // .rm .rmvb
  wtv: 'wtv',
};

/** The allowed demuxers: what ffprobe may use (`-format_whitelist`) on a source not yet probed. */
const SOURCE_DEMUXERS = [...new Set(Object.values(SOURCE_CONTAINERS))];

/** Demuxers that play other files named inside the source (playlists, manifests, lists of files). */
const LIST_FORMATS = new Set(['hls', 'dash', 'concat', 'imf', 'sdp', 'webm_dash_manifest', 'ffmetadata']);
/** Demuxers of audio alone. */
const AUDIO_FORMATS = new Set(['mp3', 'wav', 'flac', 'aac', 'ac3', 'eac3', 'dts', 'truehd', 'aiff', 'ape', 'wv', 'w64', 'tta', 'amr', 'caf', 'mlp']);

/**
 * Why a source in the container `formatName` (a demuxer's name, as ffmpeg reports it) is not
 * read, or undefined when it is one of the allowed containers. Pure.
 */
export function refusedContainerReason(formatName: string, label: string): string | undefined {
  if (SOURCE_CONTAINERS[formatName] !== undefined) return undefined;
  const names = formatName.split(',');
  if (names.some((name) => LIST_FORMATS.has(name))) {
    return `${label} is a list of other files (${formatName}), not a video: only files inside the media folders are upscaled`;
  }
  if (names.some((name) => name === 'image2' || name.endsWith('_pipe'))) return `${label} is a still image, not a video`;
  if (names.some((name) => AUDIO_FORMATS.has(name))) return `${label} is audio only (${formatName})`;
  const what = formatName ? `a ${formatName} file` : 'of no format ffprobe names';
  return `${label} is ${what}, not a video container Upflow reads (Matroska, MP4/MOV, AVI, MPEG-TS, MPEG-PS, FLV, WMV, Ogg, MXF, NUT, DV, RealMedia, WTV)`;
}

/** The child's descriptor a source opened by Upflow is passed as (stdio[3]). */
const INHERITED_SOURCE_FD = 3;

/**
 * A source as ffmpeg and ffprobe read it. Upflow passes `fd`: a descriptor opened after the
 * media-folder checks (adapters/source-files.ts `openSource`), inherited by the child, which opens
 * it as `file:/proc/self/fd/3`: that very file, whatever has become of its path meanwhile.
 * Without `fd` (tools, tests) the file is read by its path.
 */
export interface SourceInput {
  path: string;
  fd?: number;
  /** The demuxer the probe found (a value of SOURCE_CONTAINERS), forced; unset: any allowed one. */
  container?: string;
}

function sourceUrl(source: SourceInput): string {
  return source.fd === undefined ? `file:${source.path}` : `file:/proc/self/fd/${INHERITED_SOURCE_FD}`;
}

/** `-i` of a source with its guards: a `file:` URL, allowed protocols and demuxers only. */
function sourceInputArgs(source: SourceInput): string[] {
  return [
    '-protocol_whitelist', 'file',
    '-format_whitelist', source.container ?? SOURCE_DEMUXERS.join(','),
    ...(source.container ? ['-f', source.container] : []),
    '-i', sourceUrl(source),
  ];
}

// ---------------------------------------------------------------- probing

/** ffprobe of a source (any allowed container) or of a file Upflow made (its container given). */
export function buildProbeArgs(source: SourceInput): string[] {
  return ['-v', 'error', ...sourceInputArgs(source), '-print_format', 'json', '-show_format', '-show_streams'];
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
  color_transfer?: string;
  /** A display matrix ("Display Matrix", `rotation` in degrees) tells players to turn the picture. */
  side_data_list?: { side_data_type?: string; rotation?: number }[];
  /** Older files and ffmpeg versions: the same turn as a `rotate` tag. */
  tags?: { rotate?: string };
}
export interface ProbeJson {
  streams?: ProbeStream[];
  format?: { duration?: string; format_name?: string };
}

const STILL_IMAGE_CODECS = new Set(['png', 'mjpeg', 'bmp', 'gif', 'webp', 'tiff', 'jpeg2000']);

/** ffprobe's `color_transfer` of the HDR transfers. */
const HDR_TRANSFERS: Record<string, 'pq' | 'hlg'> = { smpte2084: 'pq', 'arib-std-b67': 'hlg' };

function parseRate(rate: string | undefined): number {
  if (!rate) return 0;
  const [num, den] = rate.split('/').map(Number);
  if (!num || !Number.isFinite(num)) return 0;
  return den ? num / den : num;
}

/** Degrees the picture is turned when shown: the display matrix's, else the `rotate` tag's, else 0. */
function displayRotation(video: ProbeStream): number {
  const matrix = video.side_data_list?.find((data) => typeof data.rotation === 'number')?.rotation;
  const degrees = matrix ?? Number(video.tags?.rotate ?? 0);
  return Number.isFinite(degrees) ? degrees : 0;
}

/**
 * ffprobe's JSON → SourceInfo, or an InvalidMedia error saying what is wrong with the file.
 * The size is the picture as shown: ffmpeg turns a rotated source's frames when it decodes them
 * (autorotate), so a quarter turn swaps width and height.
 */
export function parseSourceInfo(probe: ProbeJson, label: string): SourceInfo {
  const formatName = probe.format?.format_name ?? '';
  const refused = refusedContainerReason(formatName, label);
  if (refused) throw new MediaToolError(refused, FailureType.InvalidMedia);
  const streams = probe.streams ?? [];
  const video = streams.find((s) => s.codec_type === 'video' && !s.disposition?.attached_pic);
  const audio = streams.find((s) => s.codec_type === 'audio');
  if (!video) {
    const what = audio ? 'is audio only' : 'has no video stream';
    throw new MediaToolError(`${label} ${what}`, FailureType.InvalidMedia);
  }
  if (STILL_IMAGE_CODECS.has(video.codec_name ?? '') && video.nb_frames === '1') {
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
  const quarterTurn = Math.abs(Math.round(displayRotation(video) / 90)) % 2 === 1;
  return {
    container: SOURCE_CONTAINERS[formatName]!,
    durationSeconds,
    fps: Math.round(fps * 1000) / 1000,
    width: quarterTurn ? video.height : video.width,
    height: quarterTurn ? video.width : video.height,
    videoCodec: video.codec_name ?? 'unknown',
    hasAudio: Boolean(audio),
    ...(audio?.codec_name ? { audioCodec: audio.codec_name } : {}),
    ...(HDR_TRANSFERS[video.color_transfer ?? ''] ? { hdr: HDR_TRANSFERS[video.color_transfer ?? ''] } : {}),
  };
}

// ---------------------------------------------------------------- encoding chunks

/**
 * One chunk: the title's segments from `fromSegment` on, cut on the grid (core/grid.ts), made by
 * one encode that runs towards the end of the source until the chunk activity stops it. Every
 * segment starts with a keyframe on its boundary frame and carries content timestamps, whichever
 * chunk made it, so segments of different chunks play and join as one film.
 */
export interface ChunkEncodeOptions {
  source: SourceInput;
  plan: StreamPlan;
  fromSegment: number;
  /** Names relative to ffmpeg's working directory (the chunk's own folder). */
  segmentPattern: string;
  segmentList: string;
}

/**
 * Where a chunk's encode seeks, and where it cuts. Cuts (and forced keyframes) sit a
 * millisecond before each boundary frame (`segmentCutSeconds`); keyframes are forced at times
 * relative to the encode's own start, segments are cut at content times.
 */
interface ChunkTiming {
  /** Input seek of a source read by ffmpeg itself: 1 ms before the first frame, so it is kept. */
  seekSeconds: number;
  /** Content time of the chunk's first frame. */
  startSeconds: number;
  /** Content times of the cuts after the chunk's first segment, to the end of the title. */
  cuts: number[];
}

function chunkTiming(plan: StreamPlan, fromSegment: number): ChunkTiming {
  const grid = gridOf(plan);
  const cuts: number[] = [];
  for (let i = fromSegment + 1; i < grid.segmentCount; i++) cuts.push(segmentCutSeconds(grid, i));
  return {
    seekSeconds: fromSegment > 0 ? segmentCutSeconds(grid, fromSegment) : 0,
    startSeconds: fromSegment > 0 ? segmentStartSeconds(grid, fromSegment) : 0,
    cuts,
  };
}

function microseconds(seconds: number): string {
  return String(Math.round(seconds * 1e6) / 1e6);
}

function seekArgs(seconds: number): string[] {
  return seconds > 0 ? ['-ss', microseconds(seconds)] : [];
}

/**
 * What every chunk encode writes: MPEG-TS segments cut on forced keyframes, numbered from the
 * chunk's first segment, each listed in a CSV as it completes. `encodeStartSeconds`: the content
 * time of the encode's own zero (its first frame for raw frames, the seek point for ffmpeg's).
 * Negative timestamps are kept (the muxer's default would shift the first segment by the
 * B-frame delay only).
 */
function chunkOutputArgs(o: ChunkEncodeOptions, timing: ChunkTiming, encodeStartSeconds: number): string[] {
  const { plan } = o;
  const keyframes = timing.cuts.map((t) => microseconds(t - encodeStartSeconds));
  return [
    '-c:v', plan.encoder,
    '-preset', plan.preset,
    '-crf', String(plan.crf),
    ...(plan.encoderThreads > 0 ? ['-threads', String(plan.encoderThreads)] : []),
    ...(keyframes.length ? ['-force_key_frames', keyframes.join(',')] : []),
    ...(plan.keepAudio ? ['-c:a', 'aac', '-b:a', '160k'] : []),
    // The segment muxer asks for global headers; each segment needs SPS/PPS in-band.
    '-bsf:v', 'dump_extra=freq=keyframe',
    '-avoid_negative_ts', 'disabled',
    ...(encodeStartSeconds > 0 ? ['-output_ts_offset', microseconds(encodeStartSeconds)] : []),
    '-f', 'segment',
    '-segment_format', 'mpegts',
    '-segment_format_options', 'avoid_negative_ts=disabled',
    ...(timing.cuts.length ? ['-segment_times', timing.cuts.map(microseconds).join(',')] : []),
    '-segment_start_number', String(o.fromSegment),
    '-segment_list', o.segmentList,
    '-segment_list_type', 'csv',
    o.segmentPattern,
  ];
}

const QUIET_WITH_PROGRESS = ['-hide_banner', '-nostdin', '-y', '-loglevel', 'error', '-progress', 'pipe:1', '-nostats'];

/**
 * HDR (PQ or HLG, BT.2020) to SDR BT.709: to linear light, BT.709 primaries, Hable's curve,
 * back to a BT.709 transfer and matrix. Without it the picture would be cut to 8 bits and keep
 * HDR tags no 8-bit picture can honour (washed out or far too bright).
 */
const SDR_FROM_HDR = 'zscale=t=linear:npl=100,format=gbrpf32le,zscale=p=bt709,tonemap=tonemap=hable:desat=0,zscale=t=bt709:m=bt709:r=tv,format=yuv420p';
/** The output's tags after tone mapping (x264 would otherwise copy the source's). */
const SDR_TAGS = ['-color_primaries', 'bt709', '-color_trc', 'bt709', '-colorspace', 'bt709'];

/** ffmpeg-only mode: one decode → lanczos scale → x264 encode, from the chunk's first segment to the end of the source. */
export function buildLanczosChunkArgs(o: ChunkEncodeOptions): string[] {
  const { plan } = o;
  const timing = chunkTiming(plan, o.fromSegment);
  return [
    ...QUIET_WITH_PROGRESS,
    ...seekArgs(timing.seekSeconds),
    ...sourceInputArgs(o.source),
    '-map', '0:v:0',
    ...(plan.keepAudio ? ['-map', '0:a:0'] : []),
    '-vf', `${plan.toneMap ? `${SDR_FROM_HDR},` : ''}scale=${plan.outputWidth}:${plan.outputHeight}:flags=lanczos,format=yuv420p`,
    ...(plan.toneMap ? SDR_TAGS : []),
    // The grid's frames, as in ONNX mode: a variable-frame-rate source would otherwise come out
    // at its nominal rate, with duplicated frames that the forced keyframes can miss.
    '-fps_mode', 'cfr',
    '-r', frameRateArg(plan.fps),
    ...chunkOutputArgs(o, timing, timing.seekSeconds),
  ];
}

/**
 * The decoder's filters: HDR tone-mapped to SDR first; yuv420p frames in limited range, as the
 * graphs on them take and give (a full-range source, a VP9 or HEVC one tagged so, would keep
 * its 0..255 otherwise, where gbrp frames convert it).
 */
function decodeFilters(plan: StreamPlan, frames: FrameFormat): string[] {
  const filters = [...(plan.toneMap ? [SDR_FROM_HDR] : []), ...(frames === 'yuv420p' ? ['scale=out_range=tv'] : [])];
  return filters.length > 0 ? ['-vf', filters.join(',')] : [];
}

/**
 * ONNX mode, first process: the source's video from the chunk's first frame as raw frames on
 * stdout (`frames`: planar G, B, R, or the video's own yuv420p planes, core/models.ts
 * `FrameFormat`), at a constant `fps` (a variable-frame-rate source gets frames duplicated or
 * dropped, as ffmpeg's cfr mode does), so the nth frame is the chunk's first + n.
 */
export function buildFrameDecodeArgs(o: { source: SourceInput; plan: StreamPlan; fromSegment: number; frames: FrameFormat }): string[] {
  const { plan } = o;
  return [
    '-hide_banner', '-nostdin', '-loglevel', 'error',
    ...seekArgs(chunkTiming(plan, o.fromSegment).seekSeconds),
    ...sourceInputArgs(o.source),
    '-map', '0:v:0',
    ...decodeFilters(plan, o.frames),
    '-fps_mode', 'cfr',
    '-r', frameRateArg(plan.fps),
    '-f', 'rawvideo',
    '-pix_fmt', o.frames,
    'pipe:1',
  ];
}

/** x264's lookahead in frames, or the preset's own (10 at veryfast). */
export type LookaheadFrames = number | 'preset';

/**
 * x264's lookahead when frames come at a model's pace: 3 frames, not veryfast's 10. Measured by
 * `upflow bench --only encoder` (docs/benchmarks.md#x264s-lookahead): each segment closes about
 * 0.24 s sooner after its last frame, at the same PSNR for the same bytes; at the same CRF x264
 * then spends fewer bytes for a lower PSNR, still far above what the models reach.
 */
export const MODEL_MODE_LOOKAHEAD_FRAMES = 3;

/**
 * How x264 places B-frames behind a model: 'adaptive' is the preset's own analysis (b-adapt 1 at
 * veryfast), 'fixed' always its B-frames (b-adapt 0). Measured by `upflow bench --only encoder
 * --encoder-compare b-frames` (docs/benchmarks.md#x264s-b-frames-beside-a-model).
 */
export type BFramePlacement = 'adaptive' | 'fixed';

/**
 * ONNX mode, second process: raw upscaled frames on stdin (`frameWidth`×`frameHeight`, the
 * model's output, in the decoder's `frames` format: x264 takes yuv420p as it comes) plus the
 * source's audio from the same instant → the same segments as ffmpeg-only mode. The encode ends with the frames (`-shortest`): the chunk activity stops
 * writing them at the chunk's end. A final lanczos resize runs only when the plan's size
 * differs from the model's (SRGAN_SCALE_FACTOR ≠ model scale).
 */
export function buildFrameEncodeArgs(o: ChunkEncodeOptions & { frameWidth: number; frameHeight: number; frames: FrameFormat; lookaheadFrames?: LookaheadFrames; bFrames?: BFramePlacement }): string[] {
  const { plan } = o;
  const lookahead = o.lookaheadFrames ?? MODEL_MODE_LOOKAHEAD_FRAMES;
  const bFrames = o.bFrames ?? 'adaptive';
  const timing = chunkTiming(plan, o.fromSegment);
  const resize = o.frameWidth !== plan.outputWidth || o.frameHeight !== plan.outputHeight;
  return [
    ...QUIET_WITH_PROGRESS,
    '-f', 'rawvideo',
    '-pix_fmt', o.frames,
    '-s', `${o.frameWidth}x${o.frameHeight}`,
    '-framerate', frameRateArg(plan.fps),
    '-protocol_whitelist', 'pipe',
    '-i', 'pipe:0',
    // The audio input's zero is the chunk's first frame: both start at `startSeconds`.
    ...(plan.keepAudio ? [...seekArgs(timing.startSeconds), ...sourceInputArgs(o.source), '-map', '0:v:0', '-map', '1:a:0', '-shortest'] : ['-map', '0:v:0']),
    '-vf', `${resize ? `scale=${plan.outputWidth}:${plan.outputHeight}:flags=lanczos,` : ''}format=yuv420p`,
    ...(plan.toneMap ? SDR_TAGS : []),
    // Frames come at the model's pace, far below x264's, and each segment closes only once x264
    // hands out the next one's first frame: every frame it holds back delays every segment. Its
    // threaded lookahead's buffer held about 4 frames for nothing, and the lookahead itself
    // (`MODEL_MODE_LOOKAHEAD_FRAMES`) holds the rest.
    '-x264-params', ['sync-lookahead=0', ...(lookahead === 'preset' ? [] : [`rc-lookahead=${lookahead}`]), ...(bFrames === 'fixed' ? ['b-adapt=0'] : [])].join(':'),
    ...chunkOutputArgs(o, timing, timing.startSeconds),
  ];
}

/**
 * The final file: the title's segments in order, remuxed into Matroska (no re-encode), with the
 * source's own audio tracks copied beside them. `concatf:` reads the segments as one MPEG-TS
 * stream, keeping their content timestamps (the concat demuxer would rebuild them from
 * durations); the joins break TS continuity counters, which ffmpeg reports and copies unchanged.
 * `concatf` opens the list and each `file:` in it under the same protocol whitelist, so both are
 * listed. The segments' AAC, encoded chunk by chunk, overlaps by a priming frame where chunks
 * meet; the source's audio is whole, in sync on the same content timeline, and in its original
 * quality.
 */
export function buildJoinSegmentsArgs(o: { listFile: string; source: SourceInput; withAudio: boolean; output: string }): string[] {
  return [
    '-hide_banner', '-nostdin', '-y', '-loglevel', 'error',
    ...segmentListInputArgs(o.listFile),
    ...(o.withAudio ? [...sourceInputArgs(o.source), '-map', '0:v:0', '-map', '1:a'] : ['-map', '0:v:0']),
    '-c', 'copy', '-f', 'matroska', o.output,
  ];
}

/** Segments read in order as one MPEG-TS stream: `concatf:` of the list `withSegmentList` writes. */
function segmentListInputArgs(listFile: string): string[] {
  return ['-protocol_whitelist', 'concatf,file', '-f', 'mpegts', '-i', `concatf:${listFile}`];
}

/** Writes the list of `segmentFiles` that `segmentListInputArgs` reads, for the time `use` runs. */
async function withSegmentList<T>(listFile: string, segmentFiles: string[], use: () => Promise<T>): Promise<T> {
  await fs.writeFile(listFile, segmentFiles.map((file) => `file:${file}\n`).join(''));
  try {
    return await use();
  } finally {
    await fs.rm(listFile, { force: true });
  }
}

export async function joinSegments(o: { segmentFiles: string[]; listFile: string; source: SourceInput; withAudio: boolean; output: string }, run_: RunOptions = {}): Promise<void> {
  await withSegmentList(o.listFile, o.segmentFiles, () => run('ffmpeg', buildJoinSegmentsArgs(o), { ...run_, ...(o.withAudio ? { source: o.source } : {}) }));
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

export interface MosaicClipOptions {
  /** PNG images, tiled five across in a mosaic (each scaled to 192×192). At least 15. */
  images: string[];
  /** Raw yuv420p frames are written here. */
  file: string;
  width: number;
  height: number;
  seconds: number;
  fps: number;
  /** 'pan': a window half the output's size pans across the mosaic; 'still': a still window with one tile moving over it. Both are scaled up 2x (lanczos), as a model's frames are. */
  motion: 'pan' | 'still';
}

const MOSAIC_TILE = 192;
const MOSAIC_COLUMNS = 5;

/** Frames of real pictures for measuring an encoder (the test pattern is no picture). */
export function buildMosaicClipArgs(o: MosaicClipOptions): string[] {
  if (o.images.length < 3 * MOSAIC_COLUMNS) throw new Error(`a mosaic clip needs at least ${3 * MOSAIC_COLUMNS} images, not ${o.images.length}`);
  const rows = Math.ceil(o.images.length / MOSAIC_COLUMNS);
  const [w, h] = [o.width / 2, o.height / 2];
  // 'still': the first tile also moves over the window.
  const tiles = o.images.map((_, i) => `[${i}:v]scale=${MOSAIC_TILE}:${MOSAIC_TILE},setsar=1${i === 0 && o.motion === 'still' ? ',split[t0][mover]' : `[t${i}]`}`);
  const layout = o.images.map((_, i) => `${(i % MOSAIC_COLUMNS) * MOSAIC_TILE}_${Math.floor(i / MOSAIC_COLUMNS) * MOSAIC_TILE}`).join('|');
  const mosaic = `${o.images.map((_, i) => `[t${i}]`).join('')}xstack=inputs=${o.images.length}:layout=${layout}:fill=gray[mosaic]`;
  const [freeX, freeY] = [MOSAIC_COLUMNS * MOSAIC_TILE - w, rows * MOSAIC_TILE - h];
  const window = o.motion === 'pan'
    ? `[mosaic]crop=${w}:${h}:'${freeX / 2}+${0.45 * freeX}*sin(t/2)':'${freeY / 2}+${0.45 * freeY}*sin(t/3)'[window]`
    : `[mosaic]crop=${w}:${h}:${freeX / 2}:${freeY / 2}[bg];[bg][mover]overlay=x='${(w - MOSAIC_TILE) / 2}+${(w - MOSAIC_TILE) / 2}*sin(t)':y='${(h - MOSAIC_TILE) / 2}+${(h - MOSAIC_TILE) / 2}*sin(2*t)'[window]`;
  return [
    '-hide_banner', '-nostdin', '-y', '-loglevel', 'error',
    ...o.images.flatMap((image) => ['-loop', '1', '-framerate', String(o.fps), '-t', String(o.seconds), '-i', `file:${image}`]),
    '-filter_complex', `${tiles.join(';')};${mosaic};${window};[window]scale=${o.width}:${o.height}:flags=lanczos,format=yuv420p[out]`,
    '-map', '[out]', '-t', String(o.seconds), '-f', 'rawvideo', `file:${o.file}`,
  ];
}

export async function makeMosaicClip(options: MosaicClipOptions): Promise<void> {
  await run('ffmpeg', buildMosaicClipArgs(options));
}

/**
 * PSNR of encoded segments (an MPEG-TS list, as `joinSegments` reads it) against the raw
 * yuv420p frames they were made from, frame by frame in order: the mean squared error over every
 * frame and plane, as ffmpeg's own average.
 */
export function buildSegmentsPsnrArgs(o: { listFile: string; reference: string; width: number; height: number; fps: number }): string[] {
  // Frames matched by their order, not their timestamps: the segments' start at the content time.
  const byOrder = `setpts=N/(${o.fps}*TB)`;
  return [
    '-hide_banner', '-nostdin', '-nostats', '-loglevel', 'error',
    ...segmentListInputArgs(o.listFile),
    '-f', 'rawvideo', '-pix_fmt', 'yuv420p', '-s', `${o.width}x${o.height}`, '-framerate', String(o.fps), '-i', `file:${o.reference}`,
    '-lavfi', `[0:v]${byOrder}[encoded];[1:v]${byOrder}[reference];[encoded][reference]psnr=stats_file=-`,
    '-f', 'null', '-',
  ];
}

/** The PSNR (dB) of `psnr=stats_file=-` lines: from the mean of each frame's `mse_avg`. */
export function psnrOfStats(stats: string): { psnr: number; frames: number } {
  const mse = [...stats.matchAll(/\bmse_avg:([0-9.]+)/g)].map((m) => Number(m[1]));
  if (mse.length === 0) throw new Error('psnr: no frames compared');
  const mean = mse.reduce((a, b) => a + b, 0) / mse.length;
  return { psnr: mean === 0 ? Infinity : 10 * Math.log10((255 * 255) / mean), frames: mse.length };
}

export async function segmentsPsnr(o: { segmentFiles: string[]; listFile: string; reference: string; width: number; height: number; fps: number }): Promise<{ psnr: number; frames: number }> {
  return withSegmentList(o.listFile, o.segmentFiles, async () => psnrOfStats((await run('ffmpeg', buildSegmentsPsnrArgs(o))).stdout));
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

interface StartedTool {
  /** Resolves when the tool exits with 0; rejects with the tail of stderr otherwise. */
  done: Promise<RunResult>;
  /** Present when asked for with `stdin: 'pipe'`. */
  stdin: Writable | null;
  /** Present when asked for with `stdout: 'stream'`: the raw bytes, read with backpressure. */
  stdout: Readable | null;
}

/**
 * Starts ffmpeg or ffprobe. stdout is collected as text, parsed as `-progress` blocks
 * (`onProgress`), or handed over as a stream; a missing binary says so plainly. `source.fd`,
 * when given, becomes the child's descriptor 3, which the arguments read the source from.
 */
function start(tool: 'ffmpeg' | 'ffprobe', args: string[], options: RunOptions & { stdin?: 'pipe'; stdout?: 'stream'; source?: SourceInput } = {}): StartedTool {
  const inherited = options.source?.fd === undefined ? [] : [options.source.fd];
  const child = spawn(tool, args, {
    cwd: options.cwd,
    stdio: [options.stdin ?? 'ignore', 'pipe', 'pipe', ...inherited],
    signal: options.signal,
    timeout: options.timeoutMs,
    killSignal: 'SIGKILL',
  });
  const { stdout: out, stderr: err } = child;
  if (!out || !err) throw new Error(`${tool}: spawn gave no output pipes`); // stdio above always pipes both
  let stdout = '';
  let stderr = '';
  let pending: string[] = [];
  let partialLine = '';
  if (options.stdout !== 'stream') {
    out.setEncoding('utf8').on('data', (chunk: string) => {
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
  }
  err.setEncoding('utf8').on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-4000);
  });
  // A reader that stops early (cancel, failure) closes the pipe; that is not an error here.
  child.stdin?.on('error', () => undefined);
  const done = new Promise<RunResult>((resolve, reject) => {
    let aborted: Error | undefined;
    child.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') {
        reject(new Error(`${tool} is not installed or not on PATH (apt-get install ffmpeg)`));
      } else if (err.name === 'AbortError') {
        // Node says so as it sends the kill; the tool has stopped (and stopped writing) at 'close'.
        aborted = err;
      } else {
        reject(err);
      }
    });
    child.on('close', (code, signal) => {
      if (aborted) {
        reject(aborted);
        return;
      }
      if (code === 0) {
        resolve({ stdout });
        return;
      }
      const why = stderr.trim().split('\n').slice(-3).join(' / ') || `exit ${code ?? signal}`;
      reject(new Error(`${tool} failed: ${why}`));
    });
  });
  return { done, stdin: child.stdin, stdout: options.stdout === 'stream' ? out : null };
}

function run(tool: 'ffmpeg' | 'ffprobe', args: string[], options: RunOptions & { source?: SourceInput } = {}): Promise<RunResult> {
  return start(tool, args, options).done;
}

/** The ONNX path's decoder: raw frames on `frames`, read with backpressure. */
export function startFrameDecoder(options: Parameters<typeof buildFrameDecodeArgs>[0], run_: Pick<RunOptions, 'signal'>): { frames: Readable; done: Promise<void> } {
  const tool = start('ffmpeg', buildFrameDecodeArgs(options), { ...run_, stdout: 'stream', source: options.source });
  return { frames: tool.stdout!, done: tool.done.then(() => undefined) };
}

/** The ONNX path's encoder: write raw frames to `frames`, end it after the last one. */
export function startFrameEncoder(options: Parameters<typeof buildFrameEncodeArgs>[0], run_: RunOptions): { frames: Writable; done: Promise<void> } {
  const tool = start('ffmpeg', buildFrameEncodeArgs(options), { ...run_, stdin: 'pipe', source: options.source });
  return { frames: tool.stdin!, done: tool.done.then(() => undefined) };
}

/**
 * ffmpeg's complaint when a demuxer off the whitelist recognised the input; its log prefix
 * names that demuxer: `[hls @ 0x55d…] Format not on whitelist 'matroska,mov,…'`.
 */
const NOT_ON_WHITELIST = /\[([^\s@\]]+) @ 0x[0-9a-f]+\] Format not on whitelist/;

/** ffprobe of a source (`label`: its name for people), or an InvalidMedia error saying what is wrong with it. */
export async function probeSource(source: SourceInput, label = source.path): Promise<SourceInfo> {
  const { size } = source.fd === undefined ? await fs.stat(source.path) : fsSync.fstatSync(source.fd);
  if (size === 0) throw new MediaToolError(`${label} is empty (0 bytes)`, FailureType.InvalidMedia);
  let stdout: string;
  try {
    ({ stdout } = await run('ffprobe', buildProbeArgs(source), { timeoutMs: 60_000, source }));
  } catch (err) {
    const message = (err as Error).message;
    if (message.includes('not installed')) throw err;
    const refusedFormat = NOT_ON_WHITELIST.exec(message)?.[1];
    const refused = refusedFormat === undefined ? undefined : refusedContainerReason(refusedFormat, label);
    if (refused) throw new MediaToolError(refused, FailureType.InvalidMedia);
    // ffprobe's last line says what is wrong ("file:<file>: Invalid data found when processing input").
    const detail = (message.split(' / ').pop() ?? message).replace(/^ffprobe failed: /, '').replace(`${sourceUrl(source)}: `, '');
    throw new MediaToolError(`${label} is not a readable video (${detail})`, FailureType.InvalidMedia);
  }
  return parseSourceInfo(JSON.parse(stdout) as ProbeJson, label);
}

/** The raw probe of a produced file (its container known), for verification. */
export async function probeJson(file: string, container: 'matroska' | 'mpegts'): Promise<ProbeJson> {
  const { stdout } = await run('ffprobe', buildProbeArgs({ path: file, container }), { timeoutMs: 60_000 });
  return JSON.parse(stdout) as ProbeJson;
}

/** ffmpeg-only mode's chunk, to the end of the source unless `run_.signal` stops it. */
export async function encodeLanczosChunk(options: ChunkEncodeOptions, run_: RunOptions): Promise<void> {
  await run('ffmpeg', buildLanczosChunkArgs(options), { ...run_, source: options.source });
}

export async function makeTestClip(options: TestClipOptions): Promise<void> {
  await run('ffmpeg', buildTestClipArgs(options), { timeoutMs: 10 * 60_000 });
}

/** Version line of each tool, or an error naming the missing one. */
export async function checkMediaTools(): Promise<{ ffmpeg: string; ffprobe: string }> {
  const [ffmpeg, ffprobe] = await Promise.all([run('ffmpeg', ['-version']), run('ffprobe', ['-version'])]);
  return { ffmpeg: ffmpeg.stdout.split('\n')[0] ?? '', ffprobe: ffprobe.stdout.split('\n')[0] ?? '' };
}
