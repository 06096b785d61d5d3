-- Up Migration

-- One row per source file Upflow has been asked to upscale.
CREATE TABLE titles (
  key         text PRIMARY KEY,            -- slug of the file name + hash of its real path
  source_path text NOT NULL UNIQUE,
  name        text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);

-- One row per workflow run (id = the Temporal run id).
CREATE TABLE jobs (
  id                      uuid PRIMARY KEY,
  workflow_id             text NOT NULL,
  title_key               text NOT NULL REFERENCES titles (key),
  state                   text NOT NULL CHECK (state IN ('queued', 'probing', 'streaming', 'finalizing', 'complete', 'failed', 'cancelled')),
  upscaler                text,
  scale_factor            integer,
  encoder                 text,
  segment_seconds         numeric,
  source                  jsonb,          -- ffprobe summary (duration, fps, size, audio)
  plan                    jsonb,
  frames                  integer NOT NULL DEFAULT 0,
  segments                integer NOT NULL DEFAULT 0,
  content_seconds         numeric NOT NULL DEFAULT 0,
  rate                    numeric,        -- content seconds per wall second
  fps                     numeric,
  final_path              text,           -- set once the final file is verified
  failure_reason          text,
  hls_removed_at          timestamptz,
  created_at              timestamptz NOT NULL DEFAULT now(),
  stream_started_at       timestamptz,
  first_segment_at        timestamptz,
  finished_at             timestamptz,
  updated_at              timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX jobs_title_key_created_at ON jobs (title_key, created_at DESC);
CREATE INDEX jobs_workflow_id ON jobs (workflow_id);

-- Each HLS segment as it became playable.
CREATE TABLE segments (
  job_id           uuid NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
  index            integer NOT NULL,
  filename         text NOT NULL,
  start_seconds    numeric NOT NULL,
  duration_seconds numeric NOT NULL,
  bytes            bigint NOT NULL,
  produced_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (job_id, index)
);

-- What happened to a job, in order: state changes, failures, cleanup.
CREATE TABLE events (
  id      bigserial PRIMARY KEY,
  job_id  uuid NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
  at      timestamptz NOT NULL DEFAULT now(),
  kind    text NOT NULL,
  message text NOT NULL,
  data    jsonb
);
CREATE INDEX events_job_id ON events (job_id, id);

-- Down Migration
DROP TABLE events;
DROP TABLE segments;
DROP TABLE jobs;
DROP TABLE titles;
