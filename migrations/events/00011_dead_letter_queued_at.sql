-- +goose Up
-- A dead replay remembers when its replay was queued. The inbox applies a
-- replayed event again only if it was applied before the replay was queued
-- (onto the projection the replay rebuilds); retried with the retry's time
-- instead, a dead replay would apply a second time an event that a late
-- live delivery had applied after the replay began.
ALTER TABLE events.dead_letter_queue ADD COLUMN queued_at timestamptz;

-- +goose Down
ALTER TABLE events.dead_letter_queue DROP COLUMN queued_at;
