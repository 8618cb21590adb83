-- +goose Up
-- A dead letter remembers whether its delivery was a replay: retried as a
-- plain delivery, it would be skipped, since the consumer's inbox already
-- holds the event from before the replay.
ALTER TABLE events.dead_letter_queue ADD COLUMN replay boolean NOT NULL DEFAULT false;

-- +goose Down
ALTER TABLE events.dead_letter_queue DROP COLUMN replay;
