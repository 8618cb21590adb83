package events

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Admin is the operator's view of the bus (`nova events …`): the dead-letter
// queue, replays and statistics. It needs only the events domain's pool, not
// a running bus: re-enqueued deliveries are picked up by whichever replica
// runs the consumer.
type Admin struct {
	pool *pgxpool.Pool
	// jobAttempts is the River attempts of the jobs it enqueues (see
	// jobAttempts).
	jobAttempts int
	// replayPage is how many events one replay transaction enqueues.
	replayPage int
	// retryPage is how many dead letters one retry transaction re-enqueues.
	retryPage int
}

// NewAdmin returns the operator interface over the events domain's pool.
// maxAttempts applies to the deliveries it enqueues (retries and replays).
func NewAdmin(pool *pgxpool.Pool, maxAttempts int) *Admin {
	if maxAttempts <= 0 {
		maxAttempts = Options{}.withDefaults().MaxAttempts
	}
	return &Admin{pool: pool, jobAttempts: jobAttempts(maxAttempts), replayPage: 10000, retryPage: 1000}
}

// ErrNotFound is returned for an unknown dead letter or consumer.
var ErrNotFound = errors.New("not found")

// DeadLetter is a delivery that exhausted its attempts (or could not be
// decoded), with the event it carried.
type DeadLetter struct {
	ID         int64
	EventID    uuid.UUID
	Consumer   string
	Topic      Topic
	Attempts   int
	Error      string
	FailedAt   time.Time
	Producer   string
	OccurredAt time.Time
	RequestID  string
	Payload    json.RawMessage
	// Replay marks a dead replayed delivery; its retry is a replay too.
	Replay bool
}

const deadLettersSQL = `SELECT d.id, d.event_id, d.consumer, d.topic, d.attempts, d.error, d.failed_at,
       e.producer, e.occurred_at, coalesce(e.request_id, ''), e.payload, d.replay
FROM events.dead_letter_queue d
JOIN events.domain_events e ON e.id = d.event_id
WHERE ($1::text = '' OR d.consumer = $1) AND ($2::bigint = 0 OR d.id = $2)
ORDER BY d.id
LIMIT $3`

// DeadLetters lists up to limit dead letters, oldest first, of one consumer
// or of all when consumer is empty.
func (a *Admin) DeadLetters(ctx context.Context, consumer string, limit int) ([]DeadLetter, error) {
	return a.deadLetters(ctx, consumer, 0, limit)
}

// DeadLetter returns one dead letter.
func (a *Admin) DeadLetter(ctx context.Context, id int64) (DeadLetter, error) {
	if id <= 0 {
		return DeadLetter{}, fmt.Errorf("dead letter %d: %w", id, ErrNotFound)
	}
	dl, err := a.deadLetters(ctx, "", id, 1)
	if err != nil {
		return DeadLetter{}, err
	}
	if len(dl) == 0 {
		return DeadLetter{}, fmt.Errorf("dead letter %d: %w", id, ErrNotFound)
	}
	return dl[0], nil
}

func (a *Admin) deadLetters(ctx context.Context, consumer string, id int64, limit int) ([]DeadLetter, error) {
	rows, err := a.pool.Query(ctx, deadLettersSQL, consumer, id, limit)
	if err != nil {
		return nil, fmt.Errorf("list dead letters: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (DeadLetter, error) {
		var d DeadLetter
		err := r.Scan(&d.ID, &d.EventID, &d.Consumer, &d.Topic, &d.Attempts, &d.Error, &d.FailedAt,
			&d.Producer, &d.OccurredAt, &d.RequestID, &d.Payload, &d.Replay)
		return d, err
	})
	if err != nil {
		return nil, fmt.Errorf("list dead letters: %w", err)
	}
	return out, nil
}

// enqueueDeletedSQL ends the statements that retry dead letters: those
// deleted in d are enqueued afresh with a full set of attempts ($1), as
// replays if they were. A replay's job is created at the time its replay
// was queued, as the replay's own jobs were, so that the inbox still skips
// an event applied after that (see replaySQL). It returns how many.
const enqueueDeletedSQL = `
g AS (SELECT replay, coalesce(queued_at, now()) AS created_at, array_agg(event_id) AS ids, array_agg(consumer) AS consumers
    FROM d GROUP BY replay, queued_at)
SELECT coalesce(sum(events.enqueue(g.ids, g.consumers, g.replay, $1, g.created_at)), 0)::bigint FROM g`

// retrySQL moves dead letter $2 back into delivery, atomically.
const retrySQL = `WITH d AS (
    DELETE FROM events.dead_letter_queue WHERE id = $2 RETURNING event_id, consumer, replay, queued_at),` + enqueueDeletedSQL

