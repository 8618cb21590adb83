package events

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/nova-social/nova/internal/platform/domains"
)

// benchProducers is how many goroutines publish (and, for the ceiling,
// insert) at once; the pools of a test database hold 8 connections.
const benchProducers = 8

// benchRounds interleaves the measurements, so that load from elsewhere on
// the machine weighs on each alike.
const benchRounds = 5

// BenchmarkBus measures, in one run:
//
//   - throughput: the plain single-row INSERT commit rate (the physical
//     ceiling: an event needs at least two commits) and the end-to-end rate
//     of events published in a transaction with a domain row until every
//     consumer applied each (with its inbox): one consumer ("one"; "-pipelined"
//     with the domain row and the publication sent as one batch, see
//     QueuePublish; "-queued" with that and consumers that queue their
//     statement, see SubscribeQueued), eight consumers in one domain (also
//     pipelined and queued) and eight consumers spread over the seven
//     consuming domains; reported as events/s, as a fraction of the ceiling
//     and as the cost of fan-out (time per event with eight consumers ÷ with
//     one of the same mode, end to end and for the publishing transactions
//     alone);
//   - split: publishing alone and applying a backlog alone (by a direct and
//     by a queued consumer), as fractions of the ceiling (measured again in
//     the same run);
//   - river-alone: River by itself, without the bus (see riverAlone), with
//     one and with eight jobs per producer transaction, interleaved with the
//     bus with one queued consumer: River's own fan-out cost, and what seven
//     more jobs cost River as a fraction of one such bus event. Fan-out to
//     eight consumers within 2× one needs the bus's seven extra deliveries,
//     River's part and the consumers' own included, to cost at most one
//     event; the fraction is how much of that River spends alone;
//   - lag-200/s: events published at 200/s, delivery lag from the
//     publisher's commit to handler start, p50 and p99.
//
// Run: go test ./internal/events -run '^$' -bench BenchmarkBus -benchtime 5000x
func BenchmarkBus(b *testing.B) {
	b.Run("throughput", func(b *testing.B) {
		ceiling := newFixture(b)
		one := newBenchSetup(b, "one", []domains.Domain{domains.User}, benchMode{})
		pipelined := newBenchSetup(b, "one-pipelined", []domains.Domain{domains.User}, benchMode{pipelined: true})
		queued := newBenchSetup(b, "one-queued", []domains.Domain{domains.User}, benchMode{pipelined: true, queued: true})
		eightOneDomain := slices.Repeat([]domains.Domain{domains.User}, 8)
		fanouts := []struct{ eight, one *benchSetup }{
			{newBenchSetup(b, "eight-one-domain", eightOneDomain, benchMode{}), one},
			{newBenchSetup(b, "eight-seven-domains", []domains.Domain{
				domains.Identity, domains.User, domains.Media, domains.Content,
				domains.Social, domains.Communication, domains.Search, domains.User,
			}, benchMode{}), one},
			{newBenchSetup(b, "eight-one-domain-queued", eightOneDomain, benchMode{pipelined: true, queued: true}), queued},
		}
		setups := []*benchSetup{one, pipelined, queued}
		for _, f := range fanouts {
			setups = append(setups, f.eight)
		}
		var ceilingTime time.Duration
		b.ResetTimer()
		inRounds(b.N, func(n int) {
			ceilingTime += insertCommits(ceiling, n)
			for _, s := range setups {
				s.round(b, n)
			}
		})
		ceilingRate := float64(b.N) / ceilingTime.Seconds()
		b.ReportMetric(ceilingRate, "insert-commits/s")
		for _, s := range []*benchSetup{one, pipelined, queued} {
			rate := s.rate(b.N)
			b.ReportMetric(rate, "events/s-"+s.name)
			b.ReportMetric(rate/ceilingRate, "x-ceiling-"+s.name)
		}
		for _, s := range setups {
			b.Logf("%s: publish %.0f/s, end-to-end %.0f/s", s.name, float64(b.N)/s.pubElapsed.Seconds(), s.rate(b.N))
		}
		for _, f := range fanouts {
			b.ReportMetric(f.one.rate(b.N)/f.eight.rate(b.N), "fanout-cost-"+f.eight.name)
			b.ReportMetric(f.eight.pubElapsed.Seconds()/f.one.pubElapsed.Seconds(), "publish-fanout-cost-"+f.eight.name)
		}
	})
	// split: the two halves of the one-consumer pipeline, each alone. Events
	// are published as pipelined batches while no worker runs; then the
	// workers start and apply the backlog while nothing is published. The
	// backlog is applied once by a direct and once by a queued consumer.
	b.Run("split", func(b *testing.B) {
		ctx := context.Background()
		ceiling := newFixture(b)
		b.ResetTimer()
		ceilingRate := float64(b.N) / insertCommits(ceiling, b.N).Seconds()
		b.ReportMetric(ceilingRate, "insert-commits/s")
		for _, queued := range []bool{false, true} {
			f := newFixture(b)
			var handled atomic.Int64
			bus := f.unstartedBus(b, Options{}, nil, func(bus *Bus) {
				subscribeBenchConsumers(b, f, bus, []domains.Domain{domains.User}, queued, &handled)
			})
			recordOnly(b, bus)
			start := time.Now()
			parallel(b.N, func(int) error { return publishPipelined(f, bus, uuid.New()) })
			published := float64(b.N) / time.Since(start).Seconds()
			start = time.Now()
			if err := bus.Start(ctx); err != nil {
				b.Fatal(err)
			}
			waitHandled(b, "split", &handled, int64(b.N))
			consumed := float64(b.N) / time.Since(start).Seconds()
			if queued {
				b.ReportMetric(consumed/ceilingRate, "x-ceiling-consume-only-queued")
				continue
			}
			b.ReportMetric(published/ceilingRate, "x-ceiling-publish-only")
			b.ReportMetric(consumed/ceilingRate, "x-ceiling-consume-only")
		}
	})
	b.Run("river-alone", func(b *testing.B) {
		queued := newBenchSetup(b, "one-queued", []domains.Domain{domains.User}, benchMode{pipelined: true, queued: true})
		one, eight := newRiverAlone(b, 1), newRiverAlone(b, 8)
		b.ResetTimer()
		inRounds(b.N, func(n int) {
			queued.round(b, n)
			one.round(b, n)
			eight.round(b, n)
		})
		b.ReportMetric(eight.elapsed.Seconds()/one.elapsed.Seconds(), "river-alone-fanout-cost")
		b.ReportMetric((eight.elapsed-one.elapsed).Seconds()/queued.elapsed.Seconds(), "river-alone-7-jobs-x-one-queued-event")
		b.Logf("per event: bus with one queued consumer %v; River alone with one job %v, with eight %v (%v per extra job)",
			queued.elapsed/time.Duration(b.N), one.elapsed/time.Duration(b.N), eight.elapsed/time.Duration(b.N),
			(eight.elapsed-one.elapsed)/time.Duration(7*b.N))
	})
	b.Run("lag-200/s", func(b *testing.B) {
		f := newFixture(b)
		var mu sync.Mutex
		committed := map[uuid.UUID]time.Time{}
		var lags []time.Duration
		done := make(chan struct{})
		bus := f.newBus(b, Options{}, nil, func(bus *Bus) {
			Subscribe(bus, f.sub, "user.lag", func(ctx context.Context, tx pgx.Tx, m Meta, e UserVerified) error {
				started := time.Now()
				mu.Lock()
				lags = append(lags, started.Sub(committed[e.UserID]))
				if len(lags) == b.N {
					close(done)
				}
				mu.Unlock()
				return nil
			})
		})
		b.ResetTimer()
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for range b.N {
			<-tick.C
			id := uuid.New()
			// The commit time is taken before the commit is sent: a handler can
			// start before the publisher's Commit call has returned.
			err := pgx.BeginFunc(context.Background(), f.producer, func(tx pgx.Tx) error {
				if _, err := tx.Exec(context.Background(), producerInsert, id); err != nil {
					return err
				}
				if err := bus.Publish(context.Background(), tx, UserVerified{UserID: id}); err != nil {
					return err
				}
				mu.Lock()
				committed[id] = time.Now()
				mu.Unlock()
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
		}
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			b.Fatal("deliveries missing")
		}
		slices.Sort(lags)
		b.ReportMetric(float64(lags[len(lags)/2].Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(lags[len(lags)*99/100].Microseconds())/1000, "p99-ms")
	})
}

// benchSetup is a database with a running bus whose consumers each write a
// row into a table of their own domain per event.
type benchSetup struct {
	name       string
	mode       benchMode
	f          *fixture
	bus        *Bus
	consumers  int
	handled    atomic.Int64
	elapsed    time.Duration
	pubElapsed time.Duration
}

// benchMode is how a setup's producers publish and its consumers apply.
type benchMode struct {
	pipelined bool // the domain row and the publication as one batch (QueuePublish)
	queued    bool // consumers queue their insert (SubscribeQueued)
}

func newBenchSetup(b *testing.B, name string, consumerDomains []domains.Domain, mode benchMode) *benchSetup {
	s := &benchSetup{name: name, mode: mode, f: newFixture(b), consumers: len(consumerDomains)}
	s.bus = s.f.newBus(b, Options{}, nil, func(bus *Bus) {
		subscribeBenchConsumers(b, s.f, bus, consumerDomains, mode.queued, &s.handled)
	})
	return s
}

// subscribeBenchConsumers subscribes one consumer per entry of
// consumerDomains, in that domain, each writing a row per event into a table
// of its domain (queued: with SubscribeQueued) and counting it in handled
// once the row is written.
func subscribeBenchConsumers(b *testing.B, f *fixture, bus *Bus, consumerDomains []domains.Domain, queued bool, handled *atomic.Int64) {
	ctx := context.Background()
	created := map[string]bool{}
	for i, d := range consumerDomains {
		pool := f.db.Pools.For(d)
		table := pgx.Identifier{d.Schema, "t_bench"}.Sanitize()
		if !created[d.Name] {
			created[d.Name] = true
			if _, err := pool.Exec(ctx, `CREATE TABLE `+table+` (consumer text, id uuid, PRIMARY KEY (consumer, id))`); err != nil {
				b.Fatal(err)
			}
		}
		insert := `INSERT INTO ` + table + ` (consumer, id) VALUES ($1, $2)`
		name := fmt.Sprintf("%s.bench%d", d.Name, i)
		if queued {
			SubscribeQueued(bus, Subscriber{Domain: d, Pool: pool}, name, func(q *pgx.Batch, m Meta, e UserVerified) {
				q.Queue(insert, name, e.UserID).Exec(func(pgconn.CommandTag) error {
					handled.Add(1)
					return nil
				})
			})
			continue
		}
		Subscribe(bus, Subscriber{Domain: d, Pool: pool}, name, func(ctx context.Context, tx pgx.Tx, m Meta, e UserVerified) error {
			if _, err := tx.Exec(ctx, insert, name, e.UserID); err != nil {
				return err
			}
			handled.Add(1)
			return nil
		})
	}
}

// inRounds splits events into benchRounds rounds and runs round for each.
func inRounds(events int, round func(n int)) {
	for r := range benchRounds {
		n := events / benchRounds
		if r == 0 {
			n += events % benchRounds
		}
		round(n)
	}
}

// round publishes n events and waits until every consumer applied them.
func (s *benchSetup) round(b *testing.B, n int) {
	publish := publishOne
	if s.mode.pipelined {
		publish = publishPipelined
	}
	published, handled := timedRound(b, s.name, n, s.consumers, &s.handled, func() error { return publish(s.f, s.bus, uuid.New()) })
	s.pubElapsed += published
	s.elapsed += handled
}

// timedRound runs publish n times on benchProducers goroutines and waits
// until handled has grown by n×perEvent; it returns how long after its start
// the last publication returned and the last delivery was handled.
func timedRound(b *testing.B, name string, n, perEvent int, handled *atomic.Int64, publish func() error) (published, done time.Duration) {
	want := handled.Load() + int64(n*perEvent)
	start := time.Now()
	parallel(n, func(int) error { return publish() })
	published = time.Since(start)
	waitHandled(b, name, handled, want)
	return published, time.Since(start)
}

// waitHandled waits until handled reaches want; after a minute it fails the
// benchmark.
func waitHandled(b *testing.B, name string, handled *atomic.Int64, want int64) {
	deadline := time.Now().Add(time.Minute)
	for handled.Load() < want {
		if time.Now().After(deadline) {
			b.Fatalf("%s: %d of %d deliveries after a minute", name, handled.Load(), want)
		}
		time.Sleep(time.Millisecond)
	}
}

func (s *benchSetup) rate(events int) float64 { return float64(events) / s.elapsed.Seconds() }

// publishOne commits a domain row and one event in one transaction.
func publishOne(f *fixture, bus *Bus, id uuid.UUID) error {
	ctx := context.Background()
	return pgx.BeginFunc(ctx, f.producer, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, producerInsert, id); err != nil {
			return err
		}
		return bus.Publish(ctx, tx, UserVerified{UserID: id})
	})
}

