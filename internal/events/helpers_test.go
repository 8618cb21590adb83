package events

import (
	"context"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/nova-social/nova/internal/platform/domains"
	"github.com/nova-social/nova/internal/platform/pgtest"
)

// The tests play the user domain producing user.verified (a row in a table
// of its own plus the event) and consuming it into a projection counting
// applications per user id. Both tables are test fixtures created in the
// test database. The producer has a pool of its own, as another process
// would: the consumers' transactions do not wait for its connections.
const (
	producerTableSQL = `CREATE TABLE users.t_rows (id uuid PRIMARY KEY)`
	producerInsert   = `INSERT INTO users.t_rows (id) VALUES ($1)`
	projectionSQL    = `CREATE TABLE users.t_applied (consumer text, user_id uuid, n int NOT NULL, PRIMARY KEY (consumer, user_id))`
	projectionApply  = `INSERT INTO users.t_applied (consumer, user_id, n) VALUES ($1, $2, 1) ON CONFLICT (consumer, user_id) DO UPDATE SET n = users.t_applied.n + 1`
	projectionRead   = `SELECT user_id, n FROM users.t_applied WHERE consumer = $1`
	projectionDrop   = `DELETE FROM users.t_applied WHERE consumer = $1`
	inboxCount       = `SELECT count(*) FROM users.event_inbox WHERE consumer = $1`
)

type fixture struct {
	db       *pgtest.DB
	producer *pgxpool.Pool
	events   *pgxpool.Pool
	sub      Subscriber
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	db := pgtest.New(t)
	producer, err := pgxpool.NewWithConfig(context.Background(), db.Pools.For(domains.User).Config())
	if err != nil {
		t.Fatalf("producer pool: %v", err)
	}
	t.Cleanup(producer.Close)
	f := &fixture{
		db:       db,
		producer: producer,
		events:   db.Pools.For(domains.Events),
		sub:      Subscriber{Domain: domains.User, Pool: db.Pools.For(domains.User)},
	}
	ctx := context.Background()
	if _, err := f.producer.Exec(ctx, producerTableSQL); err != nil {
		t.Fatalf("create producer table: %v", err)
	}
	if _, err := f.sub.Pool.Exec(ctx, projectionSQL); err != nil {
		t.Fatalf("create projection: %v", err)
	}
	return f
}

// testOptions makes retries and polling fast enough for tests.
func testOptions() Options {
	return Options{
		MaxAttempts:       5,
		Workers:           8,
		RetryBase:         20 * time.Millisecond,
		RetryMax:          100 * time.Millisecond,
		FetchPollInterval: 20 * time.Millisecond,
	}
}

// recordOnly records b's subscriptions, as Start would, without starting it:
// publications then enqueue deliveries that no worker of b takes.
func recordOnly(tb testing.TB, b *Bus) {
	tb.Helper()
	consumers, topics := b.subscriptions()
	if err := b.recordSubscriptions(context.Background(), consumers, topics); err != nil {
		tb.Fatal(err)
	}
}

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// newBus builds a bus, lets subscribe register handlers, and starts it; it
// is stopped when the test ends.
func (f *fixture) newBus(t testing.TB, opts Options, reg prometheus.Registerer, subscribe func(*Bus)) *Bus {
	t.Helper()
	b := f.unstartedBus(t, opts, reg, subscribe)
	if err := b.Start(context.Background()); err != nil {
		t.Fatalf("Start: %v", err)
	}
	return b
}

// unstartedBus builds a bus and lets subscribe register handlers; the test
// starts it. It is stopped when the test ends.
func (f *fixture) unstartedBus(t testing.TB, opts Options, reg prometheus.Registerer, subscribe func(*Bus)) *Bus {
	t.Helper()
	b, err := NewBus(f.events, quietLog(), reg, opts)
	if err != nil {
		t.Fatalf("NewBus: %v", err)
	}
	if subscribe != nil {
		subscribe(b)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = b.Stop(ctx)
	})
	return b
}

