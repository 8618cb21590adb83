package gateway_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/nova-social/nova/internal/gateway/gid"
	"github.com/nova-social/nova/internal/platform/testkit"
	"github.com/nova-social/nova/internal/user"
)

// TestPostsCommentsAndEdits covers the post and comment operations and
// their authorization matrix: the author edits and deletes, others get
// FORBIDDEN, vanished content is NOT_FOUND to mutations and null to reads.
func TestPostsCommentsAndEdits(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	alice, bob, carol := e.register("alice"), e.register("bob"), e.register("carol")

	wantError(t, e.gql("", `mutation { createPost(input: {body: "hi"}) { id } }`, nil), http.StatusOK, "UNAUTHENTICATED", "")
	wantError(t, e.gql(alice.Access, `mutation { createPost(input: {body: "  "}) { id } }`, nil), http.StatusOK, "BAD_USER_INPUT", "body")
	wantError(t, e.gql(alice.Access, `mutation($b: String!) { createPost(input: {body: $b}) { id } }`,
		map[string]any{"b": strings.Repeat("é", 5001)}), http.StatusOK, "BAD_USER_INPUT", "body")

	body := strings.Repeat("ü", 5000)
	r := ok(t, e.gql(alice.Access, `mutation($b: String!) { createPost(input: {body: $b}) { `+postFields+` } }`, map[string]any{"b": body}))
	postID := r.str("createPost.id")
	if r.str("createPost.body") != body || r.str("createPost.visibility") != "PUBLIC" || r.get("createPost.editedAt") != nil ||
		r.str("createPost.author.id") != alice.ID || r.get("createPost.likeCount") != 0.0 || r.get("createPost.viewerHasLiked") != false {
		t.Fatalf("createPost = %s", r.Raw)
	}
	if typ, _, ok := gid.Decode(postID); !ok || typ != gid.Post {
		t.Fatalf("post id %q is not a Post global id", postID)
	}

	// Anyone reads a public post, through post and node.
	read := ok(t, e.gql("", `query($id: ID!) { post(id: $id) { id author { username } } node(id: $id) { id ... on Post { body } } }`, map[string]any{"id": postID}))
	if read.str("post.author.username") != alice.Username || read.str("node.body") != body {
		t.Fatalf("anonymous read = %s", read.Raw)
	}
	wantError(t, e.gql("", `{ post(id: "nope") { id } }`, nil), http.StatusOK, "BAD_USER_INPUT", "id")
	wantError(t, e.gql("", `query($id: ID!) { post(id: $id) { id } }`, map[string]any{"id": alice.ID}), http.StatusOK, "BAD_USER_INPUT", "id")

	// Edits keep the earlier bodies, newest first; only the author edits.
	const update = `mutation($id: ID!, $b: String!) { updatePost(id: $id, body: $b) { id body editedAt versions { body createdAt } } }`
	ok(t, e.gql(alice.Access, update, map[string]any{"id": postID, "b": "second"}))
	r = ok(t, e.gql(alice.Access, update, map[string]any{"id": postID, "b": "third #go"}))
	versions, _ := r.get("updatePost.versions").([]any)
	if r.str("updatePost.body") != "third #go" || r.str("updatePost.editedAt") == "" || len(versions) != 2 ||
		versions[0].(map[string]any)["body"] != "second" || versions[1].(map[string]any)["body"] != body {
		t.Fatalf("updatePost = %s", r.Raw)
	}
	wantError(t, e.gql(bob.Access, update, map[string]any{"id": postID, "b": "mine now"}), http.StatusOK, "FORBIDDEN", "")
	wantError(t, e.gql(alice.Access, update, map[string]any{"id": postID, "b": ""}), http.StatusOK, "BAD_USER_INPUT", "body")

	// Comments and replies, oldest first, counted on the post.
	const comment = `mutation($in: CreateCommentInput!) { createComment(input: $in) { id body author { id } post { id } parent { id } createdAt } }`
	c1 := ok(t, e.gql(bob.Access, comment, map[string]any{"in": map[string]any{"postId": postID, "body": "first!"}}))
	c1ID := c1.str("createComment.id")
	if c1.str("createComment.post.id") != postID || c1.get("createComment.parent") != nil || c1.str("createComment.author.id") != bob.ID {
		t.Fatalf("createComment = %s", c1.Raw)
	}
	c2 := ok(t, e.gql(carol.Access, comment, map[string]any{"in": map[string]any{"postId": postID, "body": "reply", "parentId": c1ID}}))
	c2ID := c2.str("createComment.id")
	if c2.str("createComment.parent.id") != c1ID {
		t.Fatalf("reply = %s", c2.Raw)
	}
	wantError(t, e.gql(bob.Access, comment, map[string]any{"in": map[string]any{"postId": postID, "body": ""}}), http.StatusOK, "BAD_USER_INPUT", "body")
	wantError(t, e.gql(bob.Access, comment, map[string]any{"in": map[string]any{"postId": postID, "body": strings.Repeat("x", 2001)}}), http.StatusOK, "BAD_USER_INPUT", "body")
	wantError(t, e.gql(bob.Access, comment, map[string]any{"in": map[string]any{"postId": postID, "body": "x", "parentId": postID}}), http.StatusOK, "BAD_USER_INPUT", "parentId")
	wantError(t, e.gql(bob.Access, comment, map[string]any{"in": map[string]any{"postId": c1ID, "body": "x"}}), http.StatusOK, "BAD_USER_INPUT", "postId")
	missingPost := gid.Encode(gid.Post, uuid.Must(uuid.NewV7()))
	wantError(t, e.gql(bob.Access, comment, map[string]any{"in": map[string]any{"postId": missingPost, "body": "x"}}), http.StatusOK, "NOT_FOUND", "")

	comments := ok(t, e.gql("", `query($id: ID!) { post(id: $id) { commentCount comments(first: 1) { edges { cursor node { id } } pageInfo { hasNextPage endCursor } } } }`, map[string]any{"id": postID}))
	if comments.get("post.commentCount") != 2.0 || !contains(nodeIDs(comments, "post.comments"), c1ID) || comments.get("post.comments.pageInfo.hasNextPage") != true {
		t.Fatalf("comments page 1 = %s", comments.Raw)
	}
	next := ok(t, e.gql("", `query($id: ID!, $after: String) { post(id: $id) { comments(first: 5, after: $after) { edges { node { id } } pageInfo { hasNextPage hasPreviousPage } } } }`,
		map[string]any{"id": postID, "after": comments.str("post.comments.pageInfo.endCursor")}))
	if ids := nodeIDs(next, "post.comments"); len(ids) != 1 || ids[0] != c2ID || next.get("post.comments.pageInfo.hasPreviousPage") != true {
		t.Fatalf("comments page 2 = %s", next.Raw)
	}
	node := ok(t, e.gql("", `query($id: ID!) { node(id: $id) { id ... on Comment { body parent { id } } } }`, map[string]any{"id": c2ID}))
	if node.str("node.body") != "reply" || node.str("node.parent.id") != c1ID {
		t.Fatalf("comment node = %s", node.Raw)
	}

	// Deleting a comment: not a bystander, but the post's author may.
	const delComment = `mutation($id: ID!) { deleteComment(id: $id) }`
	wantError(t, e.gql(carol.Access, delComment, map[string]any{"id": c1ID}), http.StatusOK, "FORBIDDEN", "")
	ok(t, e.gql(alice.Access, delComment, map[string]any{"id": c1ID}))
	wantError(t, e.gql(alice.Access, delComment, map[string]any{"id": c2ID}), http.StatusOK, "NOT_FOUND", "") // went with its parent
	if n := ok(t, e.gql("", `query($id: ID!) { post(id: $id) { commentCount } node(id: "`+c2ID+`") { id } }`, map[string]any{"id": postID})); n.get("post.commentCount") != 0.0 || n.get("node") != nil {
		t.Fatalf("after deleteComment = %s", n.Raw)
	}

	// Deleting a post: FORBIDDEN for others, then gone for everyone.
	const delPost = `mutation($id: ID!) { deletePost(id: $id) }`
	wantError(t, e.gql(bob.Access, delPost, map[string]any{"id": postID}), http.StatusOK, "FORBIDDEN", "")
	if d := ok(t, e.gql(alice.Access, delPost, map[string]any{"id": postID})); d.get("deletePost") != true {
		t.Fatalf("deletePost = %s", d.Raw)
	}
	if gone := ok(t, e.gql(alice.Access, `query($id: ID!) { post(id: $id) { id } node(id: $id) { id } }`, map[string]any{"id": postID})); gone.get("post") != nil || gone.get("node") != nil {
		t.Fatalf("deleted post reads %s", gone.Raw)
	}
	wantError(t, e.gql(alice.Access, delPost, map[string]any{"id": postID}), http.StatusOK, "NOT_FOUND", "")
	wantError(t, e.gql(alice.Access, update, map[string]any{"id": postID, "b": "again"}), http.StatusOK, "NOT_FOUND", "")
	wantError(t, e.gql(bob.Access, `mutation($id: ID!) { likePost(postId: $id) { id } }`, map[string]any{"id": postID}), http.StatusOK, "NOT_FOUND", "")
}

