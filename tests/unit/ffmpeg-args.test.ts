import {
  buildFrameDecodeArgs, buildFrameEncodeArgs, buildJoinSegmentsArgs, buildLanczosChunkArgs, buildMosaicClipArgs, buildProbeArgs, buildSegmentsPsnrArgs,
  parseProgressBlock, parseSourceInfo, psnrOfStats, refusedContainerReason, SOURCE_CONTAINERS,
} from '../../adapters/ffmpeg';
import type { StreamPlan } from '../../core/domain';
import { frameRateArg } from '../../core/grid';
import { planStream } from '../../core/plan';

const source = { durationSeconds: 20, fps: 25, width: 640, height: 360, videoCodec: 'h264', hasAudio: true, audioCodec: 'aac' };
const settings = { aiEnabled: false, model: 'anime4k-s-rl' as const, stepDownWindowSeconds: 8, stepDownBelowRate: 1, scaleFactor: 2, preset: 'veryfast', crf: 20, encoderThreads: 0, segmentSeconds: 6, hlsRetentionMs: 1000, lookAheadSegments: 0 };

describe('planStream', () => {
  it('scales to even dimensions and keeps audio when the source has it', () => {
    const plan = planStream({ ...source, width: 641, height: 359 }, settings);
    expect(plan).toMatchObject({ upscaler: 'lanczos', outputWidth: 1282, outputHeight: 718, keepAudio: true, encoder: 'libx264' });
    expect(planStream({ ...source, hasAudio: false }, settings).keepAudio).toBe(false);
  });

  it('plans the ONNX path with the configured model and its step-down ladder when SRGAN_ENABLE is on', () => {
    const plan = planStream(source, { ...settings, aiEnabled: true, model: 'anime4k-l-rl' });
    expect(plan).toMatchObject({ upscaler: 'anime4k-l-rl', modelScale: 2, outputWidth: 1280, outputHeight: 720 });
    expect(plan.ladder).toEqual(['anime4k-l-rl', 'anime4k-m-rl', 'anime4k-s-rl', 'lanczos-x2']);
    expect(planStream(source, settings)).toMatchObject({ upscaler: 'lanczos', ladder: [], modelScale: null });
  });
});

/** A probed Matroska source read by its path: every read of it forces the probed demuxer. */
const mkv = { path: '/media/a.mkv', container: 'matroska' };
const MKV_INPUT = '-protocol_whitelist file -format_whitelist matroska -f matroska -i file:/media/a.mkv';

