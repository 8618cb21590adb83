package store

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// InsertComment stores c and counts it on its post, and returns the time it
// was stored at: c.CreatedAt, or just after the post's newest comment when
// that is not earlier. Called under the post's lock (LockPost), which orders
// the post's comments, so their times follow the order they were made in
// whatever the clock of each replica: a comment never lands before one a
// reader has already paged past. The newest comment is read both from the
// comments and from the post's last_comment_at, which deleting that comment
// does not lower: a reader's cursor may still stand on it.
func InsertComment(ctx context.Context, db DB, c Comment) (time.Time, error) {
	var at time.Time
	if err := db.QueryRow(ctx, `INSERT INTO content.comments (id, post_id, author_id, parent_id, body, mentions, created_at)
		SELECT $1, $2, $3, $4, $5, $6, greatest($7,
			(SELECT max(created_at) + interval '1 microsecond' FROM content.comments WHERE post_id = $2),
			(SELECT last_comment_at + interval '1 microsecond' FROM content.posts WHERE id = $2))
		RETURNING created_at`, c.ID, c.PostID, c.AuthorID, c.ParentID, c.Body, c.Mentions, c.CreatedAt).Scan(&at); err != nil {
		return at, fmt.Errorf("insert comment: %w", err)
	}
	if _, err := db.Exec(ctx, `UPDATE content.posts SET comment_count = comment_count + 1, last_comment_at = $2 WHERE id = $1`,
		c.PostID, at); err != nil {
		return at, fmt.Errorf("count comment: %w", err)
	}
	return at, nil
}

// VisibleComment returns comment id if viewer may see it.
func VisibleComment(ctx context.Context, db DB, viewer, id uuid.UUID) (Comment, error) {
	c, err := scanComment(db.QueryRow(ctx, `SELECT `+commentCols+` FROM content.comments c JOIN content.posts p ON p.id = c.post_id
		WHERE c.id = $2 AND`+commentVisible, viewer, id))
	return one(c, err, "get comment")
}

// CommentReaders returns those of users who may see comment id, in their order.
func CommentReaders(ctx context.Context, tx pgx.Tx, id uuid.UUID, users []uuid.UUID) ([]uuid.UUID, error) {
	return readers(ctx, tx, `SELECT EXISTS (SELECT 1 FROM content.comments c JOIN content.posts p ON p.id = c.post_id
		WHERE c.id = $2 AND`+commentVisible+`)`, id, users, "comment readers")
}

// VisibleComments returns the comments among ids that viewer may see.
func VisibleComments(ctx context.Context, db DB, viewer uuid.UUID, ids []uuid.UUID) ([]Comment, error) {
	rows, err := db.Query(ctx, `SELECT `+commentCols+` FROM content.comments c JOIN content.posts p ON p.id = c.post_id
		WHERE c.id = ANY($2) AND`+commentVisible, viewer, ids)
	return collect(rows, err, scanComment, "get comments")
}

// CommentsOfPost returns up to limit comments of post visible to viewer,
// oldest first, strictly after (afterAt, afterID).
func CommentsOfPost(ctx context.Context, db DB, viewer, post uuid.UUID, afterAt time.Time, afterID uuid.UUID, limit int) ([]Comment, error) {
	rows, err := db.Query(ctx, `SELECT `+commentCols+` FROM content.comments c JOIN content.posts p ON p.id = c.post_id
		WHERE c.post_id = $2 AND (c.created_at, c.id) > ($3, $4) AND`+commentVisible+`
		ORDER BY c.created_at, c.id LIMIT $5`, viewer, post, afterAt, afterID, limit)
	return collect(rows, err, scanComment, "comments of post")
}

// LockPostOfComment returns the post of comment id whatever its visibility,
// locked for the transaction's update. Lock the post before its comments
// (LockComment): deleting a post takes its comments through the cascade, so
// that is the order every deletion must follow not to deadlock.
func LockPostOfComment(ctx context.Context, db DB, id uuid.UUID) (Post, error) {
	p, err := scanPost(db.QueryRow(ctx, `SELECT `+postCols+` FROM content.posts p
		WHERE p.id = (SELECT c.post_id FROM content.comments c WHERE c.id = $1) FOR UPDATE`, id))
	return one(p, err, "lock post of comment")
}

// LockComment returns comment id whatever its visibility, locked; lock its
// post first (LockPostOfComment).
func LockComment(ctx context.Context, db DB, id uuid.UUID) (Comment, error) {
	c, err := scanComment(db.QueryRow(ctx, `SELECT `+commentCols+` FROM content.comments c WHERE c.id = $1 FOR UPDATE`, id))
	return one(c, err, "lock comment")
}

// LiveCommentAuthor returns the author of comment id unless its post is
// hidden, either is absent or either author is banned (see LiveAuthor).
func LiveCommentAuthor(ctx context.Context, db DB, id uuid.UUID) (uuid.UUID, error) {
	var author uuid.UUID
	err := db.QueryRow(ctx, `SELECT c.author_id FROM content.comments c JOIN content.posts p ON p.id = c.post_id
		WHERE c.id = $1 AND p.hidden_at IS NULL
		  AND NOT EXISTS (SELECT 1 FROM content.banned_users b WHERE b.user_id IN (p.author_id, c.author_id))`, id).Scan(&author)
	return one(author, err, "comment author")
}

// DeleteCommentTree deletes comment c with every reply below it and keeps
// the post's comment count. It returns the ids removed.
func DeleteCommentTree(ctx context.Context, db DB, c Comment) ([]uuid.UUID, error) {
	rows, err := db.Query(ctx, `WITH RECURSIVE tree AS (
			SELECT id FROM content.comments WHERE id = $1
			UNION ALL
			SELECT r.id FROM content.comments r JOIN tree t ON r.parent_id = t.id
		)
		DELETE FROM content.comments WHERE id IN (SELECT id FROM tree) RETURNING id`, c.ID)
	if err != nil {
		return nil, fmt.Errorf("delete comments: %w", err)
	}
	var ids []uuid.UUID
	for rows.Next() {
		var id uuid.UUID
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, fmt.Errorf("delete comments: %w", err)
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("delete comments: %w", err)
	}
	if _, err := db.Exec(ctx, `UPDATE content.posts SET comment_count = greatest(comment_count - $2, 0) WHERE id = $1`, c.PostID, len(ids)); err != nil {
		return nil, fmt.Errorf("uncount comments: %w", err)
	}
	return ids, nil
}
