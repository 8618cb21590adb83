package content_test

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/nova-social/nova/internal/content"
	"github.com/nova-social/nova/internal/events"
	"github.com/nova-social/nova/internal/events/eventstest"
	"github.com/nova-social/nova/internal/platform/domains"
	"github.com/nova-social/nova/internal/platform/pgtest"
	"github.com/nova-social/nova/internal/platform/postgres"
	"github.com/nova-social/nova/internal/platform/testkit"
)

// env is a migrated database, a running event bus and the content service
// subscribed to it. Social's and user's events are published from their
// own domains' pools.
type env struct {
	svc   *content.Service
	bus   *events.Bus
	pools *postgres.Pools
	pool  *pgxpool.Pool
	// mentions records the MentionIDs of every post and comment event
	// delivered to a test consumer, by post or comment id.
	mu       sync.Mutex
	mentions map[uuid.UUID][]uuid.UUID
}

// directory is the user domain's answer for a few known usernames.
type directory map[string]uuid.UUID

func (d directory) UserIDs(_ context.Context, names []string) (map[string]uuid.UUID, error) {
	out := map[string]uuid.UUID{}
	for _, n := range names {
		if id, ok := d[n]; ok {
			out[n] = id
		}
	}
	return out, nil
}

// knownUsers are the usernames the test directory resolves.
var knownUsers = directory{"bob": uuid.MustParse("0190a000-0000-7000-8000-000000000b0b"), "carol": uuid.MustParse("0190a000-0000-7000-8000-0000000ca201")}

func newEnv(t testing.TB) *env {
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
	svc := content.New(db.Pools.For(domains.Content), bus, content.Options{Log: log, Users: knownUsers})
	svc.Subscribe(bus)
	e := &env{svc: svc, bus: bus, pools: db.Pools, pool: db.Pools.For(domains.Content), mentions: map[uuid.UUID][]uuid.UUID{}}
	observer := events.Subscriber{Domain: domains.Search, Pool: db.Pools.For(domains.Search)}
	events.Subscribe(bus, observer, "search.contenttest", func(_ context.Context, _ pgx.Tx, _ events.Meta, ev events.PostCreated) error {
		e.record(ev.PostID, ev.MentionIDs)
		return nil
	})
	events.Subscribe(bus, observer, "search.contenttest", func(_ context.Context, _ pgx.Tx, _ events.Meta, ev events.PostUpdated) error {
		e.record(ev.PostID, ev.MentionIDs)
		return nil
	})
	events.Subscribe(bus, observer, "search.contenttest", func(_ context.Context, _ pgx.Tx, _ events.Meta, ev events.CommentCreated) error {
		e.record(ev.CommentID, ev.MentionIDs)
		return nil
	})
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

func (e *env) record(id uuid.UUID, mentions []uuid.UUID) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.mentions[id] = mentions
}

// mentioned waits for the event of id and returns its MentionIDs.
func (e *env) mentioned(t *testing.T, id uuid.UUID) []uuid.UUID {
	t.Helper()
	var got []uuid.UUID
	testkit.Eventually(t, "event observed", func() bool {
		e.mu.Lock()
		defer e.mu.Unlock()
		var ok bool
		got, ok = e.mentions[id]
		return ok
	})
	return got
}

// publish commits evs as the domains that own them would.
func (e *env) publish(t *testing.T, evs ...events.Event) {
	t.Helper()
	eventstest.Publish(t, e.bus, e.pools, evs...)
}

func (e *env) follow(t *testing.T, follower, followee uuid.UUID, state string, at time.Time) {
	e.publish(t, events.FollowCreated{FollowerID: follower, FolloweeID: followee, State: state, At: at})
}

// handled counts the events consumer has applied.
func (e *env) handled(t *testing.T, consumer string) int {
	t.Helper()
	var n int
	if err := e.pool.QueryRow(context.Background(), `SELECT count(*) FROM content.event_inbox WHERE consumer = $1`, consumer).Scan(&n); err != nil {
		t.Fatalf("count handled events: %v", err)
	}
	return n
}

func user() uuid.UUID { return uuid.Must(uuid.NewV7()) }

// must(f())(t) returns f's value, failing t on f's error.
func must[T any](v T, err error) func(t *testing.T) T {
	return func(t *testing.T) T {
		t.Helper()
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return v
	}
}

func (e *env) post(t *testing.T, author uuid.UUID, body string, vis content.Visibility) content.Post {
	t.Helper()
	return must(e.svc.CreatePost(context.Background(), author, content.CreatePostInput{Body: body, Visibility: vis}))(t)
}

func (e *env) visible(viewer, post uuid.UUID) bool {
	_, err := e.svc.Post(context.Background(), viewer, post)
	return err == nil
}