// retryPageSQL moves the oldest $4 dead letters of consumer $2 (of all when
// empty), up to id $3, back into delivery, atomically. It skips those
// another statement has locked rather than wait: they are on their way out
// of the queue already (another retry, a purge), and a retry that never
// waits can neither wait long nor deadlock with a purge, which locks in
// another order.
const retryPageSQL = `WITH p AS MATERIALIZED (
    SELECT id FROM events.dead_letter_queue
    WHERE ($2::text = '' OR consumer = $2) AND id <= $3
    ORDER BY id
    LIMIT $4
    FOR UPDATE SKIP LOCKED),
d AS (
    DELETE FROM events.dead_letter_queue q USING p WHERE q.id = p.id
    RETURNING q.event_id, q.consumer, q.replay, q.queued_at),` + enqueueDeletedSQL

// lastDeadLetterSQL is where a retry of all stops (see RetryAllDeadLetters).
const lastDeadLetterSQL = `SELECT coalesce(max(id), 0) FROM events.dead_letter_queue WHERE $1::text = '' OR consumer = $1`

// RetryDeadLetter re-enqueues one dead letter (after the consumer was fixed).
func (a *Admin) RetryDeadLetter(ctx context.Context, id int64) error {
	var n int64
	if err := a.pool.QueryRow(ctx, retrySQL, a.jobAttempts, id).Scan(&n); err != nil {
		return fmt.Errorf("retry dead letter %d: %w", id, err)
	}
	if n == 0 {
		return fmt.Errorf("dead letter %d: %w", id, ErrNotFound)
	}
	return nil
}

// RetryAllDeadLetters re-enqueues the dead letters of consumer (of all when
// empty), oldest first, a page per transaction, so that a long queue is not
// written in one transaction; it reports how many, also when it fails part
// way. It takes only those already there when it starts: a retried delivery
// that dies again at once is left for the operator, not retried in a loop.
func (a *Admin) RetryAllDeadLetters(ctx context.Context, consumer string) (int64, error) {
	var last int64
	if err := a.pool.QueryRow(ctx, lastDeadLetterSQL, consumer).Scan(&last); err != nil {
		return 0, fmt.Errorf("retry dead letters: %w", err)
	}
	n, err := inPages(a.retryPage, func() (int64, error) {
		var n int64
		err := a.pool.QueryRow(ctx, retryPageSQL, a.jobAttempts, consumer, last, a.retryPage).Scan(&n)
		return n, err
	})
	if err != nil {
		return n, fmt.Errorf("retry dead letters: %w", err)
	}
	return n, nil
}

// inPages runs page, one transaction each, until one handles fewer than size
// items, and reports how many they handled, also when one fails.
func inPages(size int, page func() (int64, error)) (int64, error) {
	var total int64
	for {
		n, err := page()
		if err != nil {
			return total, err
		}
		total += n
		if n < int64(size) {
			return total, nil
		}
	}
}

// purgeSQL measures the age of dead letters by the database's clock, which
// stamped them, not by the operator's.
const purgeSQL = `DELETE FROM events.dead_letter_queue WHERE failed_at < now() - $1::interval AND ($2::text = '' OR consumer = $2)`

// PurgeDeadLetters drops the dead letters, of consumer only if not empty,
// that failed more than olderThan ago (all when zero; the events stay in the
// log) and reports how many.
func (a *Admin) PurgeDeadLetters(ctx context.Context, olderThan time.Duration, consumer string) (int64, error) {
	tag, err := a.pool.Exec(ctx, purgeSQL, olderThan, consumer)
	if err != nil {
		return 0, fmt.Errorf("purge dead letters: %w", err)
	}
	return tag.RowsAffected(), nil
}

// Since is where a replay starts: at a time, or a duration before the
// database's clock, since the operator's machine may be skewed. The zero
// Since is the start of the log.
type Since struct {
	at       time.Time
	ago      time.Duration
	relative bool
}

// SinceTime starts a replay at t.
func SinceTime(t time.Time) Since { return Since{at: t} }

// SinceAgo starts a replay d before the database's now.
func SinceAgo(d time.Duration) Since { return Since{ago: d, relative: true} }

// replayStartSQL reports whether consumer $1 is subscribed (to topic $2,
// if set), when the replay starts: $4, or $3 before the database's now, and
// that now, when it is queued; both are read once so that every page has the
// same.
const replayStartSQL = `SELECT EXISTS (SELECT FROM events.event_subscriptions WHERE consumer = $1 AND ($2::text = '' OR topic = $2)),
       coalesce(now() - $3::interval, $4::timestamptz), now()`

