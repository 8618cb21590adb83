package events

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus"
)

// TestStuckBatchDoesNotStarveAnIdleRunner: one of a domain's transactions is
// stuck holding the domain's share of the workers while its other runner is
// idle. A new delivery would not wait (the idle runner applies it at once),
// so it must be applied, not put back for as long as the stuck batch lasts.
func TestStuckBatchDoesNotStarveAnIdleRunner(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	opts := Options{Workers: 8}.withDefaults() // share 2, two runners
	in := newInbox(f.sub, opts, prometheus.NewCounter(prometheus.CounterOpts{Name: "split"}))
	project := project("user.busy")
	gate := func(g chan struct{}) applyFunc {
		return func(ctx context.Context, tx pgx.Tx, _ *pgx.Batch, m Meta) error {
			select {
			case <-g:
			case <-ctx.Done():
				return ctx.Err()
			}
			return project(ctx, tx, m, UserVerified{UserID: uuid.New()})
		}
	}
	apply := func(fn applyFunc) <-chan error {
		done := make(chan error, 1)
		go func() {
			_, err := in.apply(ctx, 0, time.Now(), deliveryArgs{Consumer: "user.busy", EventID: uuid.Must(uuid.NewV7())}, Meta{}, fn)
			done <- err
		}()
		return done
	}
	inbox := func(f func() bool) func() bool {
		return func() bool {
			in.mu.Lock()
			defer in.mu.Unlock()
			return f()
		}
	}
	first, second, stuck := make(chan struct{}), make(chan struct{}), make(chan struct{})
	p := apply(gate(first))
	waitFor(t, "the first runner busy", 5*time.Second, inbox(func() bool { return in.running == 1 && len(in.queue) == 0 }))
	q := apply(gate(second))
	waitFor(t, "the second runner busy", 5*time.Second, inbox(func() bool { return in.running == 2 && len(in.queue) == 0 }))
	s1, s2 := apply(gate(stuck)), apply(gate(stuck))
	defer func() {
		close(stuck)
		<-s1
		<-s2
	}()
	waitFor(t, "two deliveries queued", 5*time.Second, inbox(func() bool { return len(in.queue) == 2 }))
	// The first runner takes the two queued ones together and is stuck with
	// them; the second finishes and goes idle.
	close(first)
	if err := <-p; err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the stuck batch running", 5*time.Second, inbox(func() bool { return len(in.queue) == 0 }))
	close(second)
	if err := <-q; err != nil {
		t.Fatal(err)
	}
	waitFor(t, "one runner idle", 5*time.Second, inbox(func() bool { return in.running == 1 }))
	time.Sleep(2 * stallAfter)

	now := make(chan struct{})
	close(now)
	select {
	case err := <-apply(gate(now)):
		if err != nil {
			t.Fatalf("delivery with a runner idle: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("delivery with a runner idle not applied")
	}
}
