/**
 * The cleanup workflow's activities: find the HLS folders the rules say may go, remove them
 * (each checked again just before), and record the run. Nothing outside the HLS folder is
 * ever removed: candidates are the folder's own entries, and symbolic links are left alone.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { Context } from '@temporalio/activity';
import {
  workflowIdForTitle,
  type HlsCleanupOptions,
  type HlsCleanupReport,
  type HlsFolderKept,
  type HlsFolderRemoval,
} from '../core/domain';
import { isInside } from '../core/media-paths';
import { HlsFolder } from '../adapters/hls-folder';
import { runningJobIdOf } from '../adapters/temporal';
import type { ActivityDeps } from './deps';
import { decideHlsFolder, type HlsFolderFacts } from '../core/hls-cleanup-rules';

export interface HlsCleanupPlan {
  removable: HlsFolderRemoval[];
  kept: HlsFolderKept[];
}

interface FolderContents {
  files: number;
  bytes: number;
  modifiedAtMs: number;
}

/** Files, bytes and the newest change under a folder, without following links. */
async function folderContents(folder: string): Promise<FolderContents> {
  const stat = await fs.lstat(folder);
  const total: FolderContents = { files: 0, bytes: 0, modifiedAtMs: stat.mtimeMs };
  for (const entry of await fs.readdir(folder, { withFileTypes: true })) {
    const child = path.join(folder, entry.name);
    if (entry.isDirectory()) {
      const inner = await folderContents(child);
      total.files += inner.files;
      total.bytes += inner.bytes;
      total.modifiedAtMs = Math.max(total.modifiedAtMs, inner.modifiedAtMs);
    } else {
      const s = await fs.lstat(child).catch(() => undefined);
      if (!s) continue; // removed while we looked (a live playlist being rewritten)
      total.files += 1;
      total.bytes += s.size;
      total.modifiedAtMs = Math.max(total.modifiedAtMs, s.mtimeMs);
    }
  }
  return total;
}

export function createHlsCleanupActivities({ config, store, client, logger }: Pick<ActivityDeps, 'config' | 'store' | 'client' | 'logger'>) {
  /** Decides every given folder (all of the HLS folder's when `only` is unset). */
  async function plan(options: HlsCleanupOptions, only?: string[]): Promise<HlsCleanupPlan> {
    const entries = await fs.readdir(config.hlsDir, { withFileTypes: true }).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return [];
      throw err;
    });
    const kept: HlsFolderKept[] = [];
    const folders: string[] = [];
    for (const entry of entries) {
      if (only && !only.includes(entry.name)) continue;
      if (entry.name.startsWith('.')) continue;
      if (entry.isDirectory()) folders.push(entry.name);
      else kept.push({ titleKey: entry.name, why: entry.isSymbolicLink() ? 'a symbolic link, not a folder Upflow made' : 'not a folder' });
    }
    const jobs = await store.latestJobsWithLastSegment(folders);
    const removable: HlsFolderRemoval[] = [];
    const nowMs = Date.now();
    for (const titleKey of folders.sort()) {
      const folder = path.join(config.hlsDir, titleKey);
      const contents = await folderContents(folder);
      const record = jobs.get(titleKey);
      const facts: HlsFolderFacts = {
        modifiedAtMs: contents.modifiedAtMs,
        holdsOutputFolder: isInside(folder, config.outputDir),
        job: record && {
          id: record.job.id,
          state: record.job.state,
          finishedAtMs: record.job.finishedAt ? Date.parse(record.job.finishedAt) : null,
          lastActivityAtMs: Date.parse(record.lastSegmentAt ?? record.job.updatedAt),
        },
        runningJobId: await runningJobIdOf(client, workflowIdForTitle(titleKey)),
      };
      const decision = decideHlsFolder(facts, options, nowMs);
      if (!decision.remove) {
        kept.push({ titleKey, why: decision.why });
        continue;
      }
      removable.push({
        titleKey,
        name: record?.job.name ?? null,
        jobId: record?.job.id ?? null,
        jobState: record?.job.state ?? null,
        reason: decision.reason,
        folder,
        files: contents.files,
        bytes: contents.bytes,
        ageHours: Math.round((decision.ageMs / 3_600_000) * 100) / 100,
      });
    }
    return { removable, kept };
  }

  return {
    async planHlsCleanup(options: HlsCleanupOptions): Promise<HlsCleanupPlan> {
      return plan(options);
    },

    /**
     * Removes the planned folders. Each is decided again first: between the plan and now a
     * viewer may have started the title again.
     */
    async removeHlsFolders(input: { options: HlsCleanupOptions; titleKeys: string[] }): Promise<HlsCleanupPlan> {
      const now = await plan(input.options, input.titleKeys);
      for (const removal of now.removable) {
        await new HlsFolder(removal.folder).remove();
        logger.info({ title: removal.titleKey, jobId: removal.jobId, reason: removal.reason, bytes: removal.bytes }, `cleanup removed ${removal.folder}`);
        if (removal.jobId) {
          await store.updateJob(removal.jobId, { hlsRemoved: true }, {
            kind: 'hls-cleanup',
            message: `cleanup removed ${removal.folder} (${removal.reason}, ${removal.files} files, ${removal.bytes} bytes)`,
            data: removal,
          });
        }
        Context.current().heartbeat(removal.titleKey);
      }
      return now;
    },

    async recordCleanupRun(report: HlsCleanupReport): Promise<void> {
      const { workflowExecution } = Context.current().info;
      if (!workflowExecution) throw new Error('recordCleanupRun runs only inside the cleanup workflow');
      await store.recordCleanupRun({ runId: workflowExecution.runId, workflowId: workflowExecution.workflowId, report });
    },
  };
}
