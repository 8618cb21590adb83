package store

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"
)

// Hit counts one event in bucket and returns the number of events in the
// sliding window ending now, and the time until the current fixed window
// ends. Counts are kept per fixed window (aligned to the epoch, on the
// database clock so that every replica agrees); the sliding count adds the
// previous window's count weighted by how much of it the sliding window still
// covers, so a burst cannot double the limit at a window boundary.
func Hit(ctx context.Context, q Querier, bucket string, window time.Duration) (int, time.Duration, error) {
	var hits int
	var left time.Duration
	err := q.QueryRow(ctx, `WITH w AS (SELECT date_bin($2::interval, now(), 'epoch') AS start),
		cur AS (
			INSERT INTO identity.rate_limits AS r (bucket, window_start, hits, expires_at)
			SELECT $1, w.start, 1, w.start + 2 * $2::interval FROM w
			ON CONFLICT (bucket, window_start) DO UPDATE SET hits = r.hits + 1
			RETURNING r.hits, r.window_start)
		SELECT cur.hits + round(coalesce(prev.hits, 0)
		           * (1 - extract(epoch FROM now() - cur.window_start) / extract(epoch FROM $2::interval)))::int,
		       cur.window_start + $2::interval - now()
		FROM cur LEFT JOIN identity.rate_limits prev
		  ON prev.bucket = $1 AND prev.window_start = cur.window_start - $2::interval`, bucket, window).Scan(&hits, &left)
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