// TestArticlesReportsAndModeration: drafts stay private until published;
// reports by anyone signed in; moderators hide, restore and delete.
func TestArticlesReportsAndModeration(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	alice, bob, mod := e.register("alice"), e.register("bob"), e.register("mod")

	const create = `mutation($in: CreateArticleInput!) { createArticle(input: $in) { id title body status publishedAt author { id } } }`
	wantError(t, e.gql("", create, map[string]any{"in": map[string]any{"title": "t", "body": "b"}}), http.StatusOK, "UNAUTHENTICATED", "")
	wantError(t, e.gql(alice.Access, create, map[string]any{"in": map[string]any{"title": "", "body": "b"}}), http.StatusOK, "BAD_USER_INPUT", "title")
	wantError(t, e.gql(alice.Access, create, map[string]any{"in": map[string]any{"title": strings.Repeat("t", 201), "body": "b"}}), http.StatusOK, "BAD_USER_INPUT", "title")
	wantError(t, e.gql(alice.Access, create, map[string]any{"in": map[string]any{"title": "t", "body": ""}}), http.StatusOK, "BAD_USER_INPUT", "body")
	r := ok(t, e.gql(alice.Access, create, map[string]any{"in": map[string]any{"title": "On engines", "body": "Long text."}}))
	artID := r.str("createArticle.id")
	if r.str("createArticle.status") != "DRAFT" || r.get("createArticle.publishedAt") != nil || r.str("createArticle.author.id") != alice.ID {
		t.Fatalf("createArticle = %s", r.Raw)
	}
	const read = `query($id: ID!) { article(id: $id) { id status } node(id: $id) { id } }`
	if own := ok(t, e.gql(alice.Access, read, map[string]any{"id": artID})); own.str("article.status") != "DRAFT" || own.str("node.id") != artID {
		t.Fatalf("author reads draft = %s", own.Raw)
	}
	if other := ok(t, e.gql(bob.Access, read, map[string]any{"id": artID})); other.get("article") != nil || other.get("node") != nil {
		t.Fatalf("someone else's draft reads %s", other.Raw)
	}
	const publish = `mutation($id: ID!) { publishArticle(id: $id) { id status publishedAt } }`
	wantError(t, e.gql(bob.Access, publish, map[string]any{"id": artID}), http.StatusOK, "NOT_FOUND", "")
	p := ok(t, e.gql(alice.Access, publish, map[string]any{"id": artID}))
	if p.str("publishArticle.status") != "PUBLISHED" || p.str("publishArticle.publishedAt") == "" {
		t.Fatalf("publishArticle = %s", p.Raw)
	}
	wantError(t, e.gql(bob.Access, publish, map[string]any{"id": artID}), http.StatusOK, "FORBIDDEN", "")
	if pub := ok(t, e.gql("", read, map[string]any{"id": artID})); pub.str("article.status") != "PUBLISHED" {
		t.Fatalf("published article for anyone = %s", pub.Raw)
	}

	// Reports.
	postID := e.createPost(alice, "reported", "")
	const report = `mutation($id: ID!, $why: String!) { reportContent(contentId: $id, reason: $why) }`
	wantError(t, e.gql("", report, map[string]any{"id": postID, "why": "spam"}), http.StatusOK, "UNAUTHENTICATED", "")
	for _, id := range []string{postID, artID} {
		if rep := ok(t, e.gql(bob.Access, report, map[string]any{"id": id, "why": "spam"})); rep.get("reportContent") != true {
			t.Fatalf("reportContent = %s", rep.Raw)
		}
	}
	wantError(t, e.gql(bob.Access, report, map[string]any{"id": postID, "why": ""}), http.StatusOK, "BAD_USER_INPUT", "reason")
	wantError(t, e.gql(bob.Access, report, map[string]any{"id": postID, "why": strings.Repeat("r", 1001)}), http.StatusOK, "BAD_USER_INPUT", "reason")
	wantError(t, e.gql(bob.Access, report, map[string]any{"id": alice.ID, "why": "spam"}), http.StatusOK, "BAD_USER_INPUT", "contentId")
	wantError(t, e.gql(bob.Access, report, map[string]any{"id": gid.Encode(gid.Post, uuid.Must(uuid.NewV7())), "why": "spam"}), http.StatusOK, "NOT_FOUND", "")

	// Moderation: MODERATOR or ADMIN only.
	const moderate = `mutation($id: ID!, $a: ModerationAction!) { moderatePost(id: $id, action: $a) { id body } }`
	wantError(t, e.gql(bob.Access, moderate, map[string]any{"id": postID, "a": "HIDE"}), http.StatusOK, "FORBIDDEN", "")
	wantError(t, e.gql("", moderate, map[string]any{"id": postID, "a": "HIDE"}), http.StatusOK, "UNAUTHENTICATED", "")
	e.grant(mod, user.RoleModerator)
	if h := ok(t, e.gql(mod.Access, moderate, map[string]any{"id": postID, "a": "HIDE"})); h.str("moderatePost.id") != postID {
		t.Fatalf("HIDE = %s", h.Raw)
	}
	for _, who := range []*account{alice, bob, {}} {
		if hidden := ok(t, e.gql(who.Access, `query($id: ID!) { post(id: $id) { id } }`, map[string]any{"id": postID})); hidden.get("post") != nil {
			t.Fatalf("hidden post reads %s", hidden.Raw)
		}
	}
	if n := ok(t, e.gql("", `query($id: ID!) { user(id: $id) { postCount posts { edges { node { id } } } } }`, map[string]any{"id": alice.ID})); n.get("user.postCount") != 0.0 || len(nodeIDs(n, "user.posts")) != 0 {
		t.Fatalf("hidden post still counted or listed: %s", n.Raw)
	}
	wantError(t, e.gql(alice.Access, `mutation($id: ID!) { updatePost(id: $id, body: "x") { id } }`, map[string]any{"id": postID}), http.StatusOK, "NOT_FOUND", "")
	ok(t, e.gql(mod.Access, moderate, map[string]any{"id": postID, "a": "RESTORE"}))
	if back := ok(t, e.gql(bob.Access, `query($id: ID!) { post(id: $id) { id } }`, map[string]any{"id": postID})); back.str("post.id") != postID {
		t.Fatalf("restored post reads %s", back.Raw)
	}
	// A moderator deletes someone else's post.
	if d := ok(t, e.gql(mod.Access, `mutation($id: ID!) { deletePost(id: $id) }`, map[string]any{"id": postID})); d.get("deletePost") != true {
		t.Fatalf("moderator deletePost = %s", d.Raw)
	}
}

