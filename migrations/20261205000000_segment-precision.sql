-- Up Migration

-- The numeric precision of the graph that made each segment (fp32, fp16, int8: UPFLOW_PRECISION),
-- beside its model; null for ffmpeg-only segments and for those made before it was recorded.
ALTER TABLE segments ADD COLUMN precision text;

-- Down Migration
ALTER TABLE segments DROP COLUMN precision;
