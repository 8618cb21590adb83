package events

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/nova-social/nova/internal/platform/requestid"
)

// River placement: every delivery job lives in one queue of River's tables in
// the events schema. The SQL functions of migrations/events use the same
// names, so they are constants here.
const (
	riverSchema = "events"
	queueName   = "events"
	jobKind     = "nova_event"
)

// Options tunes the bus. Zero values take the defaults noted on each field.
type Options struct {
	// MaxAttempts is how many times one delivery is tried before it is
	// dead-lettered (default 8).
	MaxAttempts int
	// Workers is how many deliveries this replica holds at once (default
	// 200). They wait in per-domain batches, so this bounds memory and
	// batch size, not database connections. One consuming domain holding a
	// quarter of them and finishing no batch for 250ms gets its further
	// deliveries put back for later, so a stuck domain cannot starve the
	// others.
	Workers int
	// JobRetention is how long finished delivery jobs are kept; the event log
	// itself is never pruned (default 24h).
	JobRetention time.Duration
	// RetryBase is the delay before the first retry; each further retry
	// doubles it, up to RetryMax (defaults 1s and 10m).
	RetryBase time.Duration
	RetryMax  time.Duration
	// FetchCooldown is the shortest time between two fetches of new jobs.
	// River's default (100ms) caps a queue near Workers/FetchCooldown jobs a
	// second; the bus defaults to 2ms.
	FetchCooldown time.Duration
	// FetchPollInterval is how often workers poll when no notification came
	// (delayed retries, a publication that did not notify); default 50ms.
	FetchPollInterval time.Duration
	// MaxBatch is how many deliveries to one domain may share a transaction
	// (default 50; 1 gives every delivery its own).
	MaxBatch int
	// DomainConcurrency is how many delivery transactions one consuming
	// domain runs at once in this replica (default 2).
	DomainConcurrency int
	// BatchLockTimeout is how long a transaction shared by several
	// deliveries waits for any one lock before it gives up and its
	// deliveries are applied one per transaction (default 100ms). Each
	// handler takes its locks in its domain's order, but a shared
	// transaction takes them in the order of its handlers, so two such
	// transactions, or one and a request, can deadlock; Postgres would find
	// that only after deadlock_timeout (1 s) and fail one of them, possibly a
	// delivery. A delivery alone waits as long as its locks take.
	BatchLockTimeout time.Duration
	// HandlerTimeout bounds one handler run (default 1m). A transaction
	// shared by several deliveries gives up halfway to the first of their
	// deadlines, so that after one of them hangs the others can still be
	// applied alone.
	HandlerTimeout time.Duration
	// RescueAfter is how long a delivery may stay running (its replica
	// crashed) before another replica retries it (default 5m).
	RescueAfter time.Duration
	// ID names this replica in River's tables (default: River's own).
	ID string
}

func (o Options) withDefaults() Options {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 8
	}
	if o.Workers <= 0 {
		o.Workers = 200
	}
	if o.MaxBatch <= 0 {
		o.MaxBatch = 50
	}
	if o.DomainConcurrency <= 0 {
		o.DomainConcurrency = 2
	}
	def(&o.JobRetention, 24*time.Hour)
	def(&o.RetryBase, time.Second)
	def(&o.RetryMax, 10*time.Minute)
	def(&o.FetchCooldown, 2*time.Millisecond)
	def(&o.FetchPollInterval, 50*time.Millisecond)
	def(&o.BatchLockTimeout, 100*time.Millisecond)
	def(&o.HandlerTimeout, time.Minute)
	def(&o.RescueAfter, 5*time.Minute)
	if o.RescueAfter < o.HandlerTimeout {
		o.RescueAfter = o.HandlerTimeout
	}
	return o
}

