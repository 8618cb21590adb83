-- +goose Up
-- The time of the post's newest comment ever made, which deleting that
-- comment does not lower: a new comment is stored after it
-- (store.InsertComment), so one made on a server whose clock is behind
-- still lands after a deleted newest comment, where a reader who paged to
-- the end holds their cursor. Comments made before this column existed are
-- covered by their own times, which InsertComment also reads.
ALTER TABLE content.posts ADD COLUMN last_comment_at timestamptz;

-- +goose Down
ALTER TABLE content.posts DROP COLUMN last_comment_at;
