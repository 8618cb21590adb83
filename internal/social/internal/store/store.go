// Package store holds the social domain's SQL: relationships, blocks, likes,
// shares, their counters, the posts projection and the home feeds.
package store

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/nova-social/nova/internal/platform/postgres"
)

// DB is a pool or a transaction.
type DB = postgres.Querier

// MaxTime stands for "no cursor" in newest-first lists.
var MaxTime = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)

// Follow states as stored.
const (
	StateFollowing = "FOLLOWING"
	StateRequested = "REQUESTED"
)

// Edge is one side of a relationship with the time it began.
type Edge struct {
	UserID uuid.UUID
	At     time.Time
}

// Rel is a relationship row.
type Rel struct {
	FollowerID uuid.UUID
	FolloweeID uuid.UUID
	State      string
}

// Share is a share row.
type Share struct {
	ID        uuid.UUID
	PostID    uuid.UUID
	UserID    uuid.UUID
	Comment   *string
	CreatedAt time.Time
}

// FeedItem is one post of a home feed.
type FeedItem struct {
	PostID    uuid.UUID
	AuthorID  uuid.UUID
	CreatedAt time.Time
	Stats     PostStatsRow
}

func scanEdges(rows pgx.Rows, err error, what string) ([]Edge, error) {
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Edge, error) {
		var e Edge
		return e, r.Scan(&e.UserID, &e.At)
	})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return out, nil
}

// StatDelta is a change of one user's counters.
type StatDelta struct {
	Followers, Following int
}

// AddUserStats applies deltas in one statement, rows locked in id order so
// that concurrent follows in opposite directions cannot deadlock.
func AddUserStats(ctx context.Context, db DB, deltas map[uuid.UUID]StatDelta) error {
	if len(deltas) == 0 {
		return nil
	}
	ids := make([]uuid.UUID, 0, len(deltas))
	fr, fg := make([]int32, 0, len(deltas)), make([]int32, 0, len(deltas))
	for id, d := range deltas {
		ids, fr, fg = append(ids, id), append(fr, int32(d.Followers)), append(fg, int32(d.Following))
	}
	// New rows start at the clamped delta; existing rows add the raw delta,
	// looked up by position (excluded holds the clamped value).
	_, err := db.Exec(ctx, `INSERT INTO social.user_stats AS s (user_id, follower_count, following_count)
		SELECT u, greatest(fr, 0), greatest(fg, 0) FROM unnest($1::uuid[], $2::int[], $3::int[]) AS d(u, fr, fg) ORDER BY u
		ON CONFLICT (user_id) DO UPDATE SET
			follower_count = greatest(s.follower_count + ($2::int[])[array_position($1::uuid[], s.user_id)], 0),
			following_count = greatest(s.following_count + ($3::int[])[array_position($1::uuid[], s.user_id)], 0)`,
		ids, fr, fg)
	if err != nil {
		return fmt.Errorf("update follow counts: %w", err)
	}
	return nil
}

// UserStats returns follower and following counts of the users among ids
// that have any.
func UserStats(ctx context.Context, db DB, ids []uuid.UUID) (map[uuid.UUID][2]int, error) {
	return countPairs(ctx, db, "user stats", `SELECT user_id, follower_count, following_count FROM social.user_stats WHERE user_id = ANY($1)`, ids)
}

// countPairs runs query, which selects an id and two counters for the ids
// in $1, and keys the counters by id.
func countPairs(ctx context.Context, db DB, what, query string, ids []uuid.UUID) (map[uuid.UUID][2]int, error) {
	rows, err := db.Query(ctx, query, ids)
	return postgres.CollectByID(rows, err, what, func(r pgx.Row) (id uuid.UUID, c [2]int, err error) {
		return id, c, r.Scan(&id, &c[0], &c[1])
	})
}
