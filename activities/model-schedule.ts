/**
 * Which model upscales which frame, for one stream. Rate control asks for a new model; the
 * switch happens at the first segment boundary the model stage has not reached, so every
 * segment is made by one model and the encoder, which never stops, leaves no gap or duplicate.
 */
import type { ModelId } from '../common/models';
import { frameAt } from '../workflows/plan';

interface ModelSwitch {
  fromFrame: number;
  fromSegment: number;
  model: ModelId;
}

export class ModelSchedule {
  private readonly switches: ModelSwitch[];
  /** The highest frame index a model has been asked for: frames up to it are taken. */
  private highestFrameAsked = -1;
  /** The first frame of each segment: 0, then each keyframe boundary. */
  private readonly segmentStartFrames: number[];

  /**
   * `boundarySeconds`: the segment cut times (the encoder forces a keyframe on the first frame
   * at or after each); `fps`: the decoder's constant frame rate.
   */
  constructor(first: ModelId, boundarySeconds: readonly number[], fps: number) {
    this.switches = [{ fromFrame: 0, fromSegment: 0, model: first }];
    this.segmentStartFrames = [0, ...boundarySeconds.map((t) => frameAt(t, fps))];
  }

  /** The first frame of segment `index`: where an encode resuming at that segment starts. */
  firstFrameOf(index: number): number {
    return this.segmentStartFrames[Math.min(index, this.segmentStartFrames.length - 1)]!;
  }

  /** A resumed encode starts at segment `index`: earlier frames are done, so no switch can go there. */
  resumeAt(index: number): void {
    this.highestFrameAsked = this.firstFrameOf(index) - 1;
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
   * Asks for `model` from the next segment not yet started. Returns where it takes effect, or
   * undefined when it changes nothing (already scheduled, or no segment left to switch at).
   */
  request(model: ModelId): { fromSegment: number; fromFrame: number } | undefined {
    if (model === this.current) return undefined;
    const fromSegment = this.segmentStartFrames.findIndex((frame) => frame > this.highestFrameAsked);
    if (fromSegment < 0) return undefined;
    const fromFrame = this.segmentStartFrames[fromSegment]!;
    // A later request replaces an earlier one for the same boundary that has not begun.
    while (this.switches.length > 1 && this.switches[this.switches.length - 1]!.fromFrame >= fromFrame) this.switches.pop();
    if (model === this.current) return undefined;
    this.switches.push({ fromFrame, fromSegment, model });
    return { fromSegment, fromFrame };
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
