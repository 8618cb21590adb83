-- +goose Up
-- publish reports the producer it recorded and the time of the events, so
-- that the publishing replica can deliver them from memory (see
-- recentEvents) exactly as they are in the log. All events of one call share
-- one time. The arguments are unchanged; the result type is new, so the
-- function is replaced and its grants given again.
DROP FUNCTION events.publish(uuid[], text[], int[], jsonb[], text, int);

-- +goose StatementBegin
CREATE FUNCTION events.publish(p_ids uuid[], p_topics text[], p_versions int[], p_payloads jsonb[], p_request_id text, p_max_attempts int,
    OUT producer text, OUT occurred_at timestamptz)
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_role text := CASE WHEN current_setting('role') = 'none' THEN session_user::text ELSE current_setting('role') END;
    v_jobs bigint;
BEGIN
    producer := CASE WHEN v_role LIKE 'nova\_%' THEN substr(v_role, 6) ELSE v_role END;
    occurred_at := clock_timestamp();
    WITH ev AS (
        INSERT INTO events.domain_events (id, topic, version, payload, producer, request_id, occurred_at)
        SELECT t.id, t.topic, t.version, t.payload, producer, nullif(p_request_id, ''), occurred_at
        FROM unnest(p_ids, p_topics, p_versions, p_payloads) AS t(id, topic, version, payload)
        RETURNING id, topic)
    INSERT INTO events.river_job (args, kind, max_attempts, queue, state, scheduled_at, priority, metadata, tags)
    SELECT jsonb_build_object('event_id', ev.id, 'consumer', s.consumer), 'nova_event', p_max_attempts, 'events', 'available', now(), 1, '{}', '{}'
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
GRANT EXECUTE ON FUNCTION events.publish(uuid[], text[], int[], jsonb[], text, int)
    TO nova_identity, nova_user, nova_media, nova_content, nova_social, nova_communication, nova_search;

-- +goose Down
DROP FUNCTION events.publish(uuid[], text[], int[], jsonb[], text, int);

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
        RETURNING id, topic)
    INSERT INTO events.river_job (args, kind, max_attempts, queue, state, scheduled_at, priority, metadata, tags)
    SELECT jsonb_build_object('event_id', ev.id, 'consumer', s.consumer), 'nova_event', p_max_attempts, 'events', 'available', now(), 1, '{}', '{}'
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
GRANT EXECUTE ON FUNCTION events.publish(uuid[], text[], int[], jsonb[], text, int)
    TO nova_identity, nova_user, nova_media, nova_content, nova_social, nova_communication, nova_search;