describe('ONNX path arguments', () => {
  const plan = planStream(source, { ...settings, aiEnabled: true, scaleFactor: 3 });
  const options = { source: mkv, plan, fromSegment: 0, segmentPattern: 'seg%05d.ts', segmentList: 'segments.csv', frames: 'gbrp' as const };

  it('decodes to planar RGB or the video\'s own yuv420p planes at a constant frame rate on stdout', () => {
    const args = buildFrameDecodeArgs({ source: mkv, plan: { ...plan, fps: 23.976 }, fromSegment: 0, frames: 'gbrp' });
    expect(args.join(' ')).toContain('-fps_mode cfr -r 24000/1001 -f rawvideo -pix_fmt gbrp pipe:1');
    const yuv = buildFrameDecodeArgs({ source: mkv, plan, fromSegment: 0, frames: 'yuv420p' });
    expect(yuv.join(' ')).toContain('-f rawvideo -pix_fmt yuv420p pipe:1');
    // In limited range, as the yuv420p graphs take them, whatever the source's range.
    expect(yuv[yuv.indexOf('-vf') + 1]).toBe('scale=out_range=tv');
    expect(buildFrameDecodeArgs({ source: mkv, plan, fromSegment: 0, frames: 'gbrp' })).not.toContain('-vf');
  });

  it('encodes yuv420p frames as they come: the format filter has nothing to convert', () => {
    const args = buildFrameEncodeArgs({ ...options, frames: 'yuv420p', plan: { ...plan, outputWidth: 1280, outputHeight: 720 }, frameWidth: 1280, frameHeight: 720 });
    expect(args.join(' ')).toContain('-f rawvideo -pix_fmt yuv420p -s 1280x720');
    expect(args[args.indexOf('-vf') + 1]).toBe('format=yuv420p');
  });

  it('encodes raw frames from stdin with the source audio, to the end of the frames, resizing when the plan differs from the model', () => {
    const args = buildFrameEncodeArgs({ ...options, frameWidth: 1280, frameHeight: 720 });
    expect(args.join(' ')).toContain(`-f rawvideo -pix_fmt gbrp -s 1280x720 -framerate 25 -protocol_whitelist pipe -i pipe:0 ${MKV_INPUT} -map 0:v:0 -map 1:a:0 -shortest`);
    expect(args[args.indexOf('-vf') + 1]).toBe('scale=1920:1080:flags=lanczos,format=yuv420p');
    const exact = buildFrameEncodeArgs({ ...options, plan: { ...plan, outputWidth: 1280, outputHeight: 720 }, frameWidth: 1280, frameHeight: 720 });
    expect(exact[exact.indexOf('-vf') + 1]).toBe('format=yuv420p');
    // Frames at the model's pace: every frame x264 holds back delays every segment.
    expect(args[args.indexOf('-x264-params') + 1]).toBe('sync-lookahead=0:rc-lookahead=3');
    const preset = buildFrameEncodeArgs({ ...options, frameWidth: 1280, frameHeight: 720, lookaheadFrames: 'preset' });
    expect(preset[preset.indexOf('-x264-params') + 1]).toBe('sync-lookahead=0');
    // The encoder bench's fixed B-frames (the stream keeps the preset's analysis).
    const fixedB = buildFrameEncodeArgs({ ...options, frameWidth: 1280, frameHeight: 720, bFrames: 'fixed' });
    expect(fixedB[fixedB.indexOf('-x264-params') + 1]).toBe('sync-lookahead=0:rc-lookahead=3:b-adapt=0');
    expect(buildLanczosChunkArgs(options)).not.toContain('-x264-params');
  });

  it('starts a chunk at its first segment: the decoder a millisecond before its first frame, the audio at it, content timestamps, files numbered on', () => {
    // 20 s at 25 fps, 6 s segments: boundaries at 6, 12, 18 s.
    expect(buildFrameDecodeArgs({ source: mkv, plan, fromSegment: 1, frames: 'gbrp' }).join(' ')).toContain(`-ss 5.999 ${MKV_INPUT}`);
    const args = buildFrameEncodeArgs({ ...options, fromSegment: 1, frameWidth: 1280, frameHeight: 720 });
    const after = (flag: string) => args[args.indexOf(flag) + 1];
    expect(args.join(' ')).toContain(`-i pipe:0 -ss 6 ${MKV_INPUT}`);
    // Keyframes are forced at times of this encode (its frames start at 0), cuts at content times.
    expect(after('-force_key_frames')).toBe('5.999,11.999');
    expect(after('-segment_times')).toBe('11.999,17.999');
    expect(after('-output_ts_offset')).toBe('6');
    expect(after('-segment_start_number')).toBe('1');
    const last = buildFrameEncodeArgs({ ...options, fromSegment: 3, frameWidth: 1280, frameHeight: 720 });
    expect(last).not.toContain('-force_key_frames');
    expect(last).not.toContain('-segment_times');
  });

  it('writes NTSC rates exactly', () => {
    expect(frameRateArg(29.97002997)).toBe('30000/1001');
    expect(frameRateArg(25)).toBe('25');
  });
});

