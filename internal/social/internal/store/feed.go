package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// PostProjection is what social keeps of a content post.
type PostProjection struct {
	PostID    uuid.UUID
	AuthorID  uuid.UUID
	CreatedAt time.Time
	FannedOut bool
}

// ProjectNewPost takes author's audience lock (LockAudience) and adds a new
// post to the projection, marking it fanned out when the author has at most
// fanoutMax followers. A placeholder left by a moderation that arrived first
// (see SetHidden) is filled in and keeps its hidden flag, and so is a
// tombstone left by a deletion that arrived first, which stays deleted. The
// post of a banned author is projected as a tombstone, as the ban (Ban)
// leaves the posts it finds. So the row is the same whichever event arrives
// first, and a replay onto a cleared projection rebuilds it as it was. It
// reports whether the post is now projected and visible, and so must be
// fanned out if p.FannedOut: not after a redelivery, a deletion that arrived
// first (its tombstone), for a banned author or a hidden post. The lock and
// the upsert go in one round trip.
func ProjectNewPost(ctx context.Context, tx pgx.Tx, post, author uuid.UUID, at time.Time, fanoutMax int) (PostProjection, bool, error) {
	p := PostProjection{PostID: post, AuthorID: author, CreatedAt: at}
	var projected, hidden, deleted bool
	b := &pgx.Batch{}
	b.Queue(lockAudienceSQL, lockKey('a', author))
	b.Queue(`WITH up AS (
			INSERT INTO social.posts AS p (post_id, author_id, created_at, fanned_out, deleted)
			SELECT $1, $2, $3, coalesce((SELECT follower_count FROM social.user_stats WHERE user_id = $2), 0) <= $4,
				EXISTS (SELECT 1 FROM social.banned_users WHERE user_id = $2)
			ON CONFLICT (post_id) DO UPDATE SET created_at = excluded.created_at, fanned_out = excluded.fanned_out,
				deleted = p.deleted OR excluded.deleted
			WHERE p.created_at = '-infinity'
			RETURNING p.author_id, p.fanned_out, p.hidden, p.deleted
		), merged AS (
			INSERT INTO social.merged_authors (author_id) SELECT author_id FROM up WHERE NOT fanned_out
			ON CONFLICT DO NOTHING
		)
		SELECT fanned_out, hidden, deleted FROM up`, post, author, at, fanoutMax).QueryRow(func(r pgx.Row) error {
		switch err := r.Scan(&p.FannedOut, &hidden, &deleted); {
		case errors.Is(err, pgx.ErrNoRows):
			return nil
		case err != nil:
			return err
		}
		projected = true
		return nil
	})
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return p, false, fmt.Errorf("project post: %w", err)
	}
	return p, projected && !hidden && !deleted, nil
}

// TombstonePost marks a post deleted, inserting a tombstone if its creation
// has not arrived yet. Call it under the author's audience lock.
func TombstonePost(ctx context.Context, db DB, post, author uuid.UUID) error {
	_, err := db.Exec(ctx, `INSERT INTO social.posts (post_id, author_id, created_at, fanned_out, deleted)
		VALUES ($1, $2, '-infinity', false, true)
		ON CONFLICT (post_id) DO UPDATE SET deleted = true`, post, author)
	if err != nil {
		return fmt.Errorf("tombstone post: %w", err)
	}
	return nil
}

// SetHidden applies a moderation event that occurred at at, unless one that
// occurred later was applied already. Before the post's creation arrives it
// leaves a placeholder (created_at '-infinity', never fanned out, so in no
// feed) holding the moderation until ProjectNewPost fills it in. A tombstone
// records the moderation too (changing no feed), so the row is the same
// whether a ban or deletion arrives before or after it. It returns the post
// when the hidden flag of a projected, undeleted post changed: its feed
// entries must then go, or come back. Call it under the author's audience
// lock: nothing else then writes the row, so the statement's snapshot of it
// (old) is the row it updates.
func SetHidden(ctx context.Context, db DB, post, author uuid.UUID, hidden bool, at time.Time) (PostProjection, bool, error) {
	var p PostProjection
	err := db.QueryRow(ctx, `WITH old AS (
			SELECT hidden FROM social.posts WHERE post_id = $1
		), up AS (
			INSERT INTO social.posts AS p (post_id, author_id, created_at, fanned_out, hidden, moderated_at)
			VALUES ($1, $2, '-infinity', false, $3, $4)
			ON CONFLICT (post_id) DO UPDATE SET hidden = excluded.hidden, moderated_at = excluded.moderated_at
			WHERE p.moderated_at IS NULL OR p.moderated_at <= excluded.moderated_at
			RETURNING p.post_id, p.author_id, p.created_at, p.fanned_out, p.deleted
		)
		SELECT up.post_id, up.author_id, up.created_at, up.fanned_out FROM up, old
		WHERE old.hidden <> $3 AND up.created_at > '-infinity' AND NOT up.deleted`, post, author, hidden, at).Scan(&p.PostID, &p.AuthorID, &p.CreatedAt, &p.FannedOut)
	if errors.Is(err, pgx.ErrNoRows) {
		return p, false, nil
	}
	if err != nil {
		return p, false, fmt.Errorf("moderate projected post: %w", err)
	}
	return p, true, nil
}