// Bus publishes catalogue events and delivers them to subscribed consumers.
// One Bus per process; several processes on one database share the work.
type Bus struct {
	pool    *pgxpool.Pool
	river   *pgxpool.Pool // River's bookkeeping, see bookkeepingPool
	events  *eventLog     // reads delivered events, on pool
	log     *slog.Logger
	opts    Options
	metrics *metrics
	client  *river.Client[pgx.Tx]

	// seenEvery is how often a started bus records its subscriptions again
	// (subscriptionsSeenEvery; shorter in tests); stopSeen and seenDone stop
	// that and wait for it.
	seenEvery time.Duration
	stopSeen  context.CancelFunc
	seenDone  chan struct{}

	mu        sync.Mutex
	started   bool
	consumers map[string]*consumer
	inboxes   map[string]*inbox // by domain name
	wiring    []error
}

// NewBus builds the bus on the events domain's pool and registers its
// metrics on reg (nil skips metrics registration). Subscribe every consumer,
// then Start.
func NewBus(pool *pgxpool.Pool, log *slog.Logger, reg prometheus.Registerer, opts Options) (*Bus, error) {
	opts = opts.withDefaults()
	m := newMetrics(pool)
	b := &Bus{
		pool:      pool,
		log:       log.With("component", "events"),
		opts:      opts,
		metrics:   m,
		events:    newEventLog(pool, m.sources),
		consumers: make(map[string]*consumer),
		inboxes:   make(map[string]*inbox),
		seenEvery: subscriptionsSeenEvery,
	}
	if reg != nil {
		if err := b.metrics.register(reg); err != nil {
			return nil, fmt.Errorf("register event metrics: %w", err)
		}
	}
	rp, err := bookkeepingPool(pool)
	if err != nil {
		return nil, err
	}
	b.river = rp
	workers := river.NewWorkers()
	if err := river.AddWorkerSafely(workers, &deliveryWorker{bus: b}); err != nil {
		rp.Close()
		return nil, fmt.Errorf("register delivery worker: %w", err)
	}
	client, err := river.NewClient(riverpgxv5.New(rp), &river.Config{
		Schema:                      riverSchema,
		ID:                          opts.ID,
		Queues:                      map[string]river.QueueConfig{queueName: {MaxWorkers: opts.Workers}},
		FetchCooldown:               opts.FetchCooldown,
		FetchPollInterval:           opts.FetchPollInterval,
		MaxAttempts:                 jobAttempts(opts.MaxAttempts),
		CompletedJobRetentionPeriod: opts.JobRetention,
		CancelledJobRetentionPeriod: opts.JobRetention,
		DiscardedJobRetentionPeriod: opts.JobRetention,
		RetryPolicy:                 backoff{base: opts.RetryBase, max: opts.RetryMax},
		JobTimeout:                  opts.HandlerTimeout,
		RescueStuckJobsAfter:        opts.RescueAfter,
		Workers:                     workers,
		Logger:                      b.log,
	})
	if err != nil {
		rp.Close()
		return nil, fmt.Errorf("create river client: %w", err)
	}
	b.client = client
	return b, nil
}

// bookkeepingPool derives from the events domain's pool (same role and
// credentials) the pool River's own writes run on: fetching and completing
// deliveries. They commit asynchronously (no wait for the WAL flush), which
// is safe because each is only ever a record of work that is redone, and
// deduplicated by the consumer's inbox, when the record is lost in a crash:
// a lost fetch or completion leaves the job to be delivered again. The
// writes that must survive a crash commit synchronously: the event with its
// jobs, in the producer's own transaction, and a dead letter, on the events
// pool (see deadLetter).
func bookkeepingPool(pool *pgxpool.Pool) (*pgxpool.Pool, error) {
	cfg := pool.Config()
	cfg.ConnConfig.RuntimeParams["synchronous_commit"] = "off"
	cfg.ConnConfig.RuntimeParams["application_name"] = "nova-events"
	rp, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		return nil, fmt.Errorf("events bookkeeping pool: %w", err)
	}
	return rp, nil
}

