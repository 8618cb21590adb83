package events

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertype"

	"github.com/nova-social/nova/internal/platform/domains"
)

// Subscriber is a consuming domain and its own pool: handlers run in
// transactions on Pool, and the domain's <schema>.event_inbox records what it
// applied.
type Subscriber struct {
	Domain domains.Domain
	Pool   *pgxpool.Pool
}

// Meta describes the delivered event.
type Meta struct {
	EventID    uuid.UUID
	Topic      Topic
	Producer   string
	OccurredAt time.Time
	RequestID  string
}

// decodeFunc reads a payload of one topic into the handler's type and
// returns the application of it, or an *undecodableError.
type decodeFunc func(version int, payload []byte) (applyFunc, error)

// applyFunc applies one decoded event in the consumer's transaction: by
// running statements on tx, or by queuing them on queued, which the bus sends
// after the batch's handlers ran.
type applyFunc func(ctx context.Context, tx pgx.Tx, queued *pgx.Batch, m Meta) error

// undecodableError marks a payload the handler's type cannot read: retrying
// cannot help, so the delivery is dead-lettered at once.
type undecodableError struct{ err error }

func (e *undecodableError) Error() string { return "undecodable payload: " + e.err.Error() }
func (e *undecodableError) Unwrap() error { return e.err }

// Subscribe registers h as consumer's handler of E's topic. consumer is
// "<domain>.<purpose>" (e.g. "user.accounts") and names the consumer for
// good: it keys the inbox, the delivery jobs and the dead-letter queue.
// h runs in a transaction on s.Pool in which the bus has already recorded the
// event in s.Domain's inbox; a redelivered event is skipped, so h's effect is
// applied once. Returning an error rolls everything back and retries later.
// The transaction may also carry other deliveries to s.Domain, committed
// together; h must neither commit nor roll it back, and may run again for
// the same event when a delivery sharing its transaction fails.
// Call Subscribe before Start; mistakes are reported by Start.
func Subscribe[E Event](b *Bus, s Subscriber, consumer string, h func(ctx context.Context, tx pgx.Tx, m Meta, e E) error) {
	subscribe(b, s, consumer, func(e E) applyFunc {
		return func(ctx context.Context, tx pgx.Tx, _ *pgx.Batch, m Meta) error { return h(ctx, tx, m, e) }
	})
}

// SubscribeQueued is Subscribe for a handler whose whole effect is
// statements whose results it does not need (upserts into a projection, say):
// h queues them on batch instead of running them. The statements that the
// handlers of one delivery transaction queued are sent together, in one
// round trip, after its other handlers ran, so a delivery costs its domain no
// round trip of its own. A failing statement fails the transaction like a
// failing handler: its deliveries are then applied one at a time. Only the
// statements can fail, so h returns nothing.
func SubscribeQueued[E Event](b *Bus, s Subscriber, consumer string, h func(batch *pgx.Batch, m Meta, e E)) {
	subscribe(b, s, consumer, func(e E) applyFunc {
		return func(_ context.Context, _ pgx.Tx, queued *pgx.Batch, m Meta) error {
			h(queued, m, e)
			return nil
		}
	})
}

// subscribe registers consumer's decoder of E's topic: a payload of E's
// version is decoded into E and applied by bind's result.
func subscribe[E Event](b *Bus, s Subscriber, consumer string, bind func(E) applyFunc) {
	var zero E
	topic := zero.Topic()
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := b.addHandler(s, consumer, topic, func(version int, payload []byte) (applyFunc, error) {
		if version != zero.Version() {
			return nil, &undecodableError{fmt.Errorf("%s version %d, handler reads version %d", topic, version, zero.Version())}
		}
		var e E
		if err := json.Unmarshal(payload, &e); err != nil {
			return nil, &undecodableError{err}
		}
		return bind(e), nil
	}); err != nil {
		b.wiring = append(b.wiring, err)
	}
}