// Ban records a banned user and tombstones their posts. Call it under the
// user's audience lock.
func Ban(ctx context.Context, db DB, user uuid.UUID, at time.Time) error {
	if _, err := db.Exec(ctx, `INSERT INTO social.banned_users (user_id, banned_at) VALUES ($1, $2) ON CONFLICT DO NOTHING`, user, at); err != nil {
		return fmt.Errorf("record ban: %w", err)
	}
	// Rows deleted already are left alone, so the statement goes through
	// the index of the author's undeleted posts.
	if _, err := db.Exec(ctx, `UPDATE social.posts SET deleted = true WHERE author_id = $1 AND NOT deleted`, user); err != nil {
		return fmt.Errorf("tombstone banned posts: %w", err)
	}
	return nil
}

// FanOut inserts post into the feeds of its author and every follower of
// the author, in one set-based statement, and counts the new entries per
// feed. The caller holds the author's audience lock (ProjectNewPost or
// LockAudience took it), so the follower set is settled. Feed rows are
// locked in user id order, so concurrent fan-outs to overlapping audiences
// cannot deadlock. A feed whose horizon is at or after the post (it would be
// served by the read-time query) gets no entry. It returns the feeds now
// holding more than max entries, with their excess.
func FanOut(ctx context.Context, db DB, p PostProjection, max int) ([]uuid.UUID, []int32, error) {
	rows, err := db.Query(ctx, `WITH targets AS (
			SELECT r.follower_id AS user_id FROM social.relationships r
			WHERE r.followee_id = $2 AND r.state = 'FOLLOWING'
			UNION ALL SELECT $2::uuid
		), ins AS (
			INSERT INTO social.feeds (user_id, post_id, author_id, created_at)
			SELECT t.user_id, $1, $2, $3 FROM targets t
			WHERE NOT EXISTS (SELECT 1 FROM social.feed_state fs WHERE fs.user_id = t.user_id AND (fs.horizon_at, fs.horizon_id) >= ($3, $1))
			ON CONFLICT DO NOTHING
			RETURNING user_id
		), counted AS (
			INSERT INTO social.feed_state AS s (user_id, entries)
			SELECT user_id, 1 FROM ins ORDER BY user_id
			ON CONFLICT (user_id) DO UPDATE SET entries = s.entries + 1
			RETURNING s.user_id, s.entries
		)
		SELECT user_id, entries - $4 FROM counted WHERE entries > $4`, p.PostID, p.AuthorID, p.CreatedAt, max)
	if err != nil {
		return nil, nil, fmt.Errorf("fan out: %w", err)
	}
	var users []uuid.UUID
	var excess []int32
	var u uuid.UUID
	var n int32
	_, err = pgx.ForEachRow(rows, []any{&u, &n}, func() error {
		users, excess = append(users, u), append(excess, n)
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("fan out: %w", err)
	}
	return users, excess, nil
}

// trimTail deletes the oldest entries of each feed in "over" (user_id,
// excess) and moves the feed's horizon to the newest entry removed.
const trimTail = `, victims AS (
		SELECT v.user_id, v.created_at, v.post_id FROM over o CROSS JOIN LATERAL (
			SELECT f.user_id, f.created_at, f.post_id FROM social.feeds f WHERE f.user_id = o.user_id
			ORDER BY f.created_at, f.post_id LIMIT o.excess) v
	), del AS (
		DELETE FROM social.feeds f USING victims v
		WHERE f.user_id = v.user_id AND f.created_at = v.created_at AND f.post_id = v.post_id
		RETURNING f.user_id, f.created_at, f.post_id
	), newest AS (
		SELECT DISTINCT ON (user_id) user_id, created_at, post_id, count(*) OVER (PARTITION BY user_id) AS n
		FROM del ORDER BY user_id, created_at DESC, post_id DESC
	)
	UPDATE social.feed_state s SET entries = greatest(s.entries - n.n, 0),
		horizon_at = CASE WHEN (n.created_at, n.post_id) > (s.horizon_at, s.horizon_id) THEN n.created_at ELSE s.horizon_at END,
		horizon_id = CASE WHEN (n.created_at, n.post_id) > (s.horizon_at, s.horizon_id) THEN n.post_id ELSE s.horizon_id END
	FROM newest n WHERE s.user_id = n.user_id`

// TrimFeeds drops the given number of oldest entries from each feed (as
// FanOut reports them). The feeds come as a list rather than a join, so
// the plan cannot go astray on stale estimates of freshly updated rows.
func TrimFeeds(ctx context.Context, db DB, users []uuid.UUID, excess []int32) error {
	if len(users) == 0 {
		return nil
	}
	_, err := db.Exec(ctx, `WITH over AS (
			SELECT u.user_id, u.excess FROM unnest($1::uuid[], $2::int[]) AS u(user_id, excess)
		)`+trimTail, users, excess)
	if err != nil {
		return fmt.Errorf("trim feeds: %w", err)
	}
	return nil
}

// TrimFeed keeps at most max entries in user's feed.
func TrimFeed(ctx context.Context, db DB, user uuid.UUID, max int) error {
	_, err := db.Exec(ctx, `WITH over AS (
			SELECT s.user_id, s.entries - $2 AS excess FROM social.feed_state s WHERE s.user_id = $1 AND s.entries > $2
		)`+trimTail, user, max)
	if err != nil {
		return fmt.Errorf("trim feed: %w", err)
	}
	return nil
}

// Backfill copies author's latest fanned-out posts (at most max, newer than
// the feed's horizon) into user's feed. When author has more such posts than
// max, the horizon moves up to the oldest one copied, so deeper pages are
// served by the read-time query and miss nothing.
func Backfill(ctx context.Context, db DB, user, author uuid.UUID, max int) error {
	if err := lockFeed(ctx, db, user); err != nil {
		return err
	}
	_, err := db.Exec(ctx, `WITH st AS (
			SELECT horizon_at, horizon_id FROM social.feed_state WHERE user_id = $1
		), src AS (
			SELECT p.post_id, p.created_at FROM social.posts p, st
			WHERE p.author_id = $2 AND p.fanned_out AND NOT p.deleted AND NOT p.hidden
			  AND (p.created_at, p.post_id) > (st.horizon_at, st.horizon_id)
			ORDER BY p.created_at DESC, p.post_id DESC LIMIT $3 + 1
		), pick AS (
			SELECT post_id, created_at, row_number() OVER (ORDER BY created_at DESC, post_id DESC) AS rn FROM src
		), ins AS (
			INSERT INTO social.feeds (user_id, post_id, author_id, created_at)
			SELECT $1, post_id, $2, created_at FROM pick WHERE rn <= $3
			ON CONFLICT DO NOTHING RETURNING post_id
		), cut AS (
			SELECT created_at, post_id FROM pick WHERE rn = $3 AND EXISTS (SELECT 1 FROM pick WHERE rn > $3)
		)
		UPDATE social.feed_state s SET entries = s.entries + (SELECT count(*) FROM ins),
			horizon_at = coalesce((SELECT created_at FROM cut), s.horizon_at),
			horizon_id = coalesce((SELECT post_id FROM cut), s.horizon_id)
		WHERE s.user_id = $1`, user, author, max)
	if err != nil {
		return fmt.Errorf("back-fill feed: %w", err)
	}
	return nil
}

// RemoveAuthorFromFeed deletes author's posts from user's feed.
func RemoveAuthorFromFeed(ctx context.Context, db DB, user, author uuid.UUID) error {
	if err := lockFeed(ctx, db, user); err != nil {
		return err
	}
	_, err := db.Exec(ctx, `WITH del AS (
			DELETE FROM social.feeds WHERE user_id = $1 AND author_id = $2 RETURNING user_id
		)
		UPDATE social.feed_state s SET entries = greatest(s.entries - (SELECT count(*) FROM del), 0) WHERE s.user_id = $1`, user, author)
	if err != nil {
		return fmt.Errorf("remove author from feed: %w", err)
	}
	return nil
}

// Lock order. The author's audience lock (LockAudience, LockPair) comes
// first, then the author's social.posts rows. A transaction changes a user's
// feed rows only while holding that user's feed_state row, and takes several
// in user id order (as FanOut's upsert does), so fan-outs, trims and
// removals cannot deadlock.

// lockStatesInOrder locks the feed_state rows of the users in "targets" in
// id order.
const lockStatesInOrder = `SELECT s.user_id FROM social.feed_state s WHERE s.user_id IN (SELECT user_id FROM targets)
			ORDER BY s.user_id FOR UPDATE`

// lockFeed creates user's feed_state row if needed and locks it.
func lockFeed(ctx context.Context, db DB, user uuid.UUID) error {
	_, err := db.Exec(ctx, `INSERT INTO social.feed_state AS s (user_id) VALUES ($1)
		ON CONFLICT (user_id) DO UPDATE SET entries = s.entries`, user)
	if err != nil {
		return fmt.Errorf("lock feed: %w", err)
	}
	return nil
}

// RemovePostFromFeeds deletes post from every feed. Call it under the
// author's audience lock, so that no follow back-fills the post meanwhile.
func RemovePostFromFeeds(ctx context.Context, db DB, post uuid.UUID) error {
	_, err := db.Exec(ctx, `WITH targets AS (
			SELECT user_id FROM social.feeds WHERE post_id = $1
		), locked AS (`+lockStatesInOrder+`), del AS (
			DELETE FROM social.feeds f USING locked l WHERE f.user_id = l.user_id AND f.post_id = $1 RETURNING f.user_id
		)
		UPDATE social.feed_state s SET entries = greatest(s.entries - 1, 0) FROM del WHERE s.user_id = del.user_id`, post)
	if err != nil {
		return fmt.Errorf("remove post from feeds: %w", err)
	}
	return nil
}

// RemoveAuthorFromAllFeeds deletes every feed entry of author's posts; call
// it under the author's audience lock and before tombstoning the posts (it
// finds them through the live projection).
func RemoveAuthorFromAllFeeds(ctx context.Context, db DB, author uuid.UUID) error {
	_, err := db.Exec(ctx, `WITH targets AS (
			SELECT f.user_id FROM social.feeds f JOIN social.posts p ON f.post_id = p.post_id
			WHERE p.author_id = $1 AND NOT p.deleted AND NOT p.hidden
		), locked AS (`+lockStatesInOrder+`), del AS (
			DELETE FROM social.feeds f USING locked l WHERE f.user_id = l.user_id AND f.author_id = $1
			RETURNING f.user_id
		), n AS (SELECT user_id, count(*) AS n FROM del GROUP BY user_id)
		UPDATE social.feed_state s SET entries = greatest(s.entries - n.n, 0) FROM n WHERE s.user_id = n.user_id`, author)
	if err != nil {
		return fmt.Errorf("remove author from feeds: %w", err)
	}
	return nil
}

// DeletePostInteractions removes likes, shares and counters of a deleted post.
func DeletePostInteractions(ctx context.Context, db DB, post uuid.UUID) error {
	_, err := db.Exec(ctx, `WITH l AS (DELETE FROM social.likes WHERE post_id = $1),
			s AS (DELETE FROM social.shares WHERE post_id = $1)
		DELETE FROM social.post_stats WHERE post_id = $1`, post)
	if err != nil {
		return fmt.Errorf("delete interactions: %w", err)
	}
	return nil
}

// Feed reads one page of user's home feed, newest first, strictly after
// (afterAt, afterID), in one statement merging three disjoint sources:
//   - stored entries newer than the feed's horizon;
//   - posts never fanned out (authors above the fan-out threshold) by the
//     user or authors the user follows, merged at read time;
//   - at or below the horizon (trimmed or partly back-filled feeds), fanned
//     out posts of the user and followed authors, queried at read time.
func Feed(ctx context.Context, db DB, user uuid.UUID, afterAt time.Time, afterID uuid.UUID, limit int) ([]FeedItem, error) {
	rows, err := db.Query(ctx, `WITH hz AS (
			SELECT coalesce((SELECT horizon_at FROM social.feed_state WHERE user_id = $1), '-infinity') AS at,
			       coalesce((SELECT horizon_id FROM social.feed_state WHERE user_id = $1), '00000000-0000-0000-0000-000000000000'::uuid) AS id
		), stored AS (
			SELECT f.post_id, f.author_id, f.created_at FROM social.feeds f, hz
			WHERE f.user_id = $1 AND (f.created_at, f.post_id) < ($2, $3) AND (f.created_at, f.post_id) > (hz.at, hz.id)
			ORDER BY f.created_at DESC, f.post_id DESC LIMIT $4
		), reads AS NOT MATERIALIZED (
			-- The authors the user reads: the user and followed authors.
			-- Inlined where used, so each use keeps its own plan.
			SELECT $1::uuid AS author_id
			UNION ALL SELECT r.followee_id FROM social.relationships r WHERE r.follower_id = $1 AND r.state = 'FOLLOWING'
		), merged AS (
			-- Per merged author the user reads (those in merged_authors),
			-- newest first: the cost
			-- follows those authors, not every post merged. A join, not an
			-- OR of EXISTS, leaves the planner free to start from the
			-- smaller of the user's follows and the merged authors.
			SELECT m.post_id, m.author_id, m.created_at
			FROM reads a
			JOIN social.merged_authors ma ON ma.author_id = a.author_id
			CROSS JOIN LATERAL (
				SELECT p.post_id, p.author_id, p.created_at FROM social.posts p
				WHERE p.author_id = ma.author_id
				  AND NOT p.fanned_out AND NOT p.deleted AND NOT p.hidden AND (p.created_at, p.post_id) < ($2, $3)
				  -- Not a placeholder of a post whose creation has not arrived (SetHidden).
				  AND p.created_at > '-infinity'
				ORDER BY p.created_at DESC, p.post_id DESC LIMIT $4) m
			ORDER BY m.created_at DESC, m.post_id DESC LIMIT $4
		), deep AS (
			-- Per author the user reads, newest first, as in merged: an OR
			-- over the follows scanned every fanned-out post of every author.
			SELECT d.post_id, d.author_id, d.created_at
			FROM hz CROSS JOIN reads a
			CROSS JOIN LATERAL (
				SELECT p.post_id, p.author_id, p.created_at FROM social.posts p
				WHERE p.author_id = a.author_id
				  AND p.fanned_out AND NOT p.deleted AND NOT p.hidden
				  AND (p.created_at, p.post_id) < ($2, $3) AND (p.created_at, p.post_id) <= (hz.at, hz.id)
				ORDER BY p.created_at DESC, p.post_id DESC LIMIT $4) d
			-- Only when the stored entries cannot fill the page.
			WHERE hz.at > '-infinity' AND (SELECT count(*) FROM stored) < $4
			ORDER BY d.created_at DESC, d.post_id DESC LIMIT $4
		), page AS (
			SELECT * FROM stored UNION ALL SELECT * FROM merged UNION ALL SELECT * FROM deep
			ORDER BY created_at DESC, post_id DESC LIMIT $4
		)
		-- The page carries its posts' counters and the reader's likes: the
		-- page is shown with them, and they are social's rows too.
		SELECT x.post_id, x.author_id, x.created_at,
		       coalesce(s.like_count, 0), coalesce(s.share_count, 0), l.post_id IS NOT NULL
		FROM page x
		LEFT JOIN social.post_stats s ON s.post_id = x.post_id
		LEFT JOIN social.likes l ON l.post_id = x.post_id AND l.user_id = $1
		ORDER BY x.created_at DESC, x.post_id DESC`, user, afterAt, afterID, limit)
	if err != nil {
		return nil, fmt.Errorf("feed: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (FeedItem, error) {
		var it FeedItem
		return it, r.Scan(&it.PostID, &it.AuthorID, &it.CreatedAt, &it.Stats.Likes, &it.Stats.Shares, &it.Stats.ViewerLiked)
	})
	if err != nil {
		return nil, fmt.Errorf("feed: %w", err)
	}
	return out, nil
}
