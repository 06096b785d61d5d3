/** The plan step: a pure, deterministic function of the probed source and the settings, and the title's grid. */
import type { SourceInfo, StreamPlan, UpscaleSettings } from './domain';
import { MODELS, stepDownLadder } from './models';
import { planGrid, type Grid } from './grid';

/**
 * Every made segment costs its title's workflow about 5 history events (the chunk's report, an
 * update, and the workflow task that takes it: 670 events for a 120-segment title, measured),
 * and Temporal ends a workflow whose history passes 51,200 events. So a title is cut into at most
 * this many segments (about 31,000 events), leaving room for chunks, viewers and retries.
 */
export const MAX_SEGMENTS_PER_TITLE = 6000;

/**
 * The title's segment length: HLS_SEGMENT_TIME, or longer for a title that would otherwise have
 * more than MAX_SEGMENTS_PER_TITLE segments (a 2-hour film at 1 s gets 1.2 s), in tenths of a second.
 */
export function titleSegmentSeconds(durationSeconds: number, configuredSeconds: number): number {
  const needed = durationSeconds / MAX_SEGMENTS_PER_TITLE;
  return needed <= configuredSeconds ? configuredSeconds : Math.ceil(needed * 10 - 1e-9) / 10;
}

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
    segmentSeconds: titleSegmentSeconds(source.durationSeconds, settings.segmentSeconds),
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
