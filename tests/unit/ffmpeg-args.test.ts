import { buildFrameDecodeArgs, buildFrameEncodeArgs, buildJoinSegmentsArgs, buildLanczosChunkArgs, buildProbeArgs, parseProgressBlock, parseSourceInfo } from '../../adapters/ffmpeg';
import type { StreamPlan } from '../../common/domain';
import { frameRateArg } from '../../core/grid';
import { planStream } from '../../core/plan';

const source = { durationSeconds: 20, fps: 25, width: 640, height: 360, videoCodec: 'h264', hasAudio: true, audioCodec: 'aac' };
const settings = { aiEnabled: false, model: 'anime4k-s-rl' as const, slowSegmentsBeforeStepDown: 2, stepDownBelowRate: 1, scaleFactor: 2, preset: 'veryfast', crf: 20, encoderThreads: 0, segmentSeconds: 6, hlsRetentionMs: 1000, lookAheadSegments: 0 };

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

describe('ONNX path arguments', () => {
  const plan = planStream(source, { ...settings, aiEnabled: true, scaleFactor: 3 });
  const options = { sourcePath: '/media/a.mkv', plan, fromSegment: 0, segmentPattern: 'seg%05d.ts', segmentList: 'segments.csv' };

  it('decodes to planar RGB at a constant frame rate on stdout', () => {
    const args = buildFrameDecodeArgs({ sourcePath: '/media/a.mkv', plan: { ...plan, fps: 23.976 }, fromSegment: 0 });
    expect(args.join(' ')).toContain('-fps_mode cfr -r 24000/1001 -f rawvideo -pix_fmt gbrp pipe:1');
  });

  it('encodes raw frames from stdin with the source audio, resizing when the plan differs from the model', () => {
    const args = buildFrameEncodeArgs({ ...options, frameWidth: 1280, frameHeight: 720 });
    expect(args.join(' ')).toContain('-f rawvideo -pix_fmt gbrp -s 1280x720 -framerate 25 -i pipe:0 -i /media/a.mkv -map 0:v:0 -map 1:a:0 -shortest');
    expect(args[args.indexOf('-vf') + 1]).toBe('scale=1920:1080:flags=lanczos,format=yuv420p');
    const exact = buildFrameEncodeArgs({ ...options, plan: { ...plan, outputWidth: 1280, outputHeight: 720 }, frameWidth: 1280, frameHeight: 720 });
    expect(exact[exact.indexOf('-vf') + 1]).toBe('format=yuv420p');
  });

  it('starts a chunk at its first segment: the decoder a millisecond before its first frame, the audio at it, content timestamps, files numbered on', () => {
    // 20 s at 25 fps, 6 s segments: boundaries at 6, 12, 18 s.
    expect(buildFrameDecodeArgs({ sourcePath: '/media/a.mkv', plan, fromSegment: 1 }).join(' ')).toContain('-ss 5.999 -i /media/a.mkv');
    const args = buildFrameEncodeArgs({ ...options, fromSegment: 1, frameWidth: 1280, frameHeight: 720 });
    const after = (flag: string) => args[args.indexOf(flag) + 1];
    expect(args.join(' ')).toContain('-i pipe:0 -ss 6 -i /media/a.mkv');
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
    sourcePath: '/media/a film.mkv',
    plan,
    fromSegment: 0,
    segmentPattern: 'seg%05d.ts',
    segmentList: 'segments.csv',
  });
  const after = (flag: string) => args[args.indexOf(flag) + 1];

  it('scales with lanczos to the planned size', () => {
    expect(after('-vf')).toBe('scale=1280:720:flags=lanczos,format=yuv420p');
    expect(after('-i')).toBe('/media/a film.mkv');
  });
  it('forces keyframes on the grid cuts, a millisecond before each boundary frame', () => {
    expect(after('-force_key_frames')).toBe('5.999,11.999,17.999');
    expect(after('-segment_times')).toBe('5.999,11.999,17.999');
  });
  it('starts mid-title with the seek as the zero of the encode, and keeps content time', () => {
    const mid = buildLanczosChunkArgs({ sourcePath: '/a', plan, fromSegment: 2, segmentPattern: 's%d.ts', segmentList: 'l.csv' });
    const at = (flag: string) => mid[mid.indexOf(flag) + 1];
    expect(mid.slice(mid.indexOf('-ss'), mid.indexOf('-ss') + 4)).toEqual(['-ss', '11.999', '-i', '/a']);
    expect(at('-output_ts_offset')).toBe('11.999');
    expect(at('-force_key_frames')).toBe('6');
    expect(at('-segment_times')).toBe('17.999');
    expect(at('-segment_start_number')).toBe('2');
  });
  it('encodes into MPEG-TS segments listed in a CSV, SPS/PPS in each, audio as AAC', () => {
    expect(after('-f')).toBe('segment');
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
    const silent = buildLanczosChunkArgs({ sourcePath: '/a', plan: { ...plan, keepAudio: false }, fromSegment: 0, segmentPattern: 's%d.ts', segmentList: 'l.csv' });
    expect(silent).not.toContain('0:a:0');
    expect(silent).not.toContain('-c:a');
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
    const lanczos = buildLanczosChunkArgs({ sourcePath: '/a', plan: hdrPlan, fromSegment: 0, segmentPattern: 's%d.ts', segmentList: 'l.csv' });
    expect(lanczos[lanczos.indexOf('-vf') + 1]).toMatch(/^zscale=t=linear.*tonemap=tonemap=hable.*zscale=t=bt709:m=bt709:r=tv,format=yuv420p,scale=1280:720:flags=lanczos/);
    expect(lanczos.join(' ')).toContain('-color_primaries bt709 -color_trc bt709 -colorspace bt709');
    const decode = buildFrameDecodeArgs({ sourcePath: '/a', plan: hdrPlan, fromSegment: 0 });
    expect(decode[decode.indexOf('-vf') + 1]).toContain('tonemap=tonemap=hable');
    expect(buildFrameDecodeArgs({ sourcePath: '/a', plan: planStream(source, settings), fromSegment: 0 })).not.toContain('-vf');
    const plain = buildLanczosChunkArgs({ sourcePath: '/a', plan: planStream(source, settings), fromSegment: 0, segmentPattern: 's%d.ts', segmentList: 'l.csv' });
    expect(plain).not.toContain('-color_trc');
  });
  it('are recognised by their transfer: PQ and HLG', () => {
    const probe = (color_transfer: string) => parseSourceInfo({ streams: [{ codec_type: 'video', width: 1, height: 1, avg_frame_rate: '25/1', color_transfer }], format: { duration: '1' } }, 'x').hdr;
    expect([probe('smpte2084'), probe('arib-std-b67'), probe('bt709')]).toEqual(['pq', 'hlg', undefined]);
  });
});

