package gateway_test

import (
	"encoding/base64"
	"fmt"
	"math"
	"net/http"
	"strings"
	"testing"

	"github.com/nova-social/nova/internal/platform/testkit"
	"github.com/nova-social/nova/internal/user"
)

// visWorld is a small network holding content in every visibility state,
// each post with an edit, a comment, a reply, a like and a share made while
// it was still visible:
//   - pub: alice's PUBLIC post; alice blocks dave.
//   - fol: alice's FOLLOWERS post; bob follows alice, carol does not.
//   - hid: alice's PUBLIC post, hidden by mod.
//   - ban: eve's PUBLIC post; eve, who blocks carol, is banned afterwards.
//
// Besides: carol's post carries comments and shares by alice and eve;
// dave's post was in alice's feed before she blocked him.
type visWorld struct {
	e                                 *env
	alice, bob, carol, dave, mod, eve *account
	pub, fol, hid, ban                string
	// comment, reply and share of each post, by post id: bob comments and
	// shares, the post's author replies.
	comment, reply, share map[string]string
	// carols is carol's post; the comments and shares of alice and eve are on it.
	carols, aliceComment, aliceShare, eveComment, eveShare string
	// daves is dave's post, in alice's feed before the block.
	daves string
}

func newVisWorld(t *testing.T) *visWorld {
	t.Helper()
	e := newEnv(t)
	w := &visWorld{e: e, comment: map[string]string{}, reply: map[string]string{}, share: map[string]string{}}
	w.alice, w.bob, w.carol, w.dave, w.mod, w.eve = e.register("alice"), e.register("bob"), e.register("carol"),
		e.register("dave"), e.register("mod"), e.register("eve")
	e.grant(w.mod, user.RoleModerator)
	e.follow(w.bob, w.alice)
	e.follow(w.bob, w.eve)
	e.follow(w.dave, w.alice)
	e.follow(w.alice, w.dave)
	ok(t, e.gql(w.eve.Access, `mutation($id: ID!) { blockUser(userId: $id) }`, map[string]any{"id": w.carol.ID}))
	w.pub = e.createPost(w.alice, "public", "PUBLIC")
	w.fol = e.createPost(w.alice, "followers only", "FOLLOWERS")
	w.hid = e.createPost(w.alice, "soon hidden", "PUBLIC")
	w.ban = e.createPost(w.eve, "soon banned", "PUBLIC")
	w.carols = e.createPost(w.carol, "carol's", "PUBLIC")
	w.daves = e.createPost(w.dave, "dave's", "PUBLIC")
	w.aliceComment = ok(t, e.gql(w.alice.Access, `mutation($id: ID!) { createComment(input: {postId: $id, body: "alice was here"}) { id } }`,
		map[string]any{"id": w.carols})).str("createComment.id")
	w.aliceShare = ok(t, e.gql(w.alice.Access, `mutation($id: ID!) { sharePost(postId: $id) { id } }`, map[string]any{"id": w.carols})).str("sharePost.id")
	w.eveComment = ok(t, e.gql(w.eve.Access, `mutation($id: ID!) { createComment(input: {postId: $id, body: "eve was here"}) { id } }`,
		map[string]any{"id": w.carols})).str("createComment.id")
	w.eveShare = ok(t, e.gql(w.eve.Access, `mutation($id: ID!) { sharePost(postId: $id) { id } }`, map[string]any{"id": w.carols})).str("sharePost.id")
	testkit.Eventually(t, "bob sees the FOLLOWERS post", func() bool {
		return ok(t, e.gql(w.bob.Access, `query($id: ID!) { post(id: $id) { id } }`, map[string]any{"id": w.fol})).str("post.id") == w.fol
	})
	authors := map[string]*account{w.pub: w.alice, w.fol: w.alice, w.hid: w.alice, w.ban: w.eve}
	for id, author := range authors {
		ok(t, e.gql(author.Access, `mutation($id: ID!) { updatePost(id: $id, body: "edited") { id } }`, map[string]any{"id": id}))
		c := ok(t, e.gql(w.bob.Access, `mutation($id: ID!) { createComment(input: {postId: $id, body: "by bob"}) { id } }`,
			map[string]any{"id": id})).str("createComment.id")
		w.comment[id] = c
		w.reply[id] = ok(t, e.gql(author.Access, `mutation($id: ID!, $c: ID!) { createComment(input: {postId: $id, body: "reply", parentId: $c}) { id } }`,
			map[string]any{"id": id, "c": c})).str("createComment.id")
		ok(t, e.gql(w.bob.Access, `mutation($id: ID!) { likePost(postId: $id) { id } }`, map[string]any{"id": id}))
		w.share[id] = ok(t, e.gql(w.bob.Access, `mutation($id: ID!) { sharePost(postId: $id) { id } }`, map[string]any{"id": id})).str("sharePost.id")
	}
	testkit.Eventually(t, "fan-out to bob", func() bool {
		f := e.feedIDs(w.bob, 20)
		return contains(f, w.pub) && contains(f, w.fol) && contains(f, w.hid) && contains(f, w.ban)
	})
	testkit.Eventually(t, "fan-out to alice", func() bool { return contains(e.feedIDs(w.alice, 20), w.daves) })
	testkit.Eventually(t, "eve's block reaches content", func() bool {
		return ok(t, e.gql(w.carol.Access, `query($id: ID!) { post(id: $id) { id } }`, map[string]any{"id": w.ban})).get("post") == nil
	})

	ok(t, e.gql(w.mod.Access, `mutation($id: ID!) { moderatePost(id: $id, action: HIDE) { id } }`, map[string]any{"id": w.hid}))
	ok(t, e.gql(w.alice.Access, `mutation($id: ID!) { blockUser(userId: $id) }`, map[string]any{"id": w.dave.ID}))
	ok(t, e.gql(w.mod.Access, `mutation($id: ID!) { banUser(userId: $id, reason: "spam") { id } }`, map[string]any{"id": w.eve.ID}))
	testkit.Eventually(t, "block and ban reach content", func() bool {
		d := ok(t, e.gql(w.dave.Access, `query($id: ID!) { post(id: $id) { id } }`, map[string]any{"id": w.pub}))
		b := ok(t, e.gql(w.bob.Access, `query($id: ID!) { post(id: $id) { id } }`, map[string]any{"id": w.ban}))
		return d.get("post") == nil && b.get("post") == nil
	})
	return w
}

