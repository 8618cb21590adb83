package gateway_test

import (
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/nova-social/nova/internal/platform/pgtest"
	"github.com/nova-social/nova/internal/platform/testkit"
)

const feedPage = `query($n: Int, $after: String) { feed(first: $n, after: $after) {
	edges { cursor node { id body createdAt author { id username displayName } likeCount commentCount shareCount viewerHasLiked } }
	pageInfo { hasNextPage endCursor } } }`

// TestFeedPageStatements counts the SQL statements, on every pool behind
// the gateway (identity's token check included), of one feed page with its
// posts' authors, counters and viewerHasLiked: a few, and the same for a
// page of 5 as for a page of 20.
func TestFeedPageStatements(t *testing.T) {
	t.Parallel()
	var stmts pgtest.StatementCounter
	e := newEnv(t, func(o *envOptions) { o.tracer, o.uncachedUsers = &stmts, true })
	viewer := e.register("reader")
	for i := range 4 {
		author := e.register(fmt.Sprintf("author%d", i))
		e.follow(viewer, author)
		for j := range 6 {
			e.createPost(author, fmt.Sprintf("post %d of author %d", j, i), "")
		}
	}
	testkit.Eventually(t, "fan-out of 24 posts", func() bool { return len(e.feedIDs(viewer, 30)) == 24 })
	// Some likes so that viewerHasLiked and the counters have rows to read.
	for _, id := range e.feedIDs(viewer, 3) {
		ok(t, e.gql(viewer.Access, `mutation($id: ID!) { likePost(postId: $id) { id } }`, map[string]any{"id": id}))
	}
	settle(t, &stmts)
	// The feed entries with their counters and viewerHasLiked, the posts,
	// their authors; the session check is answered by the cache of live
	// sessions, which has seen the viewer's session by now.
	samePageStatements(t, &stmts, 3, func(n int) {
		r := ok(t, e.gql(viewer.Access, feedPage, map[string]any{"n": n}))
		if got := len(nodeIDs(r, "feed")); got != n {
			t.Fatalf("feed page of %d has %d posts", n, got)
		}
	})
}

// TestFeedPageWithCachedAuthors: once a replica has read a page's authors,
// its next pages take 2 statements (entries and posts), and an author's new
// display name shows on the very next page.
func TestFeedPageWithCachedAuthors(t *testing.T) {
	t.Parallel()
	var stmts pgtest.StatementCounter
	e := newEnv(t, func(o *envOptions) { o.tracer = &stmts })
	viewer, author := e.register("reader"), e.register("writer")
	e.follow(viewer, author)
	for i := range 3 {
		e.createPost(author, fmt.Sprintf("post %d", i), "")
	}
	testkit.Eventually(t, "fan-out of 3 posts", func() bool { return len(e.feedIDs(viewer, 5)) == 3 })
	settle(t, &stmts)
	name := func() string {
		r := ok(t, e.gql(viewer.Access, feedPage, map[string]any{"n": 3}))
		edges, _ := r.get("feed.edges").([]any)
		node, _ := edges[0].(map[string]any)["node"].(map[string]any)
		author, _ := node["author"].(map[string]any)
		s, _ := author["displayName"].(string)
		return s
	}
	testkit.Eventually(t, "authors answered from the cache", func() bool {
		name()
		before := stmts.Count()
		name()
		return stmts.Count()-before == 2
	})
	ok(t, e.gql(author.Access, `mutation { updateProfile(input: {displayName: "Renamed"}) { id } }`, nil))
	if got := name(); got != "Renamed" {
		t.Fatalf("author's display name on the next page = %q, want Renamed", got)
	}
}

// TestConcurrentLikes: 100 users like one post at once; every like counts
// exactly once, and liking again changes nothing.
func TestConcurrentLikes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	author := e.register("author")
	postID := e.createPost(author, "popular", "")
	fans := e.registerMany("fan", 100)
	const like = `mutation($id: ID!) { likePost(postId: $id) { id viewerHasLiked } }`
	var wg sync.WaitGroup
	start := make(chan struct{})
	for _, f := range fans {
		for range 2 { // each fan likes twice, concurrently
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				ok(t, e.gql(f.Access, like, map[string]any{"id": postID}))
			}()
		}
	}
	close(start)
	wg.Wait()
	r := ok(t, e.gql(fans[7].Access, `query($id: ID!) { post(id: $id) { likeCount viewerHasLiked } }`, map[string]any{"id": postID}))
	if r.get("post.likeCount") != 100.0 || r.get("post.viewerHasLiked") != true {
		t.Fatalf("after 100 users liked (twice each): %s", r.Raw)
	}
	// Half unlike at once.
	for _, f := range fans[:50] {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok(t, e.gql(f.Access, `mutation($id: ID!) { unlikePost(postId: $id) { id } }`, map[string]any{"id": postID}))
		}()
	}
	wg.Wait()
	if r := ok(t, e.gql("", `query($id: ID!) { post(id: $id) { likeCount viewerHasLiked } }`, map[string]any{"id": postID})); r.get("post.likeCount") != 50.0 || r.get("post.viewerHasLiked") != false {
		t.Fatalf("after 50 unlikes: %s", r.Raw)
	}
}

