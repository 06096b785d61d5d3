/**
 * Postgres: the system's record of titles, jobs, segments and events. One pool per process;
 * all SQL lives here. Migrations are the SQL files in migrations/, applied by node-pg-migrate.
 */
import path from 'node:path';
import { Pool } from 'pg';
import { runner } from 'node-pg-migrate';
import type {
  HlsCleanupOptions, HlsCleanupReport, HlsFolderKept, HlsFolderRemoval, JobState, SourceInfo, StreamPlan, StreamProgress,
} from '../core/domain';
import { TERMINAL_JOB_STATES } from '../core/domain';
import { UpflowError } from '../core/errors';
import type { MakingSpeed } from '../core/switch-lead';

export type { Pool };

export const MIGRATIONS_DIR = path.join(__dirname, '..', 'migrations');

/**
 * How long a request waits for a connection: Postgres stopped refuses at once, but a host that
 * drops packets (or a pool with every client busy) would otherwise make a request wait forever.
 */
const CONNECTION_TIMEOUT_MS = 5000;

export function createPool(databaseUrl: string): Pool {
  const pool = new Pool({ connectionString: databaseUrl, max: 5, connectionTimeoutMillis: CONNECTION_TIMEOUT_MS, keepAlive: true });
  // An idle client losing its server (Postgres restarting) must not crash the process.
  pool.on('error', () => undefined);
  // Nor one checked out between two queries (a transaction's): pg-pool listens only while it is
  // idle. Its next query fails instead, and the pool discards it when it is released.
  pool.on('connect', (client) => client.on('error', () => undefined));
  return pool;
}

type ErrorLike = { code?: unknown; message?: string; cause?: ErrorLike };

/** Node's codes for a server that cannot be reached (stopped, restarting, another host down). */
const UNREACHABLE_NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE']);
/**
 * SQLSTATEs of a server going away or not there yet: class 08 (connection exception), and
 * admin/crash shutdown, "the database system is starting up / shutting down", too many clients.
 */
const UNREACHABLE_SQLSTATES = new Set(['57P01', '57P02', '57P03', '53300']);
/** pg's own messages for a connection lost or never made. */
const UNREACHABLE_MESSAGES = /^(Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Client was closed and is not queryable)/;

/**
 * Why a failed query says Postgres is unreachable (stopped, restarting, not answering), or
 * undefined when the failure is anything else (a bug in SQL, a constraint): a 503 for the first,
 * a 500 for the second.
 */
export function postgresUnreachableReason(err: unknown): string | undefined {
  // Not `instanceof Error`: Node's own network errors may come from another realm (a test's VM).
  for (let current = err as ErrorLike | undefined, depth = 0; typeof current === 'object' && current !== null && depth < 5; current = current.cause, depth++) {
    const { code, message = '' } = current;
    const unreachable = typeof code === 'string'
      ? UNREACHABLE_NETWORK_CODES.has(code) || UNREACHABLE_SQLSTATES.has(code) || code.startsWith('08')
      : UNREACHABLE_MESSAGES.test(message);
    if (unreachable) return `Postgres is unreachable (${message || code})`;
  }
  return undefined;
}

export async function migrate(databaseUrl: string): Promise<string[]> {
  const applied = await runner({
    databaseUrl,
    dir: MIGRATIONS_DIR,
    direction: 'up',
    migrationsTable: 'pgmigrations',
    checkOrder: true,
    log: () => undefined,
  });
  return applied.map((m) => m.name);
}

export interface SegmentRecord {
  index: number;
  filename: string;
  startSeconds: number;
  durationSeconds: number;
  bytes: number;
  /** ONNX path: the model that upscaled it; null for ffmpeg-only streams. */
  model: string | null;
  /** ONNX path: the precision of the model's graph (fp32, fp16, int8); null for ffmpeg-only streams. */
  precision: string | null;
  /** Wall seconds from the chunk's previous segment (or its start) to this one. */
  wallSeconds: number | null;
  /** When it was made (ISO); chunks make segments in any order. Unset on a record being written. */
  producedAt?: string;
}

export interface MetricsSnapshot {
  jobsByState: Record<string, number>;
  /** Segments made, and their content seconds, over every job still on record. */
  segments: number;
  contentSeconds: number;
  /** The streams being made now, with their latest speed. */
  /** `precision`: of the stream's newest model-made segment; 'none' before one, and for ffmpeg-only streams. */
  streams: { titleKey: string; model: string; precision: string; fps: number; rate: number }[];
  /** Seconds from the newest stream's start to its first playable segment. */
  lastFirstSegmentSeconds: number | null;
}