// visiblePosts says which of the world's posts a viewer may see.
func (w *visWorld) visiblePosts(v *account) map[string]bool {
	switch v {
	case w.alice, w.bob:
		return map[string]bool{w.pub: true, w.fol: true}
	case w.dave:
		return map[string]bool{}
	}
	return map[string]bool{w.pub: true}
}

// TestInvisiblePostsReadAsNull reads every post of the world, with its
// comments, replies, shares, versions and counters, as every kind of
// viewer, through every read path: what the viewer may not see is null or
// absent, what they may see comes whole.
func TestInvisiblePostsReadAsNull(t *testing.T) {
	t.Parallel()
	w := newVisWorld(t)
	e := w.e
	anon := &account{}
	const read = `query($p: ID!, $c: ID!, $r: ID!, $s: ID!, $u: ID!) {
		post(id: $p) { id body versions { body } likeCount shareCount commentCount viewerHasLiked
			comments(first: 10) { edges { node { id } } } }
		node(id: $p) { id }
		comment: node(id: $c) { id ... on Comment { post { id } } }
		reply: node(id: $r) { id ... on Comment { parent { id } } }
		share: node(id: $s) { id ... on Share { post { id } } }
		author: user(id: $u) { posts(first: 100) { edges { node { id } } } }
	}`
	viewers := map[string]*account{"author": w.alice, "follower": w.bob, "stranger": w.carol, "blocked": w.dave,
		"moderator": w.mod, "anonymous": anon}
	posts := map[string]string{"public": w.pub, "followers": w.fol, "hidden": w.hid, "banned author": w.ban}
	for vname, v := range viewers {
		for pname, p := range posts {
			t.Run(vname+"/"+pname, func(t *testing.T) {
				author := w.alice.ID
				if p == w.ban {
					author = w.eve.ID
				}
				r := ok(t, e.gql(v.Access, read, map[string]any{"p": p, "c": w.comment[p], "r": w.reply[p], "s": w.share[p], "u": author}))
				listed := contains(nodeIDs(r, "author.posts"), p)
				if !w.visiblePosts(v)[p] {
					if r.get("post") != nil || r.get("node") != nil || r.get("comment") != nil || r.get("reply") != nil ||
						r.get("share") != nil || listed {
						t.Fatalf("invisible post leaks: %s", r.Raw)
					}
					return
				}
				versions, _ := r.get("post.versions").([]any)
				if r.str("post.id") != p || r.str("post.body") != "edited" || len(versions) != 1 ||
					r.get("post.likeCount") != 1.0 || r.get("post.shareCount") != 1.0 || r.get("post.commentCount") != 2.0 ||
					r.get("post.viewerHasLiked") != (v == w.bob) || len(nodeIDs(r, "post.comments")) != 2 ||
					r.str("node.id") != p || r.str("comment.post.id") != p || r.str("reply.parent.id") != w.comment[p] ||
					r.str("share.post.id") != p || !listed {
					t.Fatalf("visible post incomplete: %s", r.Raw)
				}
			})
		}
	}
}

