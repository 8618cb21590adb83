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
	"github.com/nova-social/nova/internal/platform/apperr"
	"github.com/nova-social/nova/internal/platform/page"
	"github.com/nova-social/nova/internal/platform/testkit"
)

func TestFeedFanOutAndRemovals(t *testing.T) {
	e := newEnv(t, Config{})
	ctx := context.Background()
	author, f1, f2, stranger := e.user(false), e.user(false), e.user(false), e.user(false)
	for _, f := range []uuid.UUID{f1, f2} {
		_, err := e.social.Follow(ctx, f, author)
		testkit.Must(t, err)
	}
	_, err := e.social.Feed(ctx, uuid.Nil, page.Request{Size: 10})
	testkit.WantCode(t, err, apperr.Unauthenticated)

	p := e.post(t, author, content.Public)
	secret := e.post(t, author, content.Followers)
	own := e.post(t, f1, content.Public)
	testkit.Eventually(t, "fan-out", func() bool {
		return slices.Equal(e.feed(t, f1, 10), []uuid.UUID{own.ID, secret.ID, p.ID}) &&
			slices.Equal(e.feed(t, f2, 10), []uuid.UUID{secret.ID, p.ID}) &&
			slices.Equal(e.feed(t, author, 10), []uuid.UUID{secret.ID, p.ID})
	})
	if got := e.feed(t, stranger, 10); len(got) != 0 {
		t.Fatalf("stranger's feed %v", got)
	}

	// The same content.post.created delivered again (a new event id, so the
	// inbox cannot catch it): still one entry per feed.
	e.publish(t, events.PostCreated{PostID: p.ID, AuthorID: author, Body: p.Body, Visibility: "PUBLIC", CreatedAt: p.CreatedAt})
	marker := e.post(t, author, content.Public)
	testkit.Eventually(t, "redelivery handled", func() bool { return e.handled(t, "social.feeds") == 5 && e.feedHas(t, f2, marker.ID) })
	for _, u := range []uuid.UUID{author, f1, f2} {
		if n := count(e.feed(t, u, 10), p.ID); n != 1 {
			t.Fatalf("post appears %d times in a feed after redelivery", n)
		}
		want := 3
		if u == f1 {
			want = 4
		}
		if n := e.storedEntries(t, u); n != want {
			t.Fatalf("stored entries %d, want %d", n, want)
		}
	}

	testkit.Must(t, e.social.Unfollow(ctx, f2, author))
	if got := e.feed(t, f2, 10); len(got) != 0 {
		t.Fatalf("feed after unfollow %v", got)
	}

	testkit.Must(t, e.content.DeletePost(ctx, content.Actor{ID: author}, marker.ID))
	testkit.Eventually(t, "deletion leaves feeds", func() bool { return !e.feedHas(t, f1, marker.ID) })

	mod := content.Actor{ID: e.user(false), Role: content.RoleModerator}
	_, err = e.content.ModeratePost(ctx, mod, p.ID, content.Hide)
	testkit.Must(t, err)
	testkit.Eventually(t, "hidden post leaves feeds", func() bool { return !e.feedHas(t, f1, p.ID) && !e.feedHas(t, author, p.ID) })
	_, err = e.content.ModeratePost(ctx, mod, p.ID, content.Restore)
	testkit.Must(t, err)
	testkit.Eventually(t, "restored post returns", func() bool { return e.feedHas(t, f1, p.ID) })

	e.publish(t, events.UserBanned{UserID: author, Reason: "spam", By: mod.ID})
	testkit.Eventually(t, "banned author leaves feeds", func() bool { return !e.feedHas(t, f1, p.ID) && !e.feedHas(t, f1, secret.ID) })
	if !e.feedHas(t, f1, own.ID) {
		t.Fatal("ban removed someone else's post")
	}
}

func count(ids []uuid.UUID, id uuid.UUID) int {
	n := 0
	for _, x := range ids {
		if x == id {
			n++
		}
	}
	return n
}

