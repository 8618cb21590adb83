-- +goose Up
-- Posts. Deleting a post removes it (and, by cascade, its comments and
-- versions); hiding by moderation keeps it for a possible restore.
CREATE TABLE content.posts (
    id            uuid        PRIMARY KEY,
    author_id     uuid        NOT NULL,
    body          text        NOT NULL,
    visibility    text        NOT NULL CHECK (visibility IN ('PUBLIC', 'FOLLOWERS')),
    tags          text[]      NOT NULL DEFAULT '{}',
    mentions      text[]      NOT NULL DEFAULT '{}',
    media_ids     uuid[]      NOT NULL DEFAULT '{}',
    created_at    timestamptz NOT NULL,
    edited_at     timestamptz,
    hidden_at     timestamptz,
    hidden_by     uuid,
    -- Kept in the transaction that adds or removes a comment, so reads never count.
    comment_count int         NOT NULL DEFAULT 0 CHECK (comment_count >= 0)
);
CREATE INDEX posts_author_created ON content.posts (author_id, created_at DESC, id DESC);

-- Earlier bodies of edited posts; created_at is when that body became current.
CREATE TABLE content.content_versions (
    id         uuid        PRIMARY KEY,
    post_id    uuid        NOT NULL REFERENCES content.posts (id) ON DELETE CASCADE,
    body       text        NOT NULL,
    created_at timestamptz NOT NULL
);
CREATE INDEX content_versions_post ON content.content_versions (post_id, created_at DESC, id DESC);

CREATE TABLE content.comments (
    id         uuid        PRIMARY KEY,
    post_id    uuid        NOT NULL REFERENCES content.posts (id) ON DELETE CASCADE,
    author_id  uuid        NOT NULL,
    parent_id  uuid        REFERENCES content.comments (id) ON DELETE CASCADE,
    body       text        NOT NULL,
    mentions   text[]      NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL
);
CREATE INDEX comments_post_created ON content.comments (post_id, created_at, id);
CREATE INDEX comments_parent ON content.comments (parent_id) WHERE parent_id IS NOT NULL;

CREATE TABLE content.articles (
    id           uuid        PRIMARY KEY,
    author_id    uuid        NOT NULL,
    title        text        NOT NULL,
    body         text        NOT NULL,
    status       text        NOT NULL CHECK (status IN ('DRAFT', 'PUBLISHED')),
    created_at   timestamptz NOT NULL,
    published_at timestamptz
);
CREATE INDEX articles_author ON content.articles (author_id, created_at DESC);

-- Reports of posts, comments or articles, one per reporter and item.
CREATE TABLE content.reports (
    id           uuid        PRIMARY KEY,
    reporter_id  uuid        NOT NULL,
    content_id   uuid        NOT NULL,
    content_type text        NOT NULL CHECK (content_type IN ('POST', 'COMMENT', 'ARTICLE')),
    reason       text        NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (reporter_id, content_id)
);
CREATE INDEX reports_content ON content.reports (content_id);

-- Posts counted per author for User.postCount (not deleted, not hidden).
CREATE TABLE content.author_stats (
    author_id  uuid PRIMARY KEY,
    post_count int  NOT NULL DEFAULT 0 CHECK (post_count >= 0)
);

-- Projections fed by social's and user's events. `at` is the time of the
-- newest event applied to the row: an older event delivered late loses, so
-- the projection converges whatever the delivery order.
CREATE TABLE content.follows (
    follower_id uuid        NOT NULL,
    followee_id uuid        NOT NULL,
    following   boolean     NOT NULL,
    at          timestamptz NOT NULL,
    PRIMARY KEY (follower_id, followee_id)
);

CREATE TABLE content.blocks (
    blocker_id uuid        NOT NULL,
    blocked_id uuid        NOT NULL,
    blocked    boolean     NOT NULL,
    at         timestamptz NOT NULL,
    PRIMARY KEY (blocker_id, blocked_id)
);

CREATE TABLE content.banned_users (
    user_id   uuid        PRIMARY KEY,
    banned_at timestamptz NOT NULL
);

-- +goose Down
DROP TABLE content.banned_users;
DROP TABLE content.blocks;
DROP TABLE content.follows;
DROP TABLE content.author_stats;
DROP TABLE content.reports;
DROP TABLE content.articles;
DROP TABLE content.comments;
DROP TABLE content.content_versions;
DROP TABLE content.posts;
