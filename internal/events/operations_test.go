package events

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus"
)

// TestShutdownOnTheLastAttemptIsNotDeadLettered: a handler cancelled by a
// shutdown that outlasted the timeout is delivered again by the next
// worker, without spending an attempt, even when it was on its last one.
func TestShutdownOnTheLastAttemptIsNotDeadLettered(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	opts := testOptions()
	opts.MaxAttempts = 1
	started := make(chan struct{}, 1)
	b, err := NewBus(f.events, quietLog(), nil, opts)
	if err != nil {
		t.Fatal(err)
	}
	Subscribe(b, f.sub, "user.slow", func(ctx context.Context, tx pgx.Tx, m Meta, e UserVerified) error {
		select {
		case started <- struct{}{}:
		default:
		}
		if err := project("user.slow")(ctx, tx, m, e); err != nil {
			return err
		}
		<-ctx.Done()
		return ctx.Err()
	})
	if err := b.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	ids := newIDs(1)
	f.publish(t, b, ids...)
	select {
	case <-started:
	case <-time.After(10 * time.Second):
		t.Fatal("handler never started")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := b.Stop(ctx); err == nil {
		t.Fatal("Stop returned no error although a handler outlasted its deadline")
	}
	if n := count(t, f.events, `SELECT count(*) FROM events.dead_letter_queue`); n != 0 {
		t.Fatalf("dead letters after a shutdown = %d, want 0", n)
	}
	if n := count(t, f.events, `SELECT count(*) FROM events.river_job WHERE state = 'available' AND attempt = 0`); n != 1 {
		t.Fatalf("deliveries put back with their attempt unspent = %d, want 1", n)
	}
	f.newBus(t, opts, nil, func(b *Bus) { Subscribe(b, f.sub, "user.slow", project("user.slow")) })
	waitFor(t, "delivered by the next worker", 10*time.Second, func() bool { return allOnce(f.applied(t, "user.slow"), ids) })
}

// TestReplayDoesNotReapplyWhatWasAppliedAfterIt: an event applied live after
// the replay was enqueued is already in the projection the replay rebuilds,
// so the replay skips it instead of applying it a second time.
func TestReplayDoesNotReapplyWhatWasAppliedAfterIt(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	subscribe := func(b *Bus) { Subscribe(b, f.sub, "user.proj", project("user.proj")) }
	ids := newIDs(1)
	// The live delivery is still waiting (a backlog, a consumer being fixed)
	// when the operator clears the projection and replays.
	f.publish(t, f.stoppedBus(t, subscribe), ids...)
	n, err := NewAdmin(f.events, 5).Replay(ctx, "user.proj", "", Since{})
	if err != nil || n != 1 {
		t.Fatalf("Replay = %d, %v", n, err)
	}
	// The live delivery goes first.
	hold := `UPDATE events.river_job SET scheduled_at = now() + interval '1 hour' WHERE args ? 'replay'`
	if _, err := f.events.Exec(ctx, hold); err != nil {
		t.Fatal(err)
	}
	f.newBus(t, testOptions(), nil, subscribe)
	waitFor(t, "live delivery applied", 10*time.Second, func() bool { return allOnce(f.applied(t, "user.proj"), ids) })
	if _, err := f.events.Exec(ctx, `UPDATE events.river_job SET scheduled_at = now() WHERE args ? 'replay'`); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "replay finished", 10*time.Second, func() bool {
		return count(t, f.events, `SELECT count(*) FROM events.river_job WHERE args ? 'replay' AND state = 'completed'`) == 1
	})
	if got := f.applied(t, "user.proj"); got[ids[0]] != 1 {
		t.Fatalf("event applied %d times, want once", got[ids[0]])
	}
}

