-- +goose Up
-- A delivery job carries only what routes it (the event id, the consumer and
-- whether it is a replay); workers read the event itself from the log, one
-- query per batch of jobs. River writes a job row three times (inserted,
-- fetched, finished) and every consumer of an event has its own, so a job
-- that carried the whole event cost its payload that many times in WAL.
-- It is written so that the planner inlines it into publish and enqueue (no
-- SET clause, a body bound when created), instead of calling it once per job.
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION events.delivery_args(e events.domain_events, p_consumer text, p_replay boolean)
RETURNS jsonb
LANGUAGE sql STABLE
RETURN pg_catalog.jsonb_build_object('event_id', e.id, 'consumer', p_consumer)
    OPERATOR(pg_catalog.||) CASE WHEN p_replay THEN '{"replay": true}'::pg_catalog.jsonb ELSE '{}'::pg_catalog.jsonb END;
-- +goose StatementEnd

-- +goose Down
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION events.delivery_args(e events.domain_events, p_consumer text, p_replay boolean)
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
