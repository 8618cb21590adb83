package gateway_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/nova-social/nova/internal/platform/pgtest"
	"github.com/nova-social/nova/internal/platform/testkit"
)

// The tests of this file count the SQL statements, on every pool behind
// the gateway (the token check included), of one page of each list a
// client pages through, with the nested fields a client shows: the same
// few for a page of 5 as for a page of 20, so no list costs a statement
// per item.

// settle waits until the event deliveries of the setup are done, so that
// their statements do not count against a page.
func settle(t *testing.T, stmts *pgtest.StatementCounter) {
	t.Helper()
	testkit.Eventually(t, "event deliveries settle", func() bool {
		before := stmts.Count()
		time.Sleep(300 * time.Millisecond)
		return stmts.Count() == before
	})
}

// samePageStatements counts the statements of page(5) and page(20), a few
// times over, and fails unless both are the same and at most most. page
// fetches n items and fails the test when it gets another number.
func samePageStatements(t *testing.T, stmts *pgtest.StatementCounter, most int64, page func(n int)) {
	t.Helper()
	count := func(n int) int64 {
		before := stmts.Count()
		page(n)
		return stmts.Count() - before
	}
	for range 3 {
		small, large := count(5), count(20)
		t.Logf("statements: 5 items: %d, 20 items: %d", small, large)
		if small != large || large > most {
			t.Fatalf("statements: %d for 5 items, %d for 20; want the same few (at most %d)", small, large, most)
		}
	}
}

// wantItems fails unless the connection at path holds n nodes.
func wantItems(t *testing.T, r *response, path string, n int) {
	t.Helper()
	if got := len(nodeIDs(r, path)); got != n {
		t.Fatalf("%s: page of %d has %d items: %s", path, n, got, r.Raw)
	}
}

const userPostsPage = `query($id: ID!, $n: Int) { user(id: $id) { id posts(first: $n) {
	edges { cursor node { id body createdAt editedAt author { id username displayName } likeCount commentCount shareCount viewerHasLiked versions { body createdAt } } }
	pageInfo { hasNextPage endCursor } } } }`

// TestUserPostsPageStatements pages through an author's posts, with their
// authors, counters, viewerHasLiked and edit history, as a follower.
func TestUserPostsPageStatements(t *testing.T) {
	t.Parallel()
	var stmts pgtest.StatementCounter
	e := newEnv(t, func(o *envOptions) { o.tracer, o.uncachedUsers = &stmts, true })
	viewer, author, fan := e.register("reader"), e.register("author"), e.register("fan")
	e.follow(viewer, author)
	e.follow(fan, author)
	var ids []string
	for i := range 24 {
		visibility := "PUBLIC"
		if i%4 == 0 {
			visibility = "FOLLOWERS"
		}
		ids = append(ids, e.createPost(author, fmt.Sprintf("post %d", i), visibility))
	}
	// Likes, comments, shares and edits, so that every field has rows to read.
	for i, id := range ids {
		vars := map[string]any{"id": id}
		if i%2 == 0 {
			ok(t, e.gql(viewer.Access, `mutation($id: ID!) { likePost(postId: $id) { id } }`, vars))
			ok(t, e.gql(fan.Access, `mutation($id: ID!) { sharePost(postId: $id) { id } }`, vars))
		}
		if i%3 == 0 {
			ok(t, e.gql(fan.Access, `mutation($id: ID!) { createComment(input: {postId: $id, body: "nice"}) { id } }`, vars))
			ok(t, e.gql(author.Access, `mutation($id: ID!) { updatePost(id: $id, body: "edited") { id } }`, vars))
		}
	}
	settle(t, &stmts)

	// The session check, the user, the posts, their likes, shares and
	// viewerHasLiked, their versions; the posts' author is the user
	// already loaded.
	samePageStatements(t, &stmts, 5, func(n int) {
		r := ok(t, e.gql(viewer.Access, userPostsPage, map[string]any{"id": author.ID, "n": n}))
		wantItems(t, r, "user.posts", n)
	})

}

// TestPostVersionsStatements reads the edit history of one post: its
// length does not change the statements.
func TestPostVersionsStatements(t *testing.T) {
	t.Parallel()
	var stmts pgtest.StatementCounter
	e := newEnv(t, func(o *envOptions) { o.tracer, o.uncachedUsers = &stmts, true })
	author := e.register("author")
	posts := map[int]string{}
	for _, edits := range []int{5, 20} {
		id := e.createPost(author, "first", "")
		for i := range edits {
			ok(t, e.gql(author.Access, `mutation($id: ID!, $body: String!) { updatePost(id: $id, body: $body) { id } }`,
				map[string]any{"id": id, "body": fmt.Sprintf("edit %d", i)}))
		}
		posts[edits] = id
	}
	settle(t, &stmts)

	// The session check, the post, its versions.
	samePageStatements(t, &stmts, 3, func(n int) {
		r := ok(t, e.gql(author.Access, `query($id: ID!) { post(id: $id) { id versions { body createdAt } } }`, map[string]any{"id": posts[n]}))
		if got, _ := r.get("post.versions").([]any); len(got) != n {
			t.Fatalf("post edited %d times has %d versions: %s", n, len(got), r.Raw)
		}
	})
}

