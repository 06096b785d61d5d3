/** Job records in Postgres, written as the workflow moves from step to step. */
import { TERMINAL_JOB_STATES, type ChunkModelChange, type JobState, type ModelChange, type ModelStepUp, type SourceInfo, type StreamPlan } from '../core/domain';
import { describeChunkModelChange, describeModelChange, describeModelStepUp } from '../core/rate-control';
import { describePartMove, type MakingSpeed, type PartMove } from '../core/switch-lead';
import { jobHandle } from '../adapters/temporal';
import { yieldSlotSignal } from '../workflows/definitions';
import type { ActivityDeps } from './deps';
import { currentJob, jobLogger } from './context';
import { toActivityFailure } from './failures';

export interface JobUpdate {
  state: JobState;
  message: string;
  source?: SourceInfo;
  plan?: StreamPlan;
  failureReason?: string;
}

export function createJobActivities({ store, client, logger }: Pick<ActivityDeps, 'store' | 'client' | 'logger'>) {
  return {
    /**
     * A viewer of this title waits and every slot is taken: the other titles being made are
     * asked to give one up (each decides: only a chunk working for none of its own viewers stops).
     */
    async askForSlot(input: { titleKey: string }): Promise<{ asked: number }> {
      const others = await store.streamingWorkflows(input.titleKey);
      await Promise.all(others.map(({ workflowId, jobId }) => jobHandle(client, { workflowId, id: jobId }).signal(yieldSlotSignal, input.titleKey)
        .catch((err: Error) => jobLogger(logger).warn({ err, workflowId }, 'could not ask a title for a slot'))));
      return { asked: others.length };
    },

    async registerJob(title: { titleKey: string; sourcePath: string; name: string }): Promise<{ jobId: string }> {
      const { jobId, workflowId } = currentJob();
      // A key that belongs to another file (a workflow started by hand) fails at once, not after 20 attempts.
      await store.upsertTitle({ key: title.titleKey, sourcePath: title.sourcePath, name: title.name }).catch((err: unknown) => {
        throw toActivityFailure(err);
      });
      await store.ensureJob({ id: jobId, workflowId, titleKey: title.titleKey, state: 'probing' });
      return { jobId };
    },

    async recordJob(update: JobUpdate): Promise<void> {
      const { jobId } = currentJob();
      const log = jobLogger(logger);
      if (update.state === 'failed') log.warn({ state: update.state, reason: update.failureReason }, update.message);
      else log.info({ state: update.state }, update.message);
      const terminal = TERMINAL_JOB_STATES.includes(update.state);
      await store.updateJob(
        jobId,
        {
          state: update.state,
          source: update.source,
          plan: update.plan,
          failureReason: update.failureReason,
          // From here the job waits in the gpu queue until a worker starts its stream.
          streamQueued: update.state === 'streaming',
          finished: terminal,
        },
        { kind: update.state, message: update.message },
      );
    },

    /** How fast titles with this plan were made lately: where a new viewer's part starts (core/switch-lead.ts). */
    async makingSpeed(plan: Pick<StreamPlan, 'upscaler' | 'outputWidth' | 'outputHeight'>): Promise<MakingSpeed | null> {
      // A lead is a refinement: without these figures the making starts where the viewer is.
      return (await store.makingSpeed(plan).catch((err: unknown) => {
        jobLogger(logger).warn({ err }, 'could not read how fast earlier titles were made; viewers get no lead until this title has measured itself');
        return undefined;
      })) ?? null;
    },

    /** Rate control stepped the model down: the job's current model and an event with the reason. */
    async recordModelChange(change: ModelChange): Promise<void> {
      const { jobId } = currentJob();
      await store.updateJob(jobId, { model: change.toModel }, { kind: 'model-step-down', message: describeModelChange(change), data: change });
    },

    /** The title's better model tried again, a viewer far enough ahead: the job's model and an event with the lead. */
    async recordModelStepUp(change: ModelStepUp): Promise<void> {
      const { jobId } = currentJob();
      await store.updateJob(jobId, { model: change.toModel }, { kind: 'model-step-up', message: describeModelStepUp(change), data: change });
    },

    /** A chunk's model set by who watches what it makes next: an event (the job's model stays the viewers'). */
    async recordChunkModelChange(change: ChunkModelChange): Promise<void> {
      const { jobId } = currentJob();
      await store.addEvent(jobId, 'chunk-model', describeChunkModelChange(change), change);
    },

    /** A viewer's part moved on, once this title's own speed said it came too late: an event with the figures. */
    async recordPartMove(move: PartMove): Promise<void> {
      const { jobId } = currentJob();
      await store.addEvent(jobId, 'part-moved', describePartMove(move), move);
    },
  };
}
