package social

import (
	"bytes"
	"context"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/nova-social/nova/internal/content"
	"github.com/nova-social/nova/internal/events"
	"github.com/nova-social/nova/internal/platform/page"
	"github.com/nova-social/nova/internal/platform/testkit"
)

// feedPost is a post of the tests below: its author and time, set by the
// test, so that expected feeds follow from the feed's order alone.
type feedPost struct {
	id, author uuid.UUID
	at         time.Time
}

// project delivers content.post.created for a new post of author at at
// straight to the feed consumer.
func (e *env) project(t testing.TB, author uuid.UUID, at time.Time) feedPost {
	t.Helper()
	p := feedPost{id: uuid.Must(uuid.NewV7()), author: author, at: at}
	err := pgx.BeginFunc(context.Background(), e.social.pool, func(tx pgx.Tx) error {
		return e.social.onPostCreated(context.Background(), tx, events.PostCreated{PostID: p.id, AuthorID: author, Visibility: "PUBLIC", CreatedAt: at})
	})
	testkit.Must(t, err)
	return p
}

// deliver applies a post event straight to the feed consumer.
func (e *env) deliver(t testing.TB, f func(ctx context.Context, tx pgx.Tx) error) {
	t.Helper()
	testkit.Must(t, pgx.BeginFunc(context.Background(), e.social.pool, func(tx pgx.Tx) error { return f(context.Background(), tx) }))
}

// newestFirst returns the ids of the posts of ps by authors in feedOf, in
// feed order: time, then id, descending.
func newestFirst(ps []feedPost, feedOf ...uuid.UUID) []uuid.UUID {
	var in []feedPost
	for _, p := range ps {
		if slices.Contains(feedOf, p.author) {
			in = append(in, p)
		}
	}
	slices.SortFunc(in, func(a, b feedPost) int {
		if c := b.at.Compare(a.at); c != 0 {
			return c
		}
		return bytes.Compare(b.id[:], a.id[:])
	})
	ids := make([]uuid.UUID, len(in))
	for i, p := range in {
		ids[i] = p.id
	}
	return ids
}

// wantFeed reads viewer's whole feed at several page sizes, each time
// expecting exactly want, in order.
func (e *env) wantFeed(t testing.TB, what string, viewer uuid.UUID, want []uuid.UUID) {
	t.Helper()
	for _, size := range []int{1, 2, 3, 7, page.MaxSize} {
		if got := e.feed(t, viewer, size); !slices.Equal(got, want) {
			t.Fatalf("%s, page size %d:\ngot  %v\nwant %v", what, size, got, want)
		}
	}
}

func (e *env) follow(t testing.TB, follower, followee uuid.UUID) {
	t.Helper()
	_, err := e.social.Follow(context.Background(), follower, followee)
	testkit.Must(t, err)
}

// TestFeedReviewDeepPagesMixedAuthors: a reader following fanned-out and
// merged authors pages through the stored entries into the read-time
// query, with runs of posts sharing a microsecond, without repeats or gaps.
func TestFeedReviewDeepPagesMixedAuthors(t *testing.T) {
	e := newEnv(t, Config{FanoutMaxFollowers: 2, MaxEntriesPerUser: 5})
	reader, s1, s2, big := e.user(false), e.user(false), e.user(false), e.user(false)
	for _, f := range []uuid.UUID{reader, e.user(false), e.user(false)} {
		e.follow(t, f, big)
	}
	e.follow(t, reader, s1)
	e.follow(t, reader, s2)
	e.follow(t, big, s1)
	t0 := time.Now().UTC().Truncate(time.Microsecond).Add(-time.Hour)
	var ps []feedPost
	authors := []uuid.UUID{s1, big, reader, s2}
	for i := range 40 {
		// Three posts a microsecond, of different authors.
		ps = append(ps, e.project(t, authors[i%4], t0.Add(time.Duration(i/3)*time.Microsecond)))
	}
	if n := e.storedEntries(t, reader); n > 5 {
		t.Fatalf("reader's feed keeps %d entries, cap 5", n)
	}
	e.wantFeed(t, "mixed authors", reader, newestFirst(ps, s1, s2, big, reader))
	e.wantFeed(t, "big author's own feed", big, newestFirst(ps, big, s1))
}

