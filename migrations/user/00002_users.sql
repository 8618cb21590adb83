-- +goose Up
-- Roles and what each may do. Checks in the code ask for a permission, never
-- for a role name, so a new role is a data change.
CREATE TABLE users.roles (
    name text PRIMARY KEY,
    -- rank orders roles: a user may only ban users of a lower rank.
    rank int  NOT NULL UNIQUE
);
CREATE TABLE users.permissions (
    name        text PRIMARY KEY,
    description text NOT NULL
);
CREATE TABLE users.role_permissions (
    role       text NOT NULL REFERENCES users.roles (name),
    permission text NOT NULL REFERENCES users.permissions (name),
    PRIMARY KEY (role, permission)
);

INSERT INTO users.roles (name, rank) VALUES ('USER', 0), ('MODERATOR', 10), ('ADMIN', 20);
INSERT INTO users.permissions (name, description) VALUES
    ('user.assign_role', 'assign any role to any user'),
    ('user.verify',      'mark an account as verified'),
    ('user.ban',         'ban an account of a lower role'),
    ('content.moderate', 'hide or restore content, delete any content');
INSERT INTO users.role_permissions (role, permission) VALUES
    ('ADMIN', 'user.assign_role'),
    ('ADMIN', 'user.verify'),
    ('ADMIN', 'user.ban'),
    ('ADMIN', 'content.moderate'),
    ('MODERATOR', 'user.ban'),
    ('MODERATOR', 'content.moderate');

-- One row per account, created from identity.user.registered with the id
-- identity assigned. username keeps the registered spelling; username_key is
-- its lower-case form for case-insensitive look-ups.
CREATE TABLE users.users (
    id           uuid        PRIMARY KEY,
    username     text        NOT NULL,
    username_key text        NOT NULL CONSTRAINT users_username_key UNIQUE,
    created_at   timestamptz NOT NULL DEFAULT now(),
    verified_at  timestamptz,
    banned_at    timestamptz,
    ban_reason   text,
    banned_by    uuid
);

CREATE TABLE users.user_profiles (
    user_id         uuid        PRIMARY KEY REFERENCES users.users (id) ON DELETE CASCADE,
    display_name    text        NOT NULL,
    bio             text        NOT NULL DEFAULT '',
    avatar_media_id uuid,
    updated_at      timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE users.user_settings (
    user_id             uuid        PRIMARY KEY REFERENCES users.users (id) ON DELETE CASCADE,
    is_private          boolean     NOT NULL DEFAULT false,
    email_notifications boolean     NOT NULL DEFAULT true,
    push_notifications  boolean     NOT NULL DEFAULT true,
    updated_at          timestamptz NOT NULL DEFAULT now()
);

-- Exactly one role per user.
CREATE TABLE users.user_roles (
    user_id    uuid        PRIMARY KEY REFERENCES users.users (id) ON DELETE CASCADE,
    role       text        NOT NULL REFERENCES users.roles (name),
    granted_by uuid,
    granted_at timestamptz NOT NULL DEFAULT now()
);

-- +goose Down
DROP TABLE users.user_roles;
DROP TABLE users.user_settings;
DROP TABLE users.user_profiles;
DROP TABLE users.users;
DROP TABLE users.role_permissions;
DROP TABLE users.permissions;
DROP TABLE users.roles;
