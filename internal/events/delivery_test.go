package events

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/nova-social/nova/internal/platform/domains"
)

func TestHandlerFailingTwiceIsAppliedOnce(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	var fl flaky
	fl.left.Store(2)
	var calls atomic.Int64
	b := f.newBus(t, testOptions(), nil, func(b *Bus) {
		Subscribe(b, f.sub, "user.flaky", func(ctx context.Context, tx pgx.Tx, m Meta, e UserVerified) error {
			calls.Add(1)
			// The effect is written before failing: the rollback must undo it.
			if err := project("user.flaky")(ctx, tx, m, e); err != nil {
				return err
			}
			if fl.fail() {
				return errors.New("transient")
			}
			return nil
		})
	})
	ids := newIDs(1)
	f.publish(t, b, ids...)
	waitFor(t, "applied", 10*time.Second, func() bool { return allOnce(f.applied(t, "user.flaky"), ids) })
	if c := calls.Load(); c != 3 {
		t.Fatalf("handler calls = %d, want 3", c)
	}
	// River records completions in batches, shortly after the handler.
	waitFor(t, "job completed after 3 attempts", 5*time.Second, func() bool {
		return count(t, f.events, `SELECT count(*) FROM events.river_job WHERE args->>'consumer' = 'user.flaky' AND state = 'completed' AND attempt = 3`) == 1
	})
	if n := count(t, f.events, `SELECT count(*) FROM events.dead_letter_queue`); n != 0 {
		t.Fatalf("dead letters = %d", n)
	}
}

func TestAlwaysFailingGoesToDeadLetterAndRetryApplies(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	var broken atomic.Bool
	broken.Store(true)
	reg := prometheus.NewRegistry()
	opts := testOptions()
	opts.MaxAttempts = 3
	b := f.newBus(t, opts, reg, func(b *Bus) {
		Subscribe(b, f.sub, "user.broken", func(ctx context.Context, tx pgx.Tx, m Meta, e UserVerified) error {
			if broken.Load() {
				return errors.New("bug in handler")
			}
			return project("user.broken")(ctx, tx, m, e)
		})
	})
	ids := newIDs(2)
	f.publish(t, b, ids...)
	admin := NewAdmin(f.events, opts.MaxAttempts)
	ctx := context.Background()
	var dead []DeadLetter
	waitFor(t, "dead letters", 10*time.Second, func() bool {
		var err error
		dead, err = admin.DeadLetters(ctx, "user.broken", 10)
		return err == nil && len(dead) == 2
	})
	d := dead[0]
	if d.Attempts != 3 || d.Error != "bug in handler" || d.Topic != TopicUserVerified || d.Producer != "user" || len(d.Payload) == 0 {
		t.Fatalf("dead letter = %+v", d)
	}
	if got, err := admin.DeadLetter(ctx, d.ID); err != nil || got.EventID != d.EventID {
		t.Fatalf("DeadLetter(%d) = %+v, %v", d.ID, got, err)
	}
	if _, err := admin.DeadLetter(ctx, d.ID+1000); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown dead letter: %v", err)
	}
	if v := counterValue(b.metrics.deadLetters.WithLabelValues("user.broken", string(TopicUserVerified))); v != 2 {
		t.Fatalf("dead letter metric = %v", v)
	}
	if len(f.applied(t, "user.broken")) != 0 {
		t.Fatal("a failing handler's effect was committed")
	}

	broken.Store(false)
	if err := admin.RetryDeadLetter(ctx, d.ID); err != nil {
		t.Fatal(err)
	}
	if err := admin.RetryDeadLetter(ctx, d.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("retrying a retried dead letter: %v", err)
	}
	waitFor(t, "first retried", 10*time.Second, func() bool {
		return f.applied(t, "user.broken")[d.EventID] == 0 && len(f.applied(t, "user.broken")) == 1
	})
	if n, err := admin.RetryAllDeadLetters(ctx, ""); err != nil || n != 1 {
		t.Fatalf("RetryAllDeadLetters = %d, %v", n, err)
	}
	waitFor(t, "all applied", 10*time.Second, func() bool { return allOnce(f.applied(t, "user.broken"), ids) })
	if rest, err := admin.DeadLetters(ctx, "", 10); err != nil || len(rest) != 0 {
		t.Fatalf("dead letters left: %v, %v", rest, err)
	}
	// The retries, enqueued long after their events, measured no lag.
	if n := histogramCount(b.metrics.lag.WithLabelValues("user.broken")); n != 2 {
		t.Fatalf("lag samples = %d, want 2", n)
	}
}

