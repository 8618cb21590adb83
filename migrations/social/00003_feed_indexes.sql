-- +goose Up
-- Fan-out writes one feed row per follower, so every index on social.feeds
-- multiplies its cost. The primary key now serves the feed read order and
-- the trim (user, time, post); removals by author scan one user's few
-- hundred rows or go through social.posts, so their indexes go.
ALTER TABLE social.feeds DROP CONSTRAINT feeds_pkey, ADD PRIMARY KEY (user_id, created_at, post_id);
DROP INDEX social.feeds_user_time;
DROP INDEX social.feeds_user_author;
DROP INDEX social.feeds_author;

-- +goose Down
CREATE INDEX feeds_author ON social.feeds (author_id);
CREATE INDEX feeds_user_author ON social.feeds (user_id, author_id);
CREATE INDEX feeds_user_time ON social.feeds (user_id, created_at DESC, post_id DESC);
ALTER TABLE social.feeds DROP CONSTRAINT feeds_pkey, ADD PRIMARY KEY (user_id, post_id);
