package store

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/nova-social/nova/internal/platform/postgres"
)

// MaxTime stands for "no cursor": every row sorts before it.
var MaxTime = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)

// InsertPost stores a new post and counts it for its author.
func InsertPost(ctx context.Context, db DB, p Post) error {
	_, err := db.Exec(ctx, `INSERT INTO content.posts (id, author_id, body, visibility, tags, mentions, media_ids, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		p.ID, p.AuthorID, p.Body, p.Visibility, p.Tags, p.Mentions, p.MediaIDs, p.CreatedAt)
	if err != nil {
		return fmt.Errorf("insert post: %w", err)
	}
	return addPostCount(ctx, db, p.AuthorID, 1)
}

func addPostCount(ctx context.Context, db DB, author uuid.UUID, delta int) error {
	_, err := db.Exec(ctx, `INSERT INTO content.author_stats AS s (author_id, post_count) VALUES ($1, greatest($2, 0))
		ON CONFLICT (author_id) DO UPDATE SET post_count = greatest(s.post_count + $2, 0)`, author, delta)
	if err != nil {
		return fmt.Errorf("count post: %w", err)
	}
	return nil
}

// LockPost returns a post whatever its visibility, locked for the
// transaction's update.
func LockPost(ctx context.Context, db DB, id uuid.UUID) (Post, error) {
	p, err := scanPost(db.QueryRow(ctx, `SELECT `+postCols+` FROM content.posts p WHERE p.id = $1 FOR UPDATE`, id))
	return one(p, err, "lock post")
}

// PostVisible reports whether viewer may see post id.
func PostVisible(ctx context.Context, db DB, viewer, id uuid.UUID) (bool, error) {
	var ok bool
	err := db.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM content.posts p WHERE p.id = $2 AND`+postVisible+`)`, viewer, id).Scan(&ok)
	if err != nil {
		return false, fmt.Errorf("post visibility: %w", err)
	}
	return ok, nil
}

// PostReaders returns those of users who may see post id, in their order.
func PostReaders(ctx context.Context, tx pgx.Tx, id uuid.UUID, users []uuid.UUID) ([]uuid.UUID, error) {
	return readers(ctx, tx, `SELECT EXISTS (SELECT 1 FROM content.posts p WHERE p.id = $2 AND`+postVisible+`)`, id, users, "post readers")
}

// readers runs sql, which tells whether viewer $1 may see item $2, for each
// of users in one round trip, and returns those who may, in their order.
func readers(ctx context.Context, tx pgx.Tx, sql string, id uuid.UUID, users []uuid.UUID, what string) ([]uuid.UUID, error) {
	if len(users) == 0 {
		return nil, nil
	}
	var b pgx.Batch
	out := make([]uuid.UUID, 0, len(users))
	for _, u := range users {
		b.Queue(sql, u, id).QueryRow(func(r pgx.Row) error {
			var ok bool
			if err := r.Scan(&ok); err != nil || !ok {
				return err
			}
			out = append(out, u)
			return nil
		})
	}
	if err := tx.SendBatch(ctx, &b).Close(); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return out, nil
}

// VisiblePost returns post id if viewer may see it, else ErrNotFound.
func VisiblePost(ctx context.Context, db DB, viewer, id uuid.UUID) (Post, error) {
	p, err := scanPost(db.QueryRow(ctx, `SELECT `+postCols+` FROM content.posts p WHERE p.id = $2 AND`+postVisible, viewer, id))
	return one(p, err, "get post")
}

// VisiblePosts returns the posts among ids that viewer may see, in no order.
func VisiblePosts(ctx context.Context, db DB, viewer uuid.UUID, ids []uuid.UUID) ([]Post, error) {
	rows, err := db.Query(ctx, `SELECT `+postCols+` FROM content.posts p WHERE p.id = ANY($2) AND`+postVisible, viewer, ids)
	return collect(rows, err, scanPost, "get posts")
}

// PostsByAuthor returns up to limit posts of author visible to viewer,
// newest first, strictly after the (afterAt, afterID) position.
func PostsByAuthor(ctx context.Context, db DB, viewer, author uuid.UUID, afterAt time.Time, afterID uuid.UUID, limit int) ([]Post, error) {
	rows, err := db.Query(ctx, postsByAuthorSQL, viewer, author, afterAt, afterID, limit)
	return collect(rows, err, scanPost, "posts by author")
}

// postsByAuthorSQL reads one of two branches, chosen once per query by
// whether the viewer sees the author's FOLLOWERS posts (authorFollowed): a
// viewer who does not reads the author's PUBLIC posts through
// posts_author_public instead of skipping every FOLLOWERS post to find them.
// authorSeen repeats postVisible's checks of the author for $2, also once
// per query: when they fail, the scan stops before it starts instead of
// reading every post of the author to return none.
const (
	postsByAuthorSQL = `SELECT ` + postCols + ` FROM ((` +
		postsOfAuthor + ` AND p.visibility = 'PUBLIC' AND NOT` + authorFollowed + newestFirst + `) UNION ALL (` +
		postsOfAuthor + ` AND` + authorFollowed + newestFirst + `)) p` + newestFirst
	postsOfAuthor = `SELECT ` + postCols + ` FROM content.posts p
		WHERE p.author_id = $2 AND (p.created_at, p.id) < ($3, $4) AND` + authorSeen + ` AND` + postVisible
	newestFirst = `
		ORDER BY p.created_at DESC, p.id DESC LIMIT $5`
)

