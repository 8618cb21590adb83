package events

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
)

// loggedEvent is an event as the log holds it.
type loggedEvent struct {
	Topic      Topic
	Version    int
	Payload    []byte
	Producer   string
	OccurredAt time.Time
	RequestID  string
}

// eventLog reads delivered events from events.domain_events. Delivery jobs
// carry only the event id (a job row is written three times, once per
// consumer), so every delivery needs its event. Most were published by this
// replica moments before, and eventLog keeps those in memory (see
// recentEvents). The others are read back: the deliveries River hands out
// together ask for theirs together, and eventLog answers all the ids asked
// for while a read was running with one query, like the inbox's group
// commit. An event fanned out to several consumers is read once per batch.
type eventLog struct {
	pool   *pgxpool.Pool
	recent recentEvents
	// fromMemory and fromLog count where get found events.
	fromMemory, fromLog prometheus.Counter

	mu      sync.Mutex
	next    *eventRead // ids waiting for the next query
	reading bool
}

func newEventLog(pool *pgxpool.Pool, sources *prometheus.CounterVec) *eventLog {
	return &eventLog{
		pool: pool,
		recent: recentEvents{
			maxAge: recentMaxAge, maxBytes: recentMaxBytes, byID: make(map[uuid.UUID]loggedEvent),
		},
		fromMemory: sources.WithLabelValues("memory"),
		fromLog:    sources.WithLabelValues("log"),
	}
}

// Bounds of recentEvents: a delivery normally starts milliseconds after its
// event was published; later ones (retries, a backlog) read the log. Each
// event counts its payload plus keptOverhead, about what its map entry,
// strings and place in the order take, so that small events are bounded too.
const (
	recentMaxAge   = time.Minute
	recentMaxBytes = 16 << 20
	keptOverhead   = 256
)

// recentEvents holds the events this replica published, so that delivering
// them here needs no read of the log (the read cost about a fifth of the CPU
// per event end to end). As events are added, those older than maxAge and
// the oldest beyond maxBytes are dropped. The log is append-only, so a kept
// event is the logged one; an event whose transaction rolled back has no
// delivery and ages out.
type recentEvents struct {
	maxAge   time.Duration
	maxBytes int

	mu    sync.Mutex
	byID  map[uuid.UUID]loggedEvent
	order []keptEvent // oldest first
	bytes int
}

type keptEvent struct {
	id   uuid.UUID
	at   time.Time
	size int
}

// keep adds a published event and drops the oldest beyond the bounds.
func (r *recentEvents) keep(id uuid.UUID, e loggedEvent) {
	now := time.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	size := len(e.Payload) + keptOverhead
	r.byID[id] = e
	r.order = append(r.order, keptEvent{id: id, at: now, size: size})
	r.bytes += size
	drop := 0
	for drop < len(r.order) && (r.bytes > r.maxBytes || now.Sub(r.order[drop].at) > r.maxAge) {
		delete(r.byID, r.order[drop].id)
		r.bytes -= r.order[drop].size
		drop++
	}
	r.order = r.order[drop:]
}

func (r *recentEvents) get(id uuid.UUID) (loggedEvent, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	e, ok := r.byID[id]
	return e, ok
}

// eventRead is one query's worth of ids and, once done is closed, its result.
type eventRead struct {
	ids    []uuid.UUID
	asked  map[uuid.UUID]bool
	done   chan struct{}
	events map[uuid.UUID]loggedEvent
	err    error
}

// get returns the logged event id.
func (l *eventLog) get(ctx context.Context, id uuid.UUID) (loggedEvent, error) {
	if e, ok := l.recent.get(id); ok {
		l.fromMemory.Inc()
		return e, nil
	}
	l.mu.Lock()
	r := l.next
	if r == nil {
		r = &eventRead{asked: make(map[uuid.UUID]bool), done: make(chan struct{})}
		l.next = r
	}
	if !r.asked[id] {
		r.asked[id] = true
		r.ids = append(r.ids, id)
	}
	if !l.reading {
		l.reading = true
		go l.read()
	}
	l.mu.Unlock()
	select {
	case <-r.done:
	case <-ctx.Done():
		return loggedEvent{}, fmt.Errorf("read event %s: %w", id, ctx.Err())
	}
	if r.err != nil {
		return loggedEvent{}, r.err
	}
	e, ok := r.events[id]
	if !ok {
		return loggedEvent{}, fmt.Errorf("event %s is not in the log", id)
	}
	l.fromLog.Inc()
	return e, nil
}

// read runs queries until no id is waiting.
func (l *eventLog) read() {
	for {
		l.mu.Lock()
		r := l.next
		l.next = nil
		if r == nil {
			l.reading = false
			l.mu.Unlock()
			return
		}
		l.mu.Unlock()
		r.events, r.err = l.query(r.ids)
		close(r.done)
	}
}

const readEventsSQL = `SELECT id, topic, version, payload, producer, occurred_at, coalesce(request_id, '')
FROM events.domain_events WHERE id = ANY($1::uuid[])`

// readTimeout bounds one read; its waiters give up with their own contexts.
const readTimeout = 30 * time.Second

func (l *eventLog) query(ids []uuid.UUID) (map[uuid.UUID]loggedEvent, error) {
	ctx, cancel := context.WithTimeout(context.Background(), readTimeout)
	defer cancel()
	rows, err := l.pool.Query(ctx, readEventsSQL, ids)
	if err != nil {
		return nil, fmt.Errorf("read events: %w", err)
	}
	out := make(map[uuid.UUID]loggedEvent, len(ids))
	var id uuid.UUID
	var e loggedEvent
	_, err = pgx.ForEachRow(rows, []any{&id, &e.Topic, &e.Version, &e.Payload, &e.Producer, &e.OccurredAt, &e.RequestID}, func() error {
		e.Payload = append([]byte(nil), e.Payload...)
		out[id] = e
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read events: %w", err)
	}
	return out, nil
}
