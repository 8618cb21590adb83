-- +goose Up
-- publish refuses topics of other domains: the producer it records comes
-- from the caller's role, but the topics came from the caller, so a domain
-- could publish events that only another domain may (a ban, a registration).
-- Same signature, so the grants stay.

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION events.publish(p_ids uuid[], p_topics text[], p_versions int[], p_payloads jsonb[], p_request_id text, p_max_attempts int,
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
    -- A topic names its producing domain first: a domain cannot speak for
    -- another (social publishing user.banned, say).
    IF EXISTS (SELECT FROM unnest(p_topics) AS t(topic) WHERE split_part(t.topic, '.', 1) <> producer) THEN
        RAISE EXCEPTION 'events: % may publish only its own topics (%)', producer, array_to_string(p_topics, ', ')
            USING ERRCODE = 'insufficient_privilege';
    END IF;
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

-- +goose Down
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION events.publish(p_ids uuid[], p_topics text[], p_versions int[], p_payloads jsonb[], p_request_id text, p_max_attempts int,
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
