package events

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus"
)

// A queued handler's statements commit with the inbox: each event is applied
// once, also when delivered again, and a failing statement fails only its own
// delivery, which is retried, even though it was sent together with the
// statements of other deliveries and with direct handlers' work.
func TestQueuedHandlersApplyOnceAndIsolateAFailingStatement(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ids := newIDs(40)
	poison := ids[7]
	var poisoned atomic.Bool
	poisoned.Store(true)
	opts := testOptions()
	opts.Workers = 64
	b := f.newBus(t, opts, prometheus.NewRegistry(), func(b *Bus) {
		SubscribeQueued(b, f.sub, "user.queued", func(q *pgx.Batch, m Meta, e UserVerified) {
			if e.UserID == poison && poisoned.Load() {
				q.Queue(`SELECT 1 / 0`)
			}
			q.Queue(projectionApply, "user.queued", e.UserID)
		})
		Subscribe(b, f.sub, "user.direct", project("user.direct"))
	})
	// One publishing transaction: the 80 deliveries are fetched together.
	f.publish(t, b, ids...)
	failures := b.metrics.handled.WithLabelValues("user.queued", string(TopicUserVerified), outcomeError)
	waitFor(t, "the poisoned delivery failing", 10*time.Second, func() bool { return counterValue(failures) >= 1 })
	others := ids[:7:7]
	others = append(others, ids[8:]...)
	waitFor(t, "the other deliveries applied", 10*time.Second, func() bool {
		got := f.applied(t, "user.queued")
		return allOnce(got, others) && got[poison] == 0
	})
	poisoned.Store(false)
	for _, c := range []string{"user.queued", "user.direct"} {
		waitFor(t, c+" applied", 10*time.Second, func() bool { return allOnce(f.applied(t, c), ids) })
	}

	f.redeliverAll(t, "user.queued")
	dup := b.metrics.handled.WithLabelValues("user.queued", string(TopicUserVerified), outcomeDuplicate)
	waitFor(t, "redeliveries skipped", 10*time.Second, func() bool { return counterValue(dup) == float64(len(ids)) })
	if got := f.applied(t, "user.queued"); !allOnce(got, ids) {
		t.Fatalf("after redelivery: %v", got)
	}
}