// TestRetriedDeadReplayDoesNotReapplyWhatWasAppliedAfterIt: a replay that
// died and is retried keeps the time it was queued, so an event applied live
// after that, onto the projection the replay rebuilds, is not applied again
// by the retry.
func TestRetriedDeadReplayDoesNotReapplyWhatWasAppliedAfterIt(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	var broken atomic.Bool
	apply := project("user.proj")
	subscribe := func(b *Bus) {
		Subscribe(b, f.sub, "user.proj", func(ctx context.Context, tx pgx.Tx, m Meta, e UserVerified) error {
			if broken.Load() {
				return errors.New("bug in the rebuilt handler")
			}
			return apply(ctx, tx, m, e)
		})
	}
	ids := newIDs(1)
	// The live delivery is still waiting when the operator replays, and
	// waits until the replay has died.
	f.publish(t, f.stoppedBus(t, subscribe), ids...)
	opts := testOptions()
	opts.MaxAttempts = 2
	admin := NewAdmin(f.events, opts.MaxAttempts)
	if n, err := admin.Replay(ctx, "user.proj", "", Since{}); err != nil || n != 1 {
		t.Fatalf("Replay = %d, %v", n, err)
	}
	if _, err := f.events.Exec(ctx, `UPDATE events.river_job SET scheduled_at = now() + interval '1 hour' WHERE NOT args ? 'replay'`); err != nil {
		t.Fatal(err)
	}
	broken.Store(true)
	f.newBus(t, opts, nil, subscribe)
	waitFor(t, "replay dead", 10*time.Second, func() bool {
		dead, err := admin.DeadLetters(ctx, "user.proj", 10)
		return err == nil && len(dead) == 1
	})

	// Fixed, the live delivery applies the event, after the replay was
	// queued; then the dead replay is retried.
	broken.Store(false)
	if _, err := f.events.Exec(ctx, `UPDATE events.river_job SET scheduled_at = now() WHERE NOT args ? 'replay'`); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "live delivery applied", 10*time.Second, func() bool { return allOnce(f.applied(t, "user.proj"), ids) })
	if n, err := admin.RetryAllDeadLetters(ctx, "user.proj"); err != nil || n != 1 {
		t.Fatalf("RetryAllDeadLetters = %d, %v", n, err)
	}
	// The dead replay's job was finished when it was buried; the retry's
	// is the second.
	waitFor(t, "retried replay finished", 10*time.Second, func() bool {
		return count(t, f.events, `SELECT count(*) FROM events.river_job WHERE args ? 'replay' AND state = 'completed'`) == 2
	})
	if got := f.applied(t, "user.proj"); got[ids[0]] != 1 {
		t.Fatalf("event applied %d times, want once", got[ids[0]])
	}
}

// TestReplayEnqueuesAPageAtATime: a replay of a long log is enqueued in
// bounded transactions, oldest first, each event once.
func TestReplayEnqueuesAPageAtATime(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	b := f.stoppedBus(t, func(b *Bus) { Subscribe(b, f.sub, "user.proj", project("user.proj")) })
	for range 5 {
		f.publish(t, b, newIDs(5)...)
	}
	admin := NewAdmin(f.events, 5)
	admin.replayPage = 10
	n, err := admin.Replay(ctx, "user.proj", "", Since{})
	if err != nil || n != 25 {
		t.Fatalf("Replay = %d, %v; want 25", n, err)
	}
	replays := `FROM events.river_job WHERE args ? 'replay'`
	if n := count(t, f.events, `SELECT count(DISTINCT args->>'event_id') `+replays); n != 25 {
		t.Fatalf("events replayed = %d, want 25", n)
	}
	if n := count(t, f.events, `SELECT count(DISTINCT xmin::text) `+replays); n != 3 {
		t.Fatalf("replay transactions = %d, want 3 of at most 10 events", n)
	}
	// Oldest first: job ids follow event ids.
	if n := count(t, f.events, `SELECT count(*) FROM (SELECT (args->>'event_id')::uuid AS e, lag((args->>'event_id')::uuid) OVER (ORDER BY id) AS prev `+replays+`) j WHERE prev > e`); n != 0 {
		t.Fatalf("%d replayed events enqueued before an older one", n)
	}
}

