package store

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/nova-social/nova/internal/platform/postgres"
)

// InsertLike records user's like of post; it reports whether it is new and,
// if so, counts it in the same transaction.
func InsertLike(ctx context.Context, db DB, post, user uuid.UUID) (bool, error) {
	tag, err := db.Exec(ctx, `INSERT INTO social.likes (post_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING`, post, user)
	if err != nil {
		return false, fmt.Errorf("insert like: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return false, nil
	}
	return true, addPostStats(ctx, db, post, 1, 0)
}

// DeleteLike withdraws user's like of post; it reports whether there was one.
func DeleteLike(ctx context.Context, db DB, post, user uuid.UUID) (bool, error) {
	tag, err := db.Exec(ctx, `DELETE FROM social.likes WHERE post_id = $1 AND user_id = $2`, post, user)
	if err != nil {
		return false, fmt.Errorf("delete like: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return false, nil
	}
	return true, addPostStats(ctx, db, post, -1, 0)
}

func addPostStats(ctx context.Context, db DB, post uuid.UUID, likes, shares int) error {
	_, err := db.Exec(ctx, `INSERT INTO social.post_stats AS s (post_id, like_count, share_count) VALUES ($1, greatest($2, 0), greatest($3, 0))
		ON CONFLICT (post_id) DO UPDATE SET like_count = greatest(s.like_count + $2, 0), share_count = greatest(s.share_count + $3, 0)`,
		post, likes, shares)
	if err != nil {
		return fmt.Errorf("update post counts: %w", err)
	}
	return nil
}

// PostStats returns, for each of posts, its like and share counts and
// whether viewer likes it, in one statement (uuid.Nil: nobody).
func PostStats(ctx context.Context, db DB, viewer uuid.UUID, posts []uuid.UUID) (map[uuid.UUID]PostStatsRow, error) {
	rows, err := db.Query(ctx, `SELECT p.id, coalesce(s.like_count, 0), coalesce(s.share_count, 0), l.post_id IS NOT NULL
FROM unnest($2::uuid[]) AS p(id)
LEFT JOIN social.post_stats s ON s.post_id = p.id
LEFT JOIN social.likes l ON l.post_id = p.id AND l.user_id = $1`, viewer, posts)
	return postgres.CollectByID(rows, err, "post stats", func(r pgx.Row) (id uuid.UUID, st PostStatsRow, err error) {
		return id, st, r.Scan(&id, &st.Likes, &st.Shares, &st.ViewerLiked)
	})
}

// PostStatsRow is one post's row of PostStats.
type PostStatsRow struct {
	Likes, Shares int
	ViewerLiked   bool
}

// InsertShare stores a share and counts it.
func InsertShare(ctx context.Context, db DB, s Share) error {
	if _, err := db.Exec(ctx, `INSERT INTO social.shares (id, post_id, user_id, comment, created_at) VALUES ($1, $2, $3, $4, $5)`,
		s.ID, s.PostID, s.UserID, s.Comment, s.CreatedAt); err != nil {
		return fmt.Errorf("insert share: %w", err)
	}
	return addPostStats(ctx, db, s.PostID, 0, 1)
}

// Shares returns the shares among ids.
func Shares(ctx context.Context, db DB, ids []uuid.UUID) ([]Share, error) {
	rows, err := db.Query(ctx, `SELECT id, post_id, user_id, comment, created_at FROM social.shares WHERE id = ANY($1)`, ids)
	if err != nil {
		return nil, fmt.Errorf("shares: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Share, error) {
		var s Share
		return s, r.Scan(&s.ID, &s.PostID, &s.UserID, &s.Comment, &s.CreatedAt)
	})
	if err != nil {
		return nil, fmt.Errorf("shares: %w", err)
	}
	return out, nil
}
