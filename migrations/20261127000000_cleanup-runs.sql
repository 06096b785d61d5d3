-- Up Migration

-- Each run of the HLS cleanup workflow (scheduled or `upflow cleanup`), dry runs included:
-- what it removed (or would have), what it kept and why.
CREATE TABLE cleanup_runs (
  run_id      text PRIMARY KEY,      -- the cleanup workflow's Temporal run id
  workflow_id text NOT NULL,
  dry_run     boolean NOT NULL,
  options     jsonb NOT NULL,
  removed     jsonb NOT NULL,
  kept        jsonb NOT NULL,
  bytes       bigint NOT NULL,
  finished_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX cleanup_runs_finished_at ON cleanup_runs (finished_at DESC);

-- Down Migration
DROP TABLE cleanup_runs;