func (b *Bus) addHandler(s Subscriber, name string, topic Topic, h decodeFunc) error {
	if b.started {
		return fmt.Errorf("%s: Subscribe after Start", name)
	}
	if s.Pool == nil || s.Domain.Schema == "" {
		return fmt.Errorf("%s: subscriber without domain or pool", name)
	}
	if domain, purpose, ok := strings.Cut(name, "."); !ok || purpose == "" || domain != s.Domain.Name {
		return fmt.Errorf("consumer %q must be named %q", name, s.Domain.Name+".<purpose>")
	}
	in, ok := b.inboxes[s.Domain.Name]
	if !ok {
		in = newInbox(s, b.opts, b.metrics.split.WithLabelValues(s.Domain.Name))
		b.inboxes[s.Domain.Name] = in
	}
	if in.sub != s {
		return fmt.Errorf("consumer %s: domain %s subscribed with two pools", name, s.Domain.Name)
	}
	c, ok := b.consumers[name]
	if !ok {
		c = &consumer{inbox: in, handlers: make(map[Topic]decodeFunc)}
		b.consumers[name] = c
	}
	if _, dup := c.handlers[topic]; dup {
		return fmt.Errorf("consumer %s subscribed twice to %s", name, topic)
	}
	c.handlers[topic] = h
	return nil
}

// deliveryArgs is a delivery job: one event for one consumer. It names the
// event and the worker gets it from eventLog (kept in memory, or read from
// the log), so that the job row River writes three times stays small. Its
// JSON shape is built by the SQL functions events.publish and
// events.delivery_args; fields other jobs may carry (those enqueued before
// the args were slimmed down carried the whole event) are ignored.
type deliveryArgs struct {
	EventID  uuid.UUID `json:"event_id"`
	Consumer string    `json:"consumer"`
	Replay   bool      `json:"replay,omitempty"`
}

func (deliveryArgs) Kind() string { return jobKind }

// deliveryWorker runs every delivery job: it finds the consumer's handler and
// applies the event in the consumer's transaction.
type deliveryWorker struct {
	river.WorkerDefaults[deliveryArgs]
	bus *Bus
}

// Outcomes of one delivery attempt, the "outcome" metric label; deferred
// means put back because the consuming domain was busy (no attempt spent).
const (
	outcomeOK        = "ok"
	outcomeDuplicate = "duplicate"
	outcomeError     = "error"
	outcomeDead      = "dead"
	outcomeDeferred  = "deferred"
)

// busyDelay is the least a delivery refused by a busy domain waits before
// it is fetched again.
const busyDelay = 100 * time.Millisecond

// errNotHere is a delivery to a consumer, or of a topic, that this
// replica's build does not handle: during a rolling deploy, replicas of the
// previous build fetch the deliveries of a consumer added by the new one.
var errNotHere = errors.New("not handled in this replica")

// notHereGrace is how long after it was enqueued a delivery this replica
// does not handle is put back (after RetryBase, plus jitter), spending no
// attempt, so that a replica of the build that has the consumer takes it;
// after that it fails like any other attempt, and a consumer removed from
// the code ends in the dead-letter queue.
const notHereGrace = 15 * time.Minute

// notHereMaxDelay bounds one put-back of a delivery this replica does not
// handle.
const notHereMaxDelay = time.Minute

// notHereDelay is how long a delivery this replica does not handle is put
// back: a quarter of the time since it was enqueued, at least base and at
// most notHereMaxDelay, plus up to as much again as jitter. During a rolling
// deploy a new consumer's delivery that a replica of the old build fetched
// waits about base for a replica of the new build (longer each time the old
// build fetches it again), while each delivery to a consumer removed from the
// code (which no replica takes) is fetched 20 to 35 times over notHereGrace,
// not up to 900 times as with a put-back of base to twice base each time.
func notHereDelay(age, base time.Duration) time.Duration {
	d := min(max(age/4, base), notHereMaxDelay)
	return d + rand.N(d)
}

// jobAttempts is the River attempts of a delivery job that tries its
// delivery deliveries times: one more, kept for dead-lettering. River itself
// would discard a job whose last attempt never finished (its replica stopped
// or crashed mid-way and River's rescuer found it) or failed outside the
// handler (reading the event, writing the dead letter); the spare attempt
// dead-letters it instead, so every delivery that runs out of attempts ends
// in the dead-letter queue (unless its replica is lost during that spare
// attempt itself).
func jobAttempts(deliveries int) int { return deliveries + 1 }

// deliveryAttempts is how many times a job tries its delivery, the inverse
// of jobAttempts (at least once).
func deliveryAttempts(job *river.Job[deliveryArgs]) int { return max(1, job.MaxAttempts-1) }