// TestFeedReviewSameMicrosecond: posts sharing one timestamp, fanned out
// and merged, on both sides of a trimmed feed's horizon, come in one total
// order (id descending) at every page size.
func TestFeedReviewSameMicrosecond(t *testing.T) {
	e := newEnv(t, Config{FanoutMaxFollowers: 1, MaxEntriesPerUser: 3})
	reader, small, big := e.user(false), e.user(false), e.user(false)
	e.follow(t, reader, small)
	e.follow(t, reader, big)
	e.follow(t, e.user(false), big)
	at := time.Now().UTC().Truncate(time.Microsecond)
	var ps []feedPost
	for i := range 12 {
		ps = append(ps, e.project(t, []uuid.UUID{small, big, reader}[i%3], at))
	}
	e.wantFeed(t, "one microsecond", reader, newestFirst(ps, small, big, reader))
}

// TestFeedReviewThresholdCrossing: an author whose follower count moves
// past the fan-out threshold and back keeps each post exactly once in every
// follower's feed, stored or merged, also in trimmed feeds and after a
// re-follow.
func TestFeedReviewThresholdCrossing(t *testing.T) {
	e := newEnv(t, Config{FanoutMaxFollowers: 2, MaxEntriesPerUser: 3})
	ctx := context.Background()
	a, f1, f2, f3 := e.user(false), e.user(false), e.user(false), e.user(false)
	e.follow(t, f1, a)
	e.follow(t, f2, a)
	t0 := time.Now().UTC().Truncate(time.Microsecond).Add(-time.Hour)
	tick := 0
	next := func() time.Time { tick++; return t0.Add(time.Duration(tick) * time.Millisecond) }
	var ps []feedPost
	post := func(author uuid.UUID) { ps = append(ps, e.project(t, author, next())) }

	post(a) // fanned out: two followers
	post(f1)
	post(a)
	e.follow(t, f3, a) // three: above the threshold
	post(a)            // merged
	post(f1)
	post(a)
	for _, f := range []uuid.UUID{f1, f2, f3} {
		e.wantFeed(t, "after crossing up", f, newestFirst(ps, a, f))
	}
	testkit.Must(t, e.social.Unfollow(ctx, f3, a)) // two again
	post(a)                                        // fanned out
	post(f1)
	e.wantFeed(t, "after crossing down", f1, newestFirst(ps, a, f1))
	e.wantFeed(t, "after crossing down", f2, newestFirst(ps, a))
	e.wantFeed(t, "unfollowed", f3, nil)
	e.follow(t, f3, a) // re-follow: back-fill, and above the threshold again
	post(a)
	e.wantFeed(t, "re-followed", f3, newestFirst(ps, a))
	e.wantFeed(t, "author's own feed", a, newestFirst(ps, a))
}

