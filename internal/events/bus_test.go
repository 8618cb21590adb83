package events

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgerrcode"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/nova-social/nova/internal/platform/domains"
	"github.com/nova-social/nova/internal/platform/requestid"
)

func TestPublishCommitsLogAndOneJobPerConsumer(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	b := f.stoppedBus(t, func(b *Bus) {
		Subscribe(b, f.sub, "user.a", project("user.a"))
		Subscribe(b, f.sub, "user.b", project("user.b"))
	})
	ids := newIDs(3)
	f.publish(t, b, ids...)

	if n := count(t, f.events, `SELECT count(*) FROM events.domain_events WHERE topic = 'user.verified' AND producer = 'user'`); n != 3 {
		t.Fatalf("log entries by user = %d, want 3", n)
	}
	if n := count(t, f.events, `SELECT count(*) FROM events.river_job WHERE kind = 'nova_event'`); n != 6 {
		t.Fatalf("delivery jobs = %d, want 6 (3 events × 2 consumers)", n)
	}
	// A job names its event and consumer; the worker reads the event from the log.
	if n := count(t, f.events, `SELECT count(DISTINCT (j.args->>'consumer', e.id)) FROM events.river_job j
		JOIN events.domain_events e ON e.id = (j.args->>'event_id')::uuid
		WHERE e.producer = 'user' AND j.args->>'consumer' IN ('user.a', 'user.b')`); n != 6 {
		t.Fatalf("jobs naming a logged event and a consumer = %d, want 6", n)
	}
}

func TestRollbackLeavesNoEventAndNoJob(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	b := f.newBus(t, testOptions(), nil, func(b *Bus) {
		Subscribe(b, f.sub, "user.a", project("user.a"))
	})
	ctx := context.Background()
	tx, err := f.producer.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// Released on a failure too: the pool's cleanup waits for every
	// connection to come back.
	defer func() { _ = tx.Rollback(ctx) }()
	id := newIDs(1)[0]
	if _, err := tx.Exec(ctx, producerInsert, id); err != nil {
		t.Fatal(err)
	}
	if err := b.Publish(ctx, tx, UserVerified{UserID: id}); err != nil {
		t.Fatal(err)
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	if n := count(t, f.events, `SELECT count(*) FROM events.domain_events`); n != 0 {
		t.Fatalf("log entries after rollback = %d", n)
	}
	if n := count(t, f.events, `SELECT count(*) FROM events.river_job`); n != 0 {
		t.Fatalf("jobs after rollback = %d", n)
	}
}

func TestQueuePublishCommitsWithTheBatch(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	b := f.newBus(t, testOptions(), nil, func(b *Bus) {
		Subscribe(b, f.sub, "user.a", project("user.a"))
	})
	ctx := context.Background()
	send := func(id uuid.UUID, failAfter bool) error {
		batch := &pgx.Batch{}
		batch.Queue(producerInsert, id)
		if err := b.QueuePublish(ctx, batch, UserVerified{UserID: id}); err != nil {
			t.Fatal(err)
		}
		if failAfter {
			batch.Queue(`SELECT 1/0`)
		}
		return f.producer.SendBatch(ctx, batch).Close()
	}

	failed := newIDs(1)[0]
	if err := send(failed, true); err == nil {
		t.Fatal("batch with a failing statement succeeded")
	}
	if n := count(t, f.events, `SELECT count(*) FROM events.domain_events`); n != 0 {
		t.Fatalf("log entries after a failed batch = %d", n)
	}
	if n := count(t, f.events, `SELECT count(*) FROM events.river_job`); n != 0 {
		t.Fatalf("jobs after a failed batch = %d", n)
	}

	ids := newIDs(5)
	for _, id := range ids {
		if err := send(id, false); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "applied", 10*time.Second, func() bool { return allOnce(f.applied(t, "user.a"), ids) })
	if n := count(t, f.producer, `SELECT count(*) FROM users.t_rows`); n != 5 {
		t.Fatalf("producer rows = %d, want 5", n)
	}
}

func TestDomainRoleCanOnlyPublish(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	for _, sql := range []string{
		`SELECT count(*) FROM events.domain_events`,
		`SELECT count(*) FROM events.river_job`,
		`SELECT count(*) FROM events.dead_letter_queue`,
		`INSERT INTO events.domain_events (id, topic, payload, producer) VALUES (gen_random_uuid(), 'user.verified', '{}', 'user')`,
		`SELECT events.enqueue('{}', '{}', false, 1)`,
	} {
		_, err := f.producer.Exec(ctx, sql)
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) || pgErr.Code != pgerrcode.InsufficientPrivilege {
			t.Errorf("%s as a domain role: err = %v, want permission denied", sql, err)
		}
	}
}

func TestDomainPublishesOnlyItsOwnTopics(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	b := f.stoppedBus(t, func(b *Bus) { Subscribe(b, f.sub, "user.a", project("user.a")) })
	ctx := context.Background()
	for name, publish := range map[string]func(tx pgx.Tx) error{
		"another domain's topic": func(tx pgx.Tx) error {
			return b.Publish(ctx, tx, UserVerified{UserID: uuid.New()})
		},
		"one foreign topic among its own": func(tx pgx.Tx) error {
			return b.Publish(ctx, tx, FollowCreated{FollowerID: uuid.New(), FolloweeID: uuid.New()}, UserVerified{UserID: uuid.New()})
		},
	} {
		err := pgx.BeginFunc(ctx, f.db.Pools.For(domains.Social), publish)
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) || pgErr.Code != pgerrcode.InsufficientPrivilege {
			t.Errorf("%s from social: err = %v, want permission denied", name, err)
		}
	}
	if n := count(t, f.events, `SELECT count(*) FROM events.domain_events`); n != 0 {
		t.Fatalf("log entries = %d, want none", n)
	}
	f.publish(t, b, uuid.New())
}

