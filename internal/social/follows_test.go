package social

import (
	"context"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/google/uuid"

	"github.com/nova-social/nova/internal/content"
	"github.com/nova-social/nova/internal/events"
	"github.com/nova-social/nova/internal/platform/apperr"
	"github.com/nova-social/nova/internal/platform/domains"
	"github.com/nova-social/nova/internal/platform/page"
	"github.com/nova-social/nova/internal/platform/testkit"
)

func TestFollowUnfollow(t *testing.T) {
	e := newEnv(t, Config{})
	ctx := context.Background()
	a, b, c := e.user(false), e.user(false), e.user(false)

	_, err := e.social.Follow(ctx, uuid.Nil, b)
	testkit.WantCode(t, err, apperr.Unauthenticated)
	_, err = e.social.Follow(ctx, a, a)
	if ae, _ := apperr.As(err); ae == nil || ae.Code != apperr.BadInput || ae.Field != "userId" {
		t.Fatalf("follow oneself: %v", err)
	}
	_, err = e.social.Follow(ctx, a, uuid.Must(uuid.NewV7()))
	testkit.WantCode(t, err, apperr.NotFound)

	for range 2 {
		st, err := e.social.Follow(ctx, a, b)
		testkit.Must(t, err)
		if st != Following {
			t.Fatalf("follow state %s", st)
		}
	}
	_, err = e.social.Follow(ctx, c, b)
	testkit.Must(t, err)
	_, err = e.social.Follow(ctx, a, c)
	testkit.Must(t, err)
	if got := e.counts(t, b); got != (Counts{Followers: 2}) {
		t.Fatalf("b counts %+v", got)
	}
	if got := e.counts(t, a); got != (Counts{Following: 2}) {
		t.Fatalf("a counts %+v", got)
	}
	if e.state(t, a, b) != Following || e.state(t, b, a) != None || e.state(t, uuid.Nil, b) != None {
		t.Fatal("follow states")
	}
	fl, err := e.social.Followers(ctx, b, page.Request{Size: 1})
	testkit.Must(t, err)
	if len(fl.Items) != 1 || fl.Items[0].UserID != c || !fl.HasNext {
		t.Fatalf("followers page 1 (newest first): %+v", fl)
	}
	fl, err = e.social.Followers(ctx, b, page.Request{Size: 1, After: &fl.Keys[0]})
	testkit.Must(t, err)
	if len(fl.Items) != 1 || fl.Items[0].UserID != a || fl.HasNext {
		t.Fatalf("followers page 2: %+v", fl)
	}
	fg, err := e.social.Following(ctx, a, page.Request{Size: 10})
	testkit.Must(t, err)
	if len(fg.Items) != 2 || fg.Items[0].UserID != c || fg.Items[1].UserID != b {
		t.Fatalf("following %+v", fg.Items)
	}

	for range 2 {
		testkit.Must(t, e.social.Unfollow(ctx, a, b))
	}
	if got := e.counts(t, b); got != (Counts{Followers: 1}) {
		t.Fatalf("b counts after unfollow %+v", got)
	}
	if e.state(t, a, b) != None {
		t.Fatal("still following after unfollow")
	}
}

func TestPrivateAccountRequests(t *testing.T) {
	e := newEnv(t, Config{})
	ctx := context.Background()
	owner, fan, other := e.user(true), e.user(false), e.user(false)
	secret := e.post(t, owner, content.Followers)

	st, err := e.social.Follow(ctx, fan, owner)
	testkit.Must(t, err)
	if st != Requested || e.state(t, fan, owner) != Requested {
		t.Fatalf("follow of a private account: %s", st)
	}
	st, err = e.social.Follow(ctx, fan, owner)
	testkit.Must(t, err)
	if st != Requested {
		t.Fatalf("second follow: %s", st)
	}
	_, err = e.social.Follow(ctx, other, owner)
	testkit.Must(t, err)
	if got := e.counts(t, owner); got.Followers != 0 {
		t.Fatalf("a request counted as follower: %+v", got)
	}
	reqs, err := e.social.FollowRequests(ctx, owner, page.Request{Size: 10})
	testkit.Must(t, err)
	if len(reqs.Items) != 2 || reqs.Items[0].UserID != other || reqs.Items[1].UserID != fan {
		t.Fatalf("requests newest first: %+v", reqs.Items)
	}
	_, err = e.social.FollowRequests(ctx, uuid.Nil, page.Request{Size: 10})
	testkit.WantCode(t, err, apperr.Unauthenticated)
	if _, err := e.content.Post(ctx, fan, secret.ID); err == nil {
		t.Fatal("FOLLOWERS post visible to a requester")
	}

	// The post is fanned out (to its author only) before the approval, so
	// only the approval's back-fill can bring it to the new follower.
	testkit.Eventually(t, "post fanned out", func() bool { return e.feedHas(t, owner, secret.ID) })
	testkit.Must(t, e.social.ApproveFollowRequest(ctx, owner, fan))
	testkit.Must(t, e.social.ApproveFollowRequest(ctx, owner, fan))
	testkit.WantCode(t, e.social.ApproveFollowRequest(ctx, owner, e.user(false)), apperr.NotFound)
	if e.state(t, fan, owner) != Following || e.counts(t, owner).Followers != 1 {
		t.Fatal("approval did not make a follower")
	}
	testkit.Eventually(t, "content learns the approval", func() bool {
		_, err := e.content.Post(ctx, fan, secret.ID)
		return err == nil
	})
	if !e.feedHas(t, fan, secret.ID) {
		t.Fatal("approval did not back-fill the feed")
	}

	testkit.Must(t, e.social.RejectFollowRequest(ctx, owner, other))
	testkit.WantCode(t, e.social.RejectFollowRequest(ctx, owner, other), apperr.NotFound)
	if e.state(t, other, owner) != None {
		t.Fatal("rejected request still pending")
	}
	reqs, err = e.social.FollowRequests(ctx, owner, page.Request{Size: 10})
	testkit.Must(t, err)
	if len(reqs.Items) != 0 {
		t.Fatalf("requests after handling: %+v", reqs.Items)
	}
}