export interface JobEvent {
  at: string;
  kind: string;
  message: string;
  data: unknown;
}

export interface JobRecord {
  id: string;
  workflowId: string;
  titleKey: string;
  sourcePath: string;
  name: string;
  state: JobState;
  upscaler: string | null;
  /** The model producing the stream now: the plan's, or where rate control stepped down to. */
  model: string | null;
  scaleFactor: number | null;
  source: SourceInfo | null;
  plan: StreamPlan | null;
  frames: number;
  segments: number;
  contentSeconds: number;
  rate: number | null;
  fps: number | null;
  finalPath: string | null;
  failureReason: string | null;
  hlsRemovedAt: string | null;
  createdAt: string;
  /** When the job reached its stream step and began waiting for a free gpu-queue worker. */
  streamQueuedAt: string | null;
  streamStartedAt: string | null;
  firstSegmentAt: string | null;
  finishedAt: string | null;
  updatedAt: string;
  /**
   * While the job waits for a free gpu-queue worker (state `streaming`, its stream not started):
   * its position among waiting jobs, in the order they began waiting, 1 = next. Temporal does
   * not promise FIFO across a task queue's partitions, so this is the order of arrival, not a
   * guarantee of who starts next. Null otherwise.
   */
  queuePosition: number | null;
  /** Runs of made segments as content time, e.g. `[[0, 120], [2700, 2760]]` (seconds); chunks make them in any order. */
  ready: [number, number][];
}

interface JobRow {
  id: string;
  workflow_id: string;
  title_key: string;
  source_path: string;
  name: string;
  state: JobState;
  upscaler: string | null;
  model: string | null;
  scale_factor: number | null;
  source: SourceInfo | null;
  plan: StreamPlan | null;
  frames: number;
  segments: number;
  content_seconds: string;
  rate: string | null;
  fps: string | null;
  final_path: string | null;
  failure_reason: string | null;
  hls_removed_at: Date | null;
  created_at: Date;
  stream_queued_at: Date | null;
  stream_started_at: Date | null;
  first_segment_at: Date | null;
  finished_at: Date | null;
  updated_at: Date;
  /** row_number() (bigint, a string in node-pg); only JOB_SELECT computes it. */
  queue_position?: string | null;
  /** Only JOB_SELECT computes it; numeric pairs come back as strings. */
  ready?: [string, string][] | null;
}

const iso = (d: Date | null): string | null => (d ? d.toISOString() : null);
const num = (v: string | null): number | null => (v === null ? null : Number(v));

function toJob(row: JobRow): JobRecord {
  return {
    id: row.id,
    workflowId: row.workflow_id,
    titleKey: row.title_key,
    sourcePath: row.source_path,
    name: row.name,
    state: row.state,
    upscaler: row.upscaler,
    model: row.model,
    scaleFactor: row.scale_factor,
    source: row.source,
    plan: row.plan,
    frames: row.frames,
    segments: row.segments,
    contentSeconds: Number(row.content_seconds),
    rate: num(row.rate),
    fps: num(row.fps),
    finalPath: row.final_path,
    failureReason: row.failure_reason,
    hlsRemovedAt: iso(row.hls_removed_at),
    createdAt: row.created_at.toISOString(),
    streamQueuedAt: iso(row.stream_queued_at),
    streamStartedAt: iso(row.stream_started_at),
    firstSegmentAt: iso(row.first_segment_at),
    finishedAt: iso(row.finished_at),
    updatedAt: row.updated_at.toISOString(),
    queuePosition: row.queue_position ? Number(row.queue_position) : null,
    ready: (row.ready ?? []).map(([start, end]) => [Math.round(Number(start) * 1000) / 1000, Math.round(Number(end) * 1000) / 1000]),
  };
}

/** Jobs waiting for a free gpu-queue worker, numbered in the order they began waiting. */
const WAITING_FOR_STREAM = `SELECT id, row_number() OVER (ORDER BY stream_queued_at, created_at, id) AS queue_position
  FROM jobs WHERE state = 'streaming' AND stream_started_at IS NULL`;

/**
 * A job's made segments as runs of content time ("gaps and islands": consecutive indexes share
 * index − row_number()).
 */
