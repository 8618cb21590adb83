package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/nova-social/nova/internal/platform/postgres"
)

// RelState returns the state of follower → followee, "" when none.
func RelState(ctx context.Context, db DB, follower, followee uuid.UUID) (string, error) {
	var st string
	err := db.QueryRow(ctx, `SELECT state FROM social.relationships WHERE follower_id = $1 AND followee_id = $2`, follower, followee).Scan(&st)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("relationship: %w", err)
	}
	return st, nil
}

// InsertRel creates follower → followee in state unless it exists; it
// reports whether it created it.
func InsertRel(ctx context.Context, db DB, follower, followee uuid.UUID, state string, at time.Time) (bool, error) {
	tag, err := db.Exec(ctx, `INSERT INTO social.relationships (follower_id, followee_id, state, created_at)
		VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`, follower, followee, state, at)
	if err != nil {
		return false, fmt.Errorf("insert relationship: %w", err)
	}
	return tag.RowsAffected() == 1, nil
}

// DeleteRel removes follower → followee if its state is one of states and
// returns the state it had ("" when nothing was removed).
func DeleteRel(ctx context.Context, db DB, follower, followee uuid.UUID, states ...string) (string, error) {
	var st string
	err := db.QueryRow(ctx, `DELETE FROM social.relationships WHERE follower_id = $1 AND followee_id = $2 AND state = ANY($3)
		RETURNING state`, follower, followee, states).Scan(&st)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("delete relationship: %w", err)
	}
	return st, nil
}

// Approve turns a pending request into a follow begun at at; it reports
// whether there was a request. A banned requester's is left pending (its
// owner may still reject it), as a follow of a banned account is refused.
func Approve(ctx context.Context, db DB, follower, followee uuid.UUID, at time.Time) (bool, error) {
	tag, err := db.Exec(ctx, `UPDATE social.relationships SET state = 'FOLLOWING', created_at = $3
		WHERE follower_id = $1 AND followee_id = $2 AND state = 'REQUESTED'
		AND NOT EXISTS (SELECT 1 FROM social.banned_users WHERE user_id = $1)`, follower, followee, at)
	if err != nil {
		return false, fmt.Errorf("approve request: %w", err)
	}
	return tag.RowsAffected() == 1, nil
}