func TestBlocks(t *testing.T) {
	e := newEnv(t, Config{})
	ctx := context.Background()
	a, b := e.user(false), e.user(false)
	_, err := e.social.Follow(ctx, a, b)
	testkit.Must(t, err)
	_, err = e.social.Follow(ctx, b, a)
	testkit.Must(t, err)
	pa := e.post(t, a, content.Public)
	pb := e.post(t, b, content.Public)
	testkit.Eventually(t, "fan-out", func() bool { return e.feedHas(t, a, pb.ID) && e.feedHas(t, b, pa.ID) })

	testkit.WantCode(t, e.social.Block(ctx, a, a), apperr.BadInput)
	testkit.Must(t, e.social.Block(ctx, a, b))
	testkit.Must(t, e.social.Block(ctx, a, b))
	if e.state(t, a, b) != None || e.state(t, b, a) != None {
		t.Fatal("block kept a follow")
	}
	if e.counts(t, a) != (Counts{}) || e.counts(t, b) != (Counts{}) {
		t.Fatalf("counts after block: %+v %+v", e.counts(t, a), e.counts(t, b))
	}
	if e.feedHas(t, a, pb.ID) || e.feedHas(t, b, pa.ID) {
		t.Fatal("blocked user's posts still in the feed")
	}
	_, err = e.social.Follow(ctx, b, a)
	testkit.WantCode(t, err, apperr.Forbidden)
	_, err = e.social.Follow(ctx, a, b)
	testkit.WantCode(t, err, apperr.Forbidden)
	// Social refuses at once, even before content's projection knows.
	testkit.WantCode(t, e.social.LikePost(ctx, b, pa.ID), apperr.Forbidden)
	_, err = e.social.SharePost(ctx, b, pa.ID, nil)
	testkit.WantCode(t, err, apperr.Forbidden)
	testkit.Eventually(t, "content learns the block", func() bool {
		_, err := e.content.Post(ctx, b, pa.ID)
		return apperr.Is(err, apperr.NotFound)
	})
	_, err = e.content.CreateComment(ctx, b, content.CreateCommentInput{PostID: pa.ID, Body: "hey"})
	testkit.WantCode(t, err, apperr.Forbidden)
	// The blocker may still like the blocked user's post.
	testkit.Must(t, e.social.LikePost(ctx, a, pb.ID))

	testkit.Must(t, e.social.Unblock(ctx, a, b))
	testkit.Must(t, e.social.Unblock(ctx, a, b))
	if e.state(t, b, a) != None {
		t.Fatal("unblock restored a follow")
	}
	_, err = e.social.Follow(ctx, b, a)
	testkit.Must(t, err)
	testkit.Eventually(t, "content learns the unblock", func() bool {
		_, err := e.content.Post(ctx, b, pa.ID)
		return err == nil
	})
}