// The job table has no CHECK on max_attempts (events/00012): a domain role
// calling publish by hand with none gets one attempt, then a dead letter.
func TestHandPublishedWithoutAttemptsIsTriedOnce(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	var calls atomic.Int64
	f.newBus(t, testOptions(), nil, func(b *Bus) {
		Subscribe(b, f.sub, "user.once", func(ctx context.Context, tx pgx.Tx, m Meta, e UserVerified) error {
			calls.Add(1)
			return errors.New("bug in handler")
		})
	})
	ctx := context.Background()
	id, _ := uuid.NewV7()
	payload := fmt.Sprintf(`{"user_id": %q}`, uuid.New())
	if _, err := f.producer.Exec(ctx, `SELECT events.publish($1, $2, '{1}', $3, '', 0)`,
		[]uuid.UUID{id}, []string{string(TopicUserVerified)}, []string{payload}); err != nil {
		t.Fatal(err)
	}
	admin := NewAdmin(f.events, 1)
	var dead []DeadLetter
	waitFor(t, "dead letter", 10*time.Second, func() bool {
		dead, _ = admin.DeadLetters(ctx, "user.once", 10)
		return len(dead) == 1
	})
	if dead[0].Attempts != 1 || dead[0].EventID != id || calls.Load() != 1 {
		t.Fatalf("dead letter = %+v after %d calls, want 1 attempt", dead[0], calls.Load())
	}
}

func TestUndecodablePayloadIsDeadLetteredAtOnce(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	var calls atomic.Int64
	f.newBus(t, testOptions(), nil, func(b *Bus) {
		Subscribe(b, f.sub, "user.strict", func(ctx context.Context, tx pgx.Tx, m Meta, e UserVerified) error {
			calls.Add(1)
			return nil
		})
	})
	ctx := context.Background()
	// A log entry no UserVerified can read (as an older binary or a manual
	// insert could leave), delivered like any other.
	id, _ := uuid.NewV7()
	if _, err := f.events.Exec(ctx, `INSERT INTO events.domain_events (id, topic, payload, producer) VALUES ($1, 'user.verified', '{"userId": 42}', 'user')`, id); err != nil {
		t.Fatal(err)
	}
	if _, err := f.events.Exec(ctx, `SELECT events.enqueue($1, $2, false, 5)`, []uuid.UUID{id}, []string{"user.strict"}); err != nil {
		t.Fatal(err)
	}
	admin := NewAdmin(f.events, 5)
	var dead []DeadLetter
	waitFor(t, "dead letter", 10*time.Second, func() bool {
		dead, _ = admin.DeadLetters(ctx, "user.strict", 10)
		return len(dead) == 1
	})
	if dead[0].Attempts != 1 || dead[0].EventID != id {
		t.Fatalf("dead letter = %+v, want 1 attempt", dead[0])
	}
	if calls.Load() != 0 {
		t.Fatal("handler called with an undecodable payload")
	}
}

func TestSameEventDeliveredTwiceAppliesOnce(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	reg := prometheus.NewRegistry()
	b := f.newBus(t, testOptions(), reg, func(b *Bus) {
		Subscribe(b, f.sub, "user.a", project("user.a"))
	})
	ids := newIDs(5)
	f.publish(t, b, ids...)
	waitFor(t, "applied", 10*time.Second, func() bool { return allOnce(f.applied(t, "user.a"), ids) })
	f.redeliverAll(t, "user.a")
	dup := b.metrics.handled.WithLabelValues("user.a", string(TopicUserVerified), outcomeDuplicate)
	waitFor(t, "redeliveries skipped", 10*time.Second, func() bool { return counterValue(dup) == 5 })
	if got := f.applied(t, "user.a"); !allOnce(got, ids) {
		t.Fatalf("after redelivery: %v", got)
	}
}