// TestFollowersVisibilityAndFeed: FOLLOWERS posts reach followers only; the
// feed carries own and followed posts, newest first; unfollow removes them.
func TestFollowersVisibilityAndFeed(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	alice, bob, carol := e.register("alice"), e.register("bob"), e.register("carol")

	wantError(t, e.gql(bob.Access, `mutation($id: ID!) { follow(userId: $id) { id } }`, map[string]any{"id": bob.ID}), http.StatusOK, "BAD_USER_INPUT", "userId")
	wantError(t, e.gql("", `mutation($id: ID!) { follow(userId: $id) { id } }`, map[string]any{"id": alice.ID}), http.StatusOK, "UNAUTHENTICATED", "")
	wantError(t, e.gql(bob.Access, `mutation($id: ID!) { follow(userId: $id) { id } }`, map[string]any{"id": gid.Encode(gid.User, uuid.Must(uuid.NewV7()))}), http.StatusOK, "NOT_FOUND", "")
	wantError(t, e.gql(bob.Access, `mutation { follow(userId: "garbage") { id } }`, nil), http.StatusOK, "BAD_USER_INPUT", "userId")
	if st := e.follow(bob, alice); st != "FOLLOWING" {
		t.Fatalf("follow state %q", st)
	}
	if st := e.follow(bob, alice); st != "FOLLOWING" {
		t.Fatalf("second follow state %q (follow is idempotent)", st)
	}

	const profile = `query($id: ID!) { user(id: $id) { followerCount followingCount postCount viewerIsFollowing viewerFollowState
		followers { edges { node { id } } } following { edges { node { id } } } } }`
	pa := ok(t, e.gql(bob.Access, profile, map[string]any{"id": alice.ID}))
	if pa.get("user.followerCount") != 1.0 || pa.get("user.followingCount") != 0.0 || pa.get("user.viewerIsFollowing") != true ||
		pa.str("user.viewerFollowState") != "FOLLOWING" || !contains(nodeIDs(pa, "user.followers"), bob.ID) {
		t.Fatalf("alice seen by bob = %s", pa.Raw)
	}
	if anon := ok(t, e.gql("", profile, map[string]any{"id": alice.ID})); anon.get("user.viewerIsFollowing") != false || anon.str("user.viewerFollowState") != "NONE" {
		t.Fatalf("alice seen anonymously = %s", anon.Raw)
	}
	if pb := ok(t, e.gql("", profile, map[string]any{"id": bob.ID})); pb.get("user.followingCount") != 1.0 || !contains(nodeIDs(pb, "user.following"), alice.ID) {
		t.Fatalf("bob = %s", pb.Raw)
	}

	public := e.createPost(alice, "for everyone", "PUBLIC")
	private := e.createPost(alice, "for followers", "FOLLOWERS")
	own := e.createPost(bob, "bob's own", "")
	// Content learns the follow from social's event: wait for bob to see it.
	testkit.Eventually(t, "bob sees the FOLLOWERS post", func() bool {
		return ok(t, e.gql(bob.Access, `query($id: ID!) { post(id: $id) { id } }`, map[string]any{"id": private})).str("post.id") == private
	})
	for _, who := range []*account{carol, {}} {
		r := ok(t, e.gql(who.Access, `query($id: ID!, $u: ID!) { post(id: $id) { id } node(id: $id) { id } user(id: $u) { posts { edges { node { id } } } } }`,
			map[string]any{"id": private, "u": alice.ID}))
		if r.get("post") != nil || r.get("node") != nil || contains(nodeIDs(r, "user.posts"), private) || !contains(nodeIDs(r, "user.posts"), public) {
			t.Fatalf("FOLLOWERS post leaks to a non-follower: %s", r.Raw)
		}
	}
	wantError(t, e.gql(carol.Access, `mutation($id: ID!) { likePost(postId: $id) { id } }`, map[string]any{"id": private}), http.StatusOK, "NOT_FOUND", "")
	wantError(t, e.gql(carol.Access, `mutation($in: CreateCommentInput!) { createComment(input: $in) { id } }`,
		map[string]any{"in": map[string]any{"postId": private, "body": "hi"}}), http.StatusOK, "NOT_FOUND", "")

	testkit.Eventually(t, "feed fan-out", func() bool { return len(e.feedIDs(bob, 10)) == 3 })
	feed := e.feedIDs(bob, 10)
	if feed[0] != own || feed[1] != private || feed[2] != public {
		t.Fatalf("bob's feed = %v, want own, followers-only, public (newest first)", feed)
	}
	wantError(t, e.gql("", `{ feed { edges { node { id } } } }`, nil), http.StatusOK, "UNAUTHENTICATED", "")
	if cf := e.feedIDs(carol, 10); len(cf) != 0 {
		t.Fatalf("carol's feed = %v, want empty", cf)
	}

	u := ok(t, e.gql(bob.Access, `mutation($id: ID!) { unfollow(userId: $id) { id viewerFollowState followerCount } }`, map[string]any{"id": alice.ID}))
	if u.str("unfollow.viewerFollowState") != "NONE" || u.get("unfollow.followerCount") != 0.0 {
		t.Fatalf("unfollow = %s", u.Raw)
	}
	ok(t, e.gql(bob.Access, `mutation($id: ID!) { unfollow(userId: $id) { id } }`, map[string]any{"id": alice.ID}))
	if f := e.feedIDs(bob, 10); len(f) != 1 || f[0] != own {
		t.Fatalf("bob's feed after unfollow = %v, want only his own post", f)
	}
	testkit.Eventually(t, "FOLLOWERS post invisible after unfollow", func() bool {
		return ok(t, e.gql(bob.Access, `query($id: ID!) { post(id: $id) { id } }`, map[string]any{"id": private})).get("post") == nil
	})
}