func (w *deliveryWorker) Work(ctx context.Context, job *river.Job[deliveryArgs]) error {
	b, a := w.bus, job.Args
	if job.Attempt > deliveryAttempts(job) {
		return b.bury(ctx, job, job.Attempt-1, lastFailure(job))
	}
	start := time.Now()
	ev, err := b.events.get(ctx, a.EventID)
	if err != nil {
		b.metrics.handled.WithLabelValues(a.Consumer, "", outcomeError).Inc()
		return err
	}
	topic := string(ev.Topic)
	outcome, err := b.deliver(ctx, job.ID, job.CreatedAt, a, ev)
	if errors.Is(err, errBusy) {
		b.metrics.handled.WithLabelValues(a.Consumer, topic, outcomeDeferred).Inc()
		return river.JobSnooze(busyDelay + rand.N(busyDelay))
	}
	if errors.Is(err, errNotHere) && time.Since(job.CreatedAt) < notHereGrace {
		b.metrics.handled.WithLabelValues(a.Consumer, topic, outcomeDeferred).Inc()
		b.log.Warn("delivery put back: its consumer is not in this replica", "consumer", a.Consumer, "topic", topic, "event_id", a.EventID, "err", err)
		return river.JobSnooze(notHereDelay(time.Since(job.CreatedAt), b.opts.RetryBase))
	}
	// Cancelled by a shutdown, the delivery was rolled back and River puts it
	// back without spending an attempt; on its last attempt it must not be
	// buried for that.
	if err != nil && errors.Is(ctx.Err(), context.Canceled) && errors.Is(err, context.Canceled) {
		return storableError{err}
	}
	// Lag is commit to first handling, so only of a delivery enqueued with
	// its event (in the publishing transaction, which began before the event
	// was stamped), not of a replay or a retried dead letter, enqueued later.
	if job.Attempt == 1 && !job.CreatedAt.After(ev.OccurredAt) {
		b.metrics.lag.WithLabelValues(a.Consumer).Observe(start.Sub(ev.OccurredAt).Seconds())
	}
	b.metrics.duration.WithLabelValues(a.Consumer).Observe(time.Since(start).Seconds())
	var undecodable *undecodableError
	if err != nil && (errors.As(err, &undecodable) || job.Attempt >= deliveryAttempts(job)) {
		return b.bury(ctx, job, job.Attempt, err)
	}
	b.metrics.handled.WithLabelValues(a.Consumer, topic, outcome).Inc()
	if err != nil {
		b.log.Warn("event handler failed", append(failureAttrs(err), "consumer", a.Consumer, "topic", topic,
			"event_id", a.EventID, "attempt", job.Attempt, "max_attempts", deliveryAttempts(job))...)
		return storableError{err}
	}
	return nil
}

// storableError is a failed delivery's error as River records it. River
// keeps each attempt's error in a jsonb column, which cannot hold a NUL
// character, and records the outcomes of the jobs that finish together in
// one statement: a handler error holding a NUL byte would fail the
// recording of all of them, leaving their jobs running until they are
// rescued and delivered again minutes later.
type storableError struct{ err error }

func (e storableError) Error() string { return storable(e.err.Error()) }
func (e storableError) Unwrap() error { return e.err }

// storable is s as Postgres can store it in text and jsonb: a NUL byte is
// written as \x00, and bytes that are not UTF-8 as U+FFFD.
func storable(s string) string {
	return strings.ToValidUTF8(strings.ReplaceAll(s, "\x00", `\x00`), "\uFFFD")
}

// lastFailure is why the job's previous attempt ended without a result: the
// error River recorded for it (e.g. its rescue after the replica running it
// went away).
func lastFailure(job *river.Job[deliveryArgs]) error {
	if n := len(job.Errors); n > 0 {
		return fmt.Errorf("last attempt did not finish: %s", job.Errors[n-1].Error)
	}
	return errors.New("last attempt did not finish")
}

// failureAttrs are the log attributes of a failed delivery: the error, and
// the stack of a handler that panicked.
func failureAttrs(err error) []any {
	attrs := []any{"err", err}
	var p *panicError
	if errors.As(err, &p) {
		attrs = append(attrs, "stack", string(p.stack))
	}
	return attrs
}