describe('buildLanczosChunkArgs', () => {
  const plan: StreamPlan = planStream(source, settings);
  const args = buildLanczosChunkArgs({
    source: { path: '/media/a film.mkv', container: 'matroska' },
    plan,
    fromSegment: 0,
    segmentPattern: 'seg%05d.ts',
    segmentList: 'segments.csv',
  });
  const after = (flag: string) => args[args.indexOf(flag) + 1];
  const afterLast = (flag: string) => args[args.lastIndexOf(flag) + 1];

  it('scales with lanczos to the planned size', () => {
    expect(after('-vf')).toBe('scale=1280:720:flags=lanczos,format=yuv420p');
    expect(after('-i')).toBe('file:/media/a film.mkv');
    // The grid's frames at the plan's rate (a variable-frame-rate source included), as in ONNX mode.
    expect([after('-fps_mode'), after('-r')]).toEqual(['cfr', frameRateArg(plan.fps)]);
  });
  it('forces keyframes on the grid cuts, a millisecond before each boundary frame', () => {
    expect(after('-force_key_frames')).toBe('5.999,11.999,17.999');
    expect(after('-segment_times')).toBe('5.999,11.999,17.999');
  });
  it('starts mid-title with the seek as the zero of the encode, and keeps content time', () => {
    const mid = buildLanczosChunkArgs({ source: mkv, plan, fromSegment: 2, segmentPattern: 's%d.ts', segmentList: 'l.csv' });
    const at = (flag: string) => mid[mid.indexOf(flag) + 1];
    expect(mid.join(' ')).toContain(`-ss 11.999 ${MKV_INPUT}`);
    expect(at('-output_ts_offset')).toBe('11.999');
    expect(at('-force_key_frames')).toBe('6');
    expect(at('-segment_times')).toBe('17.999');
    expect(at('-segment_start_number')).toBe('2');
  });
  it('encodes into MPEG-TS segments listed in a CSV, SPS/PPS in each, audio as AAC', () => {
    expect(afterLast('-f')).toBe('segment');
    expect(after('-segment_format')).toBe('mpegts');
    expect(after('-segment_list_type')).toBe('csv');
    expect(after('-bsf:v')).toBe('dump_extra=freq=keyframe');
    expect(after('-c:a')).toBe('aac');
    expect(args[args.length - 1]).toBe('seg%05d.ts');
  });
  it('keeps content timestamps in every segment, from the start', () => {
    expect(after('-avoid_negative_ts')).toBe('disabled');
    expect(after('-segment_format_options')).toBe('avoid_negative_ts=disabled');
    expect(after('-segment_start_number')).toBe('0');
    expect(args).not.toContain('-ss');
    expect(args).not.toContain('-output_ts_offset');
  });
  it('maps no audio for a silent source', () => {
    const silent = buildLanczosChunkArgs({ source: { path: '/a' }, plan: { ...plan, keepAudio: false }, fromSegment: 0, segmentPattern: 's%d.ts', segmentList: 'l.csv' });
    expect(silent).not.toContain('0:a:0');
    expect(silent).not.toContain('-c:a');
  });
  it('gives x264 the threads the plan says, or leaves it to choose', () => {
    expect(args).not.toContain('-threads');
    const one = buildLanczosChunkArgs({ source: mkv, plan: { ...plan, encoderThreads: 1 }, fromSegment: 0, segmentPattern: 's%d.ts', segmentList: 'l.csv' });
    expect(one[one.indexOf('-threads') + 1]).toBe('1');
  });
  it('reports progress on stdout', () => {
    expect(after('-progress')).toBe('pipe:1');
  });
});

describe('HDR sources', () => {
  const hdrPlan = planStream({ ...source, hdr: 'pq' }, settings);
  it('are tone-mapped to SDR BT.709 before scaling or the model, and tagged so', () => {
    expect(hdrPlan.toneMap).toBe(true);
    expect(planStream(source, settings).toneMap).toBe(false);
    const lanczos = buildLanczosChunkArgs({ source: { path: '/a' }, plan: hdrPlan, fromSegment: 0, segmentPattern: 's%d.ts', segmentList: 'l.csv' });
    expect(lanczos[lanczos.indexOf('-vf') + 1]).toMatch(/^zscale=t=linear.*tonemap=tonemap=hable.*zscale=t=bt709:m=bt709:r=tv,format=yuv420p,scale=1280:720:flags=lanczos/);
    expect(lanczos.join(' ')).toContain('-color_primaries bt709 -color_trc bt709 -colorspace bt709');
    const decode = buildFrameDecodeArgs({ source: { path: '/a' }, plan: hdrPlan, fromSegment: 0, frames: 'yuv420p' });
    expect(decode[decode.indexOf('-vf') + 1]).toMatch(/tonemap=tonemap=hable.*,scale=out_range=tv$/);
    expect(buildFrameDecodeArgs({ source: { path: '/a' }, plan: planStream(source, settings), fromSegment: 0, frames: 'gbrp' })).not.toContain('-vf');
    const plain = buildLanczosChunkArgs({ source: { path: '/a' }, plan: planStream(source, settings), fromSegment: 0, segmentPattern: 's%d.ts', segmentList: 'l.csv' });
    expect(plain).not.toContain('-color_trc');
  });
  it('are recognised by their transfer: PQ and HLG', () => {
    const probe = (color_transfer: string) => parseSourceInfo({ streams: [{ codec_type: 'video', width: 1, height: 1, avg_frame_rate: '25/1', color_transfer }], format: { duration: '1', format_name: 'matroska,webm' } }, 'x').hdr;
    expect([probe('smpte2084'), probe('arib-std-b67'), probe('bt709')]).toEqual(['pq', 'hlg', undefined]);
  });
});