// TestFeedsLoseInvisiblePosts: a post hidden, or by a banned author, or by
// someone who blocked the reader, is gone from the feed at once; the feed
// of the author's follower keeps the rest.
func TestFeedsLoseInvisiblePosts(t *testing.T) {
	t.Parallel()
	w := newVisWorld(t)
	for _, c := range []struct {
		who  *account
		want []string
	}{
		{w.bob, []string{w.fol, w.pub}},
		{w.alice, []string{w.fol, w.pub}}, // dave's post left with the block
		{w.dave, []string{w.daves}},
		{w.carol, []string{w.carols}},
	} {
		if got := w.e.feedIDs(c.who, 100); fmt.Sprint(got) != fmt.Sprint(c.want) {
			t.Errorf("feed of %s = %v, want %v", c.who.Username, got, c.want)
		}
	}
	wantError(t, w.e.gql("", `{ feed { edges { node { id } } } }`, nil), http.StatusOK, "UNAUTHENTICATED", "")
}

// TestMutationsOnInvisiblePosts: acting on a post one may not see answers
// as if it did not exist, except that the content of someone who blocks
// the viewer refuses interactions with FORBIDDEN; anonymous callers are
// UNAUTHENTICATED.
func TestMutationsOnInvisiblePosts(t *testing.T) {
	t.Parallel()
	w := newVisWorld(t)
	e := w.e
	anon := &account{}
	ops := map[string]string{
		"like":      `mutation($p: ID!) { likePost(postId: $p) { id } }`,
		"unlike":    `mutation($p: ID!) { unlikePost(postId: $p) { id } }`,
		"share":     `mutation($p: ID!) { sharePost(postId: $p) { id } }`,
		"comment":   `mutation($p: ID!) { createComment(input: {postId: $p, body: "x"}) { id } }`,
		"reply":     `mutation($p: ID!, $c: ID!) { createComment(input: {postId: $p, body: "x", parentId: $c}) { id } }`,
		"update":    `mutation($p: ID!) { updatePost(id: $p, body: "x") { id } }`,
		"delete":    `mutation($p: ID!) { deletePost(id: $p) }`,
		"uncomment": `mutation($c: ID!) { deleteComment(id: $c) }`,
		"report":    `mutation($p: ID!) { reportContent(contentId: $p, reason: "x") }`,
	}
	cases := []struct {
		name   string
		viewer *account
		post   string
		code   map[string]string // by op; missing ops expect def
		def    string
	}{
		{"stranger/followers", w.carol, w.fol, nil, "NOT_FOUND"},
		{"follower/hidden", w.bob, w.hid, nil, "NOT_FOUND"},
		{"author/hidden", w.alice, w.hid, nil, "NOT_FOUND"},
		{"follower/banned", w.bob, w.ban, nil, "NOT_FOUND"},
		{"blocked/public", w.dave, w.pub, map[string]string{"update": "NOT_FOUND", "delete": "NOT_FOUND",
			"uncomment": "NOT_FOUND", "report": "NOT_FOUND"}, "FORBIDDEN"},
		{"blocked/followers", w.dave, w.fol, map[string]string{"update": "NOT_FOUND", "delete": "NOT_FOUND",
			"uncomment": "NOT_FOUND", "report": "NOT_FOUND"}, "FORBIDDEN"},
		{"blocked/hidden", w.dave, w.hid, nil, "NOT_FOUND"},
		{"blocked by the banned author/banned", w.carol, w.ban, nil, "NOT_FOUND"},
		{"anonymous/public", anon, w.pub, nil, "UNAUTHENTICATED"},
		{"anonymous/followers", anon, w.fol, nil, "UNAUTHENTICATED"},
	}
	for _, c := range cases {
		for op, q := range ops {
			t.Run(c.name+"/"+op, func(t *testing.T) {
				want := c.def
				if code, ok := c.code[op]; ok {
					want = code
				}
				wantError(t, e.gql(c.viewer.Access, q, map[string]any{"p": c.post, "c": w.comment[c.post]}), http.StatusOK, want, "")
			})
		}
	}
}

