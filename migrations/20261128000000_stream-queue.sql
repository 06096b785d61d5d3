-- Up Migration

-- When a job reached its stream step and began waiting for a free gpu-queue worker: the order
-- of the jobs still waiting (state 'streaming', stream_started_at null) is their queue position.
ALTER TABLE jobs ADD COLUMN stream_queued_at timestamptz;

-- Jobs already past that step: the time their 'streaming' event was recorded.
UPDATE jobs SET stream_queued_at = COALESCE(
  (SELECT min(e.at) FROM events e WHERE e.job_id = jobs.id AND e.kind = 'streaming'),
  stream_started_at)
WHERE state <> 'queued' AND state <> 'probing';

CREATE INDEX jobs_waiting_for_stream ON jobs (stream_queued_at) WHERE state = 'streaming' AND stream_started_at IS NULL;

-- Down Migration
DROP INDEX jobs_waiting_for_stream;
ALTER TABLE jobs DROP COLUMN stream_queued_at;
