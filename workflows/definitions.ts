/** Signals and queries of the title workflow: shared by the workflow, its activities and clients. */
import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { StreamProgress, UpscaleStatus } from '../common/domain';

export const statusQuery = defineQuery<UpscaleStatus>('status');
/** Sent by the stream activity as segments complete, so the workflow holds the latest progress. */
export const progressSignal = defineSignal<[StreamProgress]>('progress');
/** Stops the title: the encode is cancelled and the partial final file removed. */
export const cancelSignal = defineSignal<[reason?: string]>('cancel');
