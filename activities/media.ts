/** Media-queue steps around the stream: probe the source, finalize the outputs, clean up. */
import fs from 'node:fs/promises';
import path from 'node:path';
import { ApplicationFailure, CancelledFailure, Context } from '@temporalio/activity';
import type { SourceInfo, StreamPlan } from '../core/domain';
import { FailureType } from '../core/errors';
import { titleFiles } from '../core/media-paths';
import { openSource, type OpenedSource } from '../adapters/source-files';
import { gridOf } from '../core/plan';
import { probeJson, probeSource } from '../adapters/ffmpeg';
import { HlsFolder } from '../adapters/hls-folder';
import type { ActivityDeps } from './deps';
import { currentJob, jobLogger } from './context';
import { toActivityFailure } from './failures';
import { openProbedSource } from './source';
import { publishToJellyfin } from './jellyfin-publish';

/** How far the final file's duration may be from the source's (container rounding, AAC padding). */
const DURATION_TOLERANCE_SECONDS = 0.5;
/** How often finalize heartbeats; the workflow's heartbeat timeout is several of these. */
const FINALIZE_HEARTBEAT_MS = 2_000;

export interface FinalizeResult {
  finalFile: string;
  durationSeconds: number;
  segments: number;
}

export function createMediaActivities({ config, store, logger }: Pick<ActivityDeps, 'config' | 'store' | 'logger'>) {
  async function verifyFinalFile(file: string, source: SourceInfo, plan: StreamPlan): Promise<number> {
    const probe = await probeJson(file, 'matroska');
    const video = probe.streams?.find((s) => s.codec_type === 'video');
    const hasAudio = Boolean(probe.streams?.some((s) => s.codec_type === 'audio'));
    const duration = Number(probe.format?.duration ?? NaN);
    const problems: string[] = [];
    if (!video) problems.push('no video stream');
    else if (video.width !== plan.outputWidth || video.height !== plan.outputHeight) {
      problems.push(`picture is ${video.width}x${video.height}, expected ${plan.outputWidth}x${plan.outputHeight}`);
    }
    if (!(Math.abs(duration - source.durationSeconds) <= DURATION_TOLERANCE_SECONDS)) {
      problems.push(`duration is ${duration.toFixed(2)} s, source has ${source.durationSeconds.toFixed(2)} s`);
    }
    if (source.hasAudio && !hasAudio) problems.push('audio is missing');
    if (problems.length > 0) {
      throw ApplicationFailure.nonRetryable(`final file failed verification: ${problems.join('; ')}`, FailureType.OutputVerification);
    }
    return duration;
  }

  async function finalize(input: { titleKey: string; sourcePath: string; source: SourceInfo; plan: StreamPlan }): Promise<FinalizeResult> {
    const { jobId } = currentJob();
    const files = titleFiles(config, input.titleKey);
    const grid = gridOf(input.plan);
    // The source's audio goes into the final file: the version the segments were made from.
    const { opened, source } = await openProbedSource(config.mediaRoots, input, jobLogger(logger));
    try {
      // The first title a fresh install finishes makes the output folder.
      await fs.mkdir(path.dirname(files.partialFinal), { recursive: true });
      // ffmpeg writes through whatever is at the partial name: a link left there goes first, not its target.
      await fs.rm(files.partialFinal, { force: true });
      await new HlsFolder(files.hlsDir).join(
        { grid, source, withAudio: input.source.hasAudio, output: files.partialFinal },
        { signal: Context.current().cancellationSignal },
      );
    } finally {
      opened.close();
    }
    const durationSeconds = await verifyFinalFile(files.partialFinal, input.source, input.plan);
    await fs.rename(files.partialFinal, files.finalFile);
    const message = `final file joined from ${grid.segmentCount} segments, verified (${durationSeconds.toFixed(2)} s) and kept at ${files.finalFile}`;
    await store.updateJob(jobId, { state: 'complete', finalPath: files.finalFile, finished: true }, { kind: 'complete', message });
    jobLogger(logger).info({ state: 'complete' }, message);
    await publishToJellyfin({ config, store, logger: jobLogger(logger) }, { jobId, titleKey: input.titleKey, sourcePath: input.sourcePath, finalFile: files.finalFile, outputHeight: input.plan.outputHeight });
    return { finalFile: files.finalFile, durationSeconds, segments: grid.segmentCount };
  }

  return {
    /**
     * Checks the source (each attempt: the workflow's input names a path checked when it was
     * triggered), opens it, and probes what was opened; records what it found and which version
     * of the file that was.
     */
    async probeSource(input: { sourcePath: string }): Promise<SourceInfo> {
      let opened: OpenedSource | undefined;
      try {
        opened = openSource(config.mediaRoots, input.sourcePath);
        const probed = await probeSource({ path: opened.realPath, fd: opened.fd }, input.sourcePath);
        const source: SourceInfo = { ...probed, fingerprint: opened.fingerprint };
        await store.recordProbe(currentJob().jobId, source, {
          kind: 'probed',
          message: `${source.width}x${source.height} ${source.fps} fps, ${source.durationSeconds.toFixed(1)} s, ${source.hasAudio ? 'with' : 'no'} audio (${source.container})`,
        });
        return source;
      } catch (err) {
        throw toActivityFailure(err);
      } finally {
        opened?.close();
      }
    },

    /**
     * The plan is made: the title's HLS folder gets the playlist of the whole grid, so players
     * can start anywhere; segments an earlier run made with the same plan are kept.
     */
    async publishPlaylist(input: { titleKey: string; plan: StreamPlan; source: SourceInfo; fresh?: boolean }): Promise<{ segmentCount: number; made: boolean[] }> {
      const grid = gridOf(input.plan);
      const onDisk = await new HlsFolder(titleFiles(config, input.titleKey).hlsDir)
        .prepare({ plan: input.plan, fingerprint: input.source.fingerprint ?? null }, grid, input.fresh);
      // Kept segments count as this job's only with the earlier job's records of them.
      const kept = onDisk.flatMap((isMade, index) => (isMade ? [index] : []));
      const adopted = kept.length > 0 ? new Set(await store.adoptSegments(currentJob().jobId, input.titleKey, kept)) : new Set<number>();
      return { segmentCount: grid.segmentCount, made: onDisk.map((_, index) => adopted.has(index)) };
    },

    /**
     * Every segment is made: joins them, in order, with the source's audio into the final file
     * under its partial name, verifies it with ffprobe, then gives it its final name. A retry
     * does all of it again.
     */
    async finalizeTitle(input: { titleKey: string; sourcePath: string; source: SourceInfo; plan: StreamPlan }): Promise<FinalizeResult> {
      const context = Context.current();
      // Beats while it joins, verifies and copies: a worker that dies here is noticed within the
      // heartbeat timeout, not the title's whole start-to-close, and a cancel reaches ffmpeg.
      const beats = setInterval(() => context.heartbeat(), FINALIZE_HEARTBEAT_MS);
      try {
        return await finalize(input);
      } catch (err) {
        if (context.cancellationSignal.aborted) {
          throw context.cancellationSignal.reason instanceof CancelledFailure ? context.cancellationSignal.reason : new CancelledFailure('finalize cancelled');
        }
        throw err;
      } finally {
        clearInterval(beats);
      }
    },

    /** The partial final file of a stopped job must not be mistaken for a finished one. */
    async discardPartialOutput(input: { titleKey: string }): Promise<void> {
      await fs.rm(titleFiles(config, input.titleKey).partialFinal, { force: true });
    },

    /** Retention is over: the HLS segments go, the final file stays. */
    async removeHlsFolder(input: { titleKey: string }): Promise<{ removed: boolean }> {
      const { hlsDir } = titleFiles(config, input.titleKey);
      const removed = await new HlsFolder(hlsDir).remove();
      await store.updateJob(currentJob().jobId, { hlsRemoved: true }, {
        kind: 'hls-removed',
        message: removed ? `retention over: removed ${hlsDir}` : 'retention over: HLS folder already gone',
      });
      return { removed };
    },
  };
}