// replaySQL enqueues, for consumer, one page of the logged events of its
// subscribed topics (or of one topic) from $3 to when the replay was queued
// ($7), after the event id $5, oldest first, as replays: they are applied
// even when the consumer's inbox already holds them. Every page's jobs are
// created at $7, since the inbox skips a replayed event applied after its
// job was created (onto the cleared projection): an event applied live while
// earlier pages were queued is then not applied twice. Events logged later
// have live deliveries of their own. It returns how many it enqueued and
// the last id.
const replaySQL = `WITH ev AS MATERIALIZED (
    SELECT e.id
    FROM events.domain_events e
    JOIN events.event_subscriptions s ON s.topic = e.topic AND s.consumer = $1
    WHERE ($2::text = '' OR e.topic = $2) AND e.occurred_at >= $3 AND e.occurred_at <= $7 AND e.id > $5
    ORDER BY e.id
    LIMIT $6)
SELECT coalesce(events.enqueue(array_agg(id), array_agg($1::text), true, $4, $7), 0),
       coalesce((SELECT id FROM ev ORDER BY id DESC LIMIT 1), $5)
FROM ev`

// Replay re-delivers to consumer the logged events of its subscribed topics
// (only topic, if set) that occurred at or after since, up to its start, to
// rebuild a dropped projection. Replayed events run the handler even if the
// consumer's inbox already has them, so the projection must have been
// cleared first (or its handler must be an upsert). The events are enqueued
// a page per transaction, so that a long log is neither held in memory nor
// written in one transaction; it reports how many deliveries it enqueued,
// also when it fails part way.
func (a *Admin) Replay(ctx context.Context, consumer string, topic Topic, since Since) (int64, error) {
	var ago any
	if since.relative {
		ago = since.ago
	}
	var ok bool
	var start, queued time.Time
	if err := a.pool.QueryRow(ctx, replayStartSQL, consumer, string(topic), ago, since.at).Scan(&ok, &start, &queued); err != nil {
		return 0, fmt.Errorf("replay: look up consumer: %w", err)
	}
	if !ok {
		return 0, fmt.Errorf("replay: consumer %q subscribed to %q: %w", consumer, topic, ErrNotFound)
	}
	after := uuid.Nil
	n, err := inPages(a.replayPage, func() (int64, error) {
		var n int64
		err := a.pool.QueryRow(ctx, replaySQL, consumer, string(topic), start, a.jobAttempts, after, a.replayPage, queued).Scan(&n, &after)
		return n, err
	})
	if err != nil {
		return n, fmt.Errorf("replay %s: %w", consumer, err)
	}
	return n, nil
}

// Stats is the state of the bus across replicas.
type Stats struct {
	Topics    []TopicStats
	Consumers []ConsumerStats
}

// TopicStats counts a topic's events in the log.
type TopicStats struct {
	Topic     Topic
	Published int64
	Last      time.Time
}

// ConsumerStats is one consumer's backlog. Pending deliveries wait for
// their first attempt, Running ones are being handled, Failed ones failed at
// least once and wait for a retry, Dead ones are in the dead-letter queue.
// OldestPending is the age of the oldest Pending delivery, so that it and
// Pending describe the same jobs (a failing one shows under Failed).
type ConsumerStats struct {
	Consumer      string
	Topics        int
	Pending       int64
	Running       int64
	Failed        int64
	Dead          int64
	OldestPending time.Duration
}

const topicStatsSQL = `SELECT topic, count(*), max(occurred_at) FROM events.domain_events GROUP BY topic ORDER BY topic`

const consumerStatsSQL = `WITH jobs AS (
    SELECT args->>'consumer' AS consumer,
           count(*) FILTER (WHERE state <> 'running' AND errors IS NULL) AS pending,
           count(*) FILTER (WHERE state = 'running') AS running,
           count(*) FILTER (WHERE state <> 'running' AND errors IS NOT NULL) AS failed,
           min(created_at) FILTER (WHERE state <> 'running' AND errors IS NULL) AS oldest
    FROM events.river_job
    WHERE queue = 'events' AND state IN ('available', 'scheduled', 'running', 'retryable')
    GROUP BY 1),
dead AS (SELECT consumer, count(*) AS n FROM events.dead_letter_queue GROUP BY consumer),
subs AS (SELECT consumer, count(*) AS topics FROM events.event_subscriptions GROUP BY consumer),
names AS (SELECT consumer FROM subs UNION SELECT consumer FROM jobs UNION SELECT consumer FROM dead)
SELECT n.consumer, coalesce(s.topics, 0), coalesce(j.pending, 0), coalesce(j.running, 0), coalesce(j.failed, 0),
       coalesce(d.n, 0), coalesce(extract(epoch FROM now() - j.oldest), 0)::float8
FROM names n
LEFT JOIN subs s USING (consumer)
LEFT JOIN jobs j USING (consumer)
LEFT JOIN dead d USING (consumer)
ORDER BY n.consumer`