// TestFollowRacesConverge: two users follow and unfollow each other from
// many goroutines at once; afterwards the counters agree with the lists and
// with each user's last request.
func TestFollowRacesConverge(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a, b := e.register("racer"), e.register("racer")
	const follow = `mutation($id: ID!) { follow(userId: $id) { id } }`
	const unfollow = `mutation($id: ID!) { unfollow(userId: $id) { id } }`
	var wg sync.WaitGroup
	for i := range 40 {
		for _, pair := range [][2]*account{{a, b}, {b, a}} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				op := follow
				if i%2 == 1 {
					op = unfollow
				}
				ok(t, e.gql(pair[0].Access, op, map[string]any{"id": pair[1].ID}))
			}()
		}
	}
	wg.Wait()
	// Settle: a follows b, b does not follow a.
	ok(t, e.gql(a.Access, follow, map[string]any{"id": b.ID}))
	ok(t, e.gql(b.Access, unfollow, map[string]any{"id": a.ID}))
	const q = `query($id: ID!) { user(id: $id) { followerCount followingCount viewerFollowState followers { edges { node { id } } } following { edges { node { id } } } } }`
	ra := ok(t, e.gql(b.Access, q, map[string]any{"id": a.ID}))
	rb := ok(t, e.gql(a.Access, q, map[string]any{"id": b.ID}))
	if ra.get("user.followerCount") != 0.0 || ra.get("user.followingCount") != 1.0 || ra.str("user.viewerFollowState") != "NONE" ||
		len(nodeIDs(ra, "user.followers")) != 0 || !contains(nodeIDs(ra, "user.following"), b.ID) {
		t.Fatalf("a = %s", ra.Raw)
	}
	if rb.get("user.followerCount") != 1.0 || rb.get("user.followingCount") != 0.0 || rb.str("user.viewerFollowState") != "FOLLOWING" ||
		!contains(nodeIDs(rb, "user.followers"), a.ID) || len(nodeIDs(rb, "user.following")) != 0 {
		t.Fatalf("b = %s", rb.Raw)
	}
}

// TestFeedPaginationWhileInserting pages through a feed while its authors
// keep posting: every page continues exactly where the previous ended (no
// duplicates, no skips), and the newcomers appear on a fresh first page.
func TestFeedPaginationWhileInserting(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	reader, author := e.register("reader"), e.register("author")
	e.follow(reader, author)
	var initial []string
	for i := range 25 {
		initial = append(initial, e.createPost(author, fmt.Sprintf("old %d", i), ""))
	}
	testkit.Eventually(t, "fan-out", func() bool { return len(e.feedIDs(reader, 30)) == 25 })

	stop := make(chan struct{})
	var wg sync.WaitGroup
	var added []string
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			added = append(added, e.createPost(author, fmt.Sprintf("new %d", i), ""))
			time.Sleep(5 * time.Millisecond)
		}
	}()
	var seen []string
	var after any
	for {
		r := ok(t, e.gql(reader.Access, feedPage, map[string]any{"n": 4, "after": after}))
		seen = append(seen, nodeIDs(r, "feed")...)
		if r.get("feed.pageInfo.hasNextPage") != true {
			break
		}
		after = r.str("feed.pageInfo.endCursor")
		time.Sleep(10 * time.Millisecond)
	}
	close(stop)
	wg.Wait()

	// The first page was read before or among the newcomers; from the
	// first old post on, the pages must be exactly the old posts, newest first.
	first := -1
	for i, id := range seen {
		if id == initial[len(initial)-1] {
			first = i
			break
		}
	}
	if first < 0 || len(seen)-first != len(initial) {
		t.Fatalf("paged %d posts (%d new ones before the old); want the 25 old posts once each", len(seen), first)
	}
	for i, id := range seen[first:] {
		if want := initial[len(initial)-1-i]; id != want {
			t.Fatalf("position %d: got %s, want %s (duplicate or skip)", first+i, id, want)
		}
	}
	if len(added) == 0 {
		t.Fatal("no posts were added while paging")
	}
	newest := added[len(added)-1]
	testkit.Eventually(t, "newest post on a fresh first page", func() bool {
		ids := e.feedIDs(reader, 1)
		return len(ids) == 1 && ids[0] == newest
	})
	wantError(t, e.gql(reader.Access, feedPage, map[string]any{"n": 101}), http.StatusOK, "BAD_USER_INPUT", "first")
}
