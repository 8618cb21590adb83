-- +goose Up
-- River's fetching index held every job, finished ones too, and took an entry
-- at each of a job's three writes (inserted, fetched, finished). Partial on
-- the states a job waits or runs in, it takes none when a job finishes, and
-- does not grow with the finished jobs kept for NOVA_EVENTS_JOB_RETENTION.
-- Every query that looks jobs up by state names such states: River's fetch
-- (available), its scheduler (retryable, scheduled), its rescuer (running),
-- and the bus's stats and queue depth.
CREATE INDEX river_job_unfinished_index ON events.river_job (state, queue, priority, scheduled_at, id)
    WHERE state IN ('available', 'pending', 'running', 'retryable', 'scheduled');
DROP INDEX events.river_job_prioritized_fetching_index;

-- +goose Down
CREATE INDEX river_job_prioritized_fetching_index ON events.river_job (state, queue, priority, scheduled_at, id);
DROP INDEX events.river_job_unfinished_index;