const READY_RANGES = `SELECT json_agg(json_build_array(r.start_seconds, r.end_seconds) ORDER BY r.start_seconds) FROM (
    SELECT min(s.start_seconds) AS start_seconds, max(s.start_seconds + s.duration_seconds) AS end_seconds
    FROM (SELECT start_seconds, duration_seconds, index - row_number() OVER (ORDER BY index) AS island FROM segments WHERE job_id = j.id) s
    GROUP BY s.island) r`;

const JOB_SELECT = `SELECT j.*, t.source_path, t.name, w.queue_position, (${READY_RANGES}) AS ready FROM jobs j JOIN titles t ON t.key = j.title_key
  LEFT JOIN (${WAITING_FOR_STREAM}) w ON w.id = j.id`;

/** Fields a job step may change; `undefined` leaves a column as it is. */
export interface JobPatch {
  state?: JobState;
  source?: SourceInfo;
  plan?: StreamPlan;
  failureReason?: string;
  finalPath?: string;
  /** The job reached its stream step: it waits for a gpu-queue worker from now (the first time only). */
  streamQueued?: boolean;
  streamStarted?: boolean;
  finished?: boolean;
  hlsRemoved?: boolean;
  progress?: StreamProgress;
  model?: string;
}

export class UpflowStore {
  constructor(private readonly pool: Pool) {}

  async ping(): Promise<void> {
    await this.pool.query('SELECT 1');
  }

  /**
   * `jellyfinItemId`, when given, is remembered; a trigger by path keeps the one already known.
   * Insert-or-nothing, then update: `ON CONFLICT (key) DO UPDATE` lets concurrent first
   * triggers of a title fail on the other unique index (source_path), which is no arbiter there.
   * A key that belongs to another file, or a file known under another key, is a 409: one file,
   * one title, never taken over.
   */
  async upsertTitle(title: { key: string; sourcePath: string; name: string; jellyfinItemId?: string }): Promise<void> {
    const jellyfinItemId = title.jellyfinItemId ?? null;
    const inserted = await this.pool.query(
      `INSERT INTO titles (key, source_path, name, jellyfin_item_id) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`,
      [title.key, title.sourcePath, title.name, jellyfinItemId],
    );
    if (inserted.rowCount) return;
    const updated = await this.pool.query(
      `UPDATE titles SET name = $3, jellyfin_item_id = COALESCE($4, jellyfin_item_id) WHERE key = $1 AND source_path = $2`,
      [title.key, title.sourcePath, title.name, jellyfinItemId],
    );
    if (updated.rowCount) return;
    const { rows } = await this.pool.query<{ key: string; source_path: string }>(
      `SELECT key, source_path FROM titles WHERE key = $1 OR source_path = $2`,
      [title.key, title.sourcePath],
    );
    const other = rows.find((row) => row.key === title.key) ?? rows[0];
    if (!other) throw new Error(`title ${title.key} was neither inserted nor found`); // removed between the two statements: nothing removes titles
    throw other.key === title.key
      ? new UpflowError('Conflict', `title key ${title.key} belongs to another source file: it is not taken over`, { titleKey: title.key, otherSourcePath: other.source_path })
      : new UpflowError('Conflict', `this source file is already title ${other.key}, not ${title.key}`, { titleKey: other.key });
  }

  /** The key a file's title already has (kept from when it was first seen, whatever `titleKeyFor` gives now). */
  async titleKeyForSource(sourcePath: string): Promise<string | undefined> {
    const { rows } = await this.pool.query<{ key: string }>(`SELECT key FROM titles WHERE source_path = $1`, [sourcePath]);
    return rows[0]?.key;
  }

  async titleKeyForItem(jellyfinItemId: string): Promise<string | undefined> {
    const { rows } = await this.pool.query<{ key: string }>(
      `SELECT key FROM titles WHERE jellyfin_item_id = $1 ORDER BY created_at DESC LIMIT 1`,
      [jellyfinItemId],
    );
    return rows[0]?.key;
  }

  /** The Jellyfin item a title was asked for by (a webhook or the script), if any. */
  async jellyfinItemOfTitle(titleKey: string): Promise<string | undefined> {
    const { rows } = await this.pool.query<{ jellyfin_item_id: string | null }>(`SELECT jellyfin_item_id FROM titles WHERE key = $1`, [titleKey]);
    return rows[0]?.jellyfin_item_id ?? undefined;
  }

