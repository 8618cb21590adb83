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
)

func TestSweepSessions(t *testing.T) {
	t.Parallel()
	pool := pgtest.New(t).Pools.For(domains.Identity)
	ctx := context.Background()
	user := uuid.New()
	if err := InsertCredential(ctx, pool, NewCredential{UserID: user, Email: "a@b.c", EmailKey: "a@b.c", Username: "abc", UsernameKey: "abc", PasswordHash: "x"}); err != nil {
		t.Fatal(err)
	}
	old, live := uuid.New(), uuid.New()
	for i, id := range []uuid.UUID{old, live} {
		if err := CreateSession(ctx, pool, NewSession{ID: id, UserID: user, RefreshHash: []byte{byte(i)}}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := pool.Exec(ctx, `UPDATE identity.sessions SET expires_at = now() - interval '2 days' WHERE id = $1`, old); err != nil {
		t.Fatal(err)
	}
	n, err := SweepSessions(ctx, pool)
	if err != nil || n != 1 {
		t.Fatalf("SweepSessions = %d, %v", n, err)
	}
	if _, err := LockRefresh(ctx, pool, []byte{0}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("refresh token of the swept session: %v", err)
	}
	if _, err := LiveSessionUser(ctx, pool, live); err != nil {
		t.Fatalf("live session swept: %v", err)
	}
}

func TestHitCountsPerWindow(t *testing.T) {
	t.Parallel()
	pool := pgtest.New(t).Pools.For(domains.Identity)
	ctx := context.Background()
	for want := 1; want <= 3; want++ {
		n, left, err := Hit(ctx, pool, "b", time.Hour)
		if err != nil || n != want || left <= 0 || left > time.Hour {
			t.Fatalf("Hit = %d, %v, %v; want %d", n, left, err, want)
		}
	}
	if err := Unhit(ctx, pool, "b", time.Hour); err != nil {
		t.Fatal(err)
	}
	if n, _, _ := Hit(ctx, pool, "b", time.Hour); n != 3 {
		t.Fatalf("after Unhit the next Hit counts %d, want 3", n)
	}
	if n, _, _ := Hit(ctx, pool, "other", time.Hour); n != 1 {
		t.Fatalf("buckets share counts: %d", n)
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
	if n, _, _ := Hit(ctx, pool, "b", time.Hour); n < want-1 || n > want {
		t.Fatalf("sliding count %d, want %d (previous window 3 hits, %.2f of this window elapsed)", n, want, elapsed)
	}
	if _, err := pool.Exec(ctx, `UPDATE identity.rate_limits SET window_start = window_start - interval '2 hours' WHERE bucket = 'b'`); err != nil {
		t.Fatal(err)
	}
	if n, _, _ := Hit(ctx, pool, "b", time.Hour); n != 1 {
		t.Fatalf("a window two back counts: %d, want 1", n)
	}
}
