/** The plan step: a pure, deterministic function of the probed source and the settings. */
import type { SourceInfo, StreamPlan, UpscaleSettings } from '../common/domain';
import { MODELS, stepDownLadder } from '../common/models';

/** x264 with 4:2:0 chroma needs even dimensions. */
function even(n: number): number {
  return Math.max(2, 2 * Math.round(n / 2));
}

export function planStream(source: SourceInfo, settings: UpscaleSettings): StreamPlan {
  return {
    upscaler: settings.aiEnabled ? settings.model : 'lanczos',
    ladder: settings.aiEnabled ? stepDownLadder(settings.model) : [],
    modelScale: settings.aiEnabled ? MODELS[settings.model].scale : null,
    scaleFactor: settings.scaleFactor,
    inputWidth: source.width,
    inputHeight: source.height,
    outputWidth: even(source.width * settings.scaleFactor),
    outputHeight: even(source.height * settings.scaleFactor),
    encoder: 'libx264',
    preset: settings.preset,
    crf: settings.crf,
    firstSegmentSeconds: Math.min(settings.firstSegmentSeconds, settings.segmentSeconds),
    segmentSeconds: settings.segmentSeconds,
    durationSeconds: source.durationSeconds,
    fps: source.fps,
    keepAudio: source.hasAudio,
    toneMap: source.hdr !== undefined,
  };
}

/**
 * Segment cut points: a short first segment, then every `segmentSeconds`. Keyframes are
 * forced on exactly these times so every segment starts with one.
 */
export function segmentBoundaries(plan: Pick<StreamPlan, 'firstSegmentSeconds' | 'segmentSeconds' | 'durationSeconds'>): number[] {
  const times: number[] = [];
  for (let t = plan.firstSegmentSeconds; t < plan.durationSeconds - 0.001; t += plan.segmentSeconds) {
    times.push(Math.round(t * 1000) / 1000);
  }
  return times;
}

/**
 * The first frame at or after `seconds` at a constant `fps`: where the encoder forces a
 * segment's keyframe, and where an encode that seeks to a boundary starts.
 */
export function frameAt(seconds: number, fps: number): number {
  return Math.ceil(seconds * fps - 1e-6);
}