  async hasTitle(titleKey: string): Promise<boolean> {
    const { rowCount } = await this.pool.query(`SELECT 1 FROM titles WHERE key = $1`, [titleKey]);
    return (rowCount ?? 0) > 0;
  }

  /** Creates the job row once; later calls (activity retries) change nothing. */
  async ensureJob(job: { id: string; workflowId: string; titleKey: string; state: JobState }): Promise<void> {
    const inserted = await this.pool.query(
      `INSERT INTO jobs (id, workflow_id, title_key, state) VALUES ($1, $2, $3, $4)
       ON CONFLICT (id) DO NOTHING`,
      [job.id, job.workflowId, job.titleKey, job.state],
    );
    if (inserted.rowCount) await this.addEvent(job.id, 'created', `job created (${job.state})`);
  }

  async updateJob(id: string, patch: JobPatch, event?: { kind: string; message: string; data?: unknown }): Promise<void> {
    const sets: string[] = ['updated_at = now()'];
    const values: unknown[] = [id];
    const set = (column: string, value: unknown) => {
      values.push(value);
      sets.push(`${column} = $${values.length}`);
    };
    if (patch.state) {
      // A job's end is final. A write of an earlier state can arrive after it: an activity the
      // workflow cancelled without waiting (recording "finalizing") still runs, and would
      // otherwise leave a cancelled job looking busy for ever.
      values.push(patch.state, TERMINAL_JOB_STATES);
      sets.push(`state = CASE WHEN state = ANY($${values.length}::text[]) THEN state ELSE $${values.length - 1} END`);
    }
    if (patch.source) set('source', JSON.stringify(patch.source));
    if (patch.plan) {
      set('plan', JSON.stringify(patch.plan));
      set('upscaler', patch.plan.upscaler);
      if (patch.plan.upscaler !== 'lanczos') set('model', patch.plan.upscaler);
      set('scale_factor', patch.plan.scaleFactor);
      set('encoder', patch.plan.encoder);
      set('segment_seconds', patch.plan.segmentSeconds);
    }
    if (patch.model !== undefined) set('model', patch.model);
    if (patch.failureReason !== undefined) set('failure_reason', patch.failureReason);
    if (patch.finalPath !== undefined) set('final_path', patch.finalPath);
    if (patch.progress) {
      set('frames', patch.progress.frames);
      set('content_seconds', patch.progress.contentSeconds);
      set('rate', patch.progress.rate);
      set('fps', patch.progress.fps);
    }
    if (patch.streamQueued) sets.push('stream_queued_at = COALESCE(stream_queued_at, now())');
    if (patch.streamStarted) sets.push('stream_started_at = COALESCE(stream_started_at, now())');
    if (patch.finished) sets.push('finished_at = now()');
    if (patch.hlsRemoved) sets.push('hls_removed_at = now()');
    await this.pool.query(`UPDATE jobs SET ${sets.join(', ')} WHERE id = $1`, values);
    if (event) await this.addEvent(id, event.kind, event.message, event.data);
  }

  /**
   * What the probe found, on the job, and the probed version of the file on its title too: the
   * job's (in `source`) says which version its final file is made from, the title's which
   * version was seen last.
   */
  async recordProbe(jobId: string, source: SourceInfo, event: { kind: string; message: string }): Promise<void> {
    await this.pool.query(
      `WITH job AS (UPDATE jobs SET source = $2, updated_at = now() WHERE id = $1 RETURNING title_key)
       UPDATE titles SET source_fingerprint = $3 FROM job WHERE titles.key = job.title_key`,
      [jobId, JSON.stringify(source), source.fingerprint === undefined ? null : JSON.stringify(source.fingerprint)],
    );
    await this.addEvent(jobId, event.kind, event.message);
  }