func TestStoppedMidFlightThenRestartedHandlesEachOnce(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	const n = 60
	var started atomic.Int64
	subscribe := func(b *Bus) {
		Subscribe(b, f.sub, "user.slow", func(ctx context.Context, tx pgx.Tx, m Meta, e UserVerified) error {
			started.Add(1)
			if err := project("user.slow")(ctx, tx, m, e); err != nil {
				return err
			}
			select {
			case <-time.After(30 * time.Millisecond):
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		})
	}
	opts := testOptions()
	first, err := NewBus(f.events, quietLog(), nil, opts)
	if err != nil {
		t.Fatal(err)
	}
	subscribe(first)
	if err := first.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	ids := newIDs(n)
	f.publish(t, first, ids...)
	waitFor(t, "work in flight", 10*time.Second, func() bool { return started.Load() >= 10 })
	// A stop whose deadline passes cancels the running handlers: their
	// transactions roll back and the jobs are retried by the next client.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Millisecond)
	err = first.Stop(ctx)
	cancel()
	if err == nil {
		t.Log("first client drained before its deadline")
	}
	if len(f.applied(t, "user.slow")) == n {
		t.Fatal("everything handled before the stop: the test proves nothing")
	}
	if n := count(t, f.events, `SELECT count(*) FROM events.river_job WHERE attempt > 1 OR errors IS NOT NULL`); n != 0 {
		t.Errorf("%d deliveries cancelled by the stop spent an attempt", n)
	}
	f.newBus(t, opts, nil, subscribe)
	waitFor(t, "all handled after restart", 20*time.Second, func() bool { return allOnce(f.applied(t, "user.slow"), ids) })
	if c := count(t, f.sub.Pool, inboxCount, "user.slow"); c != n {
		t.Fatalf("inbox = %d, want %d", c, n)
	}
}

func TestTwoReplicasHandleEachEventOncePerConsumer(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	const n = 100
	consumers := []string{"user.a", "user.b"}
	type counter = map[string]*atomic.Int64
	var buses []*Bus
	perReplica := []counter{{}, {}}
	for r := range 2 {
		reg := prometheus.NewRegistry()
		opts := testOptions()
		opts.ID = []string{"replica-1", "replica-2"}[r]
		buses = append(buses, f.newBus(t, opts, reg, func(b *Bus) {
			for _, c := range consumers {
				calls := &atomic.Int64{}
				perReplica[r][c] = calls
				apply := project(c)
				Subscribe(b, f.sub, c, func(ctx context.Context, tx pgx.Tx, m Meta, e UserVerified) error {
					calls.Add(1)
					return apply(ctx, tx, m, e)
				})
			}
		}))
	}
	ids := newIDs(n)
	for i := 0; i < n; i += 10 {
		f.publish(t, buses[i/10%2], ids[i:i+10]...)
	}
	for _, c := range consumers {
		waitFor(t, c+" applied", 20*time.Second, func() bool { return allOnce(f.applied(t, c), ids) })
		total := perReplica[0][c].Load() + perReplica[1][c].Load()
		if total != n {
			t.Fatalf("%s handler ran %d times across replicas, want %d", c, total, n)
		}
		for r, b := range buses {
			if d := counterValue(b.metrics.handled.WithLabelValues(c, string(TopicUserVerified), outcomeDuplicate)); d != 0 {
				t.Fatalf("replica %d got %v duplicate deliveries of %s", r, d, c)
			}
		}
	}
	t.Logf("work split: replica 1 %d+%d, replica 2 %d+%d", perReplica[0]["user.a"].Load(), perReplica[0]["user.b"].Load(), perReplica[1]["user.a"].Load(), perReplica[1]["user.b"].Load())
}

func TestReplicaWithoutTheConsumerPutsItsDeliveriesBack(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	// A rolling deploy: the new build adds user.new; a replica of the old
	// build, without it, fetches its deliveries too.
	opts := testOptions()
	opts.MaxAttempts = 1
	old := opts
	old.ID = "old-build"
	oldBus := f.newBus(t, old, nil, func(b *Bus) { Subscribe(b, f.sub, "user.old", project("user.old")) })
	ids := newIDs(40)
	newBus := f.unstartedBus(t, opts, nil, func(b *Bus) {
		Subscribe(b, f.sub, "user.old", project("user.old"))
		Subscribe(b, f.sub, "user.new", project("user.new"))
	})
	recordOnly(t, newBus)
	f.publish(t, oldBus, ids...)
	deferred := oldBus.metrics.handled.WithLabelValues("user.new", string(TopicUserVerified), outcomeDeferred)
	waitFor(t, "the old build put deliveries back", 10*time.Second, func() bool { return counterValue(deferred) > 0 })
	if err := newBus.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "user.new applied", 20*time.Second, func() bool { return allOnce(f.applied(t, "user.new"), ids) })
	if dead, err := NewAdmin(f.events, 1).DeadLetters(context.Background(), "", 10); err != nil || len(dead) != 0 {
		t.Fatalf("dead letters = %+v, %v", dead, err)
	}
}

