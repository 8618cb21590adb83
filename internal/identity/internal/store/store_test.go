package store

import (
	"context"
	"errors"
	"math"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/nova-social/nova/internal/platform/domains"
	"github.com/nova-social/nova/internal/platform/pgtest"
	"github.com/nova-social/nova/internal/platform/testkit"
)

func TestSweepSessions(t *testing.T) {
	t.Parallel()
	pool := pgtest.New(t).Pools.For(domains.Identity)
	ctx := context.Background()
	user := uuid.New()
	if err := InsertCredential(ctx, pool, NewCredential{UserID: user, Email: "a@b.c", EmailKey: "a@b.c", Username: "abc", UsernameKey: "abc", PasswordHash: "x"}); err != nil {
		t.Fatal(err)
	}
	ended := []uuid.UUID{uuid.New(), uuid.New(), uuid.New()}
	live := uuid.New()
	for i, id := range append(ended, live) {
		if err := CreateSession(ctx, pool, NewSession{ID: id, UserID: user, RefreshHash: []byte{byte(i)}}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := pool.Exec(ctx, `UPDATE identity.sessions SET expires_at = now() - interval '2 days' WHERE id = ANY($1)`, ended); err != nil {
		t.Fatal(err)
	}
	// A sweep deletes at most its limit, so a backlog goes in bounded steps.
	for _, want := range []int64{2, 1, 0} {
		n, err := SweepSessions(ctx, pool, 2)
		if err != nil || n != want {
			t.Fatalf("SweepSessions = %d, %v; want %d", n, err, want)
		}
	}
	for i := range ended {
		if _, err := LockRefresh(ctx, pool, []byte{byte(i)}); !errors.Is(err, ErrNotFound) {
			t.Fatalf("refresh token of a swept session: %v", err)
		}
	}
	if _, _, err := LiveSession(ctx, pool, live); err != nil {
		t.Fatalf("live session swept: %v", err)
	}
}

func TestSweepRateLimits(t *testing.T) {
	t.Parallel()
	pool := pgtest.New(t).Pools.For(domains.Identity)
	ctx := context.Background()
	for _, b := range []string{"a", "b", "c", "live"} {
		if _, err := Hit(ctx, pool, b, time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := pool.Exec(ctx, `UPDATE identity.rate_limits SET expires_at = now() - interval '1 second' WHERE bucket <> 'live'`); err != nil {
		t.Fatal(err)
	}
	for _, want := range []int64{2, 1, 0} {
		n, err := SweepRateLimits(ctx, pool, 2)
		if err != nil || n != want {
			t.Fatalf("SweepRateLimits = %d, %v; want %d", n, err, want)
		}
	}
	if u, err := Hit(ctx, pool, "live", time.Hour); err != nil || u.Hits != 2 {
		t.Fatalf("live window after sweeps: %+v, %v", u, err)
	}
}

func TestHitCountsPerWindow(t *testing.T) {
	t.Parallel()
	pool := pgtest.New(t).Pools.For(domains.Identity)
	ctx := context.Background()
	var last Usage
	for want := 1; want <= 3; want++ {
		u, err := Hit(ctx, pool, "b", time.Hour)
		if err != nil || u.Hits != want {
			t.Fatalf("Hit = %+v, %v; want %d hits", u, err, want)
		}
		last = u
	}
	if err := Unhit(ctx, pool, "b", last); err != nil {
		t.Fatal(err)
	}
	if u, _ := Hit(ctx, pool, "b", time.Hour); u.Hits != 3 {
		t.Fatalf("after Unhit the next Hit counts %d, want 3", u.Hits)
	}
	if u, _ := Hit(ctx, pool, "other", time.Hour); u.Hits != 1 {
		t.Fatalf("buckets share counts: %d", u.Hits)
	}
	// The previous window still counts, weighted by how much of it the
	// sliding window covers; an older one does not count at all.
	if _, err := pool.Exec(ctx, `UPDATE identity.rate_limits SET window_start = window_start - interval '1 hour' WHERE bucket = 'b'`); err != nil {
		t.Fatal(err)
	}
	var elapsed float64
	if err := pool.QueryRow(ctx, `SELECT extract(epoch FROM now() - date_bin('1 hour', now(), 'epoch')) / 3600`).Scan(&elapsed); err != nil {
		t.Fatal(err)
	}
	want := 1 + int(math.Round(3*(1-elapsed)))
	if u, _ := Hit(ctx, pool, "b", time.Hour); u.Hits < want-1 || u.Hits > want {
		t.Fatalf("sliding count %d, want %d (previous window 3 hits, %.2f of this window elapsed)", u.Hits, want, elapsed)
	}
	if _, err := pool.Exec(ctx, `UPDATE identity.rate_limits SET window_start = window_start - interval '2 hours' WHERE bucket = 'b'`); err != nil {
		t.Fatal(err)
	}
	if u, _ := Hit(ctx, pool, "b", time.Hour); u.Hits != 1 {
		t.Fatalf("a window two back counts: %d, want 1", u.Hits)
	}
}

// RetryAfter is the first moment one more hit stays within the limit: a hit
// just after it is allowed, one just before it is not.
func TestRetryAfterIsWhenAHitFitsAgain(t *testing.T) {
	t.Parallel()
	const window = time.Minute
	// after is the usage Hit reports for one more hit, d after u's.
	after := func(u Usage, d time.Duration) Usage {
		switch at := u.elapsed + d; {
		case at < window:
			return newUsage(u.current+1, u.previous, at, window)
		case at < 2*window:
			return newUsage(1, u.current, at-window, window)
		default:
			return newUsage(1, 0, at-2*window, window)
		}
	}
	for limit := 1; limit <= 12; limit++ {
		for current := 1; current <= 2*limit+2; current++ {
			for previous := range 3 * limit {
				for elapsed := time.Duration(0); elapsed < window; elapsed += 7 * time.Second {
					u := newUsage(current, previous, elapsed, window)
					if u.Hits <= limit {
						continue
					}
					d := u.RetryAfter(limit)
					if d <= 0 || d > 2*window {
						t.Fatalf("%+v: RetryAfter(%d) = %v", u, limit, d)
					}
					if n := after(u, d+time.Millisecond).Hits; n > limit {
						t.Fatalf("%+v: a hit after RetryAfter(%d) = %v counts %d", u, limit, d, n)
					}
					if n := after(u, d-time.Millisecond).Hits; n <= limit {
						t.Fatalf("%+v: a hit before RetryAfter(%d) = %v already fits (%d)", u, limit, d, n)
					}
				}
			}
		}
	}
}

// A client that waits the delay it was given is let in.
func TestRetryAfterWaitedIsEnough(t *testing.T) {
	t.Parallel()
	pool := pgtest.New(t).Pools.For(domains.Identity)
	ctx := context.Background()
	const limit, window = 3, 2 * time.Second
	var u Usage
	for u.Hits <= limit {
		var err error
		if u, err = Hit(ctx, pool, "b", window); err != nil {
			t.Fatal(err)
		}
	}
	d := u.RetryAfter(limit)
	time.Sleep(d + 50*time.Millisecond)
	next, err := Hit(ctx, pool, "b", window)
	if err != nil || next.Hits > limit {
		t.Fatalf("after waiting %v (usage %+v): %+v, %v", d, u, next, err)
	}
}

// A hit taken back after its window ended is taken from that window, not
// from the next one, where it would cancel an event that did happen.
func TestUnhitAcrossAWindowBoundary(t *testing.T) {
	t.Parallel()
	pool := pgtest.New(t).Pools.For(domains.Identity)
	ctx := context.Background()
	const window = 500 * time.Millisecond
	u, err := Hit(ctx, pool, "b", window)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(window - u.elapsed + 50*time.Millisecond)
	next, err := Hit(ctx, pool, "b", window)
	if err != nil {
		t.Fatal(err)
	}
	if err := Unhit(ctx, pool, "b", u); err != nil {
		t.Fatal(err)
	}
	var first, second int
	if err := pool.QueryRow(ctx, `SELECT
			coalesce((SELECT hits FROM identity.rate_limits WHERE bucket = 'b' AND window_start = $1), -1),
			coalesce((SELECT hits FROM identity.rate_limits WHERE bucket = 'b' AND window_start = $2), -1)`,
		u.start, next.start).Scan(&first, &second); err != nil {
		t.Fatal(err)
	}
	if first != 0 || second != 1 {
		t.Fatalf("after taking back the first window's hit: first window %d, second %d; want 0 and 1", first, second)
	}
}

// Replicas starting together with a new key record it at once: the one
// whose insert waits for the other's to commit must still read the first
// use, not fail to start.
func TestKeyFirstUsedByReplicasStartingTogether(t *testing.T) {
	t.Parallel()
	pool := pgtest.New(t).Pools.For(domains.Identity)
	ctx := context.Background()
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	first, err := KeyFirstUsed(ctx, tx, "k")
	if err != nil {
		t.Fatal(err)
	}
	type result struct {
		at  time.Time
		err error
	}
	other := make(chan result, 1)
	go func() {
		at, err := KeyFirstUsed(ctx, pool, "k")
		other <- result{at, err}
	}()
	var xid string
	if err := tx.QueryRow(ctx, `SELECT pg_current_xact_id()::xid::text`).Scan(&xid); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, "the second insert waiting for the first", func() bool {
		var waiting bool
		err := pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_locks
			WHERE locktype = 'transactionid' AND transactionid::text = $1 AND NOT granted)`, xid).Scan(&waiting)
		return err == nil && waiting
	})
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	r := <-other
	if r.err != nil || !r.at.Equal(first) {
		t.Fatalf("KeyFirstUsed while another replica recorded the key = %v, %v; want %v", r.at, r.err, first)
	}
}
