/**
 * Signals, queries and updates of the title workflow, and the HLS cleanup workflow's signature:
 * shared by the workflows, their activities and clients. The one file of workflows/ that code
 * below the workflows (activities, services) imports.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { ChunkClaim, ChunkOrders, HlsCleanupOptions, HlsCleanupReport, SegmentReport, UpscaleStatus, ViewerPosition } from '../core/domain';

export const statusQuery = defineQuery<UpscaleStatus>('status');
/** Stops the title: every chunk is cancelled and the partial final file removed. */
export const cancelSignal = defineSignal<[reason?: string]>('cancel');
/**
 * Another title has a viewer waiting and no free slot: a chunk of this title that works for no
 * viewer of its own stops, so that slot goes to them (task-queue priority puts their ticket first).
 */
export const yieldSlotSignal = defineSignal<[forTitle: string]>('yieldSlot');
/** Where someone watches (the API: a trigger, a player's request, a client's report): made first. */
export const viewerSignal = defineSignal<[ViewerPosition]>('viewer');
/**
 * Sent by a chunk's ticket when a worker slot starts it: the answer is the range to make (the
 * scheduler's decision at that moment), or null when nothing is left to claim.
 */
export const claimChunkUpdate = defineUpdate<ChunkClaim | null, [ticket: string]>('claimChunk');
/**
 * Sent by a chunk after each segment it made and moved into place: the answer says where the
 * chunk stops now (another chunk may have taken its later segments) and which model to use
 * from the next boundary (rate control's decision, recorded in the history).
 */
export const segmentMadeUpdate = defineUpdate<ChunkOrders, [SegmentReport]>('segmentMade');

/** The HLS cleanup workflow (workflows/hls-cleanup.ts) as the Schedule and `upflow cleanup` start it. */
export type CleanupHlsWorkflow = (options: HlsCleanupOptions) => Promise<HlsCleanupReport>;
