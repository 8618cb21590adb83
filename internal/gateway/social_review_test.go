package gateway_test

import (
	"testing"

	"github.com/nova-social/nova/internal/platform/testkit"
)

// TestSocialReviewFollowAfterGoingPublic: a request made while an account
// was private does not leave its requester stuck at REQUESTED once the
// account is public: following again follows, counted and listed, and the
// request is gone from followRequests.
func TestSocialReviewFollowAfterGoingPublic(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	alice, bob := e.register("alice"), e.register("bob")
	ok(t, e.gql(alice.Access, `mutation { updateSettings(input: {isPrivate: true}) { isPrivate } }`, nil))
	if st := e.follow(bob, alice); st != "REQUESTED" {
		t.Fatalf("follow of a private account = %q, want REQUESTED", st)
	}
	ok(t, e.gql(alice.Access, `mutation { updateSettings(input: {isPrivate: false}) { isPrivate } }`, nil))

	r := ok(t, e.gql(bob.Access, `mutation($id: ID!) { follow(userId: $id) { viewerFollowState viewerIsFollowing followerCount } }`,
		map[string]any{"id": alice.ID}))
	if r.str("follow.viewerFollowState") != "FOLLOWING" || r.get("follow.viewerIsFollowing") != true || r.get("follow.followerCount") != 1.0 {
		t.Fatalf("follow of the now public account = %s", r.Raw)
	}
	if reqs := nodeIDs(ok(t, e.gql(alice.Access, `{ followRequests { edges { node { id } } } }`, nil)), "followRequests"); len(reqs) != 0 {
		t.Fatalf("followRequests after the follow = %v", reqs)
	}
	fl := nodeIDs(ok(t, e.gql("", `query($id: ID!) { user(id: $id) { followers { edges { node { id } } } } }`,
		map[string]any{"id": alice.ID})), "user.followers")
	if len(fl) != 1 || fl[0] != bob.ID {
		t.Fatalf("followers = %v, want bob", fl)
	}
}

// An account that goes public has followers, not requests: its pending
// requests are approved, as if its owner had approved each, and the new
// followers see its FOLLOWERS posts.
func TestPendingRequestsAreApprovedWhenTheAccountGoesPublic(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	alice, bob, carol := e.register("pubalice"), e.register("pubbob"), e.register("pubcarol")
	ok(t, e.gql(alice.Access, `mutation { updateSettings(input: {isPrivate: true}) { isPrivate } }`, nil))
	r := ok(t, e.gql(alice.Access, `mutation { createPost(input: {body: "for followers", visibility: FOLLOWERS}) { id } }`, nil))
	secret := r.str("createPost.id")
	for _, a := range []*account{bob, carol} {
		if st := e.follow(a, alice); st != "REQUESTED" {
			t.Fatalf("follow of a private account = %q, want REQUESTED", st)
		}
	}
	ok(t, e.gql(alice.Access, `mutation { updateSettings(input: {isPrivate: false}) { isPrivate } }`, nil))

	count := `query($id: ID!) { user(id: $id) { followerCount } }`
	testkit.Eventually(t, "requests approved", func() bool {
		return ok(t, e.gql("", count, map[string]any{"id": alice.ID})).get("user.followerCount") == 2.0
	})
	if reqs := nodeIDs(ok(t, e.gql(alice.Access, `{ followRequests { edges { node { id } } } }`, nil)), "followRequests"); len(reqs) != 0 {
		t.Fatalf("followRequests after going public = %v", reqs)
	}
	for _, a := range []*account{bob, carol} {
		st := ok(t, e.gql(a.Access, `query($id: ID!) { user(id: $id) { viewerFollowState } }`, map[string]any{"id": alice.ID}))
		if st.str("user.viewerFollowState") != "FOLLOWING" {
			t.Fatalf("%s: %s", a.Username, st.Raw)
		}
		testkit.Eventually(t, "content learns the follow", func() bool {
			return ok(t, e.gql(a.Access, `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": secret})).get("node") != nil
		})
	}
}