// TestFollowRacesConverge: concurrent follows and unfollows of one pair, in
// both directions, end in a state that the counters, the lists and
// content's projection all agree on.
func TestFollowRacesConverge(t *testing.T) {
	e := newEnv(t, Config{})
	ctx := context.Background()
	a, b := e.user(false), e.user(false)
	secretA := e.post(t, a, content.Followers)
	secretB := e.post(t, b, content.Followers)
	testkit.Eventually(t, "posts fanned out", func() bool { return e.feedHas(t, a, secretA.ID) && e.feedHas(t, b, secretB.ID) })
	var wg sync.WaitGroup
	for i := range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			from, to := a, b
			if i%2 == 1 {
				from, to = b, a
			}
			var err error
			if rand.IntN(2) == 0 {
				_, err = e.social.Follow(ctx, from, to)
			} else {
				err = e.social.Unfollow(ctx, from, to)
			}
			if err != nil {
				t.Errorf("race op: %v", err)
			}
		}()
	}
	wg.Wait()
	check := func(follower, followee, secret uuid.UUID) {
		following := e.state(t, follower, followee) == Following
		n := 0
		if following {
			n = 1
		}
		if e.counts(t, followee).Followers != n || e.counts(t, follower).Following != n {
			t.Fatalf("counts disagree with state %v: %+v %+v", following, e.counts(t, followee), e.counts(t, follower))
		}
		fl, err := e.social.Followers(ctx, followee, page.Request{Size: 10})
		testkit.Must(t, err)
		if len(fl.Items) != n {
			t.Fatalf("followers list disagrees with state %v: %+v", following, fl.Items)
		}
		testkit.Eventually(t, "content projection converges", func() bool {
			_, err := e.content.Post(ctx, follower, secret)
			return (err == nil) == following
		})
		if e.feedHas(t, follower, secret) != following {
			t.Fatalf("feed disagrees with state %v", following)
		}
	}
	check(a, b, secretB.ID)
	check(b, a, secretA.ID)
}

// A banned user's pending request cannot be approved (NOT_FOUND, as
// following a banned account is), by its owner or by the account going
// public; the owner may still reject it.
func TestBannedRequesterIsNotApproved(t *testing.T) {
	e := newEnv(t, Config{})
	ctx := context.Background()
	owner, banned, fan := e.user(true), e.user(false), e.user(false)
	for _, u := range []uuid.UUID{banned, fan} {
		_, err := e.social.Follow(ctx, u, owner)
		testkit.Must(t, err)
	}
	e.publish(t, events.UserBanned{UserID: banned, Reason: "spam"})
	testkit.Eventually(t, "social learns the ban", func() bool {
		var known bool
		err := e.db.Pools.For(domains.Social).QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM social.banned_users WHERE user_id = $1)`, banned).Scan(&known)
		return err == nil && known
	})
	testkit.WantCode(t, e.social.ApproveFollowRequest(ctx, owner, banned), apperr.NotFound)

	e.acc.mu.Lock()
	e.acc.private[owner] = false
	e.acc.mu.Unlock()
	e.publish(t, events.SettingsUpdated{UserID: owner, IsPrivate: false})
	testkit.Eventually(t, "the fan's request approved", func() bool { return e.state(t, fan, owner) == Following })
	if e.state(t, banned, owner) != Requested || e.counts(t, owner).Followers != 1 {
		t.Fatalf("banned requester %s, followers %d", e.state(t, banned, owner), e.counts(t, owner).Followers)
	}
	testkit.Must(t, e.social.RejectFollowRequest(ctx, owner, banned))
}

// TestBannedRequesterFollowingAgainStaysPending: a banned user whose
// sessions have not ended yet follows again an account that went public
// since the request. The request stays pending, as an approval would leave
// it: no follower counted, no back-fill of FOLLOWERS posts, and an unfollow
// afterwards leaves nothing behind.
func TestBannedRequesterFollowingAgainStaysPending(t *testing.T) {
	e := newEnv(t, Config{})
	ctx := context.Background()
	owner, banned := e.user(true), e.user(false)
	secret := e.post(t, owner, content.Followers)
	testkit.Eventually(t, "post fanned out", func() bool { return e.feedHas(t, owner, secret.ID) })
	_, err := e.social.Follow(ctx, banned, owner)
	testkit.Must(t, err)
	e.publish(t, events.UserBanned{UserID: banned, Reason: "spam"})
	testkit.Eventually(t, "social learns the ban", func() bool {
		var known bool
		err := e.db.Pools.For(domains.Social).QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM social.banned_users WHERE user_id = $1)`, banned).Scan(&known)
		return err == nil && known
	})
	e.acc.mu.Lock()
	e.acc.private[owner] = false
	e.acc.mu.Unlock()

	st, err := e.social.Follow(ctx, banned, owner)
	testkit.Must(t, err)
	if st != Requested || e.state(t, banned, owner) != Requested {
		t.Fatalf("banned requester's follow: %s, stored %s", st, e.state(t, banned, owner))
	}
	if e.counts(t, owner) != (Counts{}) || e.counts(t, banned) != (Counts{}) {
		t.Fatalf("counts %+v %+v, want none", e.counts(t, owner), e.counts(t, banned))
	}
	if e.feedHas(t, banned, secret.ID) {
		t.Fatal("a FOLLOWERS post back-filled into a pending requester's feed")
	}
	testkit.Must(t, e.social.Unfollow(ctx, banned, owner))
	if e.counts(t, owner) != (Counts{}) || e.counts(t, banned) != (Counts{}) || e.feedHas(t, banned, secret.ID) {
		t.Fatalf("after unfollow: counts %+v %+v, post in feed %v", e.counts(t, owner), e.counts(t, banned), e.feedHas(t, banned, secret.ID))
	}
}
