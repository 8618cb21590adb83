package social

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/nova-social/nova/internal/content"
	"github.com/nova-social/nova/internal/events"
	"github.com/nova-social/nova/internal/platform/page"
)

// seedFollowers gives author n followers (and the counter) in two
// set-based statements; with perFeed > 0 each follower's feed is first
// filled with perFeed older entries, so fan-out also has to trim.
func seedFollowers(b *testing.B, e *env, author uuid.UUID, n, perFeed int) {
	b.Helper()
	ctx := context.Background()
	if _, err := e.social.pool.Exec(ctx, `INSERT INTO social.relationships (follower_id, followee_id, state, created_at)
		SELECT gen_random_uuid(), $1, 'FOLLOWING', now() FROM generate_series(1, $2)`, author, n); err != nil {
		b.Fatal(err)
	}
	if _, err := e.social.pool.Exec(ctx, `INSERT INTO social.user_stats (user_id, follower_count) VALUES ($1, $2)`, author, n); err != nil {
		b.Fatal(err)
	}
	if perFeed == 0 {
		return
	}
	if _, err := e.social.pool.Exec(ctx, `INSERT INTO social.feeds (user_id, post_id, author_id, created_at)
		SELECT r.follower_id, gen_random_uuid(), gen_random_uuid(), now() - make_interval(mins => g)
		FROM social.relationships r, generate_series(1, $2) g WHERE r.followee_id = $1`, author, perFeed); err != nil {
		b.Fatal(err)
	}
	if _, err := e.social.pool.Exec(ctx, `INSERT INTO social.feed_state (user_id, entries)
		SELECT follower_id, $2 FROM social.relationships WHERE followee_id = $1`, author, perFeed); err != nil {
		b.Fatal(err)
	}
	if _, err := e.social.pool.Exec(ctx, `VACUUM ANALYZE social.feeds`); err != nil {
		b.Fatal(err)
	}
}

// fanOutOnce delivers one content.post.created of author to the handler.
func fanOutOnce(b *testing.B, e *env, author uuid.UUID) {
	ctx := context.Background()
	ev := events.PostCreated{PostID: uuid.Must(uuid.NewV7()), AuthorID: author, Visibility: "PUBLIC", CreatedAt: time.Now().UTC()}
	if err := pgx.BeginFunc(ctx, e.social.pool, func(tx pgx.Tx) error { return e.social.onPostCreated(ctx, tx, ev) }); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkFanOut10kFollowers: one post into 10,000 feeds (target ≤ 1 s).
func BenchmarkFanOut10kFollowers(b *testing.B) {
	e := newEnv(b, Config{})
	author := e.user(false)
	seedFollowers(b, e, author, 10_000, 0)
	for b.Loop() {
		fanOutOnce(b, e, author)
	}
}

// BenchmarkFanOut10kFullFeeds: the same into feeds already at their cap,
// so every fan-out also trims 10,000 feeds by one entry.
func BenchmarkFanOut10kFullFeeds(b *testing.B) {
	e := newEnv(b, Config{MaxEntriesPerUser: 50})
	author := e.user(false)
	seedFollowers(b, e, author, 10_000, 50)
	for b.Loop() {
		fanOutOnce(b, e, author)
	}
}

// BenchmarkFeedPage reads 20 entries of a full feed (800 entries from 200
// followed authors): the first page, and a page past the stored entries
// served by the read-time query.
func BenchmarkFeedPage(b *testing.B) {
	e := newEnv(b, Config{})
	ctx := context.Background()
	viewer := e.user(false)
	authors := make([]uuid.UUID, 200)
	for i := range authors {
		authors[i] = e.user(false)
		if _, err := e.social.Follow(ctx, viewer, authors[i]); err != nil {
			b.Fatal(err)
		}
	}
	for i := range 1000 {
		fanOutOnce(b, e, authors[i%len(authors)])
	}
	first, err := e.social.Feed(ctx, viewer, page.Request{Size: 20})
	if err != nil || len(first.Items) != 20 {
		b.Fatalf("feed: %v %d", err, len(first.Items))
	}
	deepKey := page.Key{Time: time.Now().Add(-time.Hour), ID: uuid.Max}
	all, err := e.social.Feed(ctx, viewer, page.Request{Size: 100})
	if err == nil {
		for range 8 {
			all, err = e.social.Feed(ctx, viewer, page.Request{Size: 100, After: &all.Keys[len(all.Keys)-1]})
		}
	}
	if err != nil {
		b.Fatal(err)
	}
	deepKey = all.Keys[len(all.Keys)-1] // past 900 entries: below the 800-entry horizon
	if _, err := e.social.pool.Exec(ctx, `ANALYZE social.feeds`); err != nil {
		b.Fatal(err)
	}
	b.Run("first", func(b *testing.B) {
		for b.Loop() {
			if _, err := e.social.Feed(ctx, viewer, page.Request{Size: 20}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("deep", func(b *testing.B) {
		for b.Loop() {
			pg, err := e.social.Feed(ctx, viewer, page.Request{Size: 20, After: &deepKey})
			if err != nil || len(pg.Items) != 20 {
				b.Fatalf("deep page: %v %d", err, len(pg.Items))
			}
		}
	})
	// 100,000 posts of 50 large authors the viewer does not follow, merged
	// at read time into their followers' feeds: the viewer's page must not
	// pay for them.
	b.Run("first-beside-100k-merged", func(b *testing.B) {
		large := make([]uuid.UUID, 50)
		for i := range large {
			large[i] = uuid.New()
		}
		if _, err := e.social.pool.Exec(ctx, `INSERT INTO social.posts (post_id, author_id, created_at, fanned_out)
			SELECT gen_random_uuid(), ($1::uuid[])[1 + i % 50], now() - i * interval '10 ms', false FROM generate_series(1, 100000) i`, large); err != nil {
			b.Fatal(err)
		}
		if _, err := e.social.pool.Exec(ctx, `INSERT INTO social.merged_authors (author_id) SELECT unnest($1::uuid[])`, large); err != nil {
			b.Fatal(err)
		}
		if _, err := e.social.pool.Exec(ctx, `ANALYZE social.posts`); err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			if _, err := e.social.Feed(ctx, viewer, page.Request{Size: 20}); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkPostReachesFollowers: from createPost returning to the post being
// in a follower's feed, for an author with 1,000 followers, through the real
// event bus (target p99 ≤ 200 ms). Reports p50 and p99 latency.
func BenchmarkPostReachesFollowers(b *testing.B) {
	e := newEnv(b, Config{})
	ctx := context.Background()
	author := e.user(false)
	seedFollowers(b, e, author, 1_000, 0)
	var follower uuid.UUID
	if err := e.social.pool.QueryRow(ctx, `SELECT follower_id FROM social.relationships WHERE followee_id = $1 LIMIT 1`, author).Scan(&follower); err != nil {
		b.Fatal(err)
	}
	var lat []time.Duration
	for b.Loop() {
		p, err := e.content.CreatePost(ctx, author, content.CreatePostInput{Body: "hello"})
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		for {
			var in bool
			if err := e.social.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM social.feeds WHERE user_id = $1 AND post_id = $2)`, follower, p.ID).Scan(&in); err != nil {
				b.Fatal(err)
			}
			if in {
				break
			}
			if time.Since(start) > 10*time.Second {
				b.Fatal("post never reached the follower")
			}
			time.Sleep(time.Millisecond)
		}
		lat = append(lat, time.Since(start))
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Milliseconds()), "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Milliseconds()), "p99-ms")
}
