package social

import (
	"context"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"

	"github.com/google/uuid"

	"github.com/nova-social/nova/internal/content"
	"github.com/nova-social/nova/internal/platform/page"
	"github.com/nova-social/nova/internal/platform/testkit"
)

// TestConcurrentFanOutConverges: authors post while their followers
// unfollow and follow again; once the bus is idle every feed holds exactly
// the posts of the authors followed at the end, newest first.
func TestConcurrentFanOutConverges(t *testing.T) {
	e := newEnv(t, Config{})
	ctx := context.Background()
	authors := make([]uuid.UUID, 4)
	for i := range authors {
		authors[i] = e.user(false)
	}
	followers := make([]uuid.UUID, 12)
	for i := range followers {
		followers[i] = e.user(false)
		for _, a := range authors {
			_, err := e.social.Follow(ctx, followers[i], a)
			testkit.Must(t, err)
		}
	}
	var mu sync.Mutex
	posted := map[uuid.UUID][]content.Post{}
	var wg sync.WaitGroup
	for _, a := range authors {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 8 {
				p, err := e.content.CreatePost(ctx, a, content.CreatePostInput{Body: "concurrent"})
				if err != nil {
					t.Errorf("post: %v", err)
					return
				}
				mu.Lock()
				posted[a] = append(posted[a], p)
				mu.Unlock()
			}
		}()
	}
	for _, f := range followers[:6] {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 6 {
				a := authors[rand.IntN(len(authors))]
				var err error
				if rand.IntN(2) == 0 {
					err = e.social.Unfollow(ctx, f, a)
				} else {
					_, err = e.social.Follow(ctx, f, a)
				}
				if err != nil {
					t.Errorf("follow change: %v", err)
				}
			}
		}()
	}
	wg.Wait()

	for _, f := range followers {
		states, err := e.social.FollowStates(ctx, f, authors)
		testkit.Must(t, err)
		var want []content.Post
		for _, a := range authors {
			if states[a] == Following {
				want = append(want, posted[a]...)
			}
		}
		slices.SortFunc(want, func(x, y content.Post) int {
			if c := y.CreatedAt.Compare(x.CreatedAt); c != 0 {
				return c
			}
			return -slicesCompare(x.ID, y.ID)
		})
		ids := make([]uuid.UUID, len(want))
		for i, p := range want {
			ids[i] = p.ID
		}
		testkit.Eventually(t, "feed converges", func() bool { return slices.Equal(e.feed(t, f, 50), ids) })
		pg, err := e.social.Feed(ctx, f, page.Request{Size: 100})
		testkit.Must(t, err)
		if len(pg.Items) != e.storedEntries(t, f) {
			t.Fatalf("stored entries %d, feed %d: leftovers", e.storedEntries(t, f), len(pg.Items))
		}
	}
}

func slicesCompare(a, b uuid.UUID) int { return slices.Compare(a[:], b[:]) }