func TestDeliveriesNoReplicaTakesArePutBackLessAndLessOften(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	// A consumer removed from the code: its subscription stays recorded, and
	// the one replica left does not have it.
	gone := f.unstartedBus(t, testOptions(), nil, func(b *Bus) { Subscribe(b, f.sub, "user.gone", project("user.gone")) })
	recordOnly(t, gone)
	b := f.newBus(t, testOptions(), nil, func(b *Bus) { Subscribe(b, f.sub, "user.kept", project("user.kept")) })
	f.publish(t, b, newIDs(10)...)
	// Each put-back waits at least a quarter of the delivery's age when it
	// was fetched (not RetryBase, 20 ms, whatever its age).
	const putBack = `SELECT extract(epoch FROM attempted_at - created_at), extract(epoch FROM scheduled_at - attempted_at)
FROM events.river_job WHERE args->>'consumer' = 'user.gone' AND state IN ('available', 'scheduled')
    AND attempted_at - created_at >= interval '1 second'`
	var waits [][2]float64
	waitFor(t, "deliveries a second old put back", 20*time.Second, func() bool {
		rows, err := f.events.Query(context.Background(), putBack)
		if err != nil {
			t.Fatal(err)
		}
		waits, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) ([2]float64, error) {
			var w [2]float64
			return w, r.Scan(&w[0], &w[1])
		})
		if err != nil {
			t.Fatal(err)
		}
		return len(waits) >= 5
	})
	for _, w := range waits {
		if age, wait := w[0], w[1]; wait < age/4-0.01 {
			t.Fatalf("a delivery %.2f s old was put back for %.3f s, want at least %.3f s", age, wait, age/4)
		}
	}
}

func TestNotHereDelayGrowsWithAgeWithinBounds(t *testing.T) {
	for _, c := range []struct {
		age, least time.Duration
	}{
		{0, time.Second},
		{3 * time.Second, time.Second},
		{40 * time.Second, 10 * time.Second},
		{10 * time.Minute, notHereMaxDelay},
	} {
		for range 100 {
			if d := notHereDelay(c.age, time.Second); d < c.least || d >= 2*c.least {
				t.Fatalf("notHereDelay(%v) = %v, want [%v, %v)", c.age, d, c.least, 2*c.least)
			}
		}
	}
}

func TestReplayRebuildsDroppedProjection(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	b := f.newBus(t, testOptions(), nil, func(b *Bus) {
		Subscribe(b, f.sub, "user.proj", project("user.proj"))
		Subscribe(b, f.sub, "user.proj", func(ctx context.Context, tx pgx.Tx, m Meta, e UserBanned) error {
			return project("user.proj")(ctx, tx, m, UserVerified{UserID: e.UserID})
		})
	})
	ids := newIDs(30)
	f.publish(t, b, ids...)
	ctx := context.Background()
	banned := newIDs(1)[0]
	if err := pgx.BeginFunc(ctx, f.producer, func(tx pgx.Tx) error {
		return b.Publish(ctx, tx, UserBanned{UserID: banned, Reason: "spam"})
	}); err != nil {
		t.Fatal(err)
	}
	all := append(append([]uuid.UUID{}, ids...), banned)
	waitFor(t, "projection built", 10*time.Second, func() bool { return allOnce(f.applied(t, "user.proj"), all) })
	before := f.applied(t, "user.proj")

	if _, err := f.sub.Pool.Exec(ctx, projectionDrop, "user.proj"); err != nil {
		t.Fatal(err)
	}
	admin := NewAdmin(f.events, 5)
	if _, err := admin.Replay(ctx, "user.nobody", "", Since{}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("replay of an unknown consumer: %v", err)
	}
	n, err := admin.Replay(ctx, "user.proj", "", Since{})
	if err != nil || n != 31 {
		t.Fatalf("Replay = %d, %v; want 31", n, err)
	}
	waitFor(t, "projection rebuilt", 10*time.Second, func() bool { return allOnce(f.applied(t, "user.proj"), all) })
	after := f.applied(t, "user.proj")
	if len(after) != len(before) {
		t.Fatalf("rebuilt projection has %d rows, had %d", len(after), len(before))
	}

	// A replay limited to one topic and a recent time re-delivers only that.
	if _, err := f.sub.Pool.Exec(ctx, projectionDrop, "user.proj"); err != nil {
		t.Fatal(err)
	}
	n, err = admin.Replay(ctx, "user.proj", TopicUserBanned, SinceAgo(time.Hour))
	if err != nil || n != 1 {
		t.Fatalf("Replay(topic) = %d, %v; want 1", n, err)
	}
	waitFor(t, "banned replayed", 10*time.Second, func() bool { return allOnce(f.applied(t, "user.proj"), []uuid.UUID{banned}) })
	if n, _ := admin.Replay(ctx, "user.proj", "", SinceTime(time.Now().Add(time.Hour))); n != 0 {
		t.Fatalf("replay since the future enqueued %d", n)
	}
}

