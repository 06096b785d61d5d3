/**
 * The title's grid: fixed segments of `segmentSeconds` cut on frames, the last one shorter,
 * known at probe time so the playlist can list the whole title at once (VOD) and any segment can
 * be made on its own, by any worker, in any order. Pure and deterministic: the workflow, the
 * chunk activity, the API and the tests compute the same cuts from the same numbers.
 */

export interface GridInput {
  /** The source's duration (seconds). */
  durationSeconds: number;
  /** The decoder's constant frame rate, as probed (NTSC rates rounded to 3 decimals). */
  fps: number;
  /** Nominal segment length (HLS_SEGMENT_TIME). */
  segmentSeconds: number;
}

export interface Grid extends GridInput {
  /** How many segments cover the title; every one holds at least one frame. */
  segmentCount: number;
}

/**
 * A last segment shorter than this joins the one before (which then runs a little past
 * `segmentSeconds`): a sliver of a segment costs a chunk start and a request for almost nothing,
 * and a container a few frames shorter than its stated duration could leave it empty.
 */
const MIN_LAST_SEGMENT_SECONDS = 0.5;

/**
 * ffmpeg is told to cut (and force a keyframe) this much before a boundary frame's exact time,
 * so that a timestamp rounded to the millisecond (Matroska) still falls on the right side.
 */
const CUT_MARGIN_SECONDS = 0.001;

/** A frame rate as ffmpeg reads it, exact for the usual NTSC rates (23.976 → 24000/1001). */
export function frameRateArg(fps: number): string {
  for (const base of [24, 30, 60, 120]) {
    if (Math.abs(fps - (base * 1000) / 1001) < 0.0005) return `${base * 1000}/1001`;
  }
  return String(Math.round(fps * 1000) / 1000);
}

/** The exact rate `frameRateArg` names: frame n is at n / exactFps(fps) seconds. */
export function exactFps(fps: number): number {
  const [num, den = '1'] = frameRateArg(fps).split('/');
  return Number(num) / Number(den);
}

/** The first frame at or after `seconds` at a constant `fps`. */
export function frameAt(seconds: number, fps: number): number {
  return Math.max(0, Math.ceil(seconds * exactFps(fps) - 1e-6));
}

export function planGrid(input: GridInput): Grid {
  const { durationSeconds, segmentSeconds } = input;
  if (!(durationSeconds > 0) || !(segmentSeconds > 0) || !(input.fps > 0)) {
    throw new Error(`a grid needs a positive duration, segment length and frame rate (got ${durationSeconds} s, ${segmentSeconds} s, ${input.fps} fps)`);
  }
  let segmentCount = Math.max(1, Math.ceil(durationSeconds / segmentSeconds - 1e-9));
  const grid = { ...input, segmentCount };
  if (segmentCount > 1 && durationSeconds - segmentStartSeconds(grid, segmentCount - 1) < MIN_LAST_SEGMENT_SECONDS) {
    segmentCount -= 1;
  }
  return { ...input, segmentCount };
}

function checkIndex(grid: Grid, index: number, allowEnd = false): void {
  const max = allowEnd ? grid.segmentCount : grid.segmentCount - 1;
  if (!Number.isInteger(index) || index < 0 || index > max) {
    throw new RangeError(`segment ${index} is outside the grid (0 to ${grid.segmentCount - 1})`);
  }
}

/** The first frame of segment `index`; `segmentCount` gives the end of the title (an estimate: the source decides). */
export function segmentStartFrame(grid: Grid, index: number): number {
  checkIndex(grid, index, true);
  if (index === grid.segmentCount) return Math.round(grid.durationSeconds * exactFps(grid.fps));
  return frameAt(index * grid.segmentSeconds, grid.fps);
}

/** Content time where segment `index` starts: its first frame's time; `segmentCount` gives the duration. */
export function segmentStartSeconds(grid: Grid, index: number): number {
  checkIndex(grid, index, true);
  if (index === grid.segmentCount) return grid.durationSeconds;
  return segmentStartFrame(grid, index) / exactFps(grid.fps);
}

export function segmentDurationSeconds(grid: Grid, index: number): number {
  checkIndex(grid, index);
  return segmentStartSeconds(grid, index + 1) - segmentStartSeconds(grid, index);
}

/** Frames of segment `index`, or undefined for the last one (it runs to the end of the source). */
export function segmentFrameCount(grid: Grid, index: number): number | undefined {
  checkIndex(grid, index);
  if (index === grid.segmentCount - 1) return undefined;
  return segmentStartFrame(grid, index + 1) - segmentStartFrame(grid, index);
}

/** Where ffmpeg cuts (and forces a keyframe) before segment `index` ≥ 1, in content time. */
export function segmentCutSeconds(grid: Grid, index: number): number {
  checkIndex(grid, index);
  return Math.max(0, segmentStartSeconds(grid, index) - CUT_MARGIN_SECONDS);
}

/** The segment showing content time `seconds`; before the start → 0, past the end → the last. */
export function segmentIndexAt(grid: Grid, seconds: number): number {
  if (!(seconds > 0)) return 0;
  const guess = Math.min(grid.segmentCount - 1, Math.floor(seconds / grid.segmentSeconds));
  // Boundaries sit on frames, a little after the multiples of segmentSeconds.
  return guess > 0 && seconds < segmentStartSeconds(grid, guess) ? guess - 1 : guess;
}

/** The first segment that starts at or after content time `seconds` (the last one past it). */
export function firstSegmentFrom(grid: Grid, seconds: number): number {
  const index = segmentIndexAt(grid, seconds);
  return index < grid.segmentCount - 1 && segmentStartSeconds(grid, index) < seconds ? index + 1 : index;
}

/** Digits of a segment's index in its file name. */
const SEGMENT_INDEX_DIGITS = 5;

/** The file of segment `index` in the title's HLS folder. */
export function segmentFilename(index: number): string {
  return `seg${String(index).padStart(SEGMENT_INDEX_DIGITS, '0')}.ts`;
}

/** The same names as ffmpeg's segment muxer writes them (`-segment_start_number` gives the index). */
export const SEGMENT_FILENAME_PATTERN = `seg%0${SEGMENT_INDEX_DIGITS}d.ts`;

/** `seg00042.ts` → 42; anything else → undefined. */
export function segmentIndexOfFilename(name: string): number | undefined {
  const match = /^seg(\d{5,})\.ts$/.exec(name);
  return match ? Number(match[1]) : undefined;
}

/** Runs of made segments as content-time ranges, e.g. `[[0, 120], [2700, 2760]]` (seconds, 3 decimals). */
export function madeRanges(grid: Grid, made: readonly boolean[]): [number, number][] {
  const ranges: [number, number][] = [];
  let start: number | undefined;
  for (let i = 0; i <= grid.segmentCount; i++) {
    const isMade = i < grid.segmentCount && made[i] === true;
    if (isMade && start === undefined) start = i;
    if (!isMade && start !== undefined) {
      ranges.push([round3(segmentStartSeconds(grid, start)), round3(segmentStartSeconds(grid, i))]);
      start = undefined;
    }
  }
  return ranges;
}

function round3(n: number): number {
  return Math.round(n * 1000) / 1000;
}