// TestPrivateAccountRequests: following a private account is a request
// until approved; rejected requests leave nothing.
func TestPrivateAccountRequests(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	alice, bob, carol := e.register("alice"), e.register("bob"), e.register("carol")
	ok(t, e.gql(alice.Access, `mutation { updateSettings(input: {isPrivate: true}) { isPrivate } }`, nil))

	if st := e.follow(bob, alice); st != "REQUESTED" {
		t.Fatalf("follow of a private account = %q, want REQUESTED", st)
	}
	if st := e.follow(carol, alice); st != "REQUESTED" {
		t.Fatalf("follow of a private account = %q, want REQUESTED", st)
	}
	const requests = `{ followRequests { edges { node { id username } } pageInfo { hasNextPage } } }`
	wantError(t, e.gql("", requests, nil), http.StatusOK, "UNAUTHENTICATED", "")
	reqs := nodeIDs(ok(t, e.gql(alice.Access, requests, nil)), "followRequests")
	if len(reqs) != 2 || reqs[0] != carol.ID || reqs[1] != bob.ID {
		t.Fatalf("followRequests = %v, want carol then bob (newest first)", reqs)
	}
	if c := ok(t, e.gql("", `query($id: ID!) { user(id: $id) { followerCount } }`, map[string]any{"id": alice.ID})); c.get("user.followerCount") != 0.0 {
		t.Fatalf("requests counted as followers: %s", c.Raw)
	}

	a := ok(t, e.gql(alice.Access, `mutation($id: ID!) { approveFollowRequest(userId: $id) { id username followingCount } }`, map[string]any{"id": bob.ID}))
	if a.str("approveFollowRequest.id") != bob.ID || a.get("approveFollowRequest.followingCount") != 1.0 {
		t.Fatalf("approveFollowRequest = %s", a.Raw)
	}
	if st := ok(t, e.gql(bob.Access, `query($id: ID!) { user(id: $id) { viewerFollowState followerCount } }`, map[string]any{"id": alice.ID})); st.str("user.viewerFollowState") != "FOLLOWING" || st.get("user.followerCount") != 1.0 {
		t.Fatalf("after approval = %s", st.Raw)
	}
	if rj := ok(t, e.gql(alice.Access, `mutation($id: ID!) { rejectFollowRequest(userId: $id) }`, map[string]any{"id": carol.ID})); rj.get("rejectFollowRequest") != true {
		t.Fatalf("rejectFollowRequest = %s", rj.Raw)
	}
	if st := ok(t, e.gql(carol.Access, `query($id: ID!) { user(id: $id) { viewerFollowState } }`, map[string]any{"id": alice.ID})); st.str("user.viewerFollowState") != "NONE" {
		t.Fatalf("after rejection = %s", st.Raw)
	}
	if reqs := nodeIDs(ok(t, e.gql(alice.Access, requests, nil)), "followRequests"); len(reqs) != 0 {
		t.Fatalf("requests left = %v", reqs)
	}
	wantError(t, e.gql(alice.Access, `mutation($id: ID!) { rejectFollowRequest(userId: $id) }`, map[string]any{"id": carol.ID}), http.StatusOK, "NOT_FOUND", "")
	wantError(t, e.gql(alice.Access, `mutation($id: ID!) { approveFollowRequest(userId: $id) { id } }`, map[string]any{"id": carol.ID}), http.StatusOK, "NOT_FOUND", "")
}