// TestReplayOfManyPagesDoesNotReapplyWhatWasAppliedWhileItWasQueued: a
// live delivery applied while a long replay is still being queued, onto the
// cleared projection, is not applied again by the replay's later pages.
func TestReplayOfManyPagesDoesNotReapplyWhatWasAppliedWhileItWasQueued(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	subscribe := func(b *Bus) { Subscribe(b, f.sub, "user.proj", project("user.proj")) }
	ids := newIDs(2)
	// Both live deliveries are still waiting when the operator replays.
	f.publish(t, f.stoppedBus(t, subscribe), ids...)
	if _, err := f.events.Exec(ctx, `UPDATE events.river_job SET scheduled_at = now() + interval '1 hour'`); err != nil {
		t.Fatal(err)
	}
	f.newBus(t, testOptions(), nil, subscribe)
	// The replay's first page waits, in its transaction, for a lock the test
	// holds, while the live deliveries are applied.
	var first string
	if err := f.events.QueryRow(ctx, `SELECT id::text FROM events.domain_events ORDER BY id LIMIT 1`).Scan(&first); err != nil {
		t.Fatal(err)
	}
	const lock = 7406310599
	onJobInsert(t, f.events, `IF NEW.args ? 'replay' AND NEW.args->>'event_id' = '`+first+`' THEN PERFORM pg_advisory_xact_lock(`+strconv.Itoa(lock)+`); END IF`)
	holder, err := f.events.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Release()
	if _, err := holder.Exec(ctx, `SELECT pg_advisory_lock($1)`, lock); err != nil {
		t.Fatal(err)
	}
	admin := NewAdmin(f.events, 5)
	admin.replayPage = 1
	type result struct {
		n   int64
		err error
	}
	done := make(chan result, 1)
	go func() {
		n, err := admin.Replay(ctx, "user.proj", "", Since{})
		done <- result{n, err}
	}()
	waitFor(t, "the replay's first page waiting", 10*time.Second, func() bool {
		return count(t, f.events, `SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted`) == 1
	})
	if _, err := f.events.Exec(ctx, `UPDATE events.river_job SET scheduled_at = now() WHERE NOT args ? 'replay'`); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "live deliveries applied", 10*time.Second, func() bool { return allOnce(f.applied(t, "user.proj"), ids) })
	if _, err := holder.Exec(ctx, `SELECT pg_advisory_unlock($1)`, lock); err != nil {
		t.Fatal(err)
	}
	if r := <-done; r.err != nil || r.n != 2 {
		t.Fatalf("Replay = %d, %v; want 2", r.n, r.err)
	}
	waitFor(t, "replay finished", 10*time.Second, func() bool {
		return count(t, f.events, `SELECT count(*) FROM events.river_job WHERE args ? 'replay' AND state = 'completed'`) == 2
	})
	if got := f.applied(t, "user.proj"); !allOnce(got, ids) {
		t.Fatalf("applications per event = %v, want each once", got)
	}
}

// TestReplayWakesTheWorkers: a replay tells the workers of every replica
// that it queued deliveries, as a publication does.
func TestReplayWakesTheWorkers(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	f.publish(t, f.stoppedBus(t, func(b *Bus) { Subscribe(b, f.sub, "user.proj", project("user.proj")) }), newIDs(1)...)
	listener, err := f.events.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer listener.Release()
	if _, err := listener.Exec(ctx, `LISTEN "events.river_insert"`); err != nil {
		t.Fatal(err)
	}
	if n, err := NewAdmin(f.events, 5).Replay(ctx, "user.proj", "", Since{}); err != nil || n != 1 {
		t.Fatalf("Replay = %d, %v; want 1", n, err)
	}
	wait, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if _, err := listener.Conn().WaitForNotification(wait); err != nil {
		t.Fatalf("no notification of the replay: %v", err)
	}
}