// publishPipelined sends a domain row and one event as one batch: one round
// trip, one implicit transaction.
func publishPipelined(f *fixture, bus *Bus, id uuid.UUID) error {
	ctx := context.Background()
	batch := &pgx.Batch{}
	batch.Queue(producerInsert, id)
	if err := bus.QueuePublish(ctx, batch, UserVerified{UserID: id}); err != nil {
		return err
	}
	return f.producer.SendBatch(ctx, batch).Close()
}

// insertCommits commits n plain single-row inserts on f's producer pool
// (the ceiling) and returns how long they took.
func insertCommits(f *fixture, n int) time.Duration {
	start := time.Now()
	parallel(n, func(int) error {
		_, err := f.producer.Exec(context.Background(), producerInsert, uuid.New())
		return err
	})
	return time.Since(start)
}

// parallel runs fn n times on benchProducers goroutines and panics on error
// (benchmarks have no useful recovery).
func parallel(n int, fn func(i int) error) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range benchProducers {
		wg.Go(func() {
			for {
				i := next.Add(1) - 1
				if i >= int64(n) {
					return
				}
				if err := fn(int(i)); err != nil {
					panic(err)
				}
			}
		})
	}
	wg.Wait()
}

// riverAlone is River without the bus: a River client of its own on the
// events schema, configured as the bus configures its own (fetch cooldown,
// workers, bookkeeping pool), whose worker does nothing. A producer
// transaction inserts a row and one job per consumer name, with publish's
// statement shape, and notifies as publish does. What an extra job costs here is a floor
// under what an extra consumer costs the bus, which also reads the event and
// applies each delivery with its inbox.
type riverAlone struct {
	f         *fixture
	consumers []string
	handled   atomic.Int64
	elapsed   time.Duration
}