  /**
   * A segment became playable: record it and the job's counters in one transaction. Chunks of
   * one title record theirs in any order; the counters are the table's own sums. `rate`: the
   * reporting chunk's content seconds per wall second; null for a chunk's first segment, which
   * carries its start-up: the job keeps the rate it has (none on a title's first segment), so a
   * chunk started later (for a viewer who moved) does not make the title read slow, and the web
   * script does not size what it waits for from a start-up (core/switch-lead.ts).
   */
  async recordSegment(jobId: string, segment: SegmentRecord, rate: number | null): Promise<void> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query(
        `INSERT INTO segments (job_id, index, filename, start_seconds, duration_seconds, bytes, model, precision, wall_seconds)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
         ON CONFLICT (job_id, index) DO UPDATE SET filename = EXCLUDED.filename, start_seconds = EXCLUDED.start_seconds,
           duration_seconds = EXCLUDED.duration_seconds, bytes = EXCLUDED.bytes, model = EXCLUDED.model,
           precision = EXCLUDED.precision, wall_seconds = EXCLUDED.wall_seconds, produced_at = now()`,
        [jobId, segment.index, segment.filename, segment.startSeconds, segment.durationSeconds, segment.bytes, segment.model, segment.precision, segment.wallSeconds],
      );
      await client.query(
        `UPDATE jobs SET (segments, content_seconds) = (SELECT count(*), COALESCE(sum(duration_seconds), 0) FROM segments WHERE job_id = $1),
           frames = round((SELECT COALESCE(sum(duration_seconds), 0) FROM segments WHERE job_id = $1) * COALESCE((plan->>'fps')::numeric, 0)),
           rate = COALESCE($2::numeric, rate),
           fps = COALESCE($2::numeric, rate) * COALESCE((plan->>'fps')::numeric, 0),
           first_segment_at = COALESCE(first_segment_at, now()), updated_at = now()
         WHERE id = $1`,
        [jobId, rate],
      );
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }

  /**
   * A new job of a title takes over segments an earlier job made (kept on disk for the same
   * source and plan): their records are copied from the title's newest earlier job that has
   * them. Returns the indexes now recorded for the job.
   */
  async adoptSegments(jobId: string, titleKey: string, indexes: number[]): Promise<number[]> {
    const { rows } = await this.pool.query<{ index: number }>(
      `WITH earlier AS (
         SELECT j.id FROM jobs j WHERE j.title_key = $2 AND j.id <> $1 AND EXISTS (SELECT 1 FROM segments s WHERE s.job_id = j.id)
         ORDER BY j.created_at DESC LIMIT 1),
       copied AS (
         INSERT INTO segments (job_id, index, filename, start_seconds, duration_seconds, bytes, model, precision, wall_seconds, produced_at)
         SELECT $1, s.index, s.filename, s.start_seconds, s.duration_seconds, s.bytes, s.model, s.precision, s.wall_seconds, s.produced_at
         FROM segments s JOIN earlier e ON s.job_id = e.id WHERE s.index = ANY($3)
         ON CONFLICT (job_id, index) DO NOTHING RETURNING index)
       -- And those this job recorded itself: a later run of a long title, or a retry of this step.
       SELECT index FROM copied UNION SELECT index FROM segments WHERE job_id = $1 AND index = ANY($3)`,
      [jobId, titleKey, indexes],
    );
    await this.pool.query(
      `UPDATE jobs SET (segments, content_seconds) = (SELECT count(*), COALESCE(sum(duration_seconds), 0) FROM segments WHERE job_id = $1), updated_at = now() WHERE id = $1`,
      [jobId],
    );
    return rows.map((r) => r.index);
  }

  async addEvent(jobId: string, kind: string, message: string, data?: unknown): Promise<void> {
    await this.pool.query(`INSERT INTO events (job_id, kind, message, data) VALUES ($1, $2, $3, $4)`, [
      jobId, kind, message, data === undefined ? null : JSON.stringify(data),
    ]);
  }

  async getJob(id: string): Promise<JobRecord | undefined> {
    const { rows } = await this.pool.query<JobRow>(`${JOB_SELECT} WHERE j.id = $1`, [id]);
    return rows[0] && toJob(rows[0]);
  }

  /** The workflows making a title now (their jobs' state is `streaming`), but `exceptTitle`'s. */
  async streamingWorkflows(exceptTitle: string): Promise<{ workflowId: string; jobId: string }[]> {
    const { rows } = await this.pool.query<{ workflow_id: string; id: string }>(
      `SELECT workflow_id, id FROM jobs WHERE state = 'streaming' AND stream_started_at IS NOT NULL AND title_key <> $1`,
      [exceptTitle],
    );
    return rows.map((r) => ({ workflowId: r.workflow_id, jobId: r.id }));
  }

  /**
   * How fast this machine made titles with the same upscaler and output size lately (its last 5
   * such jobs that made a segment): the median time from a job's first chunk starting to its
   * first segment, and the median rate of the segments that upscaler made in them (the last 50),
   * each chunk's first left out as the title's own figure leaves it out (its start-up, which
   * weighs most where viewers moved often and chunks were short). Undefined before any.
   */
  async makingSpeed(plan: Pick<StreamPlan, 'upscaler' | 'outputWidth' | 'outputHeight'>): Promise<MakingSpeed | undefined> {
    const { rows } = await this.pool.query<{ first_segment_seconds: number | null; rate: number | null }>(
      `WITH same_plan AS (
         SELECT id, extract(epoch FROM first_segment_at - stream_started_at)::float8 AS first_segment_seconds FROM jobs
         WHERE upscaler = $1::text AND (plan->>'outputWidth')::int = $2::int AND (plan->>'outputHeight')::int = $3::int
           AND first_segment_at IS NOT NULL AND stream_started_at IS NOT NULL
         ORDER BY created_at DESC LIMIT 5),
       rates AS (
         SELECT (s.duration_seconds / s.wall_seconds)::float8 AS rate FROM segments s JOIN same_plan ON same_plan.id = s.job_id
         WHERE s.wall_seconds > 0 AND s.model IS NOT DISTINCT FROM $4::text
           -- A chunk's first segment carries its start-up: the rate is the chunks' once they run.
           AND NOT EXISTS (SELECT 1 FROM events e WHERE e.job_id = s.job_id AND e.kind = 'chunk-started' AND (e.data->>'fromSegment')::int = s.index)
         ORDER BY s.produced_at DESC LIMIT 50)
       SELECT (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY first_segment_seconds) FROM same_plan) AS first_segment_seconds,
              (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY rate) FROM rates) AS rate`,
      [plan.upscaler, plan.outputWidth, plan.outputHeight, plan.upscaler === 'lanczos' ? null : plan.upscaler],
    );
    const row = rows[0];
    if (!row || row.first_segment_seconds === null || row.rate === null || !(row.rate > 0)) return undefined;
    return { firstSegmentSeconds: row.first_segment_seconds, rate: row.rate };
  }

  async listJobs(limit = 100): Promise<JobRecord[]> {
    const { rows } = await this.pool.query<JobRow>(`${JOB_SELECT} ORDER BY j.created_at DESC LIMIT $1`, [limit]);
    return rows.map(toJob);
  }

  async latestJobForTitle(titleKey: string): Promise<JobRecord | undefined> {
    const { rows } = await this.pool.query<JobRow>(
      `${JOB_SELECT} WHERE j.title_key = $1 ORDER BY j.created_at DESC LIMIT 1`,
      [titleKey],
    );
    return rows[0] && toJob(rows[0]);
  }

  /** Each title's newest job and when its last segment was made: what cleanup decides by. */
  async latestJobsWithLastSegment(titleKeys: string[]): Promise<Map<string, { job: JobRecord; lastSegmentAt: string | null }>> {
    const { rows } = await this.pool.query<JobRow & { last_segment_at: Date | null }>(
      `SELECT DISTINCT ON (j.title_key) j.*, t.source_path, t.name,
         (SELECT max(produced_at) FROM segments s WHERE s.job_id = j.id) AS last_segment_at
       FROM jobs j JOIN titles t ON t.key = j.title_key
       WHERE j.title_key = ANY($1)
       ORDER BY j.title_key, j.created_at DESC`,
      [titleKeys],
    );
    return new Map(rows.map((row) => [row.title_key, { job: toJob(row), lastSegmentAt: iso(row.last_segment_at) }]));
  }

  /** A cleanup run's report; a retried activity writes it once. */
  async recordCleanupRun(run: { runId: string; workflowId: string; report: HlsCleanupReport }): Promise<void> {
    const { report } = run;
    await this.pool.query(
      `INSERT INTO cleanup_runs (run_id, workflow_id, dry_run, options, removed, kept, bytes)
       VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (run_id) DO NOTHING`,
      [run.runId, run.workflowId, report.dryRun, JSON.stringify(report.options), JSON.stringify(report.removed), JSON.stringify(report.kept), report.bytes],
    );
  }

  async cleanupRuns(limit = 20): Promise<Array<{ runId: string; workflowId: string; finishedAt: string; report: HlsCleanupReport }>> {
    const { rows } = await this.pool.query<{
      run_id: string; workflow_id: string; dry_run: boolean; options: HlsCleanupOptions; removed: HlsFolderRemoval[]; kept: HlsFolderKept[]; bytes: string; finished_at: Date;
    }>(`SELECT * FROM cleanup_runs ORDER BY finished_at DESC LIMIT $1`, [limit]);
    return rows.map((r) => ({
      runId: r.run_id,
      workflowId: r.workflow_id,
      finishedAt: r.finished_at.toISOString(),
      report: { dryRun: r.dry_run, options: r.options, removed: r.removed, kept: r.kept, bytes: Number(r.bytes) },
    }));
  }

  /**
   * The seed's `/hls-status/:filename`: the titles whose file has that name, with or without
   * its extension, or the title whose key it is (that one alone, when there is one).
   */
  async titlesNamed(filename: string): Promise<Array<{ key: string; sourcePath: string }>> {
    const { rows } = await this.pool.query<{ key: string; source_path: string }>(
      `SELECT key, source_path FROM titles
       WHERE key = $1
          OR regexp_replace(source_path, '^.*/', '') = $1
          OR regexp_replace(regexp_replace(source_path, '^.*/', ''), '\\.[^.]*$', '') = $1
       ORDER BY source_path`,
      [filename],
    );
    const byKey = rows.filter((row) => row.key === filename);
    return (byKey.length > 0 ? byKey : rows).map((row) => ({ key: row.key, sourcePath: row.source_path }));
  }

  /** What `/metrics` reports, read in one round trip at scrape time (the worker is another process). */
  async metricsSnapshot(): Promise<MetricsSnapshot> {
    const { rows } = await this.pool.query<{
      by_state: Record<string, number> | null;
      segments: string;
      content_seconds: string;
      streams: MetricsSnapshot['streams'] | null;
      first_segment_seconds: string | null;
    }>(
      `SELECT
         (SELECT json_object_agg(state, n) FROM (SELECT state, count(*)::int AS n FROM jobs GROUP BY state) s) AS by_state,
         (SELECT count(*) FROM segments) AS segments,
         (SELECT COALESCE(sum(duration_seconds), 0) FROM segments) AS content_seconds,
         (SELECT json_agg(json_build_object('titleKey', title_key, 'model', COALESCE(model, upscaler, 'unknown'),
              'precision', COALESCE((SELECT s.precision FROM segments s WHERE s.job_id = j.id AND s.precision IS NOT NULL ORDER BY s.produced_at DESC LIMIT 1), 'none'),
              'fps', COALESCE(fps, 0), 'rate', COALESCE(rate, 0)))
            FROM jobs j WHERE state = 'streaming') AS streams,
         (SELECT extract(epoch FROM first_segment_at - stream_started_at) FROM jobs
            WHERE first_segment_at IS NOT NULL AND stream_started_at IS NOT NULL ORDER BY first_segment_at DESC LIMIT 1) AS first_segment_seconds`,
    );
    const row = rows[0]!;
    return {
      jobsByState: row.by_state ?? {},
      segments: Number(row.segments),
      contentSeconds: Number(row.content_seconds),
      streams: (row.streams ?? []).map((s) => ({ ...s, fps: Number(s.fps), rate: Number(s.rate) })),
      lastFirstSegmentSeconds: num(row.first_segment_seconds),
    };
  }

  async events(jobId: string): Promise<JobEvent[]> {
    const { rows } = await this.pool.query<{ at: Date; kind: string; message: string; data: unknown }>(
      `SELECT at, kind, message, data FROM events WHERE job_id = $1 ORDER BY id`,
      [jobId],
    );
    return rows.map((r) => ({ at: r.at.toISOString(), kind: r.kind, message: r.message, data: r.data }));
  }

  async segmentsOf(jobId: string): Promise<SegmentRecord[]> {
    const { rows } = await this.pool.query<{
      index: number; filename: string; start_seconds: string; duration_seconds: string; bytes: string; model: string | null; precision: string | null; wall_seconds: string | null; produced_at: Date;
    }>(
      `SELECT index, filename, start_seconds, duration_seconds, bytes, model, precision, wall_seconds, produced_at FROM segments WHERE job_id = $1 ORDER BY index`,
      [jobId],
    );
    return rows.map((r) => ({
      index: r.index,
      filename: r.filename,
      startSeconds: Number(r.start_seconds),
      durationSeconds: Number(r.duration_seconds),
      bytes: Number(r.bytes),
      model: r.model,
      precision: r.precision,
      wallSeconds: num(r.wall_seconds),
      producedAt: r.produced_at.toISOString(),
    }));
  }
}
