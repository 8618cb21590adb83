-- +goose Up
-- A viewer who does not follow an author reads only the author's PUBLIC
-- posts (store.PostsByAuthor); through posts_author_created that read skipped
-- every FOLLOWERS post of the author to find them, all of them when there
-- are none.
CREATE INDEX posts_author_public ON content.posts (author_id, created_at DESC, id DESC) WHERE visibility = 'PUBLIC';

-- +goose Down
DROP INDEX content.posts_author_public;
