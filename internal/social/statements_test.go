package social

import (
	"context"
	"testing"

	"github.com/google/uuid"

	"github.com/nova-social/nova/internal/content"
	"github.com/nova-social/nova/internal/platform/domains"
	"github.com/nova-social/nova/internal/platform/page"
	"github.com/nova-social/nova/internal/platform/pgtest"
	"github.com/nova-social/nova/internal/platform/testkit"
)

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

	var c pgtest.StatementCounter
	traced := e.db.Traced(t, &c)
	posts := content.New(traced.For(domains.Content), e.bus, content.Options{})
	soc := New(traced.For(domains.Social), e.bus, posts, e.acc, Config{})
	readPage := func(size int) int64 {
		c.Reset()
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
		return c.Count()
	}
	small, large := readPage(5), readPage(20)
	if small != 2 || large != 2 {
		t.Fatalf("statements for pages of 5 and 20: %d and %d, want 2 each", small, large)
	}
}