// TestReplayTakesTheEventsLoggedWhenItStarts: an event logged while a
// replay is being queued has its live delivery; the replay's later pages
// leave it out.
func TestReplayTakesTheEventsLoggedWhenItStarts(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.publish(t, f.stoppedBus(t, func(b *Bus) { Subscribe(b, f.sub, "user.proj", project("user.proj")) }), newIDs(1)...)
	onJobInsert(t, f.events, `IF NEW.args ? 'replay' AND NOT EXISTS (SELECT FROM events.domain_events WHERE producer = 'late') THEN
		INSERT INTO events.domain_events (id, topic, payload, producer, occurred_at)
		VALUES ('ffffffff-ffff-7fff-bfff-ffffffffffff', 'user.verified', jsonb_build_object('userId', gen_random_uuid()), 'late', clock_timestamp());
	END IF`)
	admin := NewAdmin(f.events, 5)
	admin.replayPage = 1
	if n, err := admin.Replay(context.Background(), "user.proj", "", Since{}); err != nil || n != 1 {
		t.Fatalf("Replay = %d, %v; want the 1 event logged before it", n, err)
	}
}

// TestReplaySharingATransactionWithALiveRedelivery: a replay and a live
// delivery of the same event to the same consumer can share a transaction
// (a live delivery redone after its completion was lost, fetched with the
// replay). The live one finds the event applied long before the replay was
// queued and is skipped; the replay must still apply it to the cleared
// projection. And when the live one is new, it is applied once, onto the
// cleared projection, and the replay skipped.
func TestReplaySharingATransactionWithALiveRedelivery(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	in := newInbox(f.sub, Options{}.withDefaults(), prometheus.NewCounter(prometheus.CounterOpts{Name: "split"}))
	for name, appliedBefore := range map[string]bool{"applied before the replay": true, "not applied yet": false} {
		t.Run(name, func(t *testing.T) {
			consumer := map[bool]string{true: "user.replayed", false: "user.fresh"}[appliedBefore]
			user, event := uuid.New(), uuid.Must(uuid.NewV7())
			if appliedBefore {
				if _, err := f.sub.Pool.Exec(ctx, `INSERT INTO users.event_inbox (consumer, event_id, handled_at) VALUES ($1, $2, now() - interval '1 hour')`, consumer, event); err != nil {
					t.Fatal(err)
				}
			}
			apply := project(consumer)
			member := func(job int64, replay bool) *pending {
				return &pending{ctx: ctx, job: job, enqueued: time.Now().Add(-time.Minute), done: make(chan result, 1),
					args: deliveryArgs{Consumer: consumer, EventID: event, Replay: replay},
					apply: func(ctx context.Context, tx pgx.Tx, _ *pgx.Batch, m Meta) error {
						return apply(ctx, tx, m, UserVerified{UserID: user})
					}}
			}
			live, replay := member(1, false), member(2, true)
			in.runBatch([]*pending{live, replay})
			var outcomes []string
			for _, p := range []*pending{live, replay} {
				r := <-p.done
				if r.err != nil {
					t.Fatalf("delivery failed: %v", r.err)
				}
				outcomes = append(outcomes, r.outcome)
			}
			want := []string{outcomeOK, outcomeDuplicate}
			if appliedBefore {
				want = []string{outcomeDuplicate, outcomeOK}
			}
			if outcomes[0] != want[0] || outcomes[1] != want[1] {
				t.Errorf("outcomes live, replay = %v, want %v", outcomes, want)
			}
			if got := f.applied(t, consumer); got[user] != 1 {
				t.Errorf("applied %d times, want once", got[user])
			}
		})
	}
}

// seenAgo sets when consumer's subscriptions were last recorded.
func seenAgo(t *testing.T, f *fixture, consumer string, ago time.Duration) {
	t.Helper()
	if _, err := f.events.Exec(context.Background(), `UPDATE events.event_subscriptions SET seen_at = now() - $2::interval WHERE consumer = $1`, consumer, ago); err != nil {
		t.Fatal(err)
	}
}

