-- +goose Up
-- River's CHECK constraints on its job table cost every statement that
-- writes it (publish's insert, River's fetch and its completion) more than
-- the rows they guard: Postgres keeps no parsed form of a table's checks
-- between statements, so each statement parsed and planned all five again
-- (a tenth of publish's CPU at 8 clients). What they guarded is written by
-- two programs only: River, whose code validates kind, queue, priority and
-- max attempts before any insert and sets state and finalized_at together in
-- each of its updates; and this schema's functions, which write constants
-- but for max_attempts, which the bus takes from its validated settings. A
-- domain role calling publish by hand with fewer than one attempt gets
-- deliveries that are dead-lettered at their first failure, as with one.
ALTER TABLE events.river_job
    DROP CONSTRAINT finalized_or_finalized_at_null,
    DROP CONSTRAINT max_attempts_is_positive,
    DROP CONSTRAINT priority_in_range,
    DROP CONSTRAINT queue_length,
    DROP CONSTRAINT kind_length;

-- +goose Down
-- The one column a domain can now write out of the checks' range (publish
-- called by hand with fewer than one attempt); River writes the others.
UPDATE events.river_job SET max_attempts = 1 WHERE max_attempts < 1;
ALTER TABLE events.river_job
    ADD CONSTRAINT finalized_or_finalized_at_null CHECK (
        (finalized_at IS NULL AND state NOT IN ('cancelled', 'completed', 'discarded')) OR
        (finalized_at IS NOT NULL AND state IN ('cancelled', 'completed', 'discarded'))),
    ADD CONSTRAINT max_attempts_is_positive CHECK (max_attempts > 0),
    ADD CONSTRAINT priority_in_range CHECK (priority >= 1 AND priority <= 4),
    ADD CONSTRAINT queue_length CHECK (char_length(queue) > 0 AND char_length(queue) < 128),
    ADD CONSTRAINT kind_length CHECK (char_length(kind) > 0 AND char_length(kind) < 128);