func TestStatsReportsBacklogPerConsumer(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	b := f.stoppedBus(t, func(b *Bus) { Subscribe(b, f.sub, "user.idle", project("user.idle")) })
	f.publish(t, b, newIDs(4)...)
	// One delivery failed once, an hour ago, and waits for its retry; the
	// oldest of those waiting for a first attempt is ten minutes old.
	for _, q := range []string{
		`UPDATE events.river_job SET errors = ARRAY['{"error": "x"}'::jsonb], created_at = now() - interval '1 hour' WHERE id = (SELECT min(id) FROM events.river_job)`,
		`UPDATE events.river_job SET created_at = now() - interval '10 minutes' WHERE id = (SELECT max(id) FROM events.river_job)`,
	} {
		if _, err := f.events.Exec(context.Background(), q); err != nil {
			t.Fatal(err)
		}
	}
	st, err := NewAdmin(f.events, 5).Stats(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Topics) != 1 || st.Topics[0].Topic != TopicUserVerified || st.Topics[0].Published != 4 {
		t.Fatalf("topics = %+v", st.Topics)
	}
	if len(st.Consumers) != 1 {
		t.Fatalf("consumers = %+v", st.Consumers)
	}
	c := st.Consumers[0]
	if c.Consumer != "user.idle" || c.Topics != 1 || c.Pending != 3 || c.Failed != 1 || c.Running != 0 || c.Dead != 0 ||
		c.OldestPending < 10*time.Minute || c.OldestPending > 11*time.Minute {
		t.Fatalf("consumer stats = %+v", c)
	}
}

func TestSubscribeWiringErrorsAreReportedByStart(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	for name, subscribe := range map[string]func(*Bus){
		"foreign prefix": func(b *Bus) { Subscribe(b, f.sub, "content.x", project("content.x")) },
		"no purpose":     func(b *Bus) { Subscribe(b, f.sub, "user", project("user")) },
		"twice": func(b *Bus) {
			Subscribe(b, f.sub, "user.x", project("user.x"))
			Subscribe(b, f.sub, "user.x", project("user.x"))
		},
	} {
		b, err := NewBus(f.events, quietLog(), nil, testOptions())
		if err != nil {
			t.Fatal(err)
		}
		subscribe(b)
		if err := b.Start(context.Background()); err == nil {
			t.Errorf("%s: Start succeeded", name)
		}
		if err := b.Stop(context.Background()); err != nil {
			t.Errorf("%s: Stop: %v", name, err)
		}
	}
}

func TestBatchedDeliveriesIsolateAFailingHandler(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ids := newIDs(60)
	poison := ids[17]
	var failed atomic.Bool
	var mu sync.Mutex
	txs := map[pgx.Tx]bool{}
	opts := testOptions()
	opts.Workers = 64
	f.newBus(t, opts, nil, func(b *Bus) {
		for _, c := range []string{"user.a", "user.b"} {
			apply := project(c)
			Subscribe(b, f.sub, c, func(ctx context.Context, tx pgx.Tx, m Meta, e UserVerified) error {
				mu.Lock()
				txs[tx] = true
				mu.Unlock()
				if c == "user.a" && e.UserID == poison && failed.CompareAndSwap(false, true) {
					return errors.New("poisoned once")
				}
				return apply(ctx, tx, m, e)
			})
		}
	})
	b2, err := NewBus(f.events, quietLog(), nil, testOptions())
	if err != nil {
		t.Fatal(err)
	}
	// One publishing transaction: the 120 deliveries are fetched together.
	f.publish(t, b2, ids...)
	for _, c := range []string{"user.a", "user.b"} {
		waitFor(t, c+" applied", 10*time.Second, func() bool { return allOnce(f.applied(t, c), ids) })
	}
	if !failed.Load() {
		t.Fatal("the poisoned delivery never failed")
	}
	mu.Lock()
	defer mu.Unlock()
	if len(txs) >= 120 {
		t.Fatalf("%d transactions for 120 deliveries: no batching", len(txs))
	}
	t.Logf("120 deliveries in %d transactions", len(txs))
}

