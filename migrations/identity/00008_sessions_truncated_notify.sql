-- +goose Up
-- TRUNCATE fires no row trigger, so emptying identity.sessions (by hand, or
-- by a cascade from identity.credentials) ended every session without a
-- notification, and replicas went on answering for them from their caches.
-- This one sends a payload that is no session id, on which a replica forgets
-- every session it holds.
-- +goose StatementBegin
CREATE FUNCTION identity.notify_sessions_truncated() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    PERFORM pg_catalog.pg_notify('identity.session_ended', 'all');
    RETURN NULL;
END
$$;
-- +goose StatementEnd

CREATE TRIGGER sessions_truncated AFTER TRUNCATE ON identity.sessions
    FOR EACH STATEMENT
    EXECUTE FUNCTION identity.notify_sessions_truncated();

-- +goose Down
DROP TRIGGER sessions_truncated ON identity.sessions;
DROP FUNCTION identity.notify_sessions_truncated();
