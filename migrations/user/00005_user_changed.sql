-- +goose Up
-- Replicas cache users by id (their profile, role and ban); a change must
-- reach every replica's cache before its next read. Triggers on the three
-- tables a user is read from, rather than each statement that changes one,
-- send the user's id on users.user_changed, so that no way of changing a
-- user (an update, a deletion, an operator's own statement) can forget it.
-- It is delivered when the transaction commits, and not at all if it rolls
-- back. The trigger's argument names the column holding the user's id.
-- +goose StatementBegin
CREATE FUNCTION users.notify_user_changed() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    PERFORM pg_catalog.pg_notify('users.user_changed', pg_catalog.to_jsonb(OLD) OPERATOR(pg_catalog.->>) TG_ARGV[0]);
    RETURN NULL;
END
$$;
-- +goose StatementEnd

-- TRUNCATE fires no row trigger: this sends a payload that is no id, on
-- which a replica forgets every user it holds.
-- +goose StatementBegin
CREATE FUNCTION users.notify_users_truncated() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    PERFORM pg_catalog.pg_notify('users.user_changed', 'all');
    RETURN NULL;
END
$$;
-- +goose StatementEnd

CREATE TRIGGER user_changed AFTER UPDATE ON users.users
    FOR EACH ROW WHEN (OLD.* IS DISTINCT FROM NEW.*) EXECUTE FUNCTION users.notify_user_changed('id');
CREATE TRIGGER user_deleted AFTER DELETE ON users.users
    FOR EACH ROW EXECUTE FUNCTION users.notify_user_changed('id');
CREATE TRIGGER users_truncated AFTER TRUNCATE ON users.users
    FOR EACH STATEMENT EXECUTE FUNCTION users.notify_users_truncated();

CREATE TRIGGER profile_changed AFTER UPDATE ON users.user_profiles
    FOR EACH ROW WHEN (OLD.* IS DISTINCT FROM NEW.*) EXECUTE FUNCTION users.notify_user_changed('user_id');
CREATE TRIGGER profile_deleted AFTER DELETE ON users.user_profiles
    FOR EACH ROW EXECUTE FUNCTION users.notify_user_changed('user_id');
CREATE TRIGGER profiles_truncated AFTER TRUNCATE ON users.user_profiles
    FOR EACH STATEMENT EXECUTE FUNCTION users.notify_users_truncated();

CREATE TRIGGER role_changed AFTER UPDATE ON users.user_roles
    FOR EACH ROW WHEN (OLD.* IS DISTINCT FROM NEW.*) EXECUTE FUNCTION users.notify_user_changed('user_id');
CREATE TRIGGER role_deleted AFTER DELETE ON users.user_roles
    FOR EACH ROW EXECUTE FUNCTION users.notify_user_changed('user_id');
CREATE TRIGGER roles_truncated AFTER TRUNCATE ON users.user_roles
    FOR EACH STATEMENT EXECUTE FUNCTION users.notify_users_truncated();

-- +goose Down
DROP TRIGGER roles_truncated ON users.user_roles;
DROP TRIGGER role_deleted ON users.user_roles;
DROP TRIGGER role_changed ON users.user_roles;
DROP TRIGGER profiles_truncated ON users.user_profiles;
DROP TRIGGER profile_deleted ON users.user_profiles;
DROP TRIGGER profile_changed ON users.user_profiles;
DROP TRIGGER users_truncated ON users.users;
DROP TRIGGER user_deleted ON users.users;
DROP TRIGGER user_changed ON users.users;
DROP FUNCTION users.notify_users_truncated();
DROP FUNCTION users.notify_user_changed();
