package events

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus"
)

// TestStuckMemberDoesNotTimeOutItsBatch: deliveries fetched together share a
// transaction and have about the same deadline (the handler timeout, from
// when each was fetched). A member that hangs, or waits for a lock held
// past that deadline, must fail alone: the others are applied, each alone,
// within their own time, instead of timing out with it and spending an
// attempt.
func TestStuckMemberDoesNotTimeOutItsBatch(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	if _, err := f.sub.Pool.Exec(ctx, `CREATE TABLE users.t_held (k int PRIMARY KEY); INSERT INTO users.t_held VALUES (1)`); err != nil {
		t.Fatal(err)
	}
	const timeout = time.Second
	for name, stuck := range map[string]applyFunc{
		"hangs": func(ctx context.Context, _ pgx.Tx, _ *pgx.Batch, _ Meta) error {
			<-ctx.Done()
			return ctx.Err()
		},
		"waits for a lock": func(ctx context.Context, tx pgx.Tx, _ *pgx.Batch, _ Meta) error {
			_, err := tx.Exec(ctx, `SELECT k FROM users.t_held FOR UPDATE`)
			return err
		},
		// A queued statement fails the shared transaction like a handler
		// does, after the batch's lock timeout, and must name its member.
		"queues a statement that waits for a lock": func(_ context.Context, _ pgx.Tx, q *pgx.Batch, _ Meta) error {
			q.Queue(`SELECT k FROM users.t_held FOR UPDATE`)
			return nil
		},
	} {
		t.Run(name, func(t *testing.T) {
			// A request holds the row for longer than the handler timeout
			// (until the members have answered).
			holder, err := f.sub.Pool.Begin(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = holder.Rollback(ctx) }()
			if _, err := holder.Exec(ctx, `SELECT k FROM users.t_held FOR UPDATE`); err != nil {
				t.Fatal(err)
			}

			opts := Options{}.withDefaults()
			in := newInbox(f.sub, opts, prometheus.NewCounter(prometheus.CounterOpts{Name: "split"}))
			consumer := "user.stuck_" + map[string]string{"hangs": "hang", "waits for a lock": "lock", "queues a statement that waits for a lock": "queued"}[name]
			apply := project(consumer)
			var batch []*pending
			for i := range 4 {
				jobCtx, cancel := context.WithTimeout(ctx, timeout) // as River's job timeout
				defer cancel()
				user := uuid.New()
				batch = append(batch, &pending{ctx: jobCtx, args: deliveryArgs{Consumer: consumer, EventID: uuid.Must(uuid.NewV7())},
					done: make(chan result, 1),
					apply: func(ctx context.Context, tx pgx.Tx, q *pgx.Batch, m Meta) error {
						if i == 0 {
							return stuck(ctx, tx, q, m)
						}
						return apply(ctx, tx, m, UserVerified{UserID: user})
					}})
			}
			go in.runBatch(batch)
			for i, p := range batch {
				select {
				case r := <-p.done:
					if i == 0 && r.err == nil {
						t.Errorf("stuck member: outcome %s, want an error", r.outcome)
					}
					if i > 0 && (r.err != nil || r.outcome != outcomeOK) {
						t.Errorf("member %d: outcome %s, err %v; want it applied", i, r.outcome, r.err)
					}
				case <-time.After(10 * time.Second):
					t.Fatalf("member %d: no outcome", i)
				}
			}
			if got := f.applied(t, consumer); len(got) != 3 {
				t.Errorf("applied %d, want the 3 others", len(got))
			}
		})
	}
}
