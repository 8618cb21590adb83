package store

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"time"
)

// Usage is a bucket's sliding count just after a hit. Counts are kept per
// fixed window (aligned to the epoch, on the database clock so that every
// replica agrees); the sliding window ending now covers the current fixed
// window and the part of the previous one it still overlaps, whose count is
// weighted by that part, so a burst cannot double a limit at a window
// boundary.
type Usage struct {
	// Hits is the sliding count, this hit included.
	Hits int

	current, previous int           // the two fixed windows' counts
	elapsed, window   time.Duration // how far into the current window this hit came
	start             time.Time     // the current window's start
}

func newUsage(current, previous int, elapsed, window time.Duration) Usage {
	return Usage{
		Hits:    current + int(math.Round(float64(previous)*(1-elapsed.Seconds()/window.Seconds()))),
		current: current, previous: previous, elapsed: elapsed, window: window,
	}
}

// RetryAfter is how long until one more event would find at most limit-1
// events in the sliding window, so that with it the count stays within
// limit, if nothing else is counted meanwhile. It is zero when that holds now
// and at most two windows.
func (u Usage) RetryAfter(limit int) time.Duration {
	if limit < 1 {
		return 2 * u.window
	}
	// Hits rounds the previous window's weighted count half away from
	// zero, so the count is at most limit-1 once the exact weighted sum is
	// below goal.
	goal := float64(limit) - 0.5
	w := u.window.Seconds()
	// The moment, in seconds from the current window's start, when the
	// exact sum reaches goal: within this window if the current count is
	// below goal, else during the next, once enough of this window has slid
	// out of the sliding one.
	var at float64
	switch {
	case float64(u.current) >= goal:
		at = w + w*(1-goal/float64(u.current))
	case u.previous > 0:
		at = w * (1 - (goal-float64(u.current))/float64(u.previous))
	}
	d := time.Duration((at - u.elapsed.Seconds()) * float64(time.Second))
	return min(max(d, 0), 2*u.window)
}

// Hit counts one event in bucket and returns the bucket's usage.
func Hit(ctx context.Context, q Querier, bucket string, window time.Duration) (Usage, error) {
	var current, previous int
	var elapsed time.Duration
	var start time.Time
	err := q.QueryRow(ctx, `WITH w AS (SELECT date_bin($2::interval, now(), 'epoch') AS start),
		cur AS (
			INSERT INTO identity.rate_limits AS r (bucket, window_start, hits, expires_at)
			SELECT $1, w.start, 1, w.start + 2 * $2::interval FROM w
			ON CONFLICT (bucket, window_start) DO UPDATE SET hits = r.hits + 1
			RETURNING r.hits, r.window_start)
		SELECT cur.hits, coalesce(prev.hits, 0), now() - cur.window_start, cur.window_start
		FROM cur LEFT JOIN identity.rate_limits prev
		  ON prev.bucket = $1 AND prev.window_start = cur.window_start - $2::interval`, bucket, window).Scan(&current, &previous, &elapsed, &start)
	if err != nil {
		return Usage{}, fmt.Errorf("rate limit %s: %w", bucket, err)
	}
	// Expired windows are swept now and then by whoever passes by, which
	// keeps the table small without a background job: at most 1,000 a
	// time (five per hit, each of which adds at most one), so that no
	// request pays for a whole backlog.
	if rand.IntN(200) == 0 {
		if _, err := SweepRateLimits(ctx, q, 1000); err != nil {
			return Usage{}, err
		}
	}
	u := newUsage(current, previous, elapsed, window)
	u.start = start
	return u, nil
}

// Unhit takes back the event counted by the Hit that reported u, in the
// window it was counted in: that window may have ended since.
func Unhit(ctx context.Context, q Querier, bucket string, u Usage) error {
	_, err := q.Exec(ctx, `UPDATE identity.rate_limits SET hits = greatest(hits - 1, 0)
		WHERE bucket = $1 AND window_start = $2`, bucket, u.start)
	if err != nil {
		return fmt.Errorf("rate limit %s: %w", bucket, err)
	}
	return nil
}

// SweepRateLimits deletes up to limit expired windows, oldest first,
// leaving those another sweep holds to it, and reports how many.
func SweepRateLimits(ctx context.Context, q Querier, limit int) (int64, error) {
	tag, err := q.Exec(ctx, `DELETE FROM identity.rate_limits WHERE (bucket, window_start) IN (
			SELECT bucket, window_start FROM identity.rate_limits WHERE expires_at < now()
			ORDER BY expires_at LIMIT $1 FOR UPDATE SKIP LOCKED)`, limit)
	if err != nil {
		return 0, fmt.Errorf("sweep rate limits: %w", err)
	}
	return tag.RowsAffected(), nil
}
