-- +goose Up
-- insert_jobs and enqueue take the time their jobs are created at (now by
-- default). A replay's jobs, and a retried dead replay's, are created when
-- the replay was queued, since the inbox skips a replayed event applied
-- after that; both statements inserted such jobs themselves, beside these
-- functions, rather than through them.
DROP FUNCTION events.enqueue(uuid[], text[], boolean, int);
DROP FUNCTION events.insert_jobs(uuid[], text[], boolean, int);

-- +goose StatementBegin
CREATE FUNCTION events.insert_jobs(p_event_ids uuid[], p_consumers text[], p_replay boolean, p_max_attempts int,
    p_created_at timestamptz DEFAULT now())
RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    n bigint;
BEGIN
    INSERT INTO events.river_job (args, kind, max_attempts, queue, state, scheduled_at, created_at, priority, metadata, tags)
    SELECT events.delivery_args(e, d.consumer, p_replay), 'nova_event', p_max_attempts, 'events', 'available', now(), p_created_at, 1, '{}', '{}'
    FROM unnest(p_event_ids, p_consumers) AS d(event_id, consumer)
    JOIN events.domain_events e ON e.id = d.event_id
    ORDER BY e.id;
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION events.enqueue(p_event_ids uuid[], p_consumers text[], p_replay boolean, p_max_attempts int,
    p_created_at timestamptz DEFAULT now())
RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    n bigint := events.insert_jobs(p_event_ids, p_consumers, p_replay, p_max_attempts, p_created_at);
BEGIN
    IF n > 0 THEN
        PERFORM pg_notify('events.river_insert', '{"queue": "events"}');
    END IF;
    RETURN n;
END
$$;
-- +goose StatementEnd

REVOKE ALL ON FUNCTION events.insert_jobs(uuid[], text[], boolean, int, timestamptz) FROM PUBLIC;
REVOKE ALL ON FUNCTION events.enqueue(uuid[], text[], boolean, int, timestamptz) FROM PUBLIC;

-- +goose Down
DROP FUNCTION events.enqueue(uuid[], text[], boolean, int, timestamptz);
DROP FUNCTION events.insert_jobs(uuid[], text[], boolean, int, timestamptz);

-- +goose StatementBegin
CREATE FUNCTION events.insert_jobs(p_event_ids uuid[], p_consumers text[], p_replay boolean, p_max_attempts int)
RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    n bigint;
BEGIN
    INSERT INTO events.river_job (args, kind, max_attempts, queue, state, scheduled_at, priority, metadata, tags)
    SELECT events.delivery_args(e, d.consumer, p_replay), 'nova_event', p_max_attempts, 'events', 'available', now(), 1, '{}', '{}'
    FROM unnest(p_event_ids, p_consumers) AS d(event_id, consumer)
    JOIN events.domain_events e ON e.id = d.event_id
    ORDER BY e.id;
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION events.enqueue(p_event_ids uuid[], p_consumers text[], p_replay boolean, p_max_attempts int)
RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    n bigint := events.insert_jobs(p_event_ids, p_consumers, p_replay, p_max_attempts);
BEGIN
    IF n > 0 THEN
        PERFORM pg_notify('events.river_insert', '{"queue": "events"}');
    END IF;
    RETURN n;
END
$$;
-- +goose StatementEnd

REVOKE ALL ON FUNCTION events.insert_jobs(uuid[], text[], boolean, int) FROM PUBLIC;
REVOKE ALL ON FUNCTION events.enqueue(uuid[], text[], boolean, int) FROM PUBLIC;
