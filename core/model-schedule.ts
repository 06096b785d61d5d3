/**
 * Which model upscales which frame of one chunk. Rate control asks for a new model; the switch
 * happens at the first segment boundary the model stage has not reached, so every segment is
 * made by one model and the encoder, which never stops, leaves no gap or duplicate. Frames are
 * counted from the chunk's first; segments are the title's (grid) indexes.
 */
import type { ModelId } from './models';
import { segmentStartFrame, type Grid } from './grid';

interface ModelSwitch {
  fromFrame: number;
  fromSegment: number;
  model: ModelId;
}

export class ModelSchedule {
  private readonly switches: ModelSwitch[];
  /** The highest frame index a model has been asked for: frames up to it are taken. */
  private highestFrameAsked = -1;
  /** The chunk's frame where each of the title's segments from `fromSegment` on starts. */
  private readonly segmentStartFrames: number[];

  constructor(first: ModelId, grid: Grid, private readonly fromSegment: number) {
    const base = segmentStartFrame(grid, fromSegment);
    this.segmentStartFrames = [];
    for (let i = fromSegment; i < grid.segmentCount; i++) this.segmentStartFrames.push(segmentStartFrame(grid, i) - base);
    this.switches = [{ fromFrame: 0, fromSegment, model: first }];
  }

  /** The chunk's frame where the title's segment `index` starts (past the last: where the last starts). */
  firstFrameOf(index: number): number {
    const at = Math.min(Math.max(0, index - this.fromSegment), this.segmentStartFrames.length - 1);
    return this.segmentStartFrames[at]!;
  }

  /** The model for frame `index`; called in frame order, just before the frame is upscaled. */
  modelFor(index: number): ModelId {
    this.highestFrameAsked = Math.max(this.highestFrameAsked, index);
    return this.switchAt(index).model;
  }

  get current(): ModelId {
    return this.switches[this.switches.length - 1]!.model;
  }

  /**
   * Asks for `model` from the next segment not yet started. Returns where it takes effect, with
   * the switch it replaces there (`replaced`: the model that was to start at that boundary; the
   * request may only call that switch off), or undefined when it changes nothing (already
   * scheduled, or no segment left to switch at).
   */
  request(model: ModelId): { fromSegment: number; fromFrame: number; replaced?: ModelId } | undefined {
    if (model === this.current) return undefined;
    const at = this.segmentStartFrames.findIndex((frame) => frame > this.highestFrameAsked);
    if (at < 0) return undefined;
    const fromSegment = this.fromSegment + at;
    const fromFrame = this.segmentStartFrames[at]!;
    // A later request replaces an earlier one for the same boundary that has not begun.
    let replaced: ModelId | undefined;
    while (this.switches.length > 1 && this.switches[this.switches.length - 1]!.fromFrame >= fromFrame) replaced = this.switches.pop()!.model;
    if (model !== this.current) this.switches.push({ fromFrame, fromSegment, model });
    return { fromSegment, fromFrame, ...(replaced ? { replaced } : {}) };
  }

  /** The model that made segment `index` (the model of its first frame). */
  modelOfSegment(index: number): ModelId {
    return this.switchAt(this.firstFrameOf(index)).model;
  }

  private switchAt(frame: number): ModelSwitch {
    let found = this.switches[0]!;
    for (const s of this.switches) if (s.fromFrame <= frame) found = s;
    return found;
  }
}