// Requesters lists the users with a pending request to follow user.
func Requesters(ctx context.Context, db DB, user uuid.UUID) ([]uuid.UUID, error) {
	rows, err := db.Query(ctx, `SELECT follower_id FROM social.relationships
		WHERE followee_id = $1 AND state = 'REQUESTED' ORDER BY follower_id`, user)
	if err != nil {
		return nil, fmt.Errorf("requesters: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
	if err != nil {
		return nil, fmt.Errorf("requesters: %w", err)
	}
	return ids, nil
}

// DeleteBetween removes every relationship between a and b, both ways, and
// returns what it removed.
func DeleteBetween(ctx context.Context, db DB, a, b uuid.UUID) ([]Rel, error) {
	rows, err := db.Query(ctx, `DELETE FROM social.relationships
		WHERE (follower_id = $1 AND followee_id = $2) OR (follower_id = $2 AND followee_id = $1)
		RETURNING follower_id, followee_id, state`, a, b)
	if err != nil {
		return nil, fmt.Errorf("delete relationships: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Rel, error) {
		var x Rel
		return x, r.Scan(&x.FollowerID, &x.FolloweeID, &x.State)
	})
	if err != nil {
		return nil, fmt.Errorf("delete relationships: %w", err)
	}
	return out, nil
}

// Followers lists user's followers (state FOLLOWING) or, with state
// REQUESTED, pending requests to user; newest first after the position.
func Followers(ctx context.Context, db DB, user uuid.UUID, state string, afterAt time.Time, afterID uuid.UUID, limit int) ([]Edge, error) {
	rows, err := db.Query(ctx, `SELECT follower_id, created_at FROM social.relationships
		WHERE followee_id = $1 AND state = $2 AND (created_at, follower_id) < ($3, $4)
		ORDER BY created_at DESC, follower_id DESC LIMIT $5`, user, state, afterAt, afterID, limit)
	return scanEdges(rows, err, "followers")
}

// Following lists whom user follows, newest follow first after the position.
func Following(ctx context.Context, db DB, user uuid.UUID, afterAt time.Time, afterID uuid.UUID, limit int) ([]Edge, error) {
	rows, err := db.Query(ctx, `SELECT followee_id, created_at FROM social.relationships
		WHERE follower_id = $1 AND state = 'FOLLOWING' AND (created_at, followee_id) < ($2, $3)
		ORDER BY created_at DESC, followee_id DESC LIMIT $4`, user, afterAt, afterID, limit)
	return scanEdges(rows, err, "following")
}

// States returns viewer's relationship state towards each of ids that has one.
func States(ctx context.Context, db DB, viewer uuid.UUID, ids []uuid.UUID) (map[uuid.UUID]string, error) {
	rows, err := db.Query(ctx, `SELECT followee_id, state FROM social.relationships WHERE follower_id = $1 AND followee_id = ANY($2)`, viewer, ids)
	return postgres.CollectByID(rows, err, "follow states", func(r pgx.Row) (id uuid.UUID, st string, err error) {
		return id, st, r.Scan(&id, &st)
	})
}

// InsertBlock records that blocker blocks blocked; it reports whether the
// block is new.
func InsertBlock(ctx context.Context, db DB, blocker, blocked uuid.UUID, at time.Time) (bool, error) {
	tag, err := db.Exec(ctx, `INSERT INTO social.blocks (blocker_id, blocked_id, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`, blocker, blocked, at)
	if err != nil {
		return false, fmt.Errorf("insert block: %w", err)
	}
	return tag.RowsAffected() == 1, nil
}

// DeleteBlock lifts a block; it reports whether there was one.
func DeleteBlock(ctx context.Context, db DB, blocker, blocked uuid.UUID) (bool, error) {
	tag, err := db.Exec(ctx, `DELETE FROM social.blocks WHERE blocker_id = $1 AND blocked_id = $2`, blocker, blocked)
	if err != nil {
		return false, fmt.Errorf("delete block: %w", err)
	}
	return tag.RowsAffected() == 1, nil
}

// Blocks reports whether blocker blocks blocked.
func Blocks(ctx context.Context, db DB, blocker, blocked uuid.UUID) (bool, error) {
	var ok bool
	err := db.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM social.blocks WHERE blocker_id = $1 AND blocked_id = $2)`, blocker, blocked).Scan(&ok)
	if err != nil {
		return false, fmt.Errorf("block lookup: %w", err)
	}
	return ok, nil
}

// InteractionState holds author's audience lock shared until the
// transaction ends, then reports whether author blocks viewer, whether post
// is deleted in the projection and, for a FOLLOWERS post (followersOnly),
// whether viewer no longer follows author. A post's deletion takes the lock
// exclusively before dropping its likes and shares, so a like or share
// either commits first and is dropped with them, or sees the tombstone. The
// look-up runs after the lock is held (its own statement, so its own
// snapshot), in the same round trip.
func InteractionState(ctx context.Context, tx pgx.Tx, post, author, viewer uuid.UUID, followersOnly bool) (blocked, deleted, unfollowed bool, err error) {
	b := &pgx.Batch{}
	b.Queue(`SELECT pg_advisory_xact_lock_shared($1)`, lockKey('a', author))
	b.Queue(`SELECT EXISTS (SELECT 1 FROM social.blocks WHERE blocker_id = $1 AND blocked_id = $2),
			EXISTS (SELECT 1 FROM social.posts WHERE post_id = $3 AND deleted),
			$4 AND NOT EXISTS (SELECT 1 FROM social.relationships WHERE follower_id = $2 AND followee_id = $1 AND state = 'FOLLOWING')`,
		author, viewer, post, followersOnly).QueryRow(func(r pgx.Row) error {
		return r.Scan(&blocked, &deleted, &unfollowed)
	})
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return false, false, false, fmt.Errorf("interaction state: %w", err)
	}
	return blocked, deleted, unfollowed, nil
}

// Unseen returns which of users viewer may not see the content of: the
// banned ones and those who block viewer (uuid.Nil: anonymous, blocked by
// nobody).
func Unseen(ctx context.Context, db DB, viewer uuid.UUID, users []uuid.UUID) (map[uuid.UUID]bool, error) {
	rows, err := db.Query(ctx, `SELECT user_id FROM social.banned_users WHERE user_id = ANY($2)
		UNION SELECT blocker_id FROM social.blocks WHERE blocked_id = $1 AND blocker_id = ANY($2)`, viewer, users)
	return postgres.CollectByID(rows, err, "unseen users", member)
}

// BlockedByAny returns which of ids viewer blocks.
func BlockedByAny(ctx context.Context, db DB, viewer uuid.UUID, ids []uuid.UUID) (map[uuid.UUID]bool, error) {
	rows, err := db.Query(ctx, `SELECT blocked_id FROM social.blocks WHERE blocker_id = $1 AND blocked_id = ANY($2)`, viewer, ids)
	return postgres.CollectByID(rows, err, "blocks", member)
}

// member reads a row of one user id as a member of a set.
func member(r pgx.Row) (uuid.UUID, bool, error) {
	var id uuid.UUID
	err := r.Scan(&id)
	return id, true, err
}

// LockPair serialises, until the transaction ends, every change to the
// relationships and blocks between a and b, whichever direction, and holds
// both users' audience locks shared (see LockAudience). It returns the
// database's clock read once the locks are held, the time of the change:
// consumers order a pair's events by it, so it must come from one clock for
// every replica and follow the time of the pair's previous change.
func LockPair(ctx context.Context, db DB, a, b uuid.UUID) (time.Time, error) {
	lo, hi := a, b
	if bytes.Compare(lo[:], hi[:]) > 0 {
		lo, hi = hi, lo
	}
	// Shared audience locks of both, in id order, after the pair lock; the
	// clock is read last.
	var at time.Time
	if err := db.QueryRow(ctx, `SELECT pg_advisory_xact_lock($1), pg_advisory_xact_lock_shared($2), pg_advisory_xact_lock_shared($3), clock_timestamp()`,
		lockKey('p', lo, hi), lockKey('a', lo), lockKey('a', hi)).Scan(nil, nil, nil, &at); err != nil {
		return time.Time{}, fmt.Errorf("lock relationship: %w", err)
	}
	return at.UTC(), nil
}

// LockAudience takes author's audience lock exclusively until the
// transaction ends. Every change to what feeds may hold of author's posts
// takes it before touching author's rows in social.posts or any feed: the
// projection of a new post and its fan-out, a deletion, a moderation, a ban.
// Changes to author's followers take it shared (LockPair). So a follow's
// back-fill either runs after such a change and sees it, or before it, and
// the change sees the new follower and the back-filled entries: no entry of
// a deleted, hidden or banned post is left behind, none is missed, and an
// unfollow racing a fan-out leaves none behind either. Likes and shares of
// author's posts take it shared too (InteractionState), so that none
// outlives a deletion.
func LockAudience(ctx context.Context, db DB, author uuid.UUID) error {
	if _, err := db.Exec(ctx, lockAudienceSQL, lockKey('a', author)); err != nil {
		return fmt.Errorf("lock audience: %w", err)
	}
	return nil
}

const lockAudienceSQL = `SELECT pg_advisory_xact_lock($1)`

// lockKey hashes ids into an advisory lock key, prefixed by kind so that the
// pair and audience lock spaces stay apart.
func lockKey(kind byte, ids ...uuid.UUID) int64 {
	h := fnv.New64a()
	h.Write([]byte{kind})
	for _, id := range ids {
		h.Write(id[:])
	}
	return int64(h.Sum64())
}