// EditPost replaces the body of post p, keeping the previous body as a
// version, and trims the post's versions to keep at most keep of them: the
// original body and the newest others.
func EditPost(ctx context.Context, db DB, p Post, versionID uuid.UUID, body string, tags, mentions []string, at time.Time, keep int) error {
	since := p.CreatedAt
	if p.EditedAt != nil {
		since = *p.EditedAt
	}
	if _, err := db.Exec(ctx, `INSERT INTO content.content_versions (id, post_id, body, created_at) VALUES ($1, $2, $3, $4)`,
		versionID, p.ID, p.Body, since); err != nil {
		return fmt.Errorf("keep version: %w", err)
	}
	if _, err := db.Exec(ctx, `DELETE FROM content.content_versions WHERE id IN (
			SELECT id FROM (
				SELECT id, row_number() OVER (ORDER BY created_at DESC, id DESC) AS newer,
				       row_number() OVER (ORDER BY created_at, id) AS older
				FROM content.content_versions WHERE post_id = $1) r
			WHERE r.newer >= $2 AND r.older > 1)`, p.ID, keep); err != nil {
		return fmt.Errorf("trim versions: %w", err)
	}
	if _, err := db.Exec(ctx, `UPDATE content.posts SET body = $2, tags = $3, mentions = $4, edited_at = $5 WHERE id = $1`,
		p.ID, body, tags, mentions, at); err != nil {
		return fmt.Errorf("edit post: %w", err)
	}
	return nil
}

// DeletePost removes p with its comments and versions.
func DeletePost(ctx context.Context, db DB, p Post) error {
	if _, err := db.Exec(ctx, `DELETE FROM content.posts WHERE id = $1`, p.ID); err != nil {
		return fmt.Errorf("delete post: %w", err)
	}
	if p.HiddenAt == nil {
		return addPostCount(ctx, db, p.AuthorID, -1)
	}
	return nil
}

// SetHidden hides (at non-nil) or restores (at nil) post p and keeps the
// author's post count to the posts others can see.
func SetHidden(ctx context.Context, db DB, p Post, at *time.Time, by uuid.UUID) error {
	if _, err := db.Exec(ctx, `UPDATE content.posts SET hidden_at = $2, hidden_by = $3 WHERE id = $1`, p.ID, at, by); err != nil {
		return fmt.Errorf("moderate post: %w", err)
	}
	switch {
	case at != nil && p.HiddenAt == nil:
		return addPostCount(ctx, db, p.AuthorID, -1)
	case at == nil && p.HiddenAt != nil:
		return addPostCount(ctx, db, p.AuthorID, 1)
	}
	return nil
}

// Versions returns the earlier bodies of the posts among ids that viewer may
// see, newest first within each post.
func Versions(ctx context.Context, db DB, viewer uuid.UUID, ids []uuid.UUID) ([]Version, error) {
	rows, err := db.Query(ctx, `SELECT v.post_id, v.body, v.created_at
		FROM content.content_versions v JOIN content.posts p ON p.id = v.post_id
		WHERE v.post_id = ANY($2) AND`+postVisible+`
		ORDER BY v.post_id, v.created_at DESC, v.id DESC`, viewer, ids)
	return collect(rows, err, func(r pgx.Row) (Version, error) {
		var v Version
		return v, r.Scan(&v.PostID, &v.Body, &v.CreatedAt)
	}, "versions")
}

// CommentCounts returns the comment count of each existing post among ids.
func CommentCounts(ctx context.Context, db DB, ids []uuid.UUID) (map[uuid.UUID]int, error) {
	return counts(ctx, db, `SELECT id, comment_count FROM content.posts WHERE id = ANY($1)`, ids, "comment counts")
}

// PostCounts returns the post count of each author among ids that has one.
func PostCounts(ctx context.Context, db DB, ids []uuid.UUID) (map[uuid.UUID]int, error) {
	return counts(ctx, db, `SELECT author_id, post_count FROM content.author_stats WHERE author_id = ANY($1)`, ids, "post counts")
}

func counts(ctx context.Context, db DB, sql string, ids []uuid.UUID, what string) (map[uuid.UUID]int, error) {
	rows, err := db.Query(ctx, sql, ids)
	return postgres.CollectByID(rows, err, what, func(r pgx.Row) (id uuid.UUID, n int, err error) {
		return id, n, r.Scan(&id, &n)
	})
}