func TestMetricsAreExported(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	reg := prometheus.NewRegistry()
	b := f.newBus(t, testOptions(), reg, func(b *Bus) {
		Subscribe(b, f.sub, "user.a", project("user.a"))
	})
	ids := newIDs(3)
	f.publish(t, b, ids...)
	waitFor(t, "applied", 10*time.Second, func() bool { return allOnce(f.applied(t, "user.a"), ids) })
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, mf := range families {
		got[mf.GetName()] = true
	}
	for _, name := range []string{
		"nova_events_published_total", "nova_events_handled_total", "nova_events_handle_duration_seconds",
		"nova_events_delivery_lag_seconds", "nova_events_queue_depth", "nova_events_dead_letter_queue_size",
	} {
		if !got[name] {
			t.Errorf("metric %s not exported (have %v)", name, got)
		}
	}
	if v := counterValue(b.metrics.published.WithLabelValues(string(TopicUserVerified))); v != 3 {
		t.Errorf("published = %v, want 3", v)
	}
	if v := counterValue(b.metrics.handled.WithLabelValues("user.a", string(TopicUserVerified), outcomeOK)); v != 3 {
		t.Errorf("handled ok = %v, want 3", v)
	}
}

func TestSlowDomainDoesNotStarveOthers(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	release := make(chan struct{})
	var slowDone sync.Map
	opts := testOptions()
	opts.Workers = 8 // a domain may hold 2 of them
	search := Subscriber{Domain: domains.Search, Pool: f.db.Pools.For(domains.Search)}
	b := f.newBus(t, opts, nil, func(b *Bus) {
		Subscribe(b, f.sub, "user.fast", project("user.fast"))
		Subscribe(b, search, "search.slow", func(ctx context.Context, tx pgx.Tx, m Meta, e UserVerified) error {
			select {
			case <-release:
			case <-ctx.Done():
				return ctx.Err()
			}
			slowDone.Store(e.UserID, true)
			return nil
		})
	})
	ids := newIDs(40)
	for i := 0; i < len(ids); i += 4 {
		f.publish(t, b, ids[i:i+4]...)
	}
	waitFor(t, "fast consumer applied everything while the slow one is stuck", 10*time.Second, func() bool {
		return allOnce(f.applied(t, "user.fast"), ids)
	})
	close(release)
	waitFor(t, "slow consumer done", 20*time.Second, func() bool {
		n := 0
		slowDone.Range(func(any, any) bool { n++; return true })
		return n == len(ids)
	})
}

// TestFinishedJobsArePrunedAndTheLogKept: River's cleaner deletes finished
// deliveries older than JobRetention; the events stay in the log. The
// cleaner runs when a client becomes leader and then every 30 s, so a second
// client with a short retention takes over from the first.
func TestFinishedJobsArePrunedAndTheLogKept(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	subscribe := func(b *Bus) { Subscribe(b, f.sub, "user.a", project("user.a")) }
	first, err := NewBus(f.events, quietLog(), nil, testOptions())
	if err != nil {
		t.Fatal(err)
	}
	subscribe(first)
	if err := first.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	ids := newIDs(5)
	f.publish(t, first, ids...)
	waitFor(t, "deliveries completed", 10*time.Second, func() bool {
		return count(t, f.events, `SELECT count(*) FROM events.river_job WHERE state = 'completed'`) == 5
	})
	if err := first.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}

	opts := testOptions()
	opts.JobRetention = time.Millisecond
	f.newBus(t, opts, nil, subscribe)
	waitFor(t, "finished jobs pruned", 20*time.Second, func() bool {
		return count(t, f.events, `SELECT count(*) FROM events.river_job`) == 0
	})
	if n := count(t, f.events, `SELECT count(*) FROM events.domain_events`); n != 5 {
		t.Fatalf("log entries after pruning = %d, want 5", n)
	}
	if !allOnce(f.applied(t, "user.a"), ids) {
		t.Fatal("projection changed by the pruning")
	}
}