// stoppedBus builds a bus that publishes but delivers nothing: it is started,
// which records the subscriptions, so publications enqueue their
// deliveries, and stopped at once, so no job is worked.
func (f *fixture) stoppedBus(t testing.TB, subscribe func(*Bus)) *Bus {
	t.Helper()
	b := f.unstartedBus(t, testOptions(), nil, subscribe)
	if err := b.Start(context.Background()); err != nil {
		t.Fatalf("Start: %v", err)
	}
	if err := b.Stop(context.Background()); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	return b
}

// project is a handler applying UserVerified to the test projection.
func project(consumer string) func(ctx context.Context, tx pgx.Tx, m Meta, e UserVerified) error {
	return func(ctx context.Context, tx pgx.Tx, m Meta, e UserVerified) error {
		_, err := tx.Exec(ctx, projectionApply, consumer, e.UserID)
		return err
	}
}

// publish commits one producer row plus one UserVerified per user id.
func (f *fixture) publish(t testing.TB, b *Bus, users ...uuid.UUID) {
	t.Helper()
	ctx := context.Background()
	err := pgx.BeginFunc(ctx, f.producer, func(tx pgx.Tx) error {
		evs := make([]Event, len(users))
		for i, u := range users {
			if _, err := tx.Exec(ctx, producerInsert, u); err != nil {
				return err
			}
			evs[i] = UserVerified{UserID: u}
		}
		return b.Publish(ctx, tx, evs...)
	})
	if err != nil {
		t.Fatalf("publish: %v", err)
	}
}

// redeliverAll enqueues every logged event to consumer a second time, as
// River would after a crash between the handler's commit and the job's
// completion.
func (f *fixture) redeliverAll(t testing.TB, consumer string) {
	t.Helper()
	if _, err := f.events.Exec(context.Background(), `SELECT events.enqueue(array_agg(id), array_fill($1::text, ARRAY[count(*)::int]), false, 5) FROM events.domain_events`, consumer); err != nil {
		t.Fatalf("redeliver to %s: %v", consumer, err)
	}
}

func newIDs(n int) []uuid.UUID {
	ids := make([]uuid.UUID, n)
	for i := range ids {
		ids[i] = uuid.New()
	}
	return ids
}

// applied reads consumer's projection: applications per user id.
func (f *fixture) applied(t testing.TB, consumer string) map[uuid.UUID]int {
	t.Helper()
	rows, err := f.sub.Pool.Query(context.Background(), projectionRead, consumer)
	if err != nil {
		t.Fatalf("read projection: %v", err)
	}
	out := map[uuid.UUID]int{}
	for rows.Next() {
		var id uuid.UUID
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			t.Fatal(err)
		}
		out[id] = n
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t testing.TB, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// count runs a count query on pool.
func count(t testing.TB, pool *pgxpool.Pool, sql string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := pool.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return n
}

// allOnce reports whether every id was applied exactly once.
func allOnce(got map[uuid.UUID]int, ids []uuid.UUID) bool {
	if len(got) != len(ids) {
		return false
	}
	for _, id := range ids {
		if got[id] != 1 {
			return false
		}
	}
	return true
}

// flaky fails the first n calls of a handler.
type flaky struct{ left atomic.Int64 }

func (f *flaky) fail() bool { return f.left.Add(-1) >= 0 }

// counterValue reads a counter of the bus's metrics.
func counterValue(c prometheus.Counter) float64 {
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		return -1
	}
	return m.GetCounter().GetValue()
}

// histogramCount reads how many samples a histogram of the bus's metrics
// holds.
func histogramCount(o prometheus.Observer) uint64 {
	var m dto.Metric
	if err := o.(prometheus.Histogram).Write(&m); err != nil {
		return 0
	}
	return m.GetHistogram().GetSampleCount()
}