const commentsPage = `query($id: ID!, $n: Int) { post(id: $id) { id commentCount comments(first: $n) {
	edges { cursor node { id body createdAt author { id username displayName } parent { id body author { id username } } } }
	pageInfo { hasNextPage endCursor } } } }`

// TestCommentsPageStatements pages through a post's comments with their
// authors and the comments they reply to.
func TestCommentsPageStatements(t *testing.T) {
	t.Parallel()
	var stmts pgtest.StatementCounter
	e := newEnv(t, func(o *envOptions) { o.tracer, o.uncachedUsers = &stmts, true })
	author := e.register("author")
	commenters := e.registerMany("commenter", 4)
	postID := e.createPost(author, "discuss", "")
	var ids []string
	for i := range 24 {
		in := map[string]any{"postId": postID, "body": fmt.Sprintf("comment %d", i)}
		if i%3 == 2 {
			in["parentId"] = ids[i-1]
		}
		r := ok(t, e.gql(commenters[i%len(commenters)].Access, `mutation($in: CreateCommentInput!) { createComment(input: $in) { id } }`, map[string]any{"in": in}))
		ids = append(ids, r.str("createComment.id"))
	}
	settle(t, &stmts)

	// The session check, the post, its comments, their authors; the
	// parents are comments of the page, loaded with it.
	samePageStatements(t, &stmts, 4, func(n int) {
		r := ok(t, e.gql(author.Access, commentsPage, map[string]any{"id": postID, "n": n}))
		wantItems(t, r, "post.comments", n)
	})

}

const userFields = `id username displayName followerCount followingCount postCount viewerIsFollowing viewerFollowState`

// TestFollowListsPageStatements pages through followers, following and
// follow requests with each user's counters and the viewer's follow state.
func TestFollowListsPageStatements(t *testing.T) {
	t.Parallel()
	var stmts pgtest.StatementCounter
	e := newEnv(t, func(o *envOptions) { o.tracer, o.uncachedUsers = &stmts, true })
	viewer, star, private := e.register("viewer"), e.register("star"), e.register("private")
	others := e.registerMany("user", 24)
	ok(t, e.gql(private.Access, `mutation { updateSettings(input: {isPrivate: true}) { isPrivate } }`, nil))
	for i, u := range others {
		e.follow(u, star)
		e.follow(star, u)
		if got := e.follow(u, private); got != "REQUESTED" {
			t.Fatalf("follow a private account: %s", got)
		}
		if i%2 == 0 {
			e.follow(viewer, u)
		}
		if i%3 == 0 {
			e.createPost(u, "hello", "")
		}
	}
	settle(t, &stmts)

	// Each list: the session check, the user, the page of follows, the
	// users, their follow counters, their post counts, the viewer's
	// follow states.
	for _, list := range []string{"followers", "following"} {
		t.Run(list, func(t *testing.T) {
			q := fmt.Sprintf(`query($id: ID!, $n: Int) { user(id: $id) { id %s(first: $n) { edges { cursor node { %s } } pageInfo { hasNextPage endCursor } } } }`, list, userFields)
			samePageStatements(t, &stmts, 7, func(n int) {
				r := ok(t, e.gql(viewer.Access, q, map[string]any{"id": star.ID, "n": n}))
				wantItems(t, r, "user."+list, n)
			})
		})
	}
	t.Run("followRequests", func(t *testing.T) {
		// The session check, the requests, the users, their counters,
		// their post counts, the viewer's follow states.
		q := fmt.Sprintf(`query($n: Int) { followRequests(first: $n) { edges { cursor node { %s } } pageInfo { hasNextPage endCursor } } }`, userFields)
		samePageStatements(t, &stmts, 6, func(n int) {
			r := ok(t, e.gql(private.Access, q, map[string]any{"n": n}))
			wantItems(t, r, "followRequests", n)
		})
	})
}

// TestSessionsStatements lists the viewer's sessions: their number does not
// change the statements.
func TestSessionsStatements(t *testing.T) {
	t.Parallel()
	var stmts pgtest.StatementCounter
	e := newEnv(t, func(o *envOptions) { o.tracer, o.uncachedUsers = &stmts, true })
	accounts := map[int]*account{}
	for _, n := range []int{5, 20} {
		a := e.register("traveller")
		for range n - 1 { // registering opened the first session
			ok(t, e.login(a.Username, a.Password))
		}
		accounts[n] = a
	}
	settle(t, &stmts)

	// The session check, the sessions.
	samePageStatements(t, &stmts, 2, func(n int) {
		r := ok(t, e.gql(accounts[n].Access, `{ sessions { id createdAt lastUsedAt userAgent current } }`, nil))
		if got, _ := r.get("sessions").([]any); len(got) != n {
			t.Fatalf("%d sessions listed, want %d: %s", len(got), n, r.Raw)
		}
	})
}