// TestFeedReviewLargeAuthorLeaves: unfollowing or blocking a merged author
// (either way round) removes their posts from every page, deep ones
// included.
func TestFeedReviewLargeAuthorLeaves(t *testing.T) {
	e := newEnv(t, Config{FanoutMaxFollowers: 1, MaxEntriesPerUser: 3})
	ctx := context.Background()
	reader, other, small, big := e.user(false), e.user(false), e.user(false), e.user(false)
	for _, f := range []uuid.UUID{reader, other} {
		e.follow(t, f, big)
		e.follow(t, f, small)
	}
	t0 := time.Now().UTC().Truncate(time.Microsecond).Add(-time.Hour)
	var ps []feedPost
	for i := range 12 {
		ps = append(ps, e.project(t, []uuid.UUID{big, small}[i%2], t0.Add(time.Duration(i)*time.Millisecond)))
	}
	e.wantFeed(t, "before", reader, newestFirst(ps, big, small))
	testkit.Must(t, e.social.Unfollow(ctx, reader, big))
	e.wantFeed(t, "after unfollow", reader, newestFirst(ps, small))
	e.follow(t, reader, big)
	e.wantFeed(t, "after re-follow", reader, newestFirst(ps, big, small))
	testkit.Must(t, e.social.Block(ctx, reader, big))
	e.wantFeed(t, "after blocking", reader, newestFirst(ps, small))
	testkit.Must(t, e.social.Block(ctx, big, other))
	e.wantFeed(t, "after being blocked", other, newestFirst(ps, small))
}

// TestFeedReviewBackfillBeyondWindow: following an author with more posts
// than the back-fill window, in a feed that holds posts of its own, shows
// all of them, interleaved, at every page size.
func TestFeedReviewBackfillBeyondWindow(t *testing.T) {
	e := newEnv(t, Config{MaxEntriesPerUser: 4})
	reader, a, b := e.user(false), e.user(false), e.user(false)
	e.follow(t, reader, b)
	t0 := time.Now().UTC().Truncate(time.Microsecond).Add(-time.Hour)
	var ps []feedPost
	for i := range 21 {
		ps = append(ps, e.project(t, []uuid.UUID{a, a, reader, b}[i%4], t0.Add(time.Duration(i)*time.Millisecond)))
	}
	e.follow(t, reader, a)
	e.wantFeed(t, "after back-fill", reader, newestFirst(ps, a, b, reader))
	// Into an empty feed: the window fills it, nothing is trimmed.
	empty := e.user(false)
	e.follow(t, empty, a)
	e.wantFeed(t, "after back-fill into an empty feed", empty, newestFirst(ps, a))
	// Another follow's back-fill, into the feed whose horizon moved.
	c := e.user(false)
	for i := range 6 {
		ps = append(ps, e.project(t, c, t0.Add(time.Duration(i)*time.Millisecond+time.Microsecond)))
	}
	e.follow(t, reader, c)
	e.wantFeed(t, "after a second back-fill", reader, newestFirst(ps, a, b, c, reader))
}

// TestFeedReviewLargeAuthorRemovals: deleted and hidden posts of a merged
// author leave the feed; a restored one comes back once.
func TestFeedReviewLargeAuthorRemovals(t *testing.T) {
	e := newEnv(t, Config{FanoutMaxFollowers: 1, MaxEntriesPerUser: 2})
	reader, big, small := e.user(false), e.user(false), e.user(false)
	e.follow(t, reader, big)
	e.follow(t, e.user(false), big)
	e.follow(t, reader, small)
	t0 := time.Now().UTC().Truncate(time.Microsecond).Add(-time.Hour)
	var ps []feedPost
	for i := range 8 {
		ps = append(ps, e.project(t, []uuid.UUID{big, small}[i%2], t0.Add(time.Duration(i)*time.Millisecond)))
	}
	gone, hidden := ps[0], ps[4]
	e.deliver(t, func(ctx context.Context, tx pgx.Tx) error {
		return e.social.onPostDeleted(ctx, tx, events.PostDeleted{PostID: gone.id, AuthorID: big})
	})
	e.deliver(t, func(ctx context.Context, tx pgx.Tx) error {
		return e.social.onPostModerated(ctx, tx, time.Now(), events.PostModerated{PostID: hidden.id, AuthorID: big, Hidden: true})
	})
	live := slices.DeleteFunc(slices.Clone(ps), func(p feedPost) bool { return p == gone || p == hidden })
	e.wantFeed(t, "deleted and hidden", reader, newestFirst(live, big, small))
	e.wantFeed(t, "author's own, deleted and hidden", big, newestFirst(live, big))
	e.deliver(t, func(ctx context.Context, tx pgx.Tx) error {
		return e.social.onPostModerated(ctx, tx, time.Now(), events.PostModerated{PostID: hidden.id, AuthorID: big, Hidden: false})
	})
	live = slices.DeleteFunc(slices.Clone(ps), func(p feedPost) bool { return p == gone })
	e.wantFeed(t, "restored", reader, newestFirst(live, big, small))
}

