// Package pgcache keeps, in each replica, values read from Postgres by id,
// so that a hot read needs no statement, while a value that changes or ends
// stops being answered as soon as its transaction commits.
//
// A trigger on the tables the values come from sends the id of every row
// that changes on the cache's channel when its transaction commits (a
// TRUNCATE sends a payload that is no id, and everything is forgotten).
// Each replica listens on a connection of its own and forgets what it
// hears; the replica that made a change forgets it itself once it commits.
// The cache answers only while that connection is proven to hear (it
// notifies itself every ProbeEvery and must hear that back within
// ProbeTimeout); otherwise every read goes to the database, as if there
// were no cache.
package pgcache

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
)

// Timing of the watcher's self-notifications and reconnections.
const (
	ProbeEvery   = 5 * time.Second
	ProbeTimeout = 2 * time.Second
	retryEvery   = time.Second
)

type entry[V any] struct {
	value   V
	expires time.Time
}

// Metrics name a cache's metrics.
type Metrics struct {
	// Reads counts the reads the cache answered and those it did not, by a
	// "source" label: cache or database.
	Reads prometheus.CounterOpts
	// Heard counts the notifications of changes heard, from any replica.
	Heard prometheus.CounterOpts
	// Listening is 1 while the cache hears changes and so may answer.
	Listening prometheus.GaugeOpts
	// Entries is how many values the cache holds.
	Entries prometheus.GaugeOpts
}

// Cache holds values by id. A read that began before a value changed could
// find the old value and store it after the change was heard, keeping it
// forever: so every forgetting, and every change of the watcher's state,
// moves a generation on, and a value is stored only if the generation taken
// before its read is still current.
type Cache[V any] struct {
	channel   string
	max       int          // entries; the cache is emptied whole when full, as a miss costs only one read
	mu        sync.RWMutex // every hot read takes it; writes are rare
	m         map[uuid.UUID]entry[V]
	gen       uint64
	listening bool

	// fromCache and fromDatabase are the two series of the reads counter,
	// resolved once: Lookup runs on hot paths.
	fromCache, fromDatabase prometheus.Counter
	heard                   prometheus.Counter
	listenGauge             prometheus.Gauge
}

// New returns a cache of at most maxEntries values whose changes are announced
// on channel. It answers nothing until Start has proven its connection. Its
// metrics are registered on reg when reg is not nil.
func New[V any](channel string, maxEntries int, m Metrics, reg prometheus.Registerer) *Cache[V] {
	reads := prometheus.NewCounterVec(m.Reads, []string{"source"})
	c := &Cache[V]{
		channel:      channel,
		max:          maxEntries,
		fromCache:    reads.WithLabelValues("cache"),
		fromDatabase: reads.WithLabelValues("database"),
		heard:        prometheus.NewCounter(m.Heard),
		listenGauge:  prometheus.NewGauge(m.Listening),
	}
	if reg != nil {
		reg.MustRegister(reads, c.heard, c.listenGauge, prometheus.NewGaugeFunc(m.Entries, c.size))
	}
	return c
}

func (c *Cache[V]) size() float64 {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return float64(len(c.m))
}

// Lookup returns the value of id if the cache holds it at now. On a miss it
// returns the generation to pass to Store with the result of the read that
// follows.
func (c *Cache[V]) Lookup(id uuid.UUID, now time.Time) (value V, gen uint64, ok bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if value, ok = c.hit(id, now); ok {
		return value, 0, true
	}
	return value, c.gen, false
}

// hit returns the value of id if the cache may answer it at now, and counts
// the read; c.mu is held.
func (c *Cache[V]) hit(id uuid.UUID, now time.Time) (V, bool) {
	if e, found := c.m[id]; found && c.listening && now.Before(e.expires) {
		c.fromCache.Inc()
		return e.value, true
	}
	c.fromDatabase.Inc()
	var zero V
	return zero, false
}

// LookupMany is Lookup for many ids under one lock: the values the cache
// holds at now, the ids it misses, and the generation to pass to Store with
// the results of the read of those.
func (c *Cache[V]) LookupMany(ids []uuid.UUID, now time.Time) (found map[uuid.UUID]V, missing []uuid.UUID, gen uint64) {
	found = make(map[uuid.UUID]V, len(ids))
	c.mu.RLock()
	defer c.mu.RUnlock()
	for _, id := range ids {
		if v, ok := c.hit(id, now); ok {
			found[id] = v
		} else {
			missing = append(missing, id)
		}
	}
	return found, missing, c.gen
}