func TestFollowBackfills(t *testing.T) {
	e := newEnv(t, Config{MaxEntriesPerUser: 5})
	ctx := context.Background()
	author, reader := e.user(false), e.user(false)
	var posts []uuid.UUID
	for range 8 {
		posts = append([]uuid.UUID{e.post(t, author, content.Public).ID}, posts...)
	}
	testkit.Eventually(t, "author's posts projected", func() bool { return len(e.feed(t, author, 100)) == 8 })
	_, err := e.social.Follow(ctx, reader, author)
	testkit.Must(t, err)
	if got := e.feed(t, reader, 3); !slices.Equal(got, posts) {
		t.Fatalf("back-filled feed %v, want %v", got, posts)
	}
	if n := e.storedEntries(t, reader); n != 5 {
		t.Fatalf("back-fill stored %d entries, want the cap 5", n)
	}
}

// TestFeedCapAndDeepPages: feeds keep at most MaxEntriesPerUser rows, and
// pages past them are served by the read-time query, in order, complete.
func TestFeedCapAndDeepPages(t *testing.T) {
	e := newEnv(t, Config{MaxEntriesPerUser: 10})
	ctx := context.Background()
	reader := e.user(false)
	authors := []uuid.UUID{e.user(false), e.user(false), e.user(false)}
	for _, a := range authors {
		_, err := e.social.Follow(ctx, reader, a)
		testkit.Must(t, err)
	}
	var want []uuid.UUID
	for i := range 24 {
		want = append([]uuid.UUID{e.post(t, authors[i%3], content.Public).ID}, want...)
	}
	testkit.Eventually(t, "fan-out", func() bool { return e.feedHas(t, reader, want[0]) })
	testkit.Eventually(t, "all fanned out", func() bool { return slices.Equal(e.feed(t, reader, 7), want) })
	if n := e.storedEntries(t, reader); n > 10 {
		t.Fatalf("feed keeps %d entries, cap is 10", n)
	}
	for _, size := range []int{1, 4, 10, 25} {
		if got := e.feed(t, reader, size); !slices.Equal(got, want) {
			t.Fatalf("page size %d: %v, want %v", size, got, want)
		}
	}
	// Unfollowing one author removes their posts from deep pages too.
	testkit.Must(t, e.social.Unfollow(ctx, reader, authors[0]))
	var rest []uuid.UUID
	for i, id := range want {
		if (23-i)%3 != 0 {
			rest = append(rest, id)
		}
	}
	if got := e.feed(t, reader, 6); !slices.Equal(got, rest) {
		t.Fatalf("after unfollow: %v, want %v", got, rest)
	}
}

// TestBigAuthorsMergedAtReadTime: above the fan-out threshold a post is
// stored in no feed and merged into followers' feeds when they read.
func TestBigAuthorsMergedAtReadTime(t *testing.T) {
	e := newEnv(t, Config{FanoutMaxFollowers: 2})
	ctx := context.Background()
	big, small := e.user(false), e.user(false)
	fans := []uuid.UUID{e.user(false), e.user(false), e.user(false)}
	for _, f := range fans {
		_, err := e.social.Follow(ctx, f, big)
		testkit.Must(t, err)
	}
	_, err := e.social.Follow(ctx, fans[0], small)
	testkit.Must(t, err)
	var want []uuid.UUID
	for i := range 6 {
		a := big
		if i%2 == 1 {
			a = small
		}
		want = append([]uuid.UUID{e.post(t, a, content.Followers).ID}, want...)
	}
	testkit.Eventually(t, "feeds settle", func() bool { return slices.Equal(e.feed(t, fans[0], 100), want) })
	for _, size := range []int{1, 2, 5} {
		if got := e.feed(t, fans[0], size); !slices.Equal(got, want) {
			t.Fatalf("page size %d: %v, want %v", size, got, want)
		}
	}
	if n := e.storedEntries(t, fans[1]); n != 0 {
		t.Fatalf("big author's post fanned out: %d entries", n)
	}
	if got := e.feed(t, fans[1], 2); len(got) != 3 {
		t.Fatalf("merged feed %v", got)
	}
	if got := e.feed(t, big, 2); len(got) != 3 {
		t.Fatalf("big author's own feed %v", got)
	}
	testkit.Must(t, e.social.Unfollow(ctx, fans[1], big))
	if got := e.feed(t, fans[1], 10); len(got) != 0 {
		t.Fatalf("merged posts after unfollow %v", got)
	}
}

