-- +goose Up
-- The River job that last replayed an event to a consumer: a redelivery of
-- that same job (its completion lost in a crash) is skipped like any
-- redelivery, while a later replay, a new job, applies again.
ALTER TABLE search.event_inbox ADD COLUMN replay_job bigint;

-- +goose Down
ALTER TABLE search.event_inbox DROP COLUMN replay_job;