func TestPanickingHandlerFailsOnlyItsDelivery(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ids := newIDs(3)
	poison := ids[1]
	opts := testOptions()
	opts.MaxAttempts = 2
	apply := project("user.fragile")
	b := f.newBus(t, opts, nil, func(b *Bus) {
		Subscribe(b, f.sub, "user.fragile", func(ctx context.Context, tx pgx.Tx, m Meta, e UserVerified) error {
			if e.UserID == poison {
				var counts map[uuid.UUID]*int
				*counts[e.UserID]++ // a handler bug: nil dereference
			}
			return apply(ctx, tx, m, e)
		})
	})
	// One publishing transaction, so that the three share delivery batches.
	f.publish(t, b, ids...)
	admin := NewAdmin(f.events, opts.MaxAttempts)
	var dead []DeadLetter
	waitFor(t, "dead letter", 10*time.Second, func() bool {
		dead, _ = admin.DeadLetters(context.Background(), "user.fragile", 10)
		return len(dead) == 1
	})
	if d := dead[0]; d.Attempts != 2 || !strings.HasPrefix(d.Error, "handler panicked: runtime error: invalid memory address") {
		t.Fatalf("dead letter = %+v", d)
	}
	got := f.applied(t, "user.fragile")
	if len(got) != 2 || got[ids[0]] != 1 || got[ids[2]] != 1 {
		t.Fatalf("applied = %v, want the two others once each", got)
	}
}

func TestDeliveryWhoseLastAttemptWasLostIsDeadLettered(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	subscribe := func(b *Bus) { Subscribe(b, f.sub, "user.lost", project("user.lost")) }
	f.publish(t, f.stoppedBus(t, subscribe), newIDs(1)...)
	// As a replica lost while it tried the delivery for the last time leaves
	// the job: running, its attempts spent, long ago.
	if _, err := f.events.Exec(ctx, `UPDATE events.river_job SET state = 'running', attempt = $1,
		attempted_at = now() - interval '1 hour', attempted_by = ARRAY['lost']`, testOptions().MaxAttempts); err != nil {
		t.Fatal(err)
	}
	opts := testOptions()
	opts.HandlerTimeout = time.Second
	opts.RescueAfter = time.Second
	f.newBus(t, opts, nil, subscribe)
	admin := NewAdmin(f.events, opts.MaxAttempts)
	var dead []DeadLetter
	waitFor(t, "dead letter", time.Minute, func() bool {
		dead, _ = admin.DeadLetters(ctx, "user.lost", 10)
		return len(dead) == 1
	})
	if d := dead[0]; d.Attempts != opts.MaxAttempts || !strings.Contains(d.Error, "did not finish") || !strings.Contains(d.Error, "rescued") {
		t.Fatalf("dead letter = %+v", d)
	}
	waitFor(t, "job finished", 10*time.Second, func() bool {
		return count(t, f.events, `SELECT count(*) FROM events.river_job WHERE state = 'completed'`) == 1
	})
	if got := f.applied(t, "user.lost"); len(got) != 0 {
		t.Fatalf("applied = %v", got)
	}
}

