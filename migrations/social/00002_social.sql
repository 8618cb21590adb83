-- +goose Up
-- Follows and follow requests. A row is FOLLOWING, or REQUESTED until a
-- private account approves it.
CREATE TABLE social.relationships (
    follower_id uuid        NOT NULL,
    followee_id uuid        NOT NULL,
    state       text        NOT NULL CHECK (state IN ('FOLLOWING', 'REQUESTED')),
    created_at  timestamptz NOT NULL,
    PRIMARY KEY (follower_id, followee_id),
    CHECK (follower_id <> followee_id)
);
CREATE INDEX relationships_followee ON social.relationships (followee_id, state, created_at DESC, follower_id DESC);
CREATE INDEX relationships_follower ON social.relationships (follower_id, state, created_at DESC, followee_id DESC);

CREATE TABLE social.blocks (
    blocker_id uuid        NOT NULL,
    blocked_id uuid        NOT NULL,
    created_at timestamptz NOT NULL,
    PRIMARY KEY (blocker_id, blocked_id)
);
CREATE INDEX blocks_blocked ON social.blocks (blocked_id);

CREATE TABLE social.likes (
    post_id    uuid        NOT NULL,
    user_id    uuid        NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (post_id, user_id)
);
CREATE INDEX likes_user ON social.likes (user_id);

CREATE TABLE social.shares (
    id         uuid        PRIMARY KEY,
    post_id    uuid        NOT NULL,
    user_id    uuid        NOT NULL,
    comment    text,
    created_at timestamptz NOT NULL
);
CREATE INDEX shares_post ON social.shares (post_id);

-- Counters kept in the transaction that changes what they count, so reads
-- never run COUNT(*).
CREATE TABLE social.user_stats (
    user_id         uuid PRIMARY KEY,
    follower_count  int  NOT NULL DEFAULT 0 CHECK (follower_count >= 0),
    following_count int  NOT NULL DEFAULT 0 CHECK (following_count >= 0)
);

CREATE TABLE social.post_stats (
    post_id     uuid PRIMARY KEY,
    like_count  int  NOT NULL DEFAULT 0 CHECK (like_count >= 0),
    share_count int  NOT NULL DEFAULT 0 CHECK (share_count >= 0)
);

-- Projection of content's posts (from content events): what fan-out,
-- follow back-fill and read-time merging need. A deleted post stays as a
-- tombstone so a late content.post.created cannot resurrect it.
CREATE TABLE social.posts (
    post_id     uuid        PRIMARY KEY,
    author_id   uuid        NOT NULL,
    created_at  timestamptz NOT NULL,
    -- false for posts of authors above the fan-out threshold: merged at read time.
    fanned_out  boolean     NOT NULL,
    hidden      boolean     NOT NULL DEFAULT false,
    deleted     boolean     NOT NULL DEFAULT false,
    -- occurred-at of the newest moderation event applied.
    moderated_at timestamptz
);
CREATE INDEX posts_author_live ON social.posts (author_id, created_at DESC, post_id DESC) WHERE NOT deleted AND NOT hidden;
CREATE INDEX posts_unfanned ON social.posts (created_at DESC, post_id DESC) WHERE NOT fanned_out AND NOT deleted AND NOT hidden;

CREATE TABLE social.banned_users (
    user_id   uuid        PRIMARY KEY,
    banned_at timestamptz NOT NULL
);

-- Materialised home feeds: at most the configured number of entries per user.
CREATE TABLE social.feeds (
    user_id    uuid        NOT NULL,
    post_id    uuid        NOT NULL,
    author_id  uuid        NOT NULL,
    created_at timestamptz NOT NULL,
    PRIMARY KEY (user_id, post_id)
);
CREATE INDEX feeds_user_time ON social.feeds (user_id, created_at DESC, post_id DESC);
CREATE INDEX feeds_user_author ON social.feeds (user_id, author_id);
CREATE INDEX feeds_post ON social.feeds (post_id);
CREATE INDEX feeds_author ON social.feeds (author_id);

-- Per-feed bookkeeping: entries counts rows in social.feeds for the user;
-- below the horizon (created_at, post_id) the stored feed may be incomplete
-- (trimmed, or a back-fill was cut short) and reads fall back to a query.
CREATE TABLE social.feed_state (
    user_id    uuid        PRIMARY KEY,
    entries    int         NOT NULL DEFAULT 0,
    horizon_at timestamptz NOT NULL DEFAULT '-infinity',
    horizon_id uuid        NOT NULL DEFAULT '00000000-0000-0000-0000-000000000000'
);

-- +goose Down
DROP TABLE social.feed_state;
DROP TABLE social.feeds;
DROP TABLE social.banned_users;
DROP TABLE social.posts;
DROP TABLE social.post_stats;
DROP TABLE social.user_stats;
DROP TABLE social.shares;
DROP TABLE social.likes;
DROP TABLE social.blocks;
DROP TABLE social.relationships;