// riverAloneArgs are a delivery's arguments under a kind of their own.
type riverAloneArgs deliveryArgs

func (riverAloneArgs) Kind() string { return riverAloneQueue }

type riverAloneWorker struct {
	river.WorkerDefaults[riverAloneArgs]
	handled *atomic.Int64
}

func (w *riverAloneWorker) Work(context.Context, *river.Job[riverAloneArgs]) error {
	w.handled.Add(1)
	return nil
}

const (
	riverAloneQueue  = "bench_river_alone" // and the jobs' kind
	riverAloneTable  = `CREATE TABLE events.t_rows (id uuid PRIMARY KEY)`
	riverAloneInsert = `INSERT INTO events.t_rows (id) VALUES ($1)`
	riverAloneJobs   = `INSERT INTO events.river_job (args, kind, max_attempts, queue, state, scheduled_at, priority, metadata, tags)
SELECT jsonb_build_object('event_id', $1::uuid, 'consumer', c), '` + riverAloneQueue + `', 5, '` + riverAloneQueue + `', 'available', now(), 1, '{}', '{}'
FROM unnest($2::text[]) AS c`
	riverAloneNotify = `SELECT pg_notify('events.river_insert', '{"queue": "` + riverAloneQueue + `"}') WHERE pg_try_advisory_xact_lock(7406310573)`
)

