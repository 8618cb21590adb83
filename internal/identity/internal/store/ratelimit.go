package store

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"
)

// Hit counts one event in bucket's current fixed window (aligned to the
// epoch, on the database clock so that every replica agrees) and returns the
// count so far and the time left until the window ends.
func Hit(ctx context.Context, q Querier, bucket string, window time.Duration) (int, time.Duration, error) {
	var hits int
	var left time.Duration
	err := q.QueryRow(ctx, `WITH w AS (SELECT date_bin($2::interval, now(), 'epoch') AS start)
		INSERT INTO identity.rate_limits AS r (bucket, window_start, hits, expires_at)
		SELECT $1, w.start, 1, w.start + $2::interval FROM w
		ON CONFLICT (bucket, window_start) DO UPDATE SET hits = r.hits + 1
		RETURNING hits, r.expires_at - now()`, bucket, window).Scan(&hits, &left)
	if err != nil {
		return 0, 0, fmt.Errorf("rate limit %s: %w", bucket, err)
	}
	// Expired windows are swept now and then by whoever passes by, which
	// keeps the table small without a background job.
	if rand.IntN(200) == 0 {
		if _, err := q.Exec(ctx, `DELETE FROM identity.rate_limits WHERE expires_at < now()`); err != nil {
			return 0, 0, fmt.Errorf("sweep rate limits: %w", err)
		}
	}
	return hits, left, nil
}

// Unhit takes back one event counted by Hit in the current window.
func Unhit(ctx context.Context, q Querier, bucket string, window time.Duration) error {
	_, err := q.Exec(ctx, `UPDATE identity.rate_limits SET hits = greatest(hits - 1, 0)
		WHERE bucket = $1 AND window_start = date_bin($2::interval, now(), 'epoch')`, bucket, window)
	if err != nil {
		return fmt.Errorf("rate limit %s: %w", bucket, err)
	}
	return nil
}
