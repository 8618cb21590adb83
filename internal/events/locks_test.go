package events

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus"
)

// A transaction shared by several deliveries takes their handlers' locks in
// batch order, not in the domain's lock order, so it can close a lock cycle
// with a delivery applied alone. Here the lone delivery waits first, so
// Postgres's deadlock check (after deadlock_timeout, 1 s) would pick it as
// the victim and fail it. The shared transaction must give up first, after
// BatchLockTimeout, so that every delivery is applied once and none fails.
func TestSharedTransactionYieldsOnALockCycle(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	if _, err := f.sub.Pool.Exec(ctx, `CREATE TABLE users.t_locks (k int PRIMARY KEY, n int NOT NULL);
		INSERT INTO users.t_locks VALUES (1, 0), (2, 0)`); err != nil {
		t.Fatal(err)
	}
	bump := func(ctx context.Context, tx pgx.Tx, k int) error {
		_, err := tx.Exec(ctx, `UPDATE users.t_locks SET n = n + 1 WHERE k = $1`, k)
		return err
	}
	// someoneWaits reports whether a session of this database waits for a lock.
	someoneWaits := func() bool {
		var waits bool
		err := f.sub.Pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_locks l JOIN pg_stat_activity a USING (pid)
			WHERE a.datname = current_database() AND NOT l.granted)`).Scan(&waits)
		return err == nil && waits
	}

	opts := Options{BatchLockTimeout: 100 * time.Millisecond}.withDefaults()
	split := prometheus.NewCounter(prometheus.CounterOpts{Name: "split"})
	in := newInbox(f.sub, opts, split)
	newDelivery := func(apply applyFunc) *pending {
		return &pending{ctx: ctx, args: deliveryArgs{Consumer: "user.locks", EventID: uuid.Must(uuid.NewV7())},
			apply: apply, done: make(chan result, 1)}
	}
	batchHolds1 := make(chan struct{})
	var firstRun atomic.Bool
	firstRun.Store(true)
	// The shared transaction: lock 1, wait until the lone delivery waits
	// for it, then lock 2, which the lone delivery holds.
	b1 := newDelivery(func(ctx context.Context, tx pgx.Tx, _ *pgx.Batch, _ Meta) error {
		if err := bump(ctx, tx, 1); err != nil {
			return err
		}
		if firstRun.Swap(false) {
			close(batchHolds1)
			waitFor(t, "the lone delivery to wait for lock 1", 10*time.Second, someoneWaits)
		}
		return nil
	})
	b2 := newDelivery(func(ctx context.Context, tx pgx.Tx, _ *pgx.Batch, _ Meta) error { return bump(ctx, tx, 2) })
	// The lone delivery: lock 2, then 1.
	aloneHolds2 := make(chan struct{})
	alone := newDelivery(func(ctx context.Context, tx pgx.Tx, _ *pgx.Batch, _ Meta) error {
		if err := bump(ctx, tx, 2); err != nil {
			return err
		}
		close(aloneHolds2)
		<-batchHolds1
		return bump(ctx, tx, 1)
	})

	go in.runBatch([]*pending{alone})
	go func() {
		<-aloneHolds2
		in.runBatch([]*pending{b1, b2})
	}()

	for name, p := range map[string]*pending{"batch member 1": b1, "batch member 2": b2, "lone delivery": alone} {
		select {
		case r := <-p.done:
			if r.err != nil || r.outcome != outcomeOK {
				t.Errorf("%s: outcome %s, err %v", name, r.outcome, r.err)
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("%s: no outcome after 30s", name)
		}
	}
	if v := counterValue(split); v != 1 {
		t.Errorf("batches split = %v, want 1", v)
	}
	if n := count(t, f.sub.Pool, `SELECT count(*) FROM users.t_locks WHERE n = 2`); n != 2 {
		t.Errorf("%d of 2 lock rows bumped twice, want each bumped twice: once by the lone delivery, once by a batch member", n)
	}
}
