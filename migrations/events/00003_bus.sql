-- +goose Up
-- The bus on top of River: a delivery is one River job per (event, consumer)
-- whose args carry the whole event, so a worker never reads the log.

-- delivery_args is the River job args of one delivery of event e to consumer.
-- +goose StatementBegin
CREATE FUNCTION events.delivery_args(e events.domain_events, p_consumer text, p_replay boolean)
RETURNS jsonb
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT jsonb_build_object(
        'event_id', e.id,
        'consumer', p_consumer,
        'topic', e.topic,
        'version', e.version,
        'producer', e.producer,
        'occurred_at', e.occurred_at,
        'request_id', coalesce(e.request_id, ''),
        'replay', p_replay,
        'payload', e.payload)
$$;
-- +goose StatementEnd

-- insert_jobs inserts one available River job per (event, consumer) pair.
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

-- enqueue inserts the jobs and wakes the workers, which listen on
-- "<schema>.river_insert" (operator retries and replays).
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

-- publish is the only way into the log for the domain roles: it runs as the
-- events role (SECURITY DEFINER), inside the caller's transaction, appends the
-- events to the log and enqueues one job per subscribed consumer. The
-- producer is the calling domain's role, never a parameter, so a domain
-- cannot publish in another's name.
-- +goose StatementBegin
CREATE FUNCTION events.publish(p_ids uuid[], p_topics text[], p_versions int[], p_payloads jsonb[], p_request_id text, p_max_attempts int)
RETURNS void
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_role text := CASE WHEN current_setting('role') = 'none' THEN session_user::text ELSE current_setting('role') END;
    v_producer text := CASE WHEN v_role LIKE 'nova\_%' THEN substr(v_role, 6) ELSE v_role END;
    v_jobs bigint;
BEGIN
    WITH ev AS (
        INSERT INTO events.domain_events (id, topic, version, payload, producer, request_id, occurred_at)
        SELECT t.id, t.topic, t.version, t.payload, v_producer, nullif(p_request_id, ''), clock_timestamp()
        FROM unnest(p_ids, p_topics, p_versions, p_payloads) AS t(id, topic, version, payload)
        RETURNING *)
    INSERT INTO events.river_job (args, kind, max_attempts, queue, state, scheduled_at, priority, metadata, tags)
    SELECT events.delivery_args(ev::events.domain_events, s.consumer, false), 'nova_event', p_max_attempts, 'events', 'available', now(), 1, '{}', '{}'
    FROM ev
    JOIN events.event_subscriptions s ON s.topic = ev.topic
    ORDER BY ev.id;
    GET DIAGNOSTICS v_jobs = ROW_COUNT;

    -- Postgres serialises the commits of all transactions that notify, so
    -- only one publishing transaction at a time notifies (the one holding the
    -- advisory lock); the others' jobs are fetched along with its own, or by
    -- the next notification or poll.
    IF v_jobs > 0 AND pg_try_advisory_xact_lock(7406310573) THEN
        PERFORM pg_notify('events.river_insert', '{"queue": "events"}');
    END IF;
END
$$;
-- +goose StatementEnd

REVOKE ALL ON FUNCTION events.publish(uuid[], text[], int[], jsonb[], text, int) FROM PUBLIC;
REVOKE ALL ON FUNCTION events.enqueue(uuid[], text[], boolean, int) FROM PUBLIC;
REVOKE ALL ON FUNCTION events.insert_jobs(uuid[], text[], boolean, int) FROM PUBLIC;
REVOKE ALL ON FUNCTION events.delivery_args(events.domain_events, text, boolean) FROM PUBLIC;

-- Every other domain may call publish and nothing else: USAGE on the schema
-- resolves the name; no table privilege is granted.
GRANT USAGE ON SCHEMA events TO nova_identity, nova_user, nova_media, nova_content, nova_social, nova_communication, nova_search;
GRANT EXECUTE ON FUNCTION events.publish(uuid[], text[], int[], jsonb[], text, int)
    TO nova_identity, nova_user, nova_media, nova_content, nova_social, nova_communication, nova_search;

-- River indexes every job's args and metadata (GIN) and kind for ad-hoc
-- queries the bus never makes (it fetches by state and queue, and all its
-- jobs have one kind). A job row is rewritten, with an entry in every index
-- (no HOT update: its state is indexed), when inserted, fetched and
-- finished: those indexes cost more than the rest of a delivery's writes.
DROP INDEX IF EXISTS events.river_job_args_index;
DROP INDEX IF EXISTS events.river_job_metadata_index;
DROP INDEX IF EXISTS events.river_job_kind;

-- The dead-letter queue is listed and retried per consumer.
CREATE INDEX dead_letter_queue_consumer ON events.dead_letter_queue (consumer, failed_at);
CREATE INDEX dead_letter_queue_event ON events.dead_letter_queue (event_id);

-- +goose Down
CREATE INDEX IF NOT EXISTS river_job_kind ON events.river_job USING btree (kind);
CREATE INDEX IF NOT EXISTS river_job_metadata_index ON events.river_job USING GIN (metadata);
CREATE INDEX IF NOT EXISTS river_job_args_index ON events.river_job USING GIN (args);
DROP INDEX events.dead_letter_queue_event;
DROP INDEX events.dead_letter_queue_consumer;
REVOKE USAGE ON SCHEMA events FROM nova_identity, nova_user, nova_media, nova_content, nova_social, nova_communication, nova_search;
DROP FUNCTION events.publish(uuid[], text[], int[], jsonb[], text, int);
DROP FUNCTION events.enqueue(uuid[], text[], boolean, int);
DROP FUNCTION events.insert_jobs(uuid[], text[], boolean, int);
DROP FUNCTION events.delivery_args(events.domain_events, text, boolean);
