package gateway_test

import (
	"testing"
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
