-- Up Migration

-- Rate control: the model producing a job's stream now (it can step down mid-stream), and for
-- each segment the model that made it and how long it took (per-segment rate, audits).
ALTER TABLE jobs ADD COLUMN model text;
ALTER TABLE segments ADD COLUMN model text;
ALTER TABLE segments ADD COLUMN wall_seconds numeric;

-- Down Migration
ALTER TABLE segments DROP COLUMN wall_seconds;
ALTER TABLE segments DROP COLUMN model;
ALTER TABLE jobs DROP COLUMN model;
