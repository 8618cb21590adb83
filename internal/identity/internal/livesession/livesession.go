// Package livesession remembers the sessions a replica has found live, so
// that an authenticated request needs no database look-up, while a session
// that ends still stops working on its tokens' next request.
//
// A trigger on identity.sessions sends the id of every session that ends on
// Channel when its transaction commits (a TRUNCATE, which ends them all,
// sends a payload that is no id, and every session is forgotten). Each
// replica listens on a connection of its own and forgets what it hears. The
// cache answers only while that connection is proven to hear (it notifies
// itself every ProbeEvery and must hear that back within ProbeTimeout);
// otherwise every request looks its session up, as if there were no cache.
package livesession

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus"
)

// Channel is where the trigger announces ended sessions (see the identity
// migration that creates it).
const Channel = "identity.session_ended"

// The watcher's statements: listening, and the probe it must hear back (an
// empty payload, which no session id is).
const (
	listenSQL = `LISTEN "` + Channel + `"`
	probeSQL  = `SELECT pg_notify('` + Channel + `', '')`
)

// Timing of the watcher's self-notifications and reconnections.
const (
	ProbeEvery   = 5 * time.Second
	ProbeTimeout = 2 * time.Second
	retryEvery   = time.Second
)

// maxEntries bounds the cache (under 100 bytes an entry); it is emptied
// whole when full, as a miss costs only one look-up.
const maxEntries = 100_000

type entry struct {
	user    uuid.UUID
	expires time.Time
}

// Cache holds live sessions by id. A look-up that began before a session
// ended could find it live and store it after its notification was heard,
// keeping it live forever: so every forgetting, and every change of the
// watcher's state, moves a generation on, and a result is stored only if
// the generation taken before its look-up is still current.
type Cache struct {
	mu        sync.RWMutex // every authenticated request reads; writes are rare
	m         map[uuid.UUID]entry
	gen       uint64
	listening bool

	// fromCache and fromDatabase are the two series of
	// nova_identity_session_checks_total, resolved once: Lookup runs on
	// every authenticated request.
	fromCache, fromDatabase prometheus.Counter
	heard                   prometheus.Counter
	listenGauge             prometheus.Gauge
}

// New returns a cache that answers nothing until Watch has proven its
// connection. Its metrics are registered on reg when reg is not nil.
func New(reg prometheus.Registerer) *Cache {
	checks := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "nova_identity_session_checks_total",
		Help: "Session checks of authenticated requests, by where the answer came from (cache or database).",
	}, []string{"source"})
	c := &Cache{
		fromCache:    checks.WithLabelValues("cache"),
		fromDatabase: checks.WithLabelValues("database"),
		heard: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "nova_identity_sessions_ended_heard_total",
			Help: "Notifications of ended sessions this replica heard (from any replica, itself included).",
		}),
		listenGauge: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "nova_identity_session_cache_listening",
			Help: "1 while this replica hears ended sessions and so may answer session checks from its cache.",
		}),
	}
	if reg != nil {
		reg.MustRegister(checks, c.heard, c.listenGauge, prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "nova_identity_session_cache_entries",
			Help: "Live sessions this replica remembers.",
		}, c.size))
	}
	return c
}

func (c *Cache) size() float64 {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return float64(len(c.m))
}

// Lookup returns the user of session id if the cache knows it live at now.
// On a miss it returns the generation to pass to Store with the result of
// the look-up that follows.
func (c *Cache) Lookup(id uuid.UUID, now time.Time) (user uuid.UUID, gen uint64, ok bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if e, found := c.m[id]; found && c.listening && now.Before(e.expires) {
		c.fromCache.Inc()
		return e.user, 0, true
	}
	c.fromDatabase.Inc()
	return uuid.Nil, c.gen, false
}

// Store remembers session id, of user, as live until expires, unless gen is
// no longer current or the watcher is not listening. expires is on this
// replica's clock, as Lookup's now is, not on the database's.
func (c *Cache) Store(gen uint64, id, user uuid.UUID, expires time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen || !c.listening {
		return
	}
	if c.m == nil || len(c.m) >= maxEntries {
		c.m = make(map[uuid.UUID]entry, 1024)
	}
	c.m[id] = entry{user: user, expires: expires}
}

// Forget drops ended sessions. The replica that ended them calls it once
// their transaction committed, so that its own next request already sees
// them ended; the others hear of them from Channel.
func (c *Cache) Forget(ids ...uuid.UUID) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	for _, id := range ids {
		delete(c.m, id)
	}
}

func (c *Cache) forgetAll() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	c.m = nil
}

// setListening turns the cache on or off. Either way it starts empty: what
// it held may have ended while nothing was heard.
func (c *Cache) setListening(on bool) {
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

// Watch listens for ended sessions on a connection made from cfg until ctx
// ends, reconnecting after a failure; the cache answers only while it
// listens.
func (c *Cache) Watch(ctx context.Context, cfg *pgx.ConnConfig, log *slog.Logger) {
	for {
		err := c.listen(ctx, cfg)
		c.setListening(false)
		if ctx.Err() != nil {
			return
		}
		log.Warn("session cache off until it hears ended sessions again: each request looks its session up", "err", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(retryEvery):
		}
	}
}

// listen serves one connection until it fails or ctx ends.
func (c *Cache) listen(ctx context.Context, cfg *pgx.ConnConfig) error {
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return fmt.Errorf("session cache: connect: %w", err)
	}
	defer func() {
		closeCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
		defer cancel()
		_ = conn.Close(closeCtx)
	}()
	if _, err := conn.Exec(ctx, listenSQL); err != nil {
		return fmt.Errorf("session cache: listen: %w", err)
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
			_, err := conn.Exec(probeCtx, probeSQL)
			cancel()
			if err != nil {
				return fmt.Errorf("session cache: probe: %w", err)
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
				return errors.New("session cache: own notification not heard within " + ProbeTimeout.String())
			}
		case err != nil:
			return fmt.Errorf("session cache: wait: %w", err)
		case n.Payload == "" && n.PID == self:
			due, next = time.Time{}, time.Now().Add(ProbeEvery)
			c.setListening(true)
		case n.Payload != "":
			if id, err := uuid.Parse(n.Payload); err == nil {
				c.Forget(id)
			} else {
				// Not one session (a TRUNCATE's notice, or anyone's NOTIFY):
				// whatever ended, it is forgotten.
				c.forgetAll()
			}
			c.heard.Inc()
		}
	}
}
