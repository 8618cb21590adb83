-- +goose Up
-- Lets the periodic sweep find ended sessions without scanning the table.
CREATE INDEX sessions_expires_at ON identity.sessions (expires_at);

-- +goose Down
DROP INDEX identity.sessions_expires_at;