func TestUnsubscribeRemovesWhatNoReplicaRecords(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	// user.gone was removed from the code: recorded once, never since.
	recordOnly(t, f.unstartedBus(t, testOptions(), nil, func(b *Bus) { Subscribe(b, f.sub, "user.gone", project("user.gone")) }))
	seenAgo(t, f, "user.gone", 2*SubscriptionsStaleAfter)
	b := f.newBus(t, testOptions(), nil, func(b *Bus) { Subscribe(b, f.sub, "user.kept", project("user.kept")) })
	admin := NewAdmin(f.events, 0)

	removed, kept, err := admin.Unsubscribe(ctx, "user.kept", "")
	if err != nil || len(removed) != 0 || !slices.Equal(kept, []Topic{TopicUserVerified}) {
		t.Fatalf("Unsubscribe(user.kept) = %v, %v, %v; want it kept", removed, kept, err)
	}
	if _, _, err := admin.Unsubscribe(ctx, "user.gone", TopicUserBanned); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Unsubscribe(user.gone, a topic it lacks): %v", err)
	}
	removed, kept, err = admin.Unsubscribe(ctx, "user.gone", "")
	if err != nil || !slices.Equal(removed, []Topic{TopicUserVerified}) || len(kept) != 0 {
		t.Fatalf("Unsubscribe(user.gone) = %v, %v, %v; want it removed", removed, kept, err)
	}
	if _, _, err := admin.Unsubscribe(ctx, "user.gone", ""); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second Unsubscribe(user.gone): %v", err)
	}
	ids := newIDs(3)
	f.publish(t, b, ids...)
	waitFor(t, "user.kept applied", 10*time.Second, func() bool { return allOnce(f.applied(t, "user.kept"), ids) })
	if n := count(t, f.events, `SELECT count(*) FROM events.river_job WHERE args->>'consumer' = 'user.gone'`); n != 0 {
		t.Fatalf("%d deliveries enqueued for an unsubscribed consumer", n)
	}
}

func TestRunningBusRecordsItsSubscriptionsAgain(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	b := f.unstartedBus(t, testOptions(), nil, func(b *Bus) { Subscribe(b, f.sub, "user.alive", project("user.alive")) })
	b.seenEvery = 20 * time.Millisecond
	if err := b.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	const fresh = `SELECT count(*) FROM events.event_subscriptions WHERE consumer = 'user.alive' AND seen_at > now() - interval '1 minute'`
	seenAgo(t, f, "user.alive", time.Hour)
	waitFor(t, "subscription recorded again", 5*time.Second, func() bool { return count(t, f.events, fresh) == 1 })
	// Unsubscribing it now keeps it: a running replica has it.
	if removed, _, err := NewAdmin(f.events, 0).Unsubscribe(context.Background(), "user.alive", ""); err != nil || len(removed) != 0 {
		t.Fatalf("Unsubscribe of a running consumer removed %v, %v", removed, err)
	}
	if err := b.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	seenAgo(t, f, "user.alive", time.Hour)
	time.Sleep(100 * time.Millisecond)
	if n := count(t, f.events, fresh); n != 0 {
		t.Fatal("a stopped bus recorded its subscriptions again")
	}
}

func TestReplicasRecordingTheirSubscriptionsAtOnceDoNotDeadlock(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	buses := make([]*Bus, 2)
	for i := range buses {
		buses[i] = f.unstartedBus(t, testOptions(), nil, func(b *Bus) {
			for c := range 8 {
				Subscribe(b, f.sub, "user.c"+strconv.Itoa(c), project("user.c"+strconv.Itoa(c)))
			}
		})
	}
	for range 30 {
		var wg sync.WaitGroup
		errs := make([]error, len(buses))
		for i, b := range buses {
			wg.Go(func() {
				consumers, topics := b.subscriptions()
				errs[i] = b.recordSubscriptions(context.Background(), consumers, topics)
			})
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			t.Fatal(err)
		}
	}
}
