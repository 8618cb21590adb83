package store

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
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

// Liked returns which of posts viewer likes.
func Liked(ctx context.Context, db DB, viewer uuid.UUID, posts []uuid.UUID) (map[uuid.UUID]bool, error) {
	rows, err := db.Query(ctx, `SELECT post_id FROM social.likes WHERE user_id = $1 AND post_id = ANY($2)`, viewer, posts)
	if err != nil {
		return nil, fmt.Errorf("likes: %w", err)
	}
	got, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
	if err != nil {
		return nil, fmt.Errorf("likes: %w", err)
	}
	out := make(map[uuid.UUID]bool, len(got))
	for _, id := range got {
		out[id] = true
	}
	return out, nil
}

// PostStats returns like and share counts of the posts among ids that have any.
func PostStats(ctx context.Context, db DB, ids []uuid.UUID) (map[uuid.UUID][2]int, error) {
	return countPairs(ctx, db, "post stats", `SELECT post_id, like_count, share_count FROM social.post_stats WHERE post_id = ANY($1)`, ids)
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