// TestBlocksOnThirdPartyContent: on a post of someone else, the comments
// and shares of a user who blocks the viewer, or who is banned, read as
// null, and replying to such a comment is refused.
func TestBlocksOnThirdPartyContent(t *testing.T) {
	t.Parallel()
	w := newVisWorld(t)
	e := w.e
	const read = `query($p: ID!, $c: ID!, $as: ID!, $es: ID!) {
		post(id: $p) { comments { edges { node { id } } } shareCount }
		comment: node(id: $c) { id }
		aliceShare: node(id: $as) { id }
		eveShare: node(id: $es) { id }
	}`
	vars := map[string]any{"p": w.carols, "c": w.aliceComment, "as": w.aliceShare, "es": w.eveShare}
	// Social learns of the ban through an event.
	testkit.Eventually(t, "the banned user's share turns null", func() bool {
		return ok(t, e.gql("", read, vars)).get("eveShare") == nil
	})
	for _, c := range []struct {
		who                 *account
		comment, aliceShare bool
	}{
		{w.carol, true, true},
		{w.bob, true, true},
		{&account{}, true, true},
		{w.dave, false, false},
	} {
		r := ok(t, e.gql(c.who.Access, read, vars))
		if got := contains(nodeIDs(r, "post.comments"), w.aliceComment); got != c.comment || (r.get("comment") != nil) != c.comment {
			t.Errorf("%q reads alice's comment: %v, want %v; %s", c.who.Username, got, c.comment, r.Raw)
		}
		if got := r.get("aliceShare") != nil; got != c.aliceShare {
			t.Errorf("%q reads alice's share: %v, want %v; %s", c.who.Username, got, c.aliceShare, r.Raw)
		}
		if r.get("eveShare") != nil {
			t.Errorf("%q reads the banned user's share: %s", c.who.Username, r.Raw)
		}
	}
	const reply = `mutation($p: ID!, $c: ID!) { createComment(input: {postId: $p, body: "x", parentId: $c}) { id } }`
	wantError(t, e.gql(w.dave.Access, reply, map[string]any{"p": w.carols, "c": w.aliceComment}), http.StatusOK, "FORBIDDEN", "")
	// A banned user's comment does not exist, even for a user they blocked.
	wantError(t, e.gql(w.carol.Access, reply, map[string]any{"p": w.carols, "c": w.eveComment}), http.StatusOK, "NOT_FOUND", "")
	wantError(t, e.gql(w.bob.Access, reply, map[string]any{"p": w.carols, "c": w.eveComment}), http.StatusOK, "NOT_FOUND", "")
	// A parent on a post the viewer may not see does not exist, rather than
	// being on another post.
	wantError(t, e.gql(w.carol.Access, reply, map[string]any{"p": w.pub, "c": w.comment[w.fol]}), http.StatusOK, "NOT_FOUND", "")
	wantError(t, e.gql(w.bob.Access, reply, map[string]any{"p": w.pub, "c": w.comment[w.fol]}), http.StatusOK, "BAD_USER_INPUT", "parentId")
}

