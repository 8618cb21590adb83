-- +goose Up
-- Read-time merging walked every post never fanned out, newest first, and
-- kept those of authors the reader follows: a reader following none of the
-- large authors scanned all of their posts on every page. The authors who
-- have such posts are few and are kept here, so a page looks up the posts of
-- each followed one of them, newest first, through the index below.
CREATE TABLE social.merged_authors (
    author_id uuid PRIMARY KEY
);
INSERT INTO social.merged_authors (author_id)
SELECT DISTINCT author_id FROM social.posts WHERE NOT fanned_out AND created_at > '-infinity';
CREATE INDEX posts_merged_by_author ON social.posts (author_id, created_at DESC, post_id DESC)
    WHERE NOT fanned_out AND NOT deleted AND NOT hidden;
DROP INDEX social.posts_unfanned;

-- +goose Down
CREATE INDEX posts_unfanned ON social.posts (created_at DESC, post_id DESC) WHERE NOT fanned_out AND NOT deleted AND NOT hidden;
DROP INDEX social.posts_merged_by_author;
DROP TABLE social.merged_authors;