// TestFeedReviewCursorPositions: a cursor is a position, valid after its
// post was deleted or trimmed away, and in another user's feed.
func TestFeedReviewCursorPositions(t *testing.T) {
	e := newEnv(t, Config{FanoutMaxFollowers: 1, MaxEntriesPerUser: 3})
	ctx := context.Background()
	reader, other, small, big := e.user(false), e.user(false), e.user(false), e.user(false)
	for _, f := range []uuid.UUID{reader, other} {
		e.follow(t, f, big)
	}
	e.follow(t, reader, small)
	t0 := time.Now().UTC().Truncate(time.Microsecond).Add(-time.Hour)
	var ps []feedPost
	for i := range 10 {
		ps = append(ps, e.project(t, []uuid.UUID{small, big}[i%2], t0.Add(time.Duration(i)*time.Millisecond)))
	}
	want := newestFirst(ps, small, big)
	first, err := e.social.Feed(ctx, reader, page.Request{Size: 3})
	testkit.Must(t, err)
	// The page's last post, a merged one, is deleted now.
	last := first.Items[2]
	if !slices.Equal(entryIDs(first.Items), want[:3]) || last.AuthorID != big {
		t.Fatalf("first page %+v, want %v", first.Items, want[:3])
	}
	e.deliver(t, func(ctx context.Context, tx pgx.Tx) error {
		return e.social.onPostDeleted(ctx, tx, events.PostDeleted{PostID: last.PostID, AuthorID: big})
	})
	rest, err := e.social.Feed(ctx, reader, page.Request{Size: 100, After: &first.Keys[2]})
	testkit.Must(t, err)
	if got := entryIDs(rest.Items); !slices.Equal(got, want[3:]) {
		t.Fatalf("after a deleted entry:\ngot  %v\nwant %v", got, want[3:])
	}
	// A position deep below the stored entries (trimmed away).
	deep := page.Key{Time: ps[2].at, ID: ps[2].id}
	rest, err = e.social.Feed(ctx, reader, page.Request{Size: 100, After: &deep})
	testkit.Must(t, err)
	if got, want := entryIDs(rest.Items), newestFirst(ps[:2], small, big); !slices.Equal(got, want) {
		t.Fatalf("after a trimmed entry:\ngot  %v\nwant %v", got, want)
	}
	// reader's cursor in other's feed: other's posts older than it, only.
	rest, err = e.social.Feed(ctx, other, page.Request{Size: 100, After: &first.Keys[1]})
	testkit.Must(t, err)
	var older []feedPost
	for _, p := range ps {
		if p.at.Before(first.Items[1].CreatedAt) && p.id != last.PostID {
			older = append(older, p)
		}
	}
	if got, want := entryIDs(rest.Items), newestFirst(older, big); !slices.Equal(got, want) {
		t.Fatalf("another feed's cursor:\ngot  %v\nwant %v", got, want)
	}
}

func entryIDs(es []FeedEntry) []uuid.UUID {
	ids := make([]uuid.UUID, len(es))
	for i, it := range es {
		ids[i] = it.PostID
	}
	return ids
}

