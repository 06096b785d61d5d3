import { buildFrameDecodeArgs, buildFrameEncodeArgs, buildLanczosStreamArgs, buildProbeArgs, frameRateArg, parseProgressBlock, parseSourceInfo, teeQuote } from '../../adapters/ffmpeg';
import type { StreamPlan } from '../../common/domain';
import { planStream, segmentBoundaries } from '../../workflows/plan';

const source = { durationSeconds: 20, fps: 25, width: 640, height: 360, videoCodec: 'h264', hasAudio: true, audioCodec: 'aac' };
const settings = { aiEnabled: false, model: 'anime4k-s-rl' as const, slowSegmentsBeforeStepDown: 2, stepDownBelowRate: 1, scaleFactor: 2, preset: 'veryfast', crf: 20, segmentSeconds: 6, firstSegmentSeconds: 1, hlsRetentionMs: 1000 };

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
  const options = { sourcePath: '/media/a.mkv', plan, segmentPattern: 'seg%05d.ts', segmentList: 'segments.csv', partialFinal: '/out/a.partial.mkv' };

  it('decodes to planar RGB at a constant frame rate on stdout', () => {
    const args = buildFrameDecodeArgs({ sourcePath: '/media/a.mkv', fps: 24000 / 1001 });
    expect(args.join(' ')).toContain('-fps_mode cfr -r 24000/1001 -f rawvideo -pix_fmt gbrp pipe:1');
  });

  it('encodes raw frames from stdin with the source audio, resizing when the plan differs from the model', () => {
    const args = buildFrameEncodeArgs({ ...options, frameWidth: 1280, frameHeight: 720 });
    expect(args.join(' ')).toContain('-f rawvideo -pix_fmt gbrp -s 1280x720 -framerate 25 -i pipe:0 -i /media/a.mkv -map 0:v:0 -map 1:a:0');
    expect(args[args.indexOf('-vf') + 1]).toBe('scale=1920:1080:flags=lanczos,format=yuv420p');
    const exact = buildFrameEncodeArgs({ ...options, plan: { ...plan, outputWidth: 1280, outputHeight: 720 }, frameWidth: 1280, frameHeight: 720 });
    expect(exact[exact.indexOf('-vf') + 1]).toBe('format=yuv420p');
  });

  it('writes NTSC rates exactly', () => {
    expect(frameRateArg(29.97002997)).toBe('30000/1001');
    expect(frameRateArg(25)).toBe('25');
  });
});

describe('segmentBoundaries', () => {
  it('cuts a short first segment, then every segmentSeconds', () => {
    expect(segmentBoundaries({ firstSegmentSeconds: 1, segmentSeconds: 6, durationSeconds: 20 })).toEqual([1, 7, 13, 19]);
  });
  it('never cuts at or past the end', () => {
    expect(segmentBoundaries({ firstSegmentSeconds: 1, segmentSeconds: 6, durationSeconds: 19 })).toEqual([1, 7, 13]);
    expect(segmentBoundaries({ firstSegmentSeconds: 1, segmentSeconds: 6, durationSeconds: 0.5 })).toEqual([]);
  });
});

describe('buildLanczosStreamArgs', () => {
  const plan: StreamPlan = planStream(source, settings);
  const args = buildLanczosStreamArgs({
    sourcePath: '/media/a film.mkv',
    plan,
    segmentPattern: 'seg%05d.ts',
    segmentList: 'segments.csv',
    partialFinal: "/out/it's|odd.partial.mkv",
  });
  const after = (flag: string) => args[args.indexOf(flag) + 1];

  it('scales with lanczos to the planned size', () => {
    expect(after('-vf')).toBe('scale=1280:720:flags=lanczos,format=yuv420p');
    expect(after('-i')).toBe('/media/a film.mkv');
  });
  it('forces keyframes exactly on the segment cuts', () => {
    expect(after('-force_key_frames')).toBe('1,7,13,19');
    expect(args[args.length - 1]).toContain('segment_times=1,7,13,19');
  });
  it('encodes once into segments and the final file (tee), audio as AAC', () => {
    expect(after('-f')).toBe('tee');
    expect(after('-c:a')).toBe('aac');
    expect(after('-flags')).toBe('+global_header');
    const tee = args[args.length - 1]!;
    expect(tee).toMatch(/^\[f=segment:.*segment_format=mpegts.*segment_list_type=csv.*dump_extra.*\]seg%05d\.ts\|\[f=matroska\]/);
    expect(tee.endsWith(`'/out/it'\\''s|odd.partial.mkv'`)).toBe(true);
  });
  it('maps no audio for a silent source', () => {
    const silent = buildLanczosStreamArgs({ sourcePath: '/a', plan: { ...plan, keepAudio: false }, segmentPattern: 's%d.ts', segmentList: 'l.csv', partialFinal: '/o.mkv' });
    expect(silent).not.toContain('0:a:0');
    expect(silent).not.toContain('-c:a');
  });
  it('reports progress on stdout', () => {
    expect(after('-progress')).toBe('pipe:1');
  });
});

describe('teeQuote', () => {
  it('quotes the tee syntax characters away', () => {
    expect(teeQuote('/a/b.mkv')).toBe("'/a/b.mkv'");
    expect(teeQuote("/a/it's.mkv")).toBe("'/a/it'\\''s.mkv'");
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
  ])('rejects %s', (_name, probe, message) => {
    expect(() => parseSourceInfo(probe, 'x')).toThrow(message);
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