// publishSQL appends events to the log and enqueues their deliveries, and
// returns the producer and time it recorded. It is a SECURITY DEFINER
// function: the producer's role may execute it but cannot read or write the
// events schema's tables itself.
const publishSQL = `SELECT producer, occurred_at FROM events.publish($1::uuid[], $2::text[], $3::int[], $4::jsonb[], $5::text, $6::int)`

// Publish appends evs to the event log and enqueues one delivery per
// subscribed consumer, inside tx, the producer's own transaction: the
// producer's change and its events commit together or not at all.
func (b *Bus) Publish(ctx context.Context, tx pgx.Tx, evs ...Event) error {
	if len(evs) == 0 {
		return nil
	}
	p, err := b.newPublication(ctx, evs)
	if err != nil {
		return err
	}
	if err := p.recorded(tx.QueryRow(ctx, publishSQL, p.args()...)); err != nil {
		return fmt.Errorf("publish %s: %w", evs[0].Topic(), err)
	}
	return nil
}

// QueuePublish is Publish for a producer that sends its writes as one
// pipelined batch: it queues the publication on batch, after the writes
// queued so far. A batch sent on a pool or connection runs as one implicit
// transaction, so the writes and the events commit together in a single
// round trip; sent on a transaction, it commits with that transaction.
// The events are counted as published, and kept for delivery in this
// replica, when the batch's result for them is read.
func (b *Bus) QueuePublish(ctx context.Context, batch *pgx.Batch, evs ...Event) error {
	if len(evs) == 0 {
		return nil
	}
	p, err := b.newPublication(ctx, evs)
	if err != nil {
		return err
	}
	batch.Queue(publishSQL, p.args()...).QueryRow(p.recorded)
	return nil
}

// publication is one call of publishSQL.
type publication struct {
	bus       *Bus
	ids       []uuid.UUID
	topics    []string
	versions  []int32
	payloads  [][]byte
	requestID string
}

// newPublication encodes evs, each with a new time-ordered id.
func (b *Bus) newPublication(ctx context.Context, evs []Event) (*publication, error) {
	p := &publication{
		bus:       b,
		ids:       make([]uuid.UUID, len(evs)),
		topics:    make([]string, len(evs)),
		versions:  make([]int32, len(evs)),
		payloads:  make([][]byte, len(evs)),
		requestID: requestid.From(ctx),
	}
	for i, ev := range evs {
		id, err := uuid.NewV7()
		if err != nil {
			return nil, fmt.Errorf("event id: %w", err)
		}
		payload, err := json.Marshal(ev)
		if err != nil {
			return nil, fmt.Errorf("encode %s: %w", ev.Topic(), err)
		}
		p.ids[i], p.topics[i], p.versions[i], p.payloads[i] = id, string(ev.Topic()), int32(ev.Version()), payload
	}
	return p, nil
}

func (p *publication) args() []any {
	return []any{p.ids, p.topics, p.versions, p.payloads, p.requestID, jobAttempts(p.bus.opts.MaxAttempts)}
}

// recorded reads what publishSQL recorded, counts the events and keeps them
// for delivery in this replica.
func (p *publication) recorded(row pgx.Row) error {
	var producer string
	var at time.Time
	if err := row.Scan(&producer, &at); err != nil {
		return err
	}
	for i, id := range p.ids {
		p.bus.metrics.published.WithLabelValues(p.topics[i]).Inc()
		p.bus.events.recent.keep(id, loggedEvent{
			Topic: Topic(p.topics[i]), Version: int(p.versions[i]), Payload: p.payloads[i],
			Producer: producer, OccurredAt: at, RequestID: p.requestID,
		})
	}
	return nil
}

const subscribeSQL = `INSERT INTO events.event_subscriptions (consumer, topic)
SELECT * FROM unnest($1::text[], $2::text[])
ON CONFLICT (consumer, topic) DO UPDATE SET seen_at = now()`

