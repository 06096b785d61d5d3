/** The plan step: a pure, deterministic function of the probed source and the settings, and the title's grid. */
import type { SourceInfo, StreamPlan, UpscaleSettings } from './domain';
import { MODELS, stepDownLadder } from './models';
import { planGrid, type Grid } from './grid';

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
    encoderThreads: settings.encoderThreads,
    segmentSeconds: settings.segmentSeconds,
    durationSeconds: source.durationSeconds,
    fps: source.fps,
    keepAudio: source.hasAudio,
    toneMap: source.hdr !== undefined,
  };
}

/** The title's grid from its plan: every step that cuts, names or lists segments uses this one. */
export function gridOf(plan: Pick<StreamPlan, 'durationSeconds' | 'fps' | 'segmentSeconds'>): Grid {
  return planGrid({ durationSeconds: plan.durationSeconds, fps: plan.fps, segmentSeconds: plan.segmentSeconds });
}