func TestDeliveredOnceWithInbox(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	b := f.newBus(t, testOptions(), nil, func(b *Bus) {
		Subscribe(b, f.sub, "user.a", project("user.a"))
		Subscribe(b, f.sub, "user.b", project("user.b"))
	})
	ids := newIDs(20)
	f.publish(t, b, ids...)
	for _, c := range []string{"user.a", "user.b"} {
		waitFor(t, c+" applied", 10*time.Second, func() bool { return allOnce(f.applied(t, c), ids) })
		if n := count(t, f.sub.Pool, inboxCount, c); n != 20 {
			t.Fatalf("%s inbox = %d, want 20", c, n)
		}
	}
}

func TestMetaCarriesProducerAndRequestID(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	got := make(chan Meta, 1)
	b := f.newBus(t, testOptions(), nil, func(b *Bus) {
		Subscribe(b, f.sub, "user.meta", func(ctx context.Context, tx pgx.Tx, m Meta, e UserVerified) error {
			got <- m
			return nil
		})
	})
	before := time.Now()
	f.publish(t, b, newIDs(1)...)
	select {
	case m := <-got:
		if m.Producer != "user" || m.Topic != TopicUserVerified || m.EventID.Version() != 7 || m.OccurredAt.Before(before.Add(-time.Second)) {
			t.Fatalf("meta = %+v", m)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("handler not called")
	}
}

// A delivery in the publishing replica takes the event from memory: it must
// be the logged event, field for field, as a delivery elsewhere reads it.
func TestPublishedEventsKeptAsLogged(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	b, err := NewBus(f.events, quietLog(), nil, testOptions())
	if err != nil {
		t.Fatal(err)
	}
	ids := newIDs(2)
	ctx := requestid.With(context.Background(), "req-kept")
	err = pgx.BeginFunc(ctx, f.producer, func(tx pgx.Tx) error {
		return b.Publish(ctx, tx, UserVerified{UserID: ids[0]}, UserVerified{UserID: ids[1]})
	})
	if err != nil {
		t.Fatal(err)
	}
	batch := &pgx.Batch{}
	if err := b.QueuePublish(context.Background(), batch, UserBanned{UserID: ids[0]}); err != nil {
		t.Fatal(err)
	}
	if err := f.producer.SendBatch(context.Background(), batch).Close(); err != nil {
		t.Fatal(err)
	}

	var eventIDs []uuid.UUID
	for id := range b.events.recent.byID {
		eventIDs = append(eventIDs, id)
	}
	if len(eventIDs) != 3 {
		t.Fatalf("kept %d events, want 3", len(eventIDs))
	}
	logged, err := b.events.query(eventIDs)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range eventIDs {
		kept, _ := b.events.recent.get(id)
		got, ok := logged[id]
		if !ok {
			t.Fatalf("kept event %s is not in the log", id)
		}
		if kept.Topic != got.Topic || kept.Version != got.Version || kept.Producer != got.Producer ||
			!kept.OccurredAt.Equal(got.OccurredAt) || kept.RequestID != got.RequestID {
			t.Errorf("kept %+v, logged %+v", kept, got)
		}
		var k, g any
		if json.Unmarshal(kept.Payload, &k) != nil || json.Unmarshal(got.Payload, &g) != nil || !reflect.DeepEqual(k, g) {
			t.Errorf("kept payload %s, logged %s", kept.Payload, got.Payload)
		}
	}
}

func TestRecentEventsAreBounded(t *testing.T) {
	t.Parallel()
	l := newEventLog(nil, newMetrics(nil).sources)
	l.recent.maxBytes = 2*keptOverhead + 10
	ids := newIDs(4)
	for _, id := range ids[:3] {
		l.recent.keep(id, loggedEvent{Payload: []byte("1234")})
	}
	if _, ok := l.recent.get(ids[0]); ok {
		t.Error("the oldest event is kept beyond maxBytes")
	}
	for _, id := range ids[1:3] {
		if _, ok := l.recent.get(id); !ok {
			t.Errorf("event %s within maxBytes was dropped", id)
		}
	}
	l.recent.maxAge = time.Millisecond
	time.Sleep(5 * time.Millisecond)
	l.recent.keep(ids[3], loggedEvent{Payload: []byte("1")})
	if len(l.recent.byID) != 1 || len(l.recent.order) != 1 || l.recent.bytes != 1+keptOverhead {
		t.Errorf("after maxAge kept %d events (%d in order, %d bytes), want only the new one", len(l.recent.byID), len(l.recent.order), l.recent.bytes)
	}
}

// A replica delivers the events it published from memory and reads those
// of other replicas from the log.
func TestDeliveryFindsEventsInMemoryOrInTheLog(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	other := f.stoppedBus(t, func(b *Bus) { Subscribe(b, f.sub, "user.a", project("user.a")) })
	ids := newIDs(2)
	f.publish(t, other, ids[0])
	b := f.newBus(t, testOptions(), nil, func(b *Bus) {
		Subscribe(b, f.sub, "user.a", project("user.a"))
	})
	f.publish(t, b, ids[1])
	waitFor(t, "both applied", 10*time.Second, func() bool { return allOnce(f.applied(t, "user.a"), ids) })
	memory, log := b.metrics.sources.WithLabelValues("memory"), b.metrics.sources.WithLabelValues("log")
	if counterValue(memory) != 1 || counterValue(log) != 1 {
		t.Errorf("delivered from memory %v, from the log %v; want 1 and 1", counterValue(memory), counterValue(log))
	}
}
