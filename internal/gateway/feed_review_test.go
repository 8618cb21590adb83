package gateway_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/nova-social/nova/internal/platform/testkit"
	"github.com/nova-social/nova/internal/user"
)

// feedWalk reads a's whole feed over HTTP with pages of size n from after
// on, following endCursor; every entry of these feeds is visible, so
// endCursor must be the last edge's cursor.
func (e *env) feedWalk(a *account, n int, after string) []string {
	e.t.Helper()
	var ids []string
	for range 200 {
		vars := map[string]any{"n": n}
		if after != "" {
			vars["after"] = after
		}
		r := ok(e.t, e.gql(a.Access, `query($n: Int, $after: String) { feed(first: $n, after: $after) {
			edges { cursor node { id } } pageInfo { hasNextPage endCursor } } }`, vars))
		page := nodeIDs(r, "feed")
		if len(page) > n {
			e.t.Fatalf("page of %d has %d posts", n, len(page))
		}
		if edges, _ := r.get("feed.edges").([]any); len(edges) > 0 {
			last, _ := edges[len(edges)-1].(map[string]any)["cursor"].(string)
			if last != r.str("feed.pageInfo.endCursor") {
				e.t.Fatalf("endCursor is not the last edge's cursor: %s", r.Raw)
			}
		}
		ids = append(ids, page...)
		if r.get("feed.pageInfo.hasNextPage") != true {
			return ids
		}
		after = r.str("feed.pageInfo.endCursor")
		if after == "" {
			e.t.Fatalf("hasNextPage without endCursor: %s", r.Raw)
		}
	}
	e.t.Fatal("feed does not end")
	return nil
}

// TestFeedReviewPagesOverHTTP: a feed of own, followed, FOLLOWERS-only,
// deleted and hidden posts reads the same at page sizes 1, 7 and 100, newest
// first, once each; a cursor stays usable after its post is deleted and in
// another user's feed, where it shows only that user's posts older than it.
func TestFeedReviewPagesOverHTTP(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	reader, a, b, stranger, mod := e.register("reader"), e.register("a"), e.register("b"), e.register("stranger"), e.register("mod")
	e.grant(mod, user.RoleModerator)
	e.follow(reader, a)
	e.follow(reader, b)
	var all []string // newest first
	author := map[string]*account{}
	for i := range 23 {
		vis := "PUBLIC"
		if i%5 == 1 {
			vis = "FOLLOWERS"
		}
		by := []*account{a, b, reader, stranger}[i%4]
		id := e.createPost(by, fmt.Sprintf("post %d", i), vis)
		all, author[id] = append([]string{id}, all...), by
	}
	mine := func(ids []string, by ...*account) []string {
		var out []string
		for _, id := range ids {
			if slices.Contains(by, author[id]) {
				out = append(out, id)
			}
		}
		return out
	}
	want := mine(all, a, b, reader)
	testkit.Eventually(t, "fan-out", func() bool { return slices.Equal(e.feedIDs(reader, 100), want) })
	for _, n := range []int{1, 7, 100} {
		if got := e.feedWalk(reader, n, ""); !slices.Equal(got, want) {
			t.Fatalf("page size %d:\ngot  %v\nwant %v", n, got, want)
		}
	}

	first := ok(t, e.gql(reader.Access, `{ feed(first: 4) { edges { cursor node { id } } pageInfo { endCursor } } }`, nil))
	if got := nodeIDs(first, "feed"); !slices.Equal(got, want[:4]) {
		t.Fatalf("first page %v, want %v", got, want[:4])
	}
	cursor := first.str("feed.pageInfo.endCursor")
	deleted, hidden := want[3], want[6]
	ok(t, e.gql(mod.Access, `mutation($id: ID!) { deletePost(id: $id) }`, map[string]any{"id": deleted}))
	ok(t, e.gql(mod.Access, `mutation($id: ID!) { moderatePost(id: $id, action: HIDE) { id } }`, map[string]any{"id": hidden}))
	rest := slices.DeleteFunc(slices.Clone(want[4:]), func(id string) bool { return id == hidden })
	testkit.Eventually(t, "removals reach the feed", func() bool { return slices.Equal(e.feedWalk(reader, 100, cursor), rest) })
	if got := e.feedWalk(reader, 1, cursor); !slices.Equal(got, rest) {
		t.Fatalf("after a deleted post's cursor:\ngot  %v\nwant %v", got, rest)
	}

	// reader's cursor in stranger's feed: stranger's own posts older than it.
	older := all[slices.Index(all, deleted)+1:]
	if got, want := e.feedWalk(stranger, 3, cursor), mine(older, stranger); !slices.Equal(got, want) {
		t.Fatalf("another feed's cursor:\ngot  %v\nwant %v", got, want)
	}
}