describe('buildJoinSegmentsArgs', () => {
  it('remuxes the segments into Matroska without re-encoding, reading the list and its files only, with every audio track of the source copied', () => {
    expect(buildJoinSegmentsArgs({ listFile: '/h/t/.final-segments.txt', source: mkv, withAudio: true, output: '/out/t.partial.mkv' }).join(' '))
      .toContain(`-protocol_whitelist concatf,file -f mpegts -i concatf:/h/t/.final-segments.txt ${MKV_INPUT} -map 0:v:0 -map 1:a -c copy -f matroska /out/t.partial.mkv`);
    expect(buildJoinSegmentsArgs({ listFile: '/l', source: mkv, withAudio: false, output: '/o' }).join(' ')).toContain('-i concatf:/l -map 0:v:0 -c copy');
  });
});

describe('parseSourceInfo', () => {
  const video = { codec_type: 'video', codec_name: 'h264', width: 640, height: 360, avg_frame_rate: '24000/1001' };
  const audio = { codec_type: 'audio', codec_name: 'aac' };
  const mp4 = 'mov,mp4,m4a,3gp,3g2,mj2';
  it('summarises a video with audio, and the demuxer that read it', () => {
    expect(parseSourceInfo({ streams: [video, audio], format: { duration: '20.5', format_name: mp4 } }, 'x')).toEqual({
      container: 'mov', durationSeconds: 20.5, fps: 23.976, width: 640, height: 360, videoCodec: 'h264', hasAudio: true, audioCodec: 'aac',
    });
  });
  it.each([
    ['audio only', { streams: [audio], format: { duration: '3', format_name: mp4 } }, /x is audio only/],
    ['nothing', { streams: [], format: { format_name: 'matroska,webm' } }, /x has no video stream/],
    ['a still image', { streams: [{ ...video, codec_name: 'png' }], format: { format_name: 'png_pipe' } }, /still image/],
    ['a still image in an allowed container', { streams: [{ ...video, codec_name: 'png', nb_frames: '1' }], format: { duration: '0.04', format_name: 'matroska,webm' } }, /still image/],
    ['no duration', { streams: [video], format: { format_name: 'matroska,webm' } }, /no duration/],
    ['zero duration', { streams: [video], format: { duration: '0', format_name: 'matroska,webm' } }, /no duration/],
    ['a container off the list', { streams: [video], format: { duration: '2', format_name: 'gif' } }, /x is a gif file, not a video container Upflow reads/],
    ['no container named', { streams: [video], format: { duration: '2' } }, /x is of no format ffprobe names, not a video container/],
    // A playlist in the media folder may name files anywhere: the path guard saw only the playlist.
    ['an HLS playlist', { streams: [video], format: { duration: '2', format_name: 'hls' } }, /x is a list of other files \(hls\), not a video/],
    ['a concat list', { streams: [video], format: { duration: '2', format_name: 'concat' } }, /list of other files \(concat\)/],
    ['a DASH manifest', { streams: [video], format: { duration: '2', format_name: 'dash' } }, /list of other files \(dash\)/],
  ])('rejects %s', (_name, probe, message) => {
    expect(() => parseSourceInfo(probe, 'x')).toThrow(message);
  });
  it('gives the size as shown: a quarter turn (display matrix or rotate tag) swaps width and height', () => {
    const turned = (rotation: Record<string, unknown>) =>
      parseSourceInfo({ streams: [{ ...video, ...rotation }], format: { duration: '2', format_name: mp4 } }, 'x');
    const displayMatrix = (rotation: number) => ({ side_data_list: [{ side_data_type: 'Display Matrix', rotation }] });
    expect(turned(displayMatrix(90))).toMatchObject({ width: 360, height: 640 });
    expect(turned(displayMatrix(-90))).toMatchObject({ width: 360, height: 640 });
    expect(turned(displayMatrix(270))).toMatchObject({ width: 360, height: 640 });
    expect(turned(displayMatrix(180))).toMatchObject({ width: 640, height: 360 });
    expect(turned({ tags: { rotate: '90' } })).toMatchObject({ width: 360, height: 640 });
    expect(turned({ tags: { rotate: 'sideways' } })).toMatchObject({ width: 640, height: 360 });
  });
  it('ignores cover art when looking for the picture', () => {
    expect(() => parseSourceInfo({ streams: [audio, { ...video, codec_name: 'mjpeg', disposition: { attached_pic: 1 } }], format: { duration: '3', format_name: mp4 } }, 'x')).toThrow(/audio only/);
  });
});

