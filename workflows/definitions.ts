/** Signals and queries of the title workflow: shared by the workflow, its activities and clients. */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { SegmentReport, StreamProgress, UpscaleStatus } from '../common/domain';
import type { ModelId } from '../common/models';

export const statusQuery = defineQuery<UpscaleStatus>('status');
/** Sent by the stream activity as segments complete, so the workflow holds the latest progress. */
export const progressSignal = defineSignal<[StreamProgress]>('progress');
/** Stops the title: the encode is cancelled and the partial final file removed. */
export const cancelSignal = defineSignal<[reason?: string]>('cancel');
/**
 * Sent by the stream activity (ONNX path) after each segment; the answer is the model to use
 * from the next segment boundary on: rate control's decision, recorded in the workflow history.
 */
export const segmentDoneUpdate = defineUpdate<ModelId, [SegmentReport]>('segmentDone');