func TestRedeliveredReplayIsSkippedAndANewReplayApplies(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	reg := prometheus.NewRegistry()
	b := f.newBus(t, testOptions(), reg, func(b *Bus) { Subscribe(b, f.sub, "user.proj", project("user.proj")) })
	ids := newIDs(1)
	f.publish(t, b, ids...)
	waitFor(t, "applied", 10*time.Second, func() bool { return allOnce(f.applied(t, "user.proj"), ids) })
	ctx := context.Background()
	if _, err := f.sub.Pool.Exec(ctx, projectionDrop, "user.proj"); err != nil {
		t.Fatal(err)
	}
	admin := NewAdmin(f.events, 5)
	if _, err := admin.Replay(ctx, "user.proj", "", Since{}); err != nil {
		t.Fatal(err)
	}
	replayed := `SELECT count(*) FROM events.river_job WHERE args ? 'replay' AND state = 'completed'`
	waitFor(t, "replay completed", 10*time.Second, func() bool { return count(t, f.events, replayed) == 1 })
	// The replay job delivered again, as after a crash that lost its
	// completion: the inbox knows this job applied the event.
	if _, err := f.events.Exec(ctx, `UPDATE events.river_job SET state = 'available', finalized_at = NULL, scheduled_at = now() WHERE args ? 'replay'`); err != nil {
		t.Fatal(err)
	}
	dup := b.metrics.handled.WithLabelValues("user.proj", string(TopicUserVerified), outcomeDuplicate)
	waitFor(t, "redelivered replay skipped", 10*time.Second, func() bool { return counterValue(dup) == 1 })
	if got := f.applied(t, "user.proj"); got[ids[0]] != 1 {
		t.Fatalf("redelivered replay applied %d times", got[ids[0]])
	}
	// A second replay is a new job and applies again.
	if _, err := admin.Replay(ctx, "user.proj", "", Since{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "second replay applied", 10*time.Second, func() bool { return f.applied(t, "user.proj")[ids[0]] == 2 })
}

func TestDeadReplayIsRetriedAsAReplay(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	var broken atomic.Bool
	opts := testOptions()
	opts.MaxAttempts = 2
	apply := project("user.proj")
	reg := prometheus.NewRegistry()
	b := f.newBus(t, opts, reg, func(b *Bus) {
		Subscribe(b, f.sub, "user.proj", func(ctx context.Context, tx pgx.Tx, m Meta, e UserVerified) error {
			if broken.Load() {
				return errors.New("bug in the rebuilt handler")
			}
			return apply(ctx, tx, m, e)
		})
	})
	ids := newIDs(3)
	f.publish(t, b, ids...)
	waitFor(t, "projection built", 10*time.Second, func() bool { return allOnce(f.applied(t, "user.proj"), ids) })

	// The projection is dropped and replayed by a broken handler.
	ctx := context.Background()
	broken.Store(true)
	if _, err := f.sub.Pool.Exec(ctx, projectionDrop, "user.proj"); err != nil {
		t.Fatal(err)
	}
	admin := NewAdmin(f.events, opts.MaxAttempts)
	if _, err := admin.Replay(ctx, "user.proj", "", Since{}); err != nil {
		t.Fatal(err)
	}
	var dead []DeadLetter
	waitFor(t, "dead replays", 10*time.Second, func() bool {
		dead, _ = admin.DeadLetters(ctx, "user.proj", 10)
		return len(dead) == 3
	})
	if !dead[0].Replay {
		t.Fatalf("dead letter of a replay = %+v", dead[0])
	}

	// Fixed, the retried replays rebuild the projection: as plain
	// deliveries, the inbox would skip them.
	broken.Store(false)
	if n, err := admin.RetryAllDeadLetters(ctx, ""); err != nil || n != 3 {
		t.Fatalf("RetryAllDeadLetters = %d, %v", n, err)
	}
	waitFor(t, "projection rebuilt", 10*time.Second, func() bool { return allOnce(f.applied(t, "user.proj"), ids) })

	// Only the first deliveries measured a lag, not the replays or retries.
	if n := histogramCount(b.metrics.lag.WithLabelValues("user.proj")); n != 3 {
		t.Fatalf("lag samples = %d, want 3", n)
	}
}

// TestHandlerErrorThatPostgresCannotStore: River records a failed
// attempt's error in jsonb, and the outcomes of jobs finishing together in
// one statement; the dead-letter queue keeps it as text. A handler error
// holding a NUL byte (or bytes that are not UTF-8) must neither strand the
// other deliveries finished with it nor keep its own from being retried and
// dead-lettered.
func TestHandlerErrorThatPostgresCannotStore(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	opts := testOptions()
	opts.MaxAttempts = 2
	b := f.newBus(t, opts, nil, func(b *Bus) {
		Subscribe(b, f.sub, "user.failing", func(context.Context, pgx.Tx, Meta, UserVerified) error {
			return errors.New("upstream said \x00\xff")
		})
		Subscribe(b, f.sub, "user.proj", project("user.proj"))
	})
	ids := newIDs(10)
	f.publish(t, b, ids...)
	waitFor(t, "the other consumer's deliveries finished", 10*time.Second, func() bool {
		return count(t, f.events, `SELECT count(*) FROM events.river_job WHERE args->>'consumer' = 'user.proj' AND state = 'completed'`) == int64(len(ids))
	})
	admin := NewAdmin(f.events, opts.MaxAttempts)
	var dead []DeadLetter
	waitFor(t, "failing deliveries dead-lettered", 10*time.Second, func() bool {
		dead, _ = admin.DeadLetters(context.Background(), "user.failing", 100)
		return len(dead) == len(ids)
	})
	if want := "upstream said \\x00\uFFFD"; dead[0].Error != want || dead[0].Attempts != opts.MaxAttempts {
		t.Fatalf("dead letter = %+v, want error %q after %d attempts", dead[0], want, opts.MaxAttempts)
	}
}
