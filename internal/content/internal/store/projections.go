package store

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// The projections of other domains' events are written by queued statements
// (see events.SubscribeQueued): each is one upsert whose result nobody reads.

// ApplyFollow queues the record of whether follower follows followee as of
// at; an event older than the one already applied changes nothing.
func ApplyFollow(b *pgx.Batch, follower, followee uuid.UUID, following bool, at time.Time) {
	b.Queue(`INSERT INTO content.follows AS f (follower_id, followee_id, following, at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (follower_id, followee_id) DO UPDATE SET following = excluded.following, at = excluded.at
		WHERE f.at <= excluded.at`, follower, followee, following, at)
}

// ApplyBlock queues the record of whether blocker blocks blocked as of at,
// like ApplyFollow.
func ApplyBlock(b *pgx.Batch, blocker, blocked uuid.UUID, blocking bool, at time.Time) {
	b.Queue(`INSERT INTO content.blocks AS k (blocker_id, blocked_id, blocked, at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (blocker_id, blocked_id) DO UPDATE SET blocked = excluded.blocked, at = excluded.at
		WHERE k.at <= excluded.at`, blocker, blocked, blocking, at)
}

// Ban queues the record that user is banned.
func Ban(b *pgx.Batch, user uuid.UUID, at time.Time) {
	b.Queue(`INSERT INTO content.banned_users (user_id, banned_at) VALUES ($1, $2) ON CONFLICT DO NOTHING`, user, at)
}

// Blocks reports whether blocker blocks blocked according to the projection.
func Blocks(ctx context.Context, db DB, blocker, blocked uuid.UUID) (bool, error) {
	var ok bool
	err := db.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM content.blocks WHERE blocker_id = $1 AND blocked_id = $2 AND blocked)`, blocker, blocked).Scan(&ok)
	if err != nil {
		return false, fmt.Errorf("block lookup: %w", err)
	}
	return ok, nil
}

// LiveAuthor returns the author of post id unless the post is hidden or
// absent or its author banned: content nobody may see has no author to
// block anyone.
func LiveAuthor(ctx context.Context, db DB, id uuid.UUID) (uuid.UUID, error) {
	var author uuid.UUID
	err := db.QueryRow(ctx, `SELECT p.author_id FROM content.posts p
		WHERE p.id = $1 AND p.hidden_at IS NULL
		  AND NOT EXISTS (SELECT 1 FROM content.banned_users b WHERE b.user_id = p.author_id)`, id).Scan(&author)
	return one(author, err, "post author")
}
