-- Up Migration

-- Which version of its file a title was last probed at: size, modification time (ns), device and
-- inode, as JSON ({"size":…,"mtimeNs":"…","dev":"…","ino":"…"}). Each job's own version, the one
-- its final file is made from, is in jobs.source (its "fingerprint"), beside what ffprobe found.
-- Titles and jobs from before have none: a trigger then compares the file's change time with
-- when the job was created.
ALTER TABLE titles ADD COLUMN source_fingerprint jsonb;

-- Down Migration
ALTER TABLE titles DROP COLUMN source_fingerprint;
