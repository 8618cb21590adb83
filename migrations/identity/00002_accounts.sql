-- +goose Up
-- Credentials: the login names and the password hash. The *_key columns hold
-- the case-folded forms that uniqueness and login look-ups use, while email
-- and username keep the spelling the user registered.
CREATE TABLE identity.credentials (
    user_id             uuid        PRIMARY KEY,
    email               text        NOT NULL,
    email_key           text        NOT NULL,
    username            text        NOT NULL,
    username_key        text        NOT NULL,
    password_hash       text        NOT NULL,
    created_at          timestamptz NOT NULL DEFAULT now(),
    password_changed_at timestamptz NOT NULL DEFAULT now(),
    -- Set when the user domain reports a ban (user.banned); logins are refused.
    banned_at           timestamptz,
    CONSTRAINT credentials_email_key UNIQUE (email_key),
    CONSTRAINT credentials_username_key UNIQUE (username_key)
);

-- A session is one login on one device. It is also the family of every
-- refresh token rotated from its first one: reuse of a rotated token revokes
-- the session, and with it every token of the family.
CREATE TABLE identity.sessions (
    id             uuid        PRIMARY KEY,
    user_id        uuid        NOT NULL REFERENCES identity.credentials (user_id) ON DELETE CASCADE,
    created_at     timestamptz NOT NULL DEFAULT now(),
    last_used_at   timestamptz NOT NULL DEFAULT now(),
    -- Absolute end of the session, whatever its activity.
    expires_at     timestamptz NOT NULL,
    user_agent     text        NOT NULL DEFAULT '',
    client_addr    text        NOT NULL DEFAULT '',
    revoked_at     timestamptz,
    revoked_reason text
);
CREATE INDEX sessions_live_by_user ON identity.sessions (user_id) WHERE revoked_at IS NULL;

-- Refresh tokens, stored as the SHA-256 of the opaque token. A token is
-- usable once: refreshing sets rotated_at and issues its successor.
CREATE TABLE identity.refresh_tokens (
    token_hash bytea       PRIMARY KEY,
    session_id uuid        NOT NULL REFERENCES identity.sessions (id) ON DELETE CASCADE,
    issued_at  timestamptz NOT NULL DEFAULT now(),
    rotated_at timestamptz
);
CREATE INDEX refresh_tokens_session ON identity.refresh_tokens (session_id);

-- Fixed-window counters for rate limits, shared by every replica.
CREATE TABLE identity.rate_limits (
    bucket       text        NOT NULL,
    window_start timestamptz NOT NULL,
    hits         int         NOT NULL,
    expires_at   timestamptz NOT NULL,
    PRIMARY KEY (bucket, window_start)
);
CREATE INDEX rate_limits_expiry ON identity.rate_limits (expires_at);

-- +goose Down
DROP TABLE identity.rate_limits;
DROP TABLE identity.refresh_tokens;
DROP TABLE identity.sessions;
DROP TABLE identity.credentials;