describe('parseProgressBlock', () => {
  it('reads frames, output time and the end marker', () => {
    expect(parseProgressBlock(['frame=153', 'fps=0.0', 'out_time_us=6144000', 'speed=12.3x', 'progress=continue'])).toEqual({ frame: 153, outTimeSeconds: 6.144, done: false });
    expect(parseProgressBlock(['frame=500', 'out_time_us=N/A', 'progress=end'])).toEqual({ frame: 500, outTimeSeconds: 0, done: true });
  });
});

describe('buildProbeArgs', () => {
  it('asks for JSON streams and format of a file: URL, letting only the allowed containers read it', () => {
    expect(buildProbeArgs({ path: '/f' })).toEqual([
      '-v', 'error',
      '-protocol_whitelist', 'file', '-format_whitelist', 'matroska,mov,avi,mpegts,mpeg,flv,asf,ogg,mxf,nut,dv,rm,wtv', '-i', 'file:/f',
      '-print_format', 'json', '-show_format', '-show_streams',
    ]);
  });
  it('forces the container of a file Upflow made', () => {
    expect(buildProbeArgs({ path: '/out/t.mkv', container: 'matroska' }).join(' ')).toContain('-protocol_whitelist file -format_whitelist matroska -f matroska -i file:/out/t.mkv');
  });
  it('reads a source Upflow opened through the descriptor the child inherits, not by its name', () => {
    expect(buildProbeArgs({ path: '/media/a.mkv', fd: 27 })).toContain('file:/proc/self/fd/3');
    expect(buildProbeArgs({ path: '/media/a.mkv', fd: 27 }).join(' ')).not.toContain('/media/a.mkv');
    const plan = planStream(source, { ...settings, aiEnabled: true });
    const encode = buildFrameEncodeArgs({ source: { ...mkv, fd: 27 }, plan, fromSegment: 1, segmentPattern: 's%d.ts', segmentList: 'l.csv', frameWidth: 1280, frameHeight: 720, frames: 'gbrp' });
    expect(encode.filter((arg) => arg === 'file:/proc/self/fd/3')).toHaveLength(1);
    expect(encode.join(' ')).not.toContain('/media/a.mkv');
  });
});