describe('buildJoinSegmentsArgs', () => {
  it('remuxes the segments into Matroska without re-encoding, with every audio track of the source copied', () => {
    expect(buildJoinSegmentsArgs({ listFile: '/h/t/.final-segments.txt', sourcePath: '/m/a.mkv', withAudio: true, output: '/out/t.partial.mkv' }).join(' '))
      .toContain('-i concatf:/h/t/.final-segments.txt -i /m/a.mkv -map 0:v:0 -map 1:a -c copy -f matroska /out/t.partial.mkv');
    expect(buildJoinSegmentsArgs({ listFile: '/l', sourcePath: '/m/a.mkv', withAudio: false, output: '/o' }).join(' ')).toContain('-i concatf:/l -map 0:v:0 -c copy');
  });
});

describe('parseSourceInfo', () => {
  const video = { codec_type: 'video', codec_name: 'h264', width: 640, height: 360, avg_frame_rate: '24000/1001' };
  const audio = { codec_type: 'audio', codec_name: 'aac' };
  it('summarises a video with audio', () => {
    expect(parseSourceInfo({ streams: [video, audio], format: { duration: '20.5', format_name: 'mov,mp4' } }, 'x')).toEqual({
      durationSeconds: 20.5, fps: 23.976, width: 640, height: 360, videoCodec: 'h264', hasAudio: true, audioCodec: 'aac',
    });
  });
  it.each([
    ['audio only', { streams: [audio], format: { duration: '3' } }, /x is audio only/],
    ['nothing', { streams: [], format: {} }, /x has no video stream/],
    ['a still image', { streams: [{ ...video, codec_name: 'png' }], format: { format_name: 'png_pipe' } }, /still image/],
    ['no duration', { streams: [video], format: { format_name: 'matroska' } }, /no duration/],
    ['zero duration', { streams: [video], format: { duration: '0' } }, /no duration/],
    // A playlist in the media folder may name files anywhere: the path guard saw only the playlist.
    ['an HLS playlist', { streams: [video], format: { duration: '2', format_name: 'hls' } }, /x is a list of other files \(hls\), not a video/],
    ['a concat list', { streams: [video], format: { duration: '2', format_name: 'concat' } }, /list of other files \(concat\)/],
    ['a DASH manifest', { streams: [video], format: { duration: '2', format_name: 'dash' } }, /list of other files \(dash\)/],
  ])('rejects %s', (_name, probe, message) => {
    expect(() => parseSourceInfo(probe, 'x')).toThrow(message);
  });
  it('gives the size as shown: a quarter turn (display matrix or rotate tag) swaps width and height', () => {
    const turned = (rotation: Record<string, unknown>) =>
      parseSourceInfo({ streams: [{ ...video, ...rotation }], format: { duration: '2' } }, 'x');
    const displayMatrix = (rotation: number) => ({ side_data_list: [{ side_data_type: 'Display Matrix', rotation }] });
    expect(turned(displayMatrix(90))).toMatchObject({ width: 360, height: 640 });
    expect(turned(displayMatrix(-90))).toMatchObject({ width: 360, height: 640 });
    expect(turned(displayMatrix(270))).toMatchObject({ width: 360, height: 640 });
    expect(turned(displayMatrix(180))).toMatchObject({ width: 640, height: 360 });
    expect(turned({ tags: { rotate: '90' } })).toMatchObject({ width: 360, height: 640 });
    expect(turned({ tags: { rotate: 'sideways' } })).toMatchObject({ width: 640, height: 360 });
  });
  it('ignores cover art when looking for the picture', () => {
    expect(() => parseSourceInfo({ streams: [audio, { ...video, codec_name: 'mjpeg', disposition: { attached_pic: 1 } }], format: { duration: '3' } }, 'x')).toThrow(/audio only/);
  });
});

describe('parseProgressBlock', () => {
  it('reads frames, output time and the end marker', () => {
    expect(parseProgressBlock(['frame=153', 'fps=0.0', 'out_time_us=6144000', 'speed=12.3x', 'progress=continue'])).toEqual({ frame: 153, outTimeSeconds: 6.144, done: false });
    expect(parseProgressBlock(['frame=500', 'out_time_us=N/A', 'progress=end'])).toEqual({ frame: 500, outTimeSeconds: 0, done: true });
  });
});

describe('buildProbeArgs', () => {
  it('asks for JSON streams and format', () => {
    expect(buildProbeArgs('/f')).toEqual(['-v', 'error', '-print_format', 'json', '-show_format', '-show_streams', '/f']);
  });
});
