/**
 * One upscaler's row of `npm run bench:jellyfin` (tests/browser/switch.bench.ts), as it lands in
 * docs/bench/jellyfin.json. Types only and free of the DOM, so scripts/docs-tables.ts, which is
 * compiled without the browser's types, reads the same shape the bench writes.
 */
import type { ScriptTiming } from '../../core/switch-lead';

export interface SwitchResult {
  upscaler: string;
  /** How jellyfin-web played the original: `direct` (the file in `src`) or `transcode` (its hls.js on Jellyfin's HLS). Absent in older files: direct. */
  mode?: 'direct' | 'transcode';
  /** Where the viewer pressed play (a resume), in seconds; 0: from the start. Absent in older files: 0. */
  startSeconds?: number;
  firstSegmentSeconds: number;
  /** The title's grid: its segment length in seconds (HLS_SEGMENT_TIME, or its default). Absent in older files. */
  segmentSeconds?: number | null;
  /** Where the making started: the content time of the first segment made (the viewer's position + their lead). Absent in older files. */
  madeFromSeconds?: number | null;
  switchSeconds: number | null;
  positionAtSwitch: number | null;
  /**
   * The made part the viewer switched into: where it started (content seconds, made before the
   * switch without a gap) and the model of the segment they switched at (null: ffmpeg alone).
   * Absent in older files.
   */
  switchedIntoFromSeconds?: number | null;
  modelAtSwitch?: string | null;
  /**
   * The model of the segment at the viewer's position when the watch ended (null: ffmpeg alone,
   * or not made there), and each time rate control stepped the title down (the job's
   * `model-step-down` events: seconds after play, the models, the window's rate). Absent in
   * files from before the bench recorded them.
   */
  modelAtEnd?: string | null;
  stepDowns?: { afterPlaySeconds: number; fromModel: string; toModel: string; windowRate: number | null }[];
  /** Each try of the better model again (the job's `model-step-up` events: seconds after play, the models, the viewer's lead). Absent before the bench recorded them. */
  stepUps?: { afterPlaySeconds: number; fromModel: string; toModel: string; leadSeconds: number }[];
  /** From the switch's new source to the picture moving again. */
  switchGapSeconds: number | null;
  watchedSeconds: number;
  advancedSeconds: number;
  stalls: number;
  stalledSeconds: number;
  fallbacksToOriginal: number;
  /** Each fallback: seconds after play, the viewer's position, what Upflow's last answer before it had made ahead of them and its rate. Absent in older files. */
  fallbacks?: { afterPlaySeconds: number; position: number; ahead: number; rate: number | null }[];
  upscaleRate: number | null;
  consoleErrors: number;
  /**
   * What led to the switch, to see why it came when it did (absent in older files): the speed the
   * viewer's part was planned from (the earlier title's, made alone: the start to its first
   * segment, the others' median rate; null with `--cold`); the viewed title's own start to its
   * first segment, counted the same way (absent in files before it); the original's
   * first picture, seconds after play, and where it was; the first segments made, when (seconds
   * after play; recorded in Postgres, which the script reads); and every status answer's rate in
   * the first `TIMELINE_SECONDS` (sampled every 250 ms, as the script asks near a switch).
   */
  timeline?: {
    earlierSpeed: { firstSegmentSeconds: number; rate: number } | null;
    firstSegmentFromStreamStart?: number | null;
    /** Seconds after play the job was registered and its stream started (absent in files from before the bench recorded them). */
    registeredAfterPlaySeconds?: number | null;
    streamStartedAfterPlaySeconds?: number | null;
    playing: { afterPlaySeconds: number; position: number } | null;
    made: { index: number; startSeconds: number; afterPlaySeconds: number }[];
    rates: { afterPlaySeconds: number; rate: number | null }[];
    /** How the script polled and switched in this run (core/switch-lead.ts `SCRIPT_TIMING`; absent in files from before it switched 0.1 s into a part, on arrival: `THREE_TENTHS_INTO_PART`). */
    script?: ScriptTiming;
    /** Each time a viewer's part moved on, from the job's events (absent in files from before the bench read them). */
    moves?: { afterPlaySeconds: number; fromSeconds: number; toSeconds: number }[];
  };
}
