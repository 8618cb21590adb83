package events

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus"
)

// TestLaterReplayInOneBatchWithAnEarlierOneApplies: a replay redelivered
// after a crash (it had applied its event, but its completion was lost) and
// a later replay of the same event, queued after the projection was cleared
// again, reach one batch. The later one must apply the event: the earlier
// one, a duplicate, must not stand for it.
func TestLaterReplayInOneBatchWithAnEarlierOneApplies(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	const consumer = "user.replayed_twice"
	in := newInbox(f.sub, Options{}.withDefaults(), prometheus.NewCounter(prometheus.CounterOpts{Name: "split"}))
	user, event := uuid.New(), uuid.Must(uuid.NewV7())
	apply := project(consumer)
	replay := func(job int64, enqueued time.Time) *pending {
		return &pending{ctx: ctx, job: job, enqueued: enqueued, args: deliveryArgs{Consumer: consumer, EventID: event, Replay: true},
			done: make(chan result, 1),
			apply: func(ctx context.Context, tx pgx.Tx, _ *pgx.Batch, m Meta) error {
				return apply(ctx, tx, m, UserVerified{UserID: user})
			}}
	}
	run := func(batch ...*pending) []string {
		t.Helper()
		in.runBatch(batch)
		var outcomes []string
		for _, p := range batch {
			r := <-p.done
			if r.err != nil {
				t.Fatal(r.err)
			}
			outcomes = append(outcomes, r.outcome)
		}
		return outcomes
	}

	first := time.Now().Add(-time.Minute)
	run(replay(1, first))
	if _, err := f.sub.Pool.Exec(ctx, projectionDrop, consumer); err != nil {
		t.Fatal(err)
	}
	outcomes := run(replay(1, first), replay(2, time.Now()))
	if got := f.applied(t, consumer)[user]; got != 1 {
		t.Fatalf("event applied %d times onto the cleared projection (outcomes %v), want once", got, outcomes)
	}
}