// TestFeedReviewMergedPostsCountsAndVisibility: a merged FOLLOWERS post of
// a large author carries its counters and the reader's like, is visible to
// followers and absent from a non-follower's feed.
func TestFeedReviewMergedPostsCountsAndVisibility(t *testing.T) {
	e := newEnv(t, Config{FanoutMaxFollowers: 1})
	ctx := context.Background()
	big, f1, f2, stranger := e.user(false), e.user(false), e.user(false), e.user(false)
	e.follow(t, f1, big)
	e.follow(t, f2, big)
	p := e.post(t, big, content.Followers)
	testkit.Eventually(t, "merged", func() bool { return e.feedHas(t, f1, p.ID) })
	testkit.Eventually(t, "content sees the follows", func() bool {
		m, err := e.content.PostsByIDs(ctx, f1, []uuid.UUID{p.ID})
		testkit.Must(t, err)
		return len(m) == 1
	})
	testkit.Must(t, e.social.LikePost(ctx, f1, p.ID))
	for _, c := range []struct {
		reader uuid.UUID
		liked  bool
	}{{f1, true}, {f2, false}, {big, false}} {
		pg, err := e.social.Feed(ctx, c.reader, page.Request{Size: 10})
		testkit.Must(t, err)
		if len(pg.Items) != 1 || pg.Items[0].PostID != p.ID || pg.Items[0].Stats != (PostStats{Likes: 1, ViewerLiked: c.liked}) {
			t.Fatalf("merged entry %+v, want post %v liked once, by the reader: %v", pg.Items, p.ID, c.liked)
		}
	}
	if got := e.feed(t, stranger, 10); len(got) != 0 {
		t.Fatalf("non-follower's feed %v", got)
	}
	m, err := e.content.PostsByIDs(ctx, stranger, []uuid.UUID{p.ID})
	testkit.Must(t, err)
	if len(m) != 0 {
		t.Fatal("a non-follower sees a FOLLOWERS post")
	}
}

// TestFeedReviewLargeAuthorRequestsBansRedeliveries: a private merged
// author shows in a feed only once the request is approved; a redelivered
// creation merges no second copy; a ban removes the author's merged posts.
// The threshold is inclusive: an author with exactly that many followers
// is fanned out.
func TestFeedReviewLargeAuthorRequestsBansRedeliveries(t *testing.T) {
	e := newEnv(t, Config{FanoutMaxFollowers: 1, MaxEntriesPerUser: 2})
	ctx := context.Background()
	big, reader, small := e.user(true), e.user(false), e.user(false)
	e.follow(t, reader, small)
	for _, f := range []uuid.UUID{e.user(false), e.user(false)} {
		e.follow(t, f, big)
		testkit.Must(t, e.social.ApproveFollowRequest(ctx, big, f))
	}
	t0 := time.Now().UTC().Truncate(time.Microsecond).Add(-time.Hour)
	var ps []feedPost
	for i := range 6 {
		ps = append(ps, e.project(t, []uuid.UUID{big, small}[i%2], t0.Add(time.Duration(i)*time.Millisecond)))
	}
	e.follow(t, reader, big)
	e.wantFeed(t, "requested", reader, newestFirst(ps, small))
	testkit.Must(t, e.social.ApproveFollowRequest(ctx, big, reader))
	e.wantFeed(t, "approved", reader, newestFirst(ps, small, big))

	e.deliver(t, func(ctx context.Context, tx pgx.Tx) error {
		return e.social.onPostCreated(ctx, tx, events.PostCreated{PostID: ps[2].id, AuthorID: big, Visibility: "PUBLIC", CreatedAt: ps[2].at})
	})
	e.wantFeed(t, "redelivered", reader, newestFirst(ps, small, big))

	// small has one follower, the threshold: fanned out.
	if n := e.storedEntries(t, reader); n != 2 {
		t.Fatalf("stored entries %d, want the cap 2", n)
	}
	e.deliver(t, func(ctx context.Context, tx pgx.Tx) error {
		return e.social.onUserBanned(ctx, tx, time.Now(), events.UserBanned{UserID: big})
	})
	e.wantFeed(t, "banned", reader, newestFirst(ps, small))
}
