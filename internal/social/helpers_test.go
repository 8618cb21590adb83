package social

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/nova-social/nova/internal/content"
	"github.com/nova-social/nova/internal/events"
	"github.com/nova-social/nova/internal/events/eventstest"
	"github.com/nova-social/nova/internal/platform/apperr"
	"github.com/nova-social/nova/internal/platform/domains"
	"github.com/nova-social/nova/internal/platform/page"
	"github.com/nova-social/nova/internal/platform/pgtest"
	"github.com/nova-social/nova/internal/platform/testkit"
)

// accounts stands in for the user domain's answers (existence and privacy);
// everything social and content store is in the real test database.
type accounts struct {
	mu      sync.Mutex
	private map[uuid.UUID]bool
}

func (a *accounts) IsPrivate(_ context.Context, id uuid.UUID) (bool, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	p, ok := a.private[id]
	if !ok {
		return false, apperr.NewNotFound("user")
	}
	return p, nil
}

// env is a migrated database, a running bus, and content and social
// subscribed to it, as in the composition root.
type env struct {
	db      *pgtest.DB
	bus     *events.Bus
	content *content.Service
	social  *Service
	acc     *accounts
}

func newEnv(t testing.TB, cfg Config) *env {
	t.Helper()
	db := pgtest.New(t)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	bus, err := events.NewBus(db.Pools.For(domains.Events), log, nil, events.Options{
		MaxAttempts: 5, Workers: 4, RetryBase: 20 * time.Millisecond, RetryMax: 100 * time.Millisecond,
		FetchPollInterval: 20 * time.Millisecond,
	})
	if err != nil {
		t.Fatalf("NewBus: %v", err)
	}
	e := &env{db: db, bus: bus, acc: &accounts{private: map[uuid.UUID]bool{}}}
	e.content = content.New(db.Pools.For(domains.Content), bus, content.Options{Log: log})
	cfg.Log = log
	e.social = New(db.Pools.For(domains.Social), bus, e.content, e.acc, cfg)
	e.content.Subscribe(bus)
	e.social.Subscribe(bus)
	if err := bus.Start(context.Background()); err != nil {
		t.Fatalf("bus start: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = bus.Stop(ctx)
	})
	return e
}

// user registers a user (private or not) with the stand-in user domain.
func (e *env) user(private bool) uuid.UUID {
	id := uuid.Must(uuid.NewV7())
	e.acc.mu.Lock()
	e.acc.private[id] = private
	e.acc.mu.Unlock()
	return id
}

func (e *env) post(t testing.TB, author uuid.UUID, vis content.Visibility) content.Post {
	t.Helper()
	p, err := e.content.CreatePost(context.Background(), author, content.CreatePostInput{Body: "post", Visibility: vis})
	if err != nil {
		t.Fatalf("create post: %v", err)
	}
	return p
}

// feed reads viewer's whole feed, page by page.
func (e *env) feed(t testing.TB, viewer uuid.UUID, size int) []uuid.UUID {
	t.Helper()
	var ids []uuid.UUID
	req := page.Request{Size: size}
	for {
		pg, err := e.social.Feed(context.Background(), viewer, req)
		if err != nil {
			t.Fatalf("feed: %v", err)
		}
		for _, it := range pg.Items {
			ids = append(ids, it.PostID)
		}
		if !pg.HasNext {
			return ids
		}
		k := pg.Keys[len(pg.Keys)-1]
		req.After = &k
	}
}

func (e *env) feedHas(t testing.TB, viewer, post uuid.UUID) bool {
	for _, id := range e.feed(t, viewer, 100) {
		if id == post {
			return true
		}
	}
	return false
}

// storedEntries counts viewer's materialised feed rows.
func (e *env) storedEntries(t testing.TB, viewer uuid.UUID) int {
	t.Helper()
	var n int
	if err := e.social.pool.QueryRow(context.Background(), `SELECT count(*) FROM social.feeds WHERE user_id = $1`, viewer).Scan(&n); err != nil {
		t.Fatalf("count feed rows: %v", err)
	}
	return n
}

// lockWaiters counts the sessions of the test database waiting for an
// advisory lock.
func (e *env) lockWaiters(t testing.TB) int {
	t.Helper()
	var n int
	err := e.social.pool.QueryRow(context.Background(), `SELECT count(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database
		WHERE d.datname = current_database() AND l.locktype = 'advisory' AND NOT l.granted`).Scan(&n)
	testkit.Must(t, err)
	return n
}

// handled counts the events consumer has applied.
func (e *env) handled(t testing.TB, consumer string) int {
	t.Helper()
	var n int
	if err := e.social.pool.QueryRow(context.Background(), `SELECT count(*) FROM social.event_inbox WHERE consumer = $1`, consumer).Scan(&n); err != nil {
		t.Fatalf("count handled events: %v", err)
	}
	return n
}

// publish commits evs as the domains that own them would.
func (e *env) publish(t testing.TB, evs ...events.Event) {
	t.Helper()
	eventstest.Publish(t, e.bus, e.db.Pools, evs...)
}

func (e *env) counts(t testing.TB, id uuid.UUID) Counts {
	t.Helper()
	m, err := e.social.UserCounts(context.Background(), []uuid.UUID{id})
	testkit.Must(t, err)
	return m[id]
}

func (e *env) state(t testing.TB, viewer, id uuid.UUID) FollowState {
	t.Helper()
	m, err := e.social.FollowStates(context.Background(), viewer, []uuid.UUID{id})
	testkit.Must(t, err)
	return m[id]
}