func newRiverAlone(b *testing.B, jobs int) *riverAlone {
	ctx := context.Background()
	r := &riverAlone{f: newFixture(b)}
	for i := range jobs {
		r.consumers = append(r.consumers, fmt.Sprintf("user.bench%d", i))
	}
	if _, err := r.f.events.Exec(ctx, riverAloneTable); err != nil {
		b.Fatal(err)
	}
	rp, err := bookkeepingPool(r.f.events)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(rp.Close)
	opts := Options{}.withDefaults()
	workers := river.NewWorkers()
	river.AddWorker(workers, &riverAloneWorker{handled: &r.handled})
	client, err := river.NewClient(riverpgxv5.New(rp), &river.Config{
		Schema:            riverSchema,
		Queues:            map[string]river.QueueConfig{riverAloneQueue: {MaxWorkers: opts.Workers}},
		FetchCooldown:     opts.FetchCooldown,
		FetchPollInterval: opts.FetchPollInterval,
		Workers:           workers,
		Logger:            quietLog(),
	})
	if err != nil {
		b.Fatal(err)
	}
	if err := client.Start(ctx); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = client.Stop(ctx) })
	return r
}

// round commits n producer transactions and waits until every job ran.
func (r *riverAlone) round(b *testing.B, n int) {
	_, done := timedRound(b, "river-alone", n, len(r.consumers), &r.handled, func() error {
		id := uuid.New()
		batch := &pgx.Batch{}
		batch.Queue(riverAloneInsert, id)
		batch.Queue(riverAloneJobs, id, r.consumers)
		batch.Queue(riverAloneNotify)
		return r.f.events.SendBatch(context.Background(), batch).Close()
	})
	r.elapsed += done
}
