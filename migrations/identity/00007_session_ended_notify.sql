-- +goose Up
-- Replicas cache the sessions they found live; a session that ends must
-- reach every replica's cache before its tokens' next request. The trigger,
-- rather than each statement that ends a session, sends the notification, so
-- that no way of ending one (revocation, a shortened expiry, a deletion, an
-- operator's own UPDATE) can forget it. It is delivered when the ending
-- transaction commits, and not at all if it rolls back.
-- +goose StatementBegin
CREATE FUNCTION identity.notify_session_ended() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    PERFORM pg_catalog.pg_notify('identity.session_ended', OLD.id::text);
    RETURN NULL;
END
$$;
-- +goose StatementEnd

CREATE TRIGGER session_ended AFTER UPDATE ON identity.sessions
    FOR EACH ROW
    WHEN (NEW.revoked_at IS DISTINCT FROM OLD.revoked_at
       OR NEW.expires_at < OLD.expires_at
       OR NEW.user_id IS DISTINCT FROM OLD.user_id
       OR NEW.id IS DISTINCT FROM OLD.id)
    EXECUTE FUNCTION identity.notify_session_ended();

CREATE TRIGGER session_deleted AFTER DELETE ON identity.sessions
    FOR EACH ROW
    EXECUTE FUNCTION identity.notify_session_ended();

-- +goose Down
DROP TRIGGER session_deleted ON identity.sessions;
DROP TRIGGER session_ended ON identity.sessions;
DROP FUNCTION identity.notify_session_ended();
