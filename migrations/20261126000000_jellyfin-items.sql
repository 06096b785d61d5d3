-- Up Migration

-- The Jellyfin item a title was asked for by (webhook or the web script), so the script's
-- item-keyed status finds the title without asking Jellyfin each time.
ALTER TABLE titles ADD COLUMN jellyfin_item_id text;
CREATE INDEX titles_jellyfin_item_id ON titles (jellyfin_item_id);

-- Down Migration
DROP INDEX titles_jellyfin_item_id;
ALTER TABLE titles DROP COLUMN jellyfin_item_id;