// TestBlocks: a block ends follows both ways, refuses interactions with
// FORBIDDEN and hides the blocker's content from the blocked user.
func TestBlocks(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	alice, bob := e.register("alice"), e.register("bob")
	e.follow(bob, alice)
	e.follow(alice, bob)
	postID := e.createPost(alice, "before the block", "")
	testkit.Eventually(t, "fan-out", func() bool { return contains(e.feedIDs(bob, 10), postID) })

	const block = `mutation($id: ID!) { blockUser(userId: $id) }`
	wantError(t, e.gql(alice.Access, block, map[string]any{"id": alice.ID}), http.StatusOK, "BAD_USER_INPUT", "userId")
	if b := ok(t, e.gql(alice.Access, block, map[string]any{"id": bob.ID})); b.get("blockUser") != true {
		t.Fatalf("blockUser = %s", b.Raw)
	}
	ok(t, e.gql(alice.Access, block, map[string]any{"id": bob.ID}))
	if c := ok(t, e.gql("", `query($id: ID!) { user(id: $id) { followerCount followingCount } }`, map[string]any{"id": alice.ID})); c.get("user.followerCount") != 0.0 || c.get("user.followingCount") != 0.0 {
		t.Fatalf("follows survived the block: %s", c.Raw)
	}
	if f := e.feedIDs(bob, 10); contains(f, postID) {
		t.Fatalf("blocker's post still in the blocked user's feed: %v", f)
	}
	wantError(t, e.gql(bob.Access, `mutation($id: ID!) { follow(userId: $id) { id } }`, map[string]any{"id": alice.ID}), http.StatusOK, "FORBIDDEN", "")
	wantError(t, e.gql(bob.Access, `mutation($id: ID!) { likePost(postId: $id) { id } }`, map[string]any{"id": postID}), http.StatusOK, "FORBIDDEN", "")
	wantError(t, e.gql(bob.Access, `mutation($id: ID!) { sharePost(postId: $id) { id } }`, map[string]any{"id": postID}), http.StatusOK, "FORBIDDEN", "")
	// Content learns of the block through an event: comments and reads follow.
	testkit.Eventually(t, "blocked user's reads turn null", func() bool {
		return ok(t, e.gql(bob.Access, `query($id: ID!) { post(id: $id) { id } }`, map[string]any{"id": postID})).get("post") == nil
	})
	wantError(t, e.gql(bob.Access, `mutation($in: CreateCommentInput!) { createComment(input: $in) { id } }`,
		map[string]any{"in": map[string]any{"postId": postID, "body": "hey"}}), http.StatusOK, "FORBIDDEN", "")
	if r := ok(t, e.gql(bob.Access, `query($id: ID!, $u: ID!) { node(id: $id) { id } user(id: $u) { posts { edges { node { id } } } } }`,
		map[string]any{"id": postID, "u": alice.ID})); r.get("node") != nil || len(nodeIDs(r, "user.posts")) != 0 {
		t.Fatalf("blocked user reads the blocker's content: %s", r.Raw)
	}
	// Others still see it.
	if r := ok(t, e.gql("", `query($id: ID!) { post(id: $id) { id } }`, map[string]any{"id": postID})); r.str("post.id") != postID {
		t.Fatalf("public post hidden from everyone: %s", r.Raw)
	}

	if u := ok(t, e.gql(alice.Access, `mutation($id: ID!) { unblockUser(userId: $id) }`, map[string]any{"id": bob.ID})); u.get("unblockUser") != true {
		t.Fatalf("unblockUser = %s", u.Raw)
	}
	if st := e.follow(bob, alice); st != "FOLLOWING" {
		t.Fatalf("follow after unblock = %q", st)
	}
	if c := ok(t, e.gql("", `query($id: ID!) { user(id: $id) { followingCount } }`, map[string]any{"id": alice.ID})); c.get("user.followingCount") != 0.0 {
		t.Fatalf("unblock restored alice's follow: %s", c.Raw)
	}
}