// Store remembers the value of id until expires, unless gen is no longer
// current or the watcher is not listening. expires is on this replica's
// clock, as Lookup's now is, not on the database's.
func (c *Cache[V]) Store(gen uint64, id uuid.UUID, value V, expires time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen || !c.listening {
		return
	}
	if c.m == nil || len(c.m) >= c.max {
		c.m = make(map[uuid.UUID]entry[V], 1024)
	}
	c.m[id] = entry[V]{value: value, expires: expires}
}

// Forget drops the values of ids. The replica that changed them calls it
// once their transaction committed, so that its own next read already sees
// the change; the others hear of it on the channel.
func (c *Cache[V]) Forget(ids ...uuid.UUID) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	for _, id := range ids {
		delete(c.m, id)
	}
}

func (c *Cache[V]) forgetAll() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	c.m = nil
}

// setListening turns the cache on or off. Either way it starts empty: what
// it held may have changed while nothing was heard.
func (c *Cache[V]) setListening(on bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.listening == on {
		return
	}
	c.listening = on
	c.gen++
	c.m = nil
	if on {
		c.listenGauge.Set(1)
	} else {
		c.listenGauge.Set(0)
	}
}

// Start runs watch, on a connection configured as pool's, until ctx ends.
// wait returns once that connection is closed.
func (c *Cache[V]) Start(ctx context.Context, pool *pgxpool.Pool, log *slog.Logger) (wait func()) {
	cfg := pool.Config().ConnConfig.Copy()
	cfg.Tracer = nil // its waits are not requests' statements
	done := make(chan struct{})
	go func() {
		defer close(done)
		c.watch(ctx, cfg, log)
	}()
	return func() { <-done }
}

// watch listens for changes on a connection made from cfg until ctx ends,
// reconnecting after a failure; the cache answers only while it listens.
func (c *Cache[V]) watch(ctx context.Context, cfg *pgx.ConnConfig, log *slog.Logger) {
	for {
		err := c.listen(ctx, cfg)
		c.setListening(false)
		if ctx.Err() != nil {
			return
		}
		log.Warn("cache off until it hears changes again: every read goes to the database", "channel", c.channel, "err", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(retryEvery):
		}
	}
}

// listen serves one connection until it fails or ctx ends.
func (c *Cache[V]) listen(ctx context.Context, cfg *pgx.ConnConfig) error {
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return fmt.Errorf("%s cache: connect: %w", c.channel, err)
	}
	defer func() {
		closeCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
		defer cancel()
		_ = conn.Close(closeCtx)
	}()
	// Both statements name the channel in their text, so that
	// pg_stat_activity shows what a watcher's connection is for.
	listen := "LISTEN " + pgx.Identifier{c.channel}.Sanitize()
	probe := "SELECT pg_notify('" + strings.ReplaceAll(c.channel, "'", "''") + "', '')"
	if _, err := conn.Exec(ctx, listen); err != nil {
		return fmt.Errorf("%s cache: listen: %w", c.channel, err)
	}
	self := conn.PgConn().PID()
	var due time.Time // when the probe in flight must have been heard; zero when none is
	next := time.Now()
	for {
		if due.IsZero() && !time.Now().Before(next) {
			// Sending counts against the timeout too: on a connection that
			// went silent without closing (a network partition), the probe
			// would otherwise wait for TCP to give up, for many minutes,
			// while the cache went on answering.
			due = time.Now().Add(ProbeTimeout)
			probeCtx, cancel := context.WithDeadline(ctx, due)
			// The probe's payload is empty, which no id is.
			_, err := conn.Exec(probeCtx, probe)
			cancel()
			if err != nil {
				return fmt.Errorf("%s cache: probe: %w", c.channel, err)
			}
		}
		until := next
		if !due.IsZero() {
			until = due
		}
		waitCtx, cancel := context.WithDeadline(ctx, until)
		n, err := conn.WaitForNotification(waitCtx)
		timedOut := waitCtx.Err() != nil
		cancel()
		switch {
		case ctx.Err() != nil:
			return ctx.Err()
		case err != nil && timedOut:
			if !due.IsZero() {
				return errors.New(c.channel + " cache: own notification not heard within " + ProbeTimeout.String())
			}
		case err != nil:
			return fmt.Errorf("%s cache: wait: %w", c.channel, err)
		case n.Payload == "" && n.PID == self:
			due, next = time.Time{}, time.Now().Add(ProbeEvery)
			c.setListening(true)
		case n.Payload != "":
			if id, err := uuid.Parse(n.Payload); err == nil {
				c.Forget(id)
			} else {
				// Not one id (a TRUNCATE's notice, or anyone's NOTIFY):
				// whatever changed, it is forgotten.
				c.forgetAll()
			}
			c.heard.Inc()
		}
	}
}