// TestPostAuthorDeletesCommentsOfBlockers: the blocker may still comment on
// the blocked user's posts; the comment is hidden from the post's author
// but is theirs to delete, as any comment on their post.
func TestPostAuthorDeletesCommentsOfBlockers(t *testing.T) {
	t.Parallel()
	w := newVisWorld(t)
	e := w.e
	c := ok(t, e.gql(w.alice.Access, `mutation($id: ID!) { createComment(input: {postId: $id, body: "behind your back"}) { id } }`,
		map[string]any{"id": w.daves})).str("createComment.id")
	if r := ok(t, e.gql(w.carol.Access, `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": c})); r.str("node.id") != c {
		t.Fatalf("others read the comment: %s", r.Raw)
	}
	const del = `mutation($id: ID!) { deleteComment(id: $id) }`
	wantError(t, e.gql(w.carol.Access, del, map[string]any{"id": c}), http.StatusOK, "FORBIDDEN", "")
	if r := ok(t, e.gql(w.dave.Access, del, map[string]any{"id": c})); r.get("deleteComment") != true {
		t.Fatalf("deleteComment by the post's author = %s", r.Raw)
	}
	if r := ok(t, e.gql(w.carol.Access, `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": c})); r.get("node") != nil {
		t.Fatalf("deleted comment reads %s", r.Raw)
	}
}

// TestFeedDropsPostsTurningInvisible: a post hidden or deleted after it
// reached feeds is gone from them at once (the removal of its entries
// follows through an event), and pages still advance past its place.
func TestFeedDropsPostsTurningInvisible(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	alice, bob, mod := e.register("alice"), e.register("bob"), e.register("mod")
	e.grant(mod, user.RoleModerator)
	e.follow(bob, alice)
	first := e.createPost(alice, "first", "")
	hidden := e.createPost(alice, "to hide", "")
	deleted := e.createPost(alice, "to delete", "")
	last := e.createPost(alice, "last", "")
	testkit.Eventually(t, "fan-out", func() bool { return len(e.feedIDs(bob, 10)) == 4 })
	ok(t, e.gql(mod.Access, `mutation($id: ID!) { moderatePost(id: $id, action: HIDE) { id } }`, map[string]any{"id": hidden}))
	ok(t, e.gql(alice.Access, `mutation($id: ID!) { deletePost(id: $id) }`, map[string]any{"id": deleted}))
	if got := e.feedIDs(bob, 10); fmt.Sprint(got) != fmt.Sprint([]string{last, first}) {
		t.Fatalf("feed right after hide and delete = %v, want %v", got, []string{last, first})
	}
	// Page by page: the invisible entries in between yield nothing, yet the
	// next page goes on to the first post.
	const pageQ = `query($a: String) { feed(first: 2, after: $a) { edges { node { id } } pageInfo { hasNextPage endCursor } } }`
	var seen []string
	var after any
	for range 4 {
		r := ok(t, e.gql(bob.Access, pageQ, map[string]any{"a": after}))
		seen = append(seen, nodeIDs(r, "feed")...)
		if r.get("feed.pageInfo.hasNextPage") != true {
			break
		}
		after = r.str("feed.pageInfo.endCursor")
	}
	if fmt.Sprint(seen) != fmt.Sprint([]string{last, first}) {
		t.Fatalf("feed pages = %v, want %v", seen, []string{last, first})
	}
}

// TestFollowersAccessEndsAndBegins: FOLLOWERS posts need an approved
// follow. A pending request sees nothing; after unfollowing, the feed
// loses the posts at once and every other path once content has learnt
// of it.
func TestFollowersAccessEndsAndBegins(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	alice, bob, carol := e.register("alice"), e.register("bob"), e.register("carol")
	fol := e.createPost(alice, "for followers", "FOLLOWERS")
	comment := ok(t, e.gql(alice.Access, `mutation($id: ID!) { createComment(input: {postId: $id, body: "own"}) { id } }`,
		map[string]any{"id": fol})).str("createComment.id")
	const read = `query($p: ID!, $c: ID!, $u: ID!) { post(id: $p) { id } comment: node(id: $c) { id }
		user(id: $u) { posts { edges { node { id } } } } }`
	vars := map[string]any{"p": fol, "c": comment, "u": alice.ID}
	// seen tells whether every path shows the post to who, and hidden
	// whether none does; while a follow change propagates, the paths of one
	// request may disagree.
	paths := func(who *account) (seen, hidden bool) {
		r := ok(t, e.gql(who.Access, read, vars))
		seen = r.str("post.id") == fol && r.str("comment.id") == comment && contains(nodeIDs(r, "user.posts"), fol)
		hidden = r.get("post") == nil && r.get("comment") == nil && !contains(nodeIDs(r, "user.posts"), fol)
		return seen, hidden
	}
	sees := func(who *account) bool { seen, _ := paths(who); return seen }
	hides := func(who *account) bool { _, hidden := paths(who); return hidden }

	// A pending request to a private account.
	ok(t, e.gql(alice.Access, `mutation { updateSettings(input: {isPrivate: true}) { isPrivate } }`, nil))
	if st := e.follow(carol, alice); st != "REQUESTED" {
		t.Fatalf("follow = %q", st)
	}
	e.follow(bob, alice) // also a request; approved below
	ok(t, e.gql(alice.Access, `mutation($id: ID!) { approveFollowRequest(userId: $id) { id } }`, map[string]any{"id": bob.ID}))
	testkit.Eventually(t, "the approved follower sees the post", func() bool { return sees(bob) })
	if !hides(carol) || contains(e.feedIDs(carol, 10), fol) {
		t.Fatal("a pending request sees a FOLLOWERS post")
	}
	wantError(t, e.gql(carol.Access, `mutation($id: ID!) { likePost(postId: $id) { id } }`, map[string]any{"id": fol}), http.StatusOK, "NOT_FOUND", "")

	testkit.Eventually(t, "back-fill", func() bool { return contains(e.feedIDs(bob, 10), fol) })
	ok(t, e.gql(bob.Access, `mutation($id: ID!) { unfollow(userId: $id) { id } }`, map[string]any{"id": alice.ID}))
	if f := e.feedIDs(bob, 10); contains(f, fol) {
		t.Fatalf("feed right after unfollow = %v", f)
	}
	testkit.Eventually(t, "unfollow reaches content", func() bool { return hides(bob) })
	for name, q := range map[string]string{
		"like":    `mutation($p: ID!) { likePost(postId: $p) { id } }`,
		"share":   `mutation($p: ID!) { sharePost(postId: $p) { id } }`,
		"comment": `mutation($p: ID!) { createComment(input: {postId: $p, body: "x"}) { id } }`,
		"reply":   `mutation($p: ID!, $c: ID!) { createComment(input: {postId: $p, body: "x", parentId: $c}) { id } }`,
	} {
		r := e.gql(bob.Access, q, map[string]any{"p": fol, "c": comment})
		if r.code() != "NOT_FOUND" {
			t.Errorf("%s after unfollow: %s", name, r.Raw)
		}
	}
}

// TestBannedViewer: a banned user's sessions end, their login is refused,
// and until the session ends their own posts read as null to them too.
func TestBannedViewer(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	eve, mod := e.register("eve"), e.register("mod")
	e.grant(mod, user.RoleModerator)
	post := e.createPost(eve, "mine", "")
	ok(t, e.gql(mod.Access, `mutation($id: ID!) { banUser(userId: $id, reason: "spam") { id } }`, map[string]any{"id": eve.ID}))
	testkit.Eventually(t, "the banned user's session ends", func() bool {
		r := e.gql(eve.Access, `query($id: ID!) { post(id: $id) { id } }`, map[string]any{"id": post})
		if r.Status == http.StatusOK && r.get("post") != nil {
			return false
		}
		return r.Status == http.StatusUnauthorized && r.code() == "UNAUTHENTICATED"
	})
	wantError(t, e.login(eve.Username, eve.Password), http.StatusOK, "FORBIDDEN", "")
	if r := ok(t, e.gql("", `query($id: ID!) { post(id: $id) { id } }`, map[string]any{"id": post})); r.get("post") != nil {
		t.Fatalf("banned user's post reads %s", r.Raw)
	}
}

// TestListArgumentsAreBadInput: on every list, `first` outside 1–100 and
// a cursor that is not one are BAD_USER_INPUT on the argument, for
// literals and variables alike.
func TestListArgumentsAreBadInput(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.register("pager")
	post := e.createPost(a, "p", "")
	lists := map[string]string{
		"feed":           `query($n: Int, $a: String) { feed(first: $n, after: $a) { edges { cursor } } }`,
		"followRequests": `query($n: Int, $a: String) { followRequests(first: $n, after: $a) { edges { cursor } } }`,
		"posts":          `query($n: Int, $a: String, $u: ID!) { user(id: $u) { posts(first: $n, after: $a) { edges { cursor } } } }`,
		"followers":      `query($n: Int, $a: String, $u: ID!) { user(id: $u) { followers(first: $n, after: $a) { edges { cursor } } } }`,
		"following":      `query($n: Int, $a: String, $u: ID!) { user(id: $u) { following(first: $n, after: $a) { edges { cursor } } } }`,
		"comments":       `query($n: Int, $a: String, $p: ID!) { post(id: $p) { comments(first: $n, after: $a) { edges { cursor } } } }`,
	}
	enc := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	args := []struct {
		name  string
		first any
		after any
		field string
	}{
		{"first 0", 0, nil, "first"},
		{"first -1", -1, nil, "first"},
		{"first 101", 101, nil, "first"},
		{"first max int32", math.MaxInt32, nil, "first"},
		{"first min int32", math.MinInt32, nil, "first"},
		{"first 1e10", 1e10, nil, "first"},
		{"after garbage", nil, "not a cursor!", "after"},
		{"after padded", nil, enc("{}") + "=", "after"},
		{"after empty key", nil, enc("{}"), "after"},
		{"after bad time", nil, enc(`{"t":"yesterday","i":"01900000-0000-7000-8000-000000000001"}`), "after"},
		{"after bad id", nil, enc(`{"t":"2026-01-01T00:00:00Z","i":"nope"}`), "after"},
		{"after not json", nil, enc(`[1,2`), "after"},
		{"after huge", nil, strings.Repeat("A", 10_000), "after"},
	}
	for lname, list := range lists {
		for _, arg := range args {
			t.Run(lname+"/"+arg.name, func(t *testing.T) {
				r := e.gql(a.Access, list, map[string]any{"n": arg.first, "a": arg.after, "u": a.ID, "p": post})
				if r.Status != http.StatusOK || len(r.Errors) != 1 || r.code() != "BAD_USER_INPUT" || r.field() != arg.field {
					t.Fatalf("status %d, body %s; want BAD_USER_INPUT on %s", r.Status, r.Raw, arg.field)
				}
			})
		}
	}
	// Cursors far from any item are valid positions.
	for _, at := range []string{"0001-01-01T00:00:00Z", "9999-12-31T23:59:59-23:59"} {
		c := enc(`{"t":"` + at + `","i":"01900000-0000-7000-8000-000000000001"}`)
		for _, list := range lists {
			ok(t, e.gql(a.Access, list, map[string]any{"a": c, "u": a.ID, "p": post}))
		}
	}
}

// TestOwnership: only the author edits a post; deleting someone else's
// post or comment is FORBIDDEN unless one moderates (or, for a comment,
// owns the post), whatever the role of the author.
func TestOwnership(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	alice, bob, carol, mod, admin := e.register("alice"), e.register("bob"), e.register("carol"), e.register("mod"), e.register("admin")
	for who, role := range map[*account]user.Role{mod: user.RoleModerator, admin: user.RoleAdmin} {
		e.grant(who, role)
	}
	const (
		update     = `mutation($id: ID!) { updatePost(id: $id, body: "x") { id } }`
		delPost    = `mutation($id: ID!) { deletePost(id: $id) }`
		delComment = `mutation($id: ID!) { deleteComment(id: $id) }`
	)
	newComment := func(post string) string {
		return ok(t, e.gql(bob.Access, `mutation($id: ID!) { createComment(input: {postId: $id, body: "c"}) { id } }`,
			map[string]any{"id": post})).str("createComment.id")
	}
	for _, c := range []struct {
		name     string
		who      *account
		op       string
		onPost   bool // the operation takes the post id, else bob's comment's id
		wantCode string
		vis      string
	}{
		{"stranger updates", carol, update, true, "FORBIDDEN", ""},
		{"moderator updates", mod, update, true, "FORBIDDEN", ""},
		{"admin updates", admin, update, true, "FORBIDDEN", ""},
		{"commenter deletes the post", bob, delPost, true, "FORBIDDEN", ""},
		{"stranger deletes the post", carol, delPost, true, "FORBIDDEN", ""},
		{"stranger deletes the comment", carol, delComment, false, "FORBIDDEN", ""},
		{"anonymous deletes the comment", &account{}, delComment, false, "UNAUTHENTICATED", ""},
		{"author updates", alice, update, true, "", ""},
		{"moderator deletes the post", mod, delPost, true, "", ""},
		{"moderator deletes a FOLLOWERS post", mod, delPost, true, "", "FOLLOWERS"},
		{"stranger deletes a FOLLOWERS post", carol, delPost, true, "NOT_FOUND", "FOLLOWERS"},
		{"admin deletes the post", admin, delPost, true, "", ""},
		{"author deletes the post", alice, delPost, true, "", ""},
		{"commenter deletes the comment", bob, delComment, false, "", ""},
		{"post's author deletes the comment", alice, delComment, false, "", ""},
		{"moderator deletes the comment", mod, delComment, false, "", ""},
		{"admin deletes the comment", admin, delComment, false, "", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			id := e.createPost(alice, "owned", c.vis)
			if !c.onPost {
				id = newComment(id)
			}
			r := e.gql(c.who.Access, c.op, map[string]any{"id": id})
			if c.wantCode != "" {
				wantError(t, r, http.StatusOK, c.wantCode, "")
				return
			}
			ok(t, r)
			if c.op == update {
				return
			}
			if gone := ok(t, e.gql(alice.Access, `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": id})); gone.get("node") != nil {
				t.Fatalf("still there: %s", gone.Raw)
			}
		})
	}
}

// TestDraftsAndBlockedArticles: a draft reads as null to everyone but its
// author, moderators included; a published article by someone who blocks
// the viewer or is banned reads as null too.
func TestDraftsAndBlockedArticles(t *testing.T) {
	t.Parallel()
	w := newVisWorld(t)
	e := w.e
	const create = `mutation($t: String!) { createArticle(input: {title: $t, body: "b"}) { id } }`
	draft := ok(t, e.gql(w.alice.Access, create, map[string]any{"t": "draft"})).str("createArticle.id")
	published := ok(t, e.gql(w.alice.Access, create, map[string]any{"t": "published"})).str("createArticle.id")
	ok(t, e.gql(w.alice.Access, `mutation($id: ID!) { publishArticle(id: $id) { id } }`, map[string]any{"id": published}))
	const read = `query($id: ID!) { article(id: $id) { id } node(id: $id) { id } }`
	for _, c := range []struct {
		who              *account
		draft, published bool
	}{
		{w.alice, true, true},
		{w.bob, false, true},
		{w.mod, false, true},
		{&account{}, false, true},
		{w.dave, false, false},
	} {
		for id, want := range map[string]bool{draft: c.draft, published: c.published} {
			r := ok(t, e.gql(c.who.Access, read, map[string]any{"id": id}))
			if (r.str("article.id") == id) != want || (r.str("node.id") == id) != want {
				t.Errorf("%q reads article %s: %s, want visible %v", c.who.Username, id, r.Raw, want)
			}
		}
	}
	const publish = `mutation($id: ID!) { publishArticle(id: $id) { id } }`
	wantError(t, e.gql(w.bob.Access, publish, map[string]any{"id": draft}), http.StatusOK, "NOT_FOUND", "")
	wantError(t, e.gql(w.mod.Access, publish, map[string]any{"id": draft}), http.StatusOK, "NOT_FOUND", "")
	wantError(t, e.gql(w.bob.Access, publish, map[string]any{"id": published}), http.StatusOK, "FORBIDDEN", "")
	wantError(t, e.gql(w.dave.Access, publish, map[string]any{"id": published}), http.StatusOK, "NOT_FOUND", "")
	wantError(t, e.gql(w.dave.Access, `mutation($id: ID!) { reportContent(contentId: $id, reason: "r") }`, map[string]any{"id": published}), http.StatusOK, "NOT_FOUND", "")
}