// TestFeedPaginationWhileNewPostsArrive: cursors are positions, so posts
// published between page reads neither repeat nor shift later pages.
func TestFeedPaginationWhileNewPostsArrive(t *testing.T) {
	e := newEnv(t, Config{})
	ctx := context.Background()
	reader := e.user(false)
	authors := []uuid.UUID{e.user(false), e.user(false)}
	for _, a := range authors {
		_, err := e.social.Follow(ctx, reader, a)
		testkit.Must(t, err)
	}
	var want []uuid.UUID
	for i := range 20 {
		want = append([]uuid.UUID{e.post(t, authors[i%2], content.Public).ID}, want...)
	}
	testkit.Eventually(t, "fan-out", func() bool { return slices.Equal(e.feed(t, reader, 100), want) })

	var got []uuid.UUID
	req := page.Request{Size: 3}
	for {
		pg, err := e.social.Feed(ctx, reader, req)
		testkit.Must(t, err)
		for _, it := range pg.Items {
			got = append(got, it.PostID)
		}
		for range 2 {
			e.post(t, authors[0], content.Public)
		}
		if !pg.HasNext {
			break
		}
		k := pg.Keys[len(pg.Keys)-1]
		req.After = &k
	}
	if !slices.Equal(got, want) {
		t.Fatalf("paged %v\nwant  %v", got, want)
	}
}

// TestRemovalRacesFollowBackfill: a follow made while a post's deletion, its
// hiding or its author's ban is being applied back-fills none of what is
// being removed, whichever commits first.
func TestRemovalRacesFollowBackfill(t *testing.T) {
	for _, c := range []struct {
		name   string
		remove func(ctx context.Context, tx pgx.Tx, s *Service, author, post uuid.UUID) error
	}{
		{"delete", func(ctx context.Context, tx pgx.Tx, s *Service, author, post uuid.UUID) error {
			return s.onPostDeleted(ctx, tx, events.PostDeleted{PostID: post, AuthorID: author})
		}},
		{"hide", func(ctx context.Context, tx pgx.Tx, s *Service, author, post uuid.UUID) error {
			return s.onPostModerated(ctx, tx, time.Now(), events.PostModerated{PostID: post, AuthorID: author, Hidden: true})
		}},
		{"ban", func(ctx context.Context, tx pgx.Tx, s *Service, author, _ uuid.UUID) error {
			return s.onUserBanned(ctx, tx, time.Now(), events.UserBanned{UserID: author})
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, Config{})
			ctx := context.Background()
			author, reader := e.user(false), e.user(false)
			p := e.post(t, author, content.Public)
			testkit.Eventually(t, "fan-out", func() bool { return e.feedHas(t, author, p.ID) })

			// The removal's delivery, applied and not yet committed.
			tx, err := e.social.pool.Begin(ctx)
			testkit.Must(t, err)
			defer func() { _ = tx.Rollback(ctx) }()
			testkit.Must(t, c.remove(ctx, tx, e.social, author, p.ID))

			done := make(chan error, 1)
			go func() {
				_, err := e.social.Follow(ctx, reader, author)
				done <- err
			}()
			testkit.Eventually(t, "follow done or waiting for the removal", func() bool { return len(done) > 0 || e.lockWaiters(t) > 0 })
			testkit.Must(t, tx.Commit(ctx))
			testkit.Must(t, <-done)
			if n := e.storedEntries(t, reader); n != 0 {
				t.Fatalf("the new follower's feed keeps %d entries of what was removed", n)
			}
		})
	}
}