// SubscriptionsStaleAfter is how long no replica may have recorded a
// subscription before Unsubscribe removes it: five times as long as a
// running replica takes to record it again.
const SubscriptionsStaleAfter = 5 * subscriptionsSeenEvery

// unsubscribeSQL removes consumer $1's subscriptions (to topic $2 only, if
// set) that no replica recorded in the last $3, and lists every matching one
// with whether it was removed.
const unsubscribeSQL = `WITH matching AS (
    SELECT consumer, topic, seen_at < now() - $3::interval AS stale
    FROM events.event_subscriptions
    WHERE consumer = $1 AND ($2::text = '' OR topic = $2)
    ORDER BY topic COLLATE "C"
    FOR UPDATE),
removed AS (
    DELETE FROM events.event_subscriptions s USING matching m
    WHERE s.consumer = m.consumer AND s.topic = m.topic AND m.stale)
SELECT topic, stale FROM matching ORDER BY topic`

// Unsubscribe removes the subscriptions of consumer (to topic only, if not
// empty) that no running replica has recorded for SubscriptionsStaleAfter:
// those of a consumer, or of a topic of one, that the code no longer has.
// Publications then stop enqueuing deliveries for them; deliveries already
// enqueued end in the dead-letter queue. It returns the topics removed and
// those kept because a replica recorded them lately, and ErrNotFound when
// consumer has no such subscription.
func (a *Admin) Unsubscribe(ctx context.Context, consumer string, topic Topic) (removed, kept []Topic, err error) {
	rows, err := a.pool.Query(ctx, unsubscribeSQL, consumer, string(topic), SubscriptionsStaleAfter)
	if err != nil {
		return nil, nil, fmt.Errorf("unsubscribe %s: %w", consumer, err)
	}
	var t string
	var stale bool
	_, err = pgx.ForEachRow(rows, []any{&t, &stale}, func() error {
		if stale {
			removed = append(removed, Topic(t))
		} else {
			kept = append(kept, Topic(t))
		}
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("unsubscribe %s: %w", consumer, err)
	}
	if len(removed)+len(kept) == 0 {
		return nil, nil, fmt.Errorf("unsubscribe %s: %w", consumer, ErrNotFound)
	}
	return removed, kept, nil
}

// consumersSQL names every consumer the bus knows of: subscribed, or with
// deliveries waiting or dead.
const consumersSQL = `SELECT consumer FROM events.event_subscriptions
UNION SELECT consumer FROM events.dead_letter_queue
UNION SELECT args->>'consumer' FROM events.river_job
    WHERE queue = 'events' AND state IN ('available', 'scheduled', 'running', 'retryable')
ORDER BY 1`

// Consumers lists, in order, the consumers the bus knows of: those
// subscribed and those with deliveries waiting or dead. Unlike Stats, it
// does not count the log.
func (a *Admin) Consumers(ctx context.Context) ([]string, error) {
	rows, err := a.pool.Query(ctx, consumersSQL)
	if err != nil {
		return nil, fmt.Errorf("consumers: %w", err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("consumers: %w", err)
	}
	return names, nil
}

// Stats reads the published counts per topic and the backlog per consumer.
func (a *Admin) Stats(ctx context.Context) (Stats, error) {
	var st Stats
	rows, err := a.pool.Query(ctx, topicStatsSQL)
	if err != nil {
		return st, fmt.Errorf("topic stats: %w", err)
	}
	st.Topics, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (TopicStats, error) {
		var t TopicStats
		err := r.Scan(&t.Topic, &t.Published, &t.Last)
		return t, err
	})
	if err != nil {
		return st, fmt.Errorf("topic stats: %w", err)
	}
	rows, err = a.pool.Query(ctx, consumerStatsSQL)
	if err != nil {
		return st, fmt.Errorf("consumer stats: %w", err)
	}
	st.Consumers, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (ConsumerStats, error) {
		var c ConsumerStats
		var oldest float64
		err := r.Scan(&c.Consumer, &c.Topics, &c.Pending, &c.Running, &c.Failed, &c.Dead, &oldest)
		c.OldestPending = time.Duration(oldest * float64(time.Second))
		return c, err
	})
	if err != nil {
		return st, fmt.Errorf("consumer stats: %w", err)
	}
	return st, nil
}