// subscriptionsSeenEvery is how often a running bus records its
// subscriptions again, so that those no replica records any more stand out
// (see Admin.Unsubscribe).
const subscriptionsSeenEvery = time.Minute

// Start records the subscriptions, so that events published from now on are
// delivered to every registered consumer, and starts the workers. Call it
// after every Subscribe. Wiring mistakes made in Subscribe are reported here.
func (b *Bus) Start(ctx context.Context) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.started {
		return errors.New("events: bus already started")
	}
	if err := errors.Join(b.wiring...); err != nil {
		return fmt.Errorf("events: subscriptions: %w", err)
	}
	consumers, topics := b.subscriptions()
	if err := b.recordSubscriptions(ctx, consumers, topics); err != nil {
		return err
	}
	// River's work contexts derive from Start's: a cancelled serve context
	// must not abort handlers mid-flight, so shutdown goes through Stop.
	if err := b.client.Start(context.WithoutCancel(ctx)); err != nil {
		return fmt.Errorf("events: start workers: %w", err)
	}
	seenCtx, stopSeen := context.WithCancel(context.WithoutCancel(ctx))
	b.stopSeen, b.seenDone = stopSeen, make(chan struct{})
	go b.keepSubscriptionsSeen(seenCtx, consumers, topics, b.seenDone)
	b.started = true
	b.log.Info("event bus started", "consumers", len(b.consumers), "subscriptions", len(consumers), "workers", b.opts.Workers)
	return nil
}

// subscriptions lists the registered subscriptions as two parallel slices,
// ordered by consumer and topic (byte order, as Postgres's "C" collation):
// every replica then locks the rows it records in the same order as the
// others and as Admin.Unsubscribe, and two recording at once cannot
// deadlock.
func (b *Bus) subscriptions() (consumers, topics []string) {
	for _, name := range slices.Sorted(maps.Keys(b.consumers)) {
		for _, t := range slices.Sorted(maps.Keys(b.consumers[name].handlers)) {
			consumers, topics = append(consumers, name), append(topics, string(t))
		}
	}
	return consumers, topics
}

// recordSubscriptions writes subscriptions to events.event_subscriptions,
// where publish finds them, and marks them seen now.
func (b *Bus) recordSubscriptions(ctx context.Context, consumers, topics []string) error {
	if len(consumers) == 0 {
		return nil
	}
	if _, err := b.pool.Exec(ctx, subscribeSQL, consumers, topics); err != nil {
		return fmt.Errorf("events: record subscriptions: %w", err)
	}
	return nil
}

// keepSubscriptionsSeen records the subscriptions again every
// b.seenEvery until ctx ends, then closes done.
func (b *Bus) keepSubscriptionsSeen(ctx context.Context, consumers, topics []string, done chan<- struct{}) {
	defer close(done)
	tick := time.NewTicker(b.seenEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			if err := b.recordSubscriptions(ctx, consumers, topics); err != nil && ctx.Err() == nil {
				b.log.Warn("subscriptions not marked seen; tried again later", "err", err)
			}
		}
	}
}

// Stop stops fetching deliveries and waits for running handlers to finish.
// When ctx ends first, running handlers are cancelled (their transactions
// roll back and the deliveries are retried later) and ctx's error returned.
func (b *Bus) Stop(ctx context.Context) error {
	b.mu.Lock()
	started := b.started
	b.started = false
	b.mu.Unlock()
	defer b.river.Close()
	if !started {
		return nil
	}
	b.stopSeen()
	<-b.seenDone
	err := b.client.Stop(ctx)
	if err == nil {
		b.log.Info("event bus stopped")
		return nil
	}
	cancelCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if cerr := b.client.StopAndCancel(cancelCtx); cerr != nil {
		err = errors.Join(err, cerr)
	}
	// The deadline may have passed before Stop was called (the HTTP drain
	// took it all), so this does not claim any handler was running.
	return fmt.Errorf("events: stop: not stopped by the shutdown deadline; any running handler was cancelled and will be delivered again: %w", err)
}