describe('the source containers allowed', () => {
  // What ffprobe 5.1 reports as format_name for files made by ffmpeg in each container.
  it.each([
    ['.mkv, .webm', 'matroska,webm', 'matroska'],
    ['.mp4, .m4v, .mov, .3gp', 'mov,mp4,m4a,3gp,3g2,mj2', 'mov'],
    ['.avi', 'avi', 'avi'],
    ['.ts, .m2ts', 'mpegts', 'mpegts'],
    ['.mpg, .vob', 'mpeg', 'mpeg'],
    ['.flv', 'flv', 'flv'],
    ['.wmv', 'asf', 'asf'],
    ['.ogv', 'ogg', 'ogg'],
    ['.mxf', 'mxf', 'mxf'],
    ['.nut', 'nut', 'nut'],
    ['.dv', 'dv', 'dv'],
    ['.rm', 'rm', 'rm'],
    ['.wtv', 'wtv', 'wtv'],
  ])('%s (%s) is read with the %s demuxer forced', (_files, formatName, demuxer) => {
    expect(SOURCE_CONTAINERS[formatName]).toBe(demuxer);
    expect(refusedContainerReason(formatName, 'x')).toBeUndefined();
  });
  it('refuses what reads other files, pictures, audio alone and any other container, saying which', () => {
    expect(refusedContainerReason('hls', 'x')).toBe('x is a list of other files (hls), not a video: only files inside the media folders are upscaled');
    for (const list of ['concat', 'dash', 'sdp', 'imf', 'webm_dash_manifest']) expect(refusedContainerReason(list, 'x')).toMatch(/list of other files/);
    for (const still of ['png_pipe', 'jpeg_pipe', 'image2']) expect(refusedContainerReason(still, 'x')).toBe('x is a still image, not a video');
    expect(refusedContainerReason('mp3', 'x')).toBe('x is audio only (mp3)');
    expect(refusedContainerReason('srt', 'x')).toMatch(/^x is a srt file, not a video container Upflow reads \(Matroska, MP4\/MOV/);
    // Only a whole name: "matroska" alone is not how ffprobe names the Matroska demuxer.
    expect(refusedContainerReason('matroska', 'x')).toMatch(/not a video container/);
  });
});

describe("the encoder bench's clips and PSNR", () => {
  const images = Array.from({ length: 16 }, (_, i) => `/pictures/p${i}.png`);
  const clip = { images, file: '/tmp/clip.yuv', width: 1280, height: 720, seconds: 8, fps: 24 };

  it('tiles the pictures five across and moves a window half the output over them, scaled up 2x, as raw yuv420p', () => {
    const pan = buildMosaicClipArgs({ ...clip, motion: 'pan' });
    expect(pan.filter((a) => a.startsWith('file:/pictures/'))).toHaveLength(16);
    const graph = pan[pan.indexOf('-filter_complex') + 1]!;
    expect(graph).toContain('xstack=inputs=16:layout=0_0|192_0|384_0|576_0|768_0|0_192|');
    // A 960×768 mosaic, a 640×360 window: 320 and 408 pixels to pan over.
    expect(graph).toContain("crop=640:360:'160+144*sin(t/2)':'204+183.6*sin(t/3)'");
    expect(graph).toContain('scale=1280:720:flags=lanczos,format=yuv420p');
    expect(pan.slice(-3)).toEqual(['-f', 'rawvideo', 'file:/tmp/clip.yuv']);
    // Still: the first picture is also the one that moves.
    const still = buildMosaicClipArgs({ ...clip, motion: 'still' })[pan.indexOf('-filter_complex') + 1]!;
    expect(still).toContain('split[t0][mover]');
    expect(still).toContain('[bg][mover]overlay=');
    expect(() => buildMosaicClipArgs({ ...clip, images: images.slice(0, 14), motion: 'pan' })).toThrow('at least 15 images, not 14');
  });

  it('compares frames by their order, and takes PSNR from the mean squared error over every frame', () => {
    const args = buildSegmentsPsnrArgs({ listFile: '/tmp/list.txt', reference: '/tmp/clip.yuv', width: 1280, height: 720, fps: 24 });
    expect(args.join(' ')).toContain('-protocol_whitelist concatf,file -f mpegts -i concatf:/tmp/list.txt');
    expect(args[args.indexOf('-lavfi') + 1]).toBe('[0:v]setpts=N/(24*TB)[encoded];[1:v]setpts=N/(24*TB)[reference];[encoded][reference]psnr=stats_file=-');
    const stats = 'n:1 mse_avg:1.00 mse_y:1.20 mse_u:0.80 mse_v:0.60 psnr_avg:48.13 psnr_y:47.34\nn:2 mse_avg:3.00 mse_y:3.5 psnr_avg:43.36\n';
    // The mean error 2.00, not the mean of 48.13 and 43.36 dB.
    expect(psnrOfStats(stats)).toEqual({ psnr: 10 * Math.log10((255 * 255) / 2), frames: 2 });
    expect(psnrOfStats('n:1 mse_avg:0.00\n').psnr).toBe(Infinity);
    expect(() => psnrOfStats('')).toThrow('no frames compared');
  });
});
