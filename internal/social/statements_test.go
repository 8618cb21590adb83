package social

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/nova-social/nova/internal/content"
	"github.com/nova-social/nova/internal/platform/domains"
	"github.com/nova-social/nova/internal/platform/page"
	"github.com/nova-social/nova/internal/platform/testkit"
)

// counter counts the SQL statements run through a pool.
type counter struct{ n atomic.Int64 }

func (c *counter) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	c.n.Add(1)
	return ctx
}

func (c *counter) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// tracedPool connects to the test database as d's role, counting statements.
func tracedPool(t *testing.T, e *env, d domains.Domain, c *counter) *pgxpool.Pool {
	t.Helper()
	cfg, err := pgxpool.ParseConfig(e.db.URL)
	if err != nil {
		t.Fatal(err)
	}
	cfg.ConnConfig.RuntimeParams["role"] = d.Role()
	cfg.ConnConfig.Tracer = c
	cfg.MaxConns = 2
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// TestFeedPageStatements: a feed page with its posts, like and share
// counts and viewerHasLiked costs the same few statements whatever its size
// (the counters and likes come with the feed entries, comment counts with
// the posts).
func TestFeedPageStatements(t *testing.T) {
	e := newEnv(t, Config{})
	ctx := context.Background()
	viewer := e.user(false)
	for range 5 {
		a := e.user(false)
		_, err := e.social.Follow(ctx, viewer, a)
		testkit.Must(t, err)
		for range 6 {
			e.post(t, a, content.Public)
		}
	}
	testkit.Eventually(t, "fan-out", func() bool { return len(e.feed(t, viewer, 100)) == 30 })

	var c counter
	posts := content.New(tracedPool(t, e, domains.Content, &c), e.bus, content.Options{})
	soc := New(tracedPool(t, e, domains.Social, &c), e.bus, posts, e.acc, Config{})
	readPage := func(size int) int64 {
		c.n.Store(0)
		pg, err := soc.Feed(ctx, viewer, page.Request{Size: size})
		testkit.Must(t, err)
		ids := make([]uuid.UUID, len(pg.Items))
		for i, it := range pg.Items {
			ids[i] = it.PostID
		}
		loaded, err := posts.PostsByIDs(ctx, viewer, ids)
		testkit.Must(t, err)
		if len(loaded) != size {
			t.Fatalf("loaded %d posts, want %d", len(loaded), size)
		}
		return c.n.Load()
	}
	small, large := readPage(5), readPage(20)
	if small != 2 || large != 2 {
		t.Fatalf("statements for pages of 5 and 20: %d and %d, want 2 each", small, large)
	}
}
