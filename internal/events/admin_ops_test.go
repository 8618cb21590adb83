package events

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
)

// addDeadLettersSQL logs $2 user.verified events, each dead-lettered to
// consumer $1 with error $4, that failed $3 ago.
const addDeadLettersSQL = `WITH e AS (
    INSERT INTO events.domain_events (id, topic, payload, producer)
    SELECT gen_random_uuid(), 'user.verified', jsonb_build_object('userId', gen_random_uuid()), 'user'
    FROM generate_series(1, $2)
    RETURNING id)
INSERT INTO events.dead_letter_queue (event_id, consumer, topic, attempts, error, failed_at)
SELECT id, $1, 'user.verified', 5, $4, now() - $3::interval FROM e
RETURNING event_id::text`

// addDeadLetters adds n dead letters of consumer (see addDeadLettersSQL) and
// returns their events' ids in the order of the dead letters.
func addDeadLetters(t testing.TB, pool *pgxpool.Pool, consumer string, n int, age time.Duration) []string {
	t.Helper()
	rows, err := pool.Query(context.Background(), addDeadLettersSQL, consumer, n, age, "failed")
	if err != nil {
		t.Fatalf("add dead letters: %v", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatalf("add dead letters: %v", err)
	}
	return ids
}

// onJobInsert runs body (PL/pgSQL) for every delivery job inserted, as the
// events role, which owns the job table.
func onJobInsert(t testing.TB, pool *pgxpool.Pool, body string) {
	t.Helper()
	ctx := context.Background()
	for _, sql := range []string{
		`CREATE FUNCTION events.t_on_job_insert() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN ` + body + `; RETURN NEW; END $$`,
		`CREATE TRIGGER t_on_job_insert BEFORE INSERT ON events.river_job FOR EACH ROW EXECUTE FUNCTION events.t_on_job_insert()`,
	} {
		if _, err := pool.Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
}

// TestRetryAllDeadLettersOfOneConsumerInPages: retrying every dead letter of
// one consumer leaves the others' and re-queues its own in bounded
// transactions, oldest first, each once.
func TestRetryAllDeadLettersOfOneConsumerInPages(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	events := addDeadLetters(t, f.events, "user.proj", 25, 0)
	addDeadLetters(t, f.events, "user.other", 5, 0)
	admin := NewAdmin(f.events, 5)
	admin.retryPage = 10
	n, err := admin.RetryAllDeadLetters(ctx, "user.proj")
	if err != nil || n != 25 {
		t.Fatalf("RetryAllDeadLetters(user.proj) = %d, %v; want 25", n, err)
	}
	if n := count(t, f.events, `SELECT count(*) FROM events.dead_letter_queue WHERE consumer = 'user.other'`); n != 5 {
		t.Fatalf("dead letters of the other consumer left = %d, want 5", n)
	}
	if n := count(t, f.events, `SELECT count(*) FROM events.dead_letter_queue WHERE consumer = 'user.proj'`); n != 0 {
		t.Fatalf("dead letters of user.proj left = %d, want 0", n)
	}
	rows, err := f.events.Query(ctx, `SELECT xmin::text, args->>'event_id', args->>'consumer' FROM events.river_job ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	type job struct{ Tx, Event, Consumer string }
	jobs, err := pgx.CollectRows(rows, pgx.RowToStructByPos[job])
	if err != nil {
		t.Fatal(err)
	}
	if len(jobs) != 25 {
		t.Fatalf("jobs = %d, want 25", len(jobs))
	}
	// Page i holds the dead letters i*10 to i*10+9, in one transaction of
	// its own; pages are enqueued in order.
	position := map[string]int{}
	for i, e := range events {
		position[e] = i
	}
	pageOfTx := map[string]int{}
	last := 0
	for _, j := range jobs {
		pos, ok := position[j.Event]
		if !ok || j.Consumer != "user.proj" {
			t.Fatalf("job %+v is not of a dead letter of user.proj", j)
		}
		delete(position, j.Event)
		page := pos / 10
		if p, seen := pageOfTx[j.Tx]; seen && p != page {
			t.Fatalf("one transaction retried dead letters of pages %d and %d", p, page)
		}
		pageOfTx[j.Tx] = page
		if page < last {
			t.Fatalf("page %d enqueued after page %d", page, last)
		}
		last = page
	}
	if len(pageOfTx) != 3 {
		t.Fatalf("retry transactions = %d, want 3 of at most 10 dead letters", len(pageOfTx))
	}
}

// TestRetryAllDeadLettersSaysHowManyWhenItFails: the pages before a failing
// one stay retried, and the operator learns how many they were.
func TestRetryAllDeadLettersSaysHowManyWhenItFails(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	events := addDeadLetters(t, f.events, "user.proj", 25, 0)
	onJobInsert(t, f.events, `IF NEW.args->>'event_id' = '`+events[14]+`' THEN RAISE EXCEPTION 'refused'; END IF`)
	admin := NewAdmin(f.events, 5)
	admin.retryPage = 10
	n, err := admin.RetryAllDeadLetters(context.Background(), "")
	if err == nil || !strings.Contains(err.Error(), "refused") || n != 10 {
		t.Fatalf("RetryAllDeadLetters = %d, %v; want 10 and the failure", n, err)
	}
	if n := count(t, f.events, `SELECT count(*) FROM events.dead_letter_queue`); n != 15 {
		t.Fatalf("dead letters left = %d, want 15", n)
	}
	if n := count(t, f.events, `SELECT count(*) FROM events.river_job`); n != 10 {
		t.Fatalf("jobs = %d, want 10", n)
	}
}

// TestRetryAllDeadLettersTakesThoseThereWhenItStarts: a retried delivery
// that dies again at once (a payload the handler still cannot decode) is
// left for the operator, not retried again and again by the same retry.
func TestRetryAllDeadLettersTakesThoseThereWhenItStarts(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	addDeadLetters(t, f.events, "user.proj", 25, 0)
	onJobInsert(t, f.events, `INSERT INTO events.dead_letter_queue (event_id, consumer, topic, attempts, error)
		VALUES ((NEW.args->>'event_id')::uuid, NEW.args->>'consumer', 'user.verified', 1, 'dead again')`)
	admin := NewAdmin(f.events, 5)
	admin.retryPage = 10
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	n, err := admin.RetryAllDeadLetters(ctx, "")
	if err != nil || n != 25 {
		t.Fatalf("RetryAllDeadLetters = %d, %v; want 25", n, err)
	}
	if n := count(t, f.events, `SELECT count(*) FROM events.dead_letter_queue WHERE error = 'dead again'`); n != 25 {
		t.Fatalf("dead letters left = %d, want the 25 that died again", n)
	}
}

// TestRetryAllDeadLettersRacingRetriesAndPurges: two retries of every dead
// letter, a purge of the old ones and new dead letters at the same time:
// each dead letter is re-queued at most once, purged or re-queued, and every
// one there when the retries started is gone.
func TestRetryAllDeadLettersRacingRetriesAndPurges(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	old := addDeadLetters(t, f.events, "user.proj", 150, 2*time.Hour)
	recent := addDeadLetters(t, f.events, "user.proj", 150, 0)
	admin := NewAdmin(f.events, 5)
	admin.retryPage = 7
	start := make(chan struct{})
	var wg sync.WaitGroup
	var retried [2]int64
	var errs [4]error
	for i := range retried {
		wg.Go(func() {
			<-start
			retried[i], errs[i] = admin.RetryAllDeadLetters(ctx, "")
		})
	}
	var purged int64
	wg.Go(func() {
		<-start
		purged, errs[2] = admin.PurgeDeadLetters(ctx, time.Hour, "")
	})
	wg.Go(func() {
		<-start
		for range 30 {
			if _, err := f.events.Exec(ctx, addDeadLettersSQL, "user.proj", 1, time.Duration(0), "new"); err != nil {
				errs[3] = err
				return
			}
		}
	})
	close(start)
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	jobs := count(t, f.events, `SELECT count(*) FROM events.river_job`)
	if retried[0]+retried[1] != jobs {
		t.Fatalf("retries report %d and %d, but %d jobs were enqueued", retried[0], retried[1], jobs)
	}
	if n := count(t, f.events, `SELECT count(*) FROM events.dead_letter_queue WHERE error <> 'new'`); n != 0 {
		t.Fatalf("%d dead letters there before the retries are left", n)
	}
	// Every event has had one dead letter: it is enqueued at most once, and
	// not while it is still dead.
	if n := count(t, f.events, `SELECT count(*) FROM (SELECT FROM events.river_job GROUP BY args->>'event_id' HAVING count(*) > 1) x`); n != 0 {
		t.Fatalf("%d dead letters re-queued more than once", n)
	}
	if n := count(t, f.events, `SELECT count(*) FROM events.dead_letter_queue d JOIN events.river_job j ON j.args->>'event_id' = d.event_id::text`); n != 0 {
		t.Fatalf("%d dead letters both re-queued and still dead", n)
	}
	retriedOf := func(ids []string) int64 {
		return count(t, f.events, `SELECT count(*) FROM events.river_job WHERE args->>'event_id' = ANY($1)`, ids)
	}
	if n := retriedOf(recent); n != 150 {
		t.Fatalf("recent dead letters re-queued = %d, want 150", n)
	}
	if n := retriedOf(old); n+purged != 150 {
		t.Fatalf("old dead letters re-queued %d and purged %d, want 150 in all", n, purged)
	}
}

// TestDeadLetterQueueSizeWithoutQueueDepth: a job table that cannot be read
// in time (locked by a migration, say) fails the queue depth, but the
// dead-letter backlog is still reported.
func TestDeadLetterQueueSizeWithoutQueueDepth(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	addDeadLetters(t, f.events, "user.proj", 3, 0)
	tx, err := f.events.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	if _, err := tx.Exec(ctx, `LOCK TABLE events.river_job IN ACCESS EXCLUSIVE MODE`); err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(&depthCollector{pool: f.events})
	families, err := reg.Gather()
	if err == nil {
		t.Fatal("queue depth gathered from a locked job table")
	}
	for _, mf := range families {
		if mf.GetName() == "nova_events_dead_letter_queue_size" {
			if v := mf.GetMetric()[0].GetGauge().GetValue(); v != 3 {
				t.Fatalf("dead letter queue size = %v, want 3", v)
			}
			return
		}
	}
	t.Fatalf("no dead letter queue size when the queue depth failed (%v)", err)
}
