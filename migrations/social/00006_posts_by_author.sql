-- +goose Up
-- One index on the posts projection for every per-author look-up, replacing
-- posts_author_live and posts_merged_by_author (each post now has one entry
-- instead of up to two):
--   - Feed, below the horizon ("deep"), and Backfill read one author's
--     fanned-out visible posts newest first (author_id, true, false, ...);
--     Feed's read-time merge reads the posts never fanned out the same way
--     (author_id, false, false, ...); both are index-only scans. The deep
--     read used to OR the followed authors together and scan every fanned-out
--     post of the table; it now looks up each followed author here.
--   - Ban tombstones every post of the author not yet deleted, hidden ones
--     included, through the author_id prefix, where it scanned the table;
--     RemoveAuthorFromAllFeeds finds the author's visible posts the same way.
CREATE INDEX posts_by_author ON social.posts (author_id, fanned_out, hidden, created_at DESC, post_id DESC)
    WHERE NOT deleted;
DROP INDEX social.posts_author_live;
DROP INDEX social.posts_merged_by_author;

-- +goose Down
CREATE INDEX posts_merged_by_author ON social.posts (author_id, created_at DESC, post_id DESC)
    WHERE NOT fanned_out AND NOT deleted AND NOT hidden;
CREATE INDEX posts_author_live ON social.posts (author_id, created_at DESC, post_id DESC) WHERE NOT deleted AND NOT hidden;
DROP INDEX social.posts_by_author;
