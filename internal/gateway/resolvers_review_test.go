package gateway_test

import (
	"net/http"
	"testing"

	"github.com/google/uuid"

	"github.com/nova-social/nova/internal/gateway/gid"
	"github.com/nova-social/nova/internal/user"
)

// TestResolversReviewPostCountAfterPostMutations: a mutation answers with
// its effect on the author's postCount, also when an earlier field of the
// same document read that count.
func TestResolversReviewPostCountAfterPostMutations(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	alice, mod := e.register("alice"), e.register("mod")
	e.grant(mod, user.RoleModerator)

	r := ok(t, e.gql(alice.Access, `mutation {
		a: createPost(input: {body: "one"}) { id author { postCount } }
		b: createPost(input: {body: "two"}) { id author { postCount } } }`, nil))
	if r.get("a.author.postCount") != 1.0 || r.get("b.author.postCount") != 2.0 {
		t.Errorf("postCount after each createPost = %s, want 1 then 2", r.Raw)
	}
	first, second := r.str("a.id"), r.str("b.id")

	r = ok(t, e.gql(alice.Access, `mutation($id: ID!) {
		before: updateProfile(input: {}) { postCount }
		deletePost(id: $id)
		after: updateProfile(input: {}) { postCount } }`, map[string]any{"id": first}))
	if r.get("before.postCount") != 2.0 || r.get("after.postCount") != 1.0 {
		t.Errorf("postCount around deletePost = %s, want 2 then 1", r.Raw)
	}

	for _, c := range []struct {
		action      string
		before, now float64
	}{{"HIDE", 1, 0}, {"RESTORE", 0, 1}} {
		r = ok(t, e.gql(mod.Access, `mutation($u: ID!, $p: ID!, $a: ModerationAction!) {
			before: follow(userId: $u) { postCount }
			moderatePost(id: $p, action: $a) { id author { postCount } }
			after: unfollow(userId: $u) { postCount } }`, map[string]any{"u": alice.ID, "p": second, "a": c.action}))
		if r.get("before.postCount") != c.before || r.get("moderatePost.author.postCount") != c.now || r.get("after.postCount") != c.now {
			t.Errorf("postCount around moderatePost %s = %s, want %v then %v", c.action, r.Raw, c.before, c.now)
		}
	}
}

// TestUnblockUnknownOrSelf: unblockUser answers an unknown user with
// NOT_FOUND and oneself with BAD_USER_INPUT, as blockUser does, instead of
// reporting success.
func TestUnblockUnknownOrSelf(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	alice := e.register("alice")
	const unblock = `mutation($id: ID!) { unblockUser(userId: $id) }`
	unknown := gid.Encode(gid.User, uuid.Must(uuid.NewV7()))
	wantError(t, e.gql(alice.Access, unblock, map[string]any{"id": unknown}), http.StatusOK, "NOT_FOUND", "")
	wantError(t, e.gql(alice.Access, unblock, map[string]any{"id": alice.ID}), http.StatusOK, "BAD_USER_INPUT", "userId")
	bob := e.register("bob")
	if r := ok(t, e.gql(alice.Access, unblock, map[string]any{"id": bob.ID})); r.get("unblockUser") != true {
		t.Fatalf("unblockUser of a user never blocked = %s, want true", r.Raw)
	}
}

// TestCreatePostMediaIDs: createPost takes the contract's mediaIds; with no
// media domain to vouch for them yet, none is accepted, and an empty list is
// no attachment.
func TestCreatePostMediaIDs(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	alice := e.register("alice")
	const create = `mutation($m: [ID!]) { createPost(input: {body: "hi", mediaIds: $m}) { id } }`
	ok(t, e.gql(alice.Access, create, map[string]any{"m": []string{}}))
	for _, id := range []string{gid.Encode(gid.Media, uuid.Must(uuid.NewV7())), alice.ID, "nonsense"} {
		wantError(t, e.gql(alice.Access, create, map[string]any{"m": []string{id}}), http.StatusOK, "BAD_USER_INPUT", "mediaIds")
	}
}