// TestModerationConvergesInAnyOrder: whatever order a post's creation, its
// hiding and its restoring arrive in, a follower's feed holds the post
// exactly when it is created and the latest moderation applied (by the time
// it occurred) is not a hide; in the end, as if they had arrived in order.
func TestModerationConvergesInAnyOrder(t *testing.T) {
	e := newEnv(t, Config{})
	ctx := context.Background()
	author, reader := e.user(false), e.user(false)
	_, err := e.social.Follow(ctx, reader, author)
	testkit.Must(t, err)
	created := time.Now().UTC().Truncate(time.Microsecond)
	hideAt, restoreAt := created.Add(time.Second), created.Add(2*time.Second)

	for _, history := range [][]string{{"create", "hide"}, {"create", "hide", "restore"}} {
		for _, order := range permutations(history) {
			post := uuid.Must(uuid.NewV7())
			isCreated, latest, hidden := false, time.Time{}, false
			for _, step := range order {
				err := pgx.BeginFunc(ctx, e.social.pool, func(tx pgx.Tx) error {
					switch step {
					case "create":
						isCreated = true
						return e.social.onPostCreated(ctx, tx, events.PostCreated{PostID: post, AuthorID: author, Visibility: "PUBLIC", CreatedAt: created})
					case "hide":
						if hideAt.After(latest) {
							latest, hidden = hideAt, true
						}
						return e.social.onPostModerated(ctx, tx, hideAt, events.PostModerated{PostID: post, AuthorID: author, Hidden: true})
					default:
						if restoreAt.After(latest) {
							latest, hidden = restoreAt, false
						}
						return e.social.onPostModerated(ctx, tx, restoreAt, events.PostModerated{PostID: post, AuthorID: author, Hidden: false})
					}
				})
				testkit.Must(t, err)
				if want := isCreated && !hidden; e.feedHas(t, reader, post) != want {
					t.Fatalf("order %v, after %s: post in the follower's feed = %v, want %v", order, step, !want, want)
				}
			}
		}
	}
}

// permutations returns every order of xs.
func permutations(xs []string) [][]string {
	if len(xs) <= 1 {
		return [][]string{slices.Clone(xs)}
	}
	var out [][]string
	for i, x := range xs {
		rest := slices.Concat(xs[:i], xs[i+1:])
		for _, p := range permutations(rest) {
			out = append(out, append([]string{x}, p...))
		}
	}
	return out
}

// TestPostProjectionIsTheSameWhicheverEventArrivesFirst: a replay delivers
// a post's events in no set order, so the projected row must not depend on
// it: a deletion or a ban arriving before the creation, or a moderation
// after the deletion, leaves the row that the opposite order leaves.
func TestPostProjectionIsTheSameWhicheverEventArrivesFirst(t *testing.T) {
	e := newEnv(t, Config{})
	at := time.Now().UTC().Truncate(time.Microsecond)
	applied := 0
	deliver := func(evs ...events.Event) {
		t.Helper()
		for _, ev := range evs {
			applied++
			e.publish(t, ev)
			testkit.Eventually(t, "applied", func() bool { return e.handled(t, "social.feeds")+e.handled(t, "social.bans") >= applied })
		}
	}
	row := func(post uuid.UUID) string {
		t.Helper()
		var r string
		testkit.Must(t, e.social.pool.QueryRow(context.Background(), `SELECT to_jsonb(p)::text FROM (
			SELECT created_at, fanned_out, hidden, deleted FROM social.posts WHERE post_id = $1) p`, post).Scan(&r))
		return r
	}
	author := e.user(false)
	created := func(post uuid.UUID) events.Event {
		return events.PostCreated{PostID: post, AuthorID: author, Body: "b", Visibility: "PUBLIC", CreatedAt: at}
	}
	hidden := func(post uuid.UUID) events.Event {
		return events.PostModerated{PostID: post, AuthorID: author, Hidden: true}
	}
	deleted := func(post uuid.UUID) events.Event { return events.PostDeleted{PostID: post, AuthorID: author} }

	p1, p2 := uuid.Must(uuid.NewV7()), uuid.Must(uuid.NewV7())
	deliver(created(p1), hidden(p1), deleted(p1))
	deliver(deleted(p2), hidden(p2), created(p2))
	if a, b := row(p1), row(p2); a != b {
		t.Errorf("deleted after its creation: %s; before: %s", a, b)
	}

	// A ban applied before the creation of a hidden post, as on a replay of
	// the feeds onto a cleared projection, leaves the row the ban after it
	// leaves.
	banned := e.user(false)
	author = banned
	p3, p4 := uuid.Must(uuid.NewV7()), uuid.Must(uuid.NewV7())
	deliver(created(p3), hidden(p3), events.UserBanned{UserID: banned, Reason: "spam"})
	deliver(created(p4), hidden(p4))
	if a, b := row(p3), row(p4); a != b {
		t.Errorf("banned after its creation: %s; before: %s", a, b)
	}
}