// bury dead-letters job's delivery after attempts tries, with cause. When
// the dead letter cannot be written, the job is snoozed, which spends no
// attempt, and buried again later; only a job whose event is not in the log
// (nothing to deliver) is left to River.
func (b *Bus) bury(ctx context.Context, job *river.Job[deliveryArgs], attempts int, cause error) error {
	a := job.Args
	topic, err := b.deadLetter(ctx, job, attempts, cause)
	if err != nil {
		b.metrics.handled.WithLabelValues(a.Consumer, topic, outcomeError).Inc()
		b.log.Error("dead-lettering failed", "consumer", a.Consumer, "event_id", a.EventID, "cause", cause, "err", err)
		if errors.Is(err, errNotLogged) {
			return err
		}
		return river.JobSnooze(b.opts.RetryBase)
	}
	b.metrics.handled.WithLabelValues(a.Consumer, topic, outcomeDead).Inc()
	b.metrics.deadLetters.WithLabelValues(a.Consumer, topic).Inc()
	b.log.Error("event dead-lettered", append(failureAttrs(cause), "consumer", a.Consumer, "topic", topic,
		"event_id", a.EventID, "attempts", attempts)...)
	return nil
}

// deliver decodes one delivery of ev and hands it to its consumer, which
// applies it in a transaction together with the inbox row that makes a
// redelivery a no-op.
func (b *Bus) deliver(ctx context.Context, job int64, enqueued time.Time, a deliveryArgs, ev loggedEvent) (string, error) {
	b.mu.Lock()
	c := b.consumers[a.Consumer]
	b.mu.Unlock()
	if c == nil {
		return outcomeError, fmt.Errorf("no consumer %q: %w", a.Consumer, errNotHere)
	}
	decode := c.handlers[ev.Topic]
	if decode == nil {
		return outcomeError, fmt.Errorf("consumer %s has no handler for %s: %w", a.Consumer, ev.Topic, errNotHere)
	}
	apply, err := decode(ev.Version, ev.Payload)
	if err != nil {
		return outcomeError, err
	}
	m := Meta{EventID: a.EventID, Topic: ev.Topic, Producer: ev.Producer, OccurredAt: ev.OccurredAt, RequestID: ev.RequestID}
	return c.inbox.apply(ctx, job, enqueued, a, m, apply)
}

// deadLetterSQL records a dead letter with its event's topic, read from the
// log: the spare attempt (see jobAttempts) buries a job without reading its
// event first. A replay keeps when it was queued ($6), for its retry.
const deadLetterSQL = `INSERT INTO events.dead_letter_queue (event_id, consumer, topic, attempts, error, replay, queued_at)
SELECT e.id, $2, e.topic, $3, $4, $5, CASE WHEN $5 THEN $6::timestamptz END FROM events.domain_events e WHERE e.id = $1
RETURNING topic`

// errNotLogged is a delivery of an event that is not in the log.
var errNotLogged = errors.New("event not in the log")

// deadLetter records the failed delivery and finishes its job in one
// transaction, so a dead letter is written exactly once, and returns the
// event's topic. It runs on the events pool, not River's bookkeeping pool:
// its commit waits for the WAL flush, since a crash that lost it would lose
// the job's completion with it.
func (b *Bus) deadLetter(ctx context.Context, job *river.Job[deliveryArgs], attempts int, cause error) (string, error) {
	ctx = context.WithoutCancel(ctx)
	tx, err := b.pool.Begin(ctx)
	if err != nil {
		return "", fmt.Errorf("begin: %w", err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	a := job.Args
	var topic string
	err = tx.QueryRow(ctx, deadLetterSQL, a.EventID, a.Consumer, attempts, storable(cause.Error()), a.Replay, job.CreatedAt).Scan(&topic)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", fmt.Errorf("dead letter of event %s: %w", a.EventID, errNotLogged)
	}
	if err != nil {
		return "", fmt.Errorf("insert dead letter: %w", err)
	}
	if _, err := river.JobCompleteTx[*riverpgxv5.Driver](ctx, tx, job); err != nil {
		return "", fmt.Errorf("finish job: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return "", fmt.Errorf("commit dead letter: %w", err)
	}
	return topic, nil
}

// backoff retries after base, 2×base, 4×base… (±10% jitter), at most max.
type backoff struct{ base, max time.Duration }

func (p backoff) NextRetry(job *rivertype.JobRow) time.Time {
	d := p.base
	for i := 1; i < job.Attempt && d < p.max; i++ {
		d *= 2
	}
	d = min(d, p.max)
	jitter := time.Duration(float64(d) * (rand.Float64()*0.2 - 0.1))
	return time.Now().Add(d + jitter)
}