// TestLikesAndShares: likes are idempotent, shares are nodes, and the
// counters follow.
func TestLikesAndShares(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	alice, bob := e.register("alice"), e.register("bob")
	postID := e.createPost(alice, "like me", "")

	const like = `mutation($id: ID!) { likePost(postId: $id) { id likeCount viewerHasLiked } }`
	const unlike = `mutation($id: ID!) { unlikePost(postId: $id) { id likeCount viewerHasLiked } }`
	wantError(t, e.gql("", like, map[string]any{"id": postID}), http.StatusOK, "UNAUTHENTICATED", "")
	wantError(t, e.gql(bob.Access, like, map[string]any{"id": alice.ID}), http.StatusOK, "BAD_USER_INPUT", "postId")
	for range 2 {
		r := ok(t, e.gql(bob.Access, like, map[string]any{"id": postID}))
		if r.get("likePost.likeCount") != 1.0 || r.get("likePost.viewerHasLiked") != true {
			t.Fatalf("likePost = %s", r.Raw)
		}
	}
	if r := ok(t, e.gql(alice.Access, `query($id: ID!) { post(id: $id) { likeCount viewerHasLiked } }`, map[string]any{"id": postID})); r.get("post.likeCount") != 1.0 || r.get("post.viewerHasLiked") != false {
		t.Fatalf("post seen by its author = %s", r.Raw)
	}
	for range 2 {
		r := ok(t, e.gql(bob.Access, unlike, map[string]any{"id": postID}))
		if r.get("unlikePost.likeCount") != 0.0 || r.get("unlikePost.viewerHasLiked") != false {
			t.Fatalf("unlikePost = %s", r.Raw)
		}
	}

	const share = `mutation($id: ID!, $c: String) { sharePost(postId: $id, comment: $c) { id comment createdAt user { id } post { id shareCount } } }`
	s := ok(t, e.gql(bob.Access, share, map[string]any{"id": postID, "c": "look"}))
	shareID := s.str("sharePost.id")
	if s.str("sharePost.comment") != "look" || s.str("sharePost.user.id") != bob.ID || s.get("sharePost.post.shareCount") != 1.0 {
		t.Fatalf("sharePost = %s", s.Raw)
	}
	if typ, _, ok := gid.Decode(shareID); !ok || typ != gid.Share {
		t.Fatalf("share id %q", shareID)
	}
	if s2 := ok(t, e.gql(alice.Access, share, map[string]any{"id": postID})); s2.get("sharePost.comment") != nil || s2.get("sharePost.post.shareCount") != 2.0 {
		t.Fatalf("share without comment = %s", s2.Raw)
	}
	wantError(t, e.gql(bob.Access, share, map[string]any{"id": postID, "c": strings.Repeat("c", 2001)}), http.StatusOK, "BAD_USER_INPUT", "comment")
	if blank := ok(t, e.gql(bob.Access, share, map[string]any{"id": postID, "c": " "})); blank.get("sharePost.comment") != nil {
		t.Fatalf("a blank share comment is no comment: %s", blank.Raw)
	}
	n := ok(t, e.gql("", `query($id: ID!) { node(id: $id) { id ... on Share { comment post { id } user { username } } } }`, map[string]any{"id": shareID}))
	if n.str("node.id") != shareID || n.str("node.post.id") != postID || n.str("node.user.username") != bob.Username {
		t.Fatalf("share node = %s", n.Raw)
	}
	ok(t, e.gql(alice.Access, `mutation($id: ID!) { deletePost(id: $id) }`, map[string]any{"id": postID}))
	if n := ok(t, e.gql("", `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": shareID})); n.get("node") != nil {
		t.Fatalf("share of a deleted post reads %s", n.Raw)
	}
}

// TestFirstOutOfRange: `first` outside 1–100 is BAD_USER_INPUT on field
// first, on every connection, over HTTP.
func TestFirstOutOfRange(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.register("pager")
	postID := e.createPost(a, "p", "")
	for _, q := range []string{
		`{ feed(first: 101) { edges { cursor } } }`,
		`{ feed(first: 0) { edges { cursor } } }`,
		`{ followRequests(first: 101) { edges { cursor } } }`,
		`query($id: ID!) { user(id: $id) { posts(first: 101) { edges { cursor } } } }`,
		`query($id: ID!) { user(id: $id) { followers(first: 1000) { edges { cursor } } } }`,
		`query($id: ID!) { user(id: $id) { following(first: -1) { edges { cursor } } } }`,
		`query($p: ID!) { post(id: $p) { comments(first: 101) { edges { cursor } } } }`,
	} {
		r := e.gql(a.Access, q, map[string]any{"id": a.ID, "p": postID})
		if r.Status != http.StatusOK || len(r.Errors) != 1 || r.code() != "BAD_USER_INPUT" || r.field() != "first" {
			t.Fatalf("%s: status %d, body %s; want 200 with BAD_USER_INPUT on first", q, r.Status, r.Raw)
		}
	}
	wantError(t, e.gql(a.Access, `{ feed(after: "not a cursor") { edges { cursor } } }`, nil), http.StatusOK, "BAD_USER_INPUT", "after")
	// Nested pages multiply: 100 posts with 100 comments each is over the limit.
	wantError(t, e.gql(a.Access, `{ feed(first: 100) { edges { node { comments(first: 100) { edges { node { id body } } } } } } }`, nil),
		http.StatusUnprocessableEntity, "QUERY_TOO_COMPLEX", "")
	if r := ok(t, e.gql(a.Access, `{ feed(first: 100) { edges { cursor } } }`, nil)); len(nodeIDs(r, "feed")) > 100 {
		t.Fatalf("first 100 = %s", r.Raw)
	}
}

// TestBannedAuthorDisappears: a ban removes the user's posts from every
// read and feed.
func TestBannedAuthorDisappears(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	alice, bob, mod := e.register("alice"), e.register("bob"), e.register("mod")
	e.grant(mod, user.RoleModerator)
	e.follow(bob, alice)
	postID := e.createPost(alice, "soon gone", "")
	testkit.Eventually(t, "fan-out", func() bool { return contains(e.feedIDs(bob, 10), postID) })
	ok(t, e.gql(mod.Access, `mutation($id: ID!) { banUser(userId: $id, reason: "spam") { id } }`, map[string]any{"id": alice.ID}))
	testkit.Eventually(t, "banned author's post disappears", func() bool {
		r := ok(t, e.gql(bob.Access, `query($id: ID!) { post(id: $id) { id } }`, map[string]any{"id": postID}))
		return r.get("post") == nil && !contains(e.feedIDs(bob, 10), postID)
	})
	wantError(t, e.gql(bob.Access, `mutation($id: ID!) { likePost(postId: $id) { id } }`, map[string]any{"id": postID}), http.StatusOK, "NOT_FOUND", "")
}

// TestPostFieldsOnEveryPath selects a post's author, counters and
// viewerHasLiked through every field that returns posts, directly, in
// fragments and under @include: each path must load them (a path that did
// not would answer with an internal error).
func TestPostFieldsOnEveryPath(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	alice, bob := e.register("alice"), e.register("bob")
	e.follow(bob, alice)
	postID := e.createPost(alice, "every path", "")
	ok(t, e.gql(bob.Access, `mutation($id: ID!) { likePost(postId: $id) { id } }`, map[string]any{"id": postID}))
	share := ok(t, e.gql(bob.Access, `mutation($id: ID!) { sharePost(postId: $id) { id } }`, map[string]any{"id": postID})).str("sharePost.id")
	comment := ok(t, e.gql(bob.Access, `mutation($id: ID!) { createComment(input: {postId: $id, body: "hi"}) { id } }`, map[string]any{"id": postID})).str("createComment.id")
	testkit.Eventually(t, "post in the follower's feed", func() bool { return contains(e.feedIDs(bob, 5), postID) })

	const fields = `fragment F on Post { a: author { username } likeCount shareCount viewerHasLiked }`
	vars := map[string]any{"id": postID, "user": alice.ID, "share": share, "comment": comment, "yes": true}
	for name, q := range map[string]string{
		"post":         `query($id: ID!) { x: post(id: $id) { ...F } }`,
		"node":         `query($id: ID!) { x: node(id: $id) { ... on Post { ...F } } }`,
		"feed":         `query { x: feed(first: 5) { edges { node { ... on Post { ...F } } } } }`,
		"user posts":   `query($user: ID!) { x: node(id: $user) { ... on User { posts(first: 5) { edges { node { ...F } } } } } }`,
		"share post":   `query($share: ID!) { x: node(id: $share) { ... on Share { post { ...F } } } }`,
		"comment post": `query($comment: ID!) { x: node(id: $comment) { ... on Comment { post { ...F } } } }`,
		"include":      `query($id: ID!, $yes: Boolean!) { x: post(id: $id) { id ... @include(if: $yes) { ...F } } }`,
		"like":         `mutation($id: ID!) { x: likePost(postId: $id) { ...F } }`,
	} {
		r := ok(t, e.gql(bob.Access, q+" "+fields, vars))
		raw := string(r.Raw)
		for _, want := range []string{`"username":"` + alice.Username + `"`, `"likeCount":1`, `"shareCount":1`} {
			if !strings.Contains(raw, want) {
				t.Errorf("%s: %s lacks %s", name, raw, want)
			}
		}
		if wantLiked := `"viewerHasLiked":true`; !strings.Contains(raw, wantLiked) {
			t.Errorf("%s: %s lacks %s", name, raw, wantLiked)
		}
	}
	updated := ok(t, e.gql(alice.Access, `mutation($id: ID!) { updatePost(id: $id, body: "edited") { ...F } } `+fields, map[string]any{"id": postID}))
	if !strings.Contains(string(updated.Raw), `"likeCount":1,"shareCount":1,"viewerHasLiked":false`) {
		t.Errorf("updatePost = %s", updated.Raw)
	}
	created := ok(t, e.gql(alice.Access, `mutation { createPost(input: {body: "fresh"}) { ...F } } `+fields, nil))
	if !strings.Contains(string(created.Raw), `"likeCount":0,"shareCount":0,"viewerHasLiked":false`) {
		t.Errorf("createPost = %s", created.Raw)
	}
	anon := ok(t, e.gql("", `query($id: ID!) { post(id: $id) { ...F } } `+fields, map[string]any{"id": postID}))
	if !strings.Contains(string(anon.Raw), `"viewerHasLiked":false`) {
		t.Errorf("anonymous post = %s", anon.Raw)
	}
}
