package social

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/nova-social/nova/internal/content"
	"github.com/nova-social/nova/internal/events"
	"github.com/nova-social/nova/internal/platform/apperr"
	"github.com/nova-social/nova/internal/platform/domains"
	"github.com/nova-social/nova/internal/platform/page"
	"github.com/nova-social/nova/internal/platform/testkit"
)

// TestReviewInteractionAfterDeletionApplied: content checks a like or share
// on its own pool, so social may already have applied the post's deletion
// (and dropped its likes and shares) when the check passed. The like or
// share must then be refused, not left behind on a deleted post.
func TestReviewInteractionAfterDeletionApplied(t *testing.T) {
	e := newEnv(t, Config{})
	ctx := context.Background()
	author, reader := e.user(false), e.user(false)
	p := e.post(t, author, content.Public)
	testkit.Eventually(t, "post projected", func() bool { return e.feedHas(t, author, p.ID) })

	// The deletion reaches social while content still answers for the post,
	// as when deletePost commits just after a like's check.
	e.publish(t, events.PostDeleted{PostID: p.ID, AuthorID: author})
	testkit.Eventually(t, "deletion applied", func() bool {
		var deleted bool
		testkit.Must(t, e.social.pool.QueryRow(ctx, `SELECT deleted FROM social.posts WHERE post_id = $1`, p.ID).Scan(&deleted))
		return deleted
	})

	testkit.WantCode(t, e.social.LikePost(ctx, reader, p.ID), apperr.NotFound)
	_, err := e.social.SharePost(ctx, reader, p.ID, nil)
	testkit.WantCode(t, err, apperr.NotFound)
	var rows int
	testkit.Must(t, e.social.pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM social.likes WHERE post_id = $1)
		+ (SELECT count(*) FROM social.shares WHERE post_id = $1) + (SELECT count(*) FROM social.post_stats WHERE post_id = $1)`, p.ID).Scan(&rows))
	if rows != 0 {
		t.Fatalf("%d like, share or counter rows left on a deleted post", rows)
	}
}

// TestReviewLikeRacingDeletion: a like whose check passed while the post's
// deletion is being applied waits for it, and is then refused, instead of
// committing after the deletion dropped the post's likes.
func TestReviewLikeRacingDeletion(t *testing.T) {
	e := newEnv(t, Config{})
	ctx := context.Background()
	author, reader := e.user(false), e.user(false)
	p := e.post(t, author, content.Public)
	testkit.Eventually(t, "post projected", func() bool { return e.feedHas(t, author, p.ID) })

	tx, err := e.social.pool.Begin(ctx)
	testkit.Must(t, err)
	defer func() { _ = tx.Rollback(ctx) }()
	testkit.Must(t, e.social.onPostDeleted(ctx, tx, events.PostDeleted{PostID: p.ID, AuthorID: author}))
	liked := make(chan error, 1)
	go func() { liked <- e.social.LikePost(ctx, reader, p.ID) }()
	waited := false
	for range 100 {
		if e.lockWaiters(t) > 0 {
			waited = true
			break
		}
		select {
		case err := <-liked:
			liked <- err
		case <-time.After(10 * time.Millisecond):
			continue
		}
		break
	}
	testkit.Must(t, tx.Commit(ctx))
	err = <-liked
	if !waited {
		t.Errorf("the like did not wait for the deletion being applied (it returned %v)", err)
	}
	testkit.WantCode(t, err, apperr.NotFound)
	var rows int
	testkit.Must(t, e.social.pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM social.likes WHERE post_id = $1)
		+ (SELECT count(*) FROM social.post_stats WHERE post_id = $1)`, p.ID).Scan(&rows))
	if rows != 0 {
		t.Fatalf("%d like or counter rows left on a deleted post", rows)
	}
}

// TestReviewFollowAfterAccountWentPublic: a request pending since the
// account was private does not keep its requester out once the account is
// public; following again follows, like anyone else's follow.
func TestReviewFollowAfterAccountWentPublic(t *testing.T) {
	e := newEnv(t, Config{})
	ctx := context.Background()
	owner, fan := e.user(true), e.user(false)
	secret := e.post(t, owner, content.Followers)
	testkit.Eventually(t, "post fanned out", func() bool { return e.feedHas(t, owner, secret.ID) })

	st, err := e.social.Follow(ctx, fan, owner)
	testkit.Must(t, err)
	if st != Requested {
		t.Fatalf("follow of a private account: %s", st)
	}
	e.acc.mu.Lock()
	e.acc.private[owner] = false
	e.acc.mu.Unlock()

	st, err = e.social.Follow(ctx, fan, owner)
	testkit.Must(t, err)
	if st != Following || e.state(t, fan, owner) != Following {
		t.Fatalf("follow of the now public account: %s, stored %s", st, e.state(t, fan, owner))
	}
	if got := e.counts(t, owner); got.Followers != 1 {
		t.Fatalf("owner counts %+v", got)
	}
	if got := e.counts(t, fan); got.Following != 1 {
		t.Fatalf("fan counts %+v", got)
	}
	reqs, err := e.social.FollowRequests(ctx, owner, page.Request{Size: 10})
	testkit.Must(t, err)
	if len(reqs.Items) != 0 {
		t.Fatalf("request still pending: %+v", reqs.Items)
	}
	if !e.feedHas(t, fan, secret.ID) {
		t.Fatal("the follow did not back-fill the feed")
	}
	testkit.Eventually(t, "content learns the follow", func() bool {
		_, err := e.content.Post(ctx, fan, secret.ID)
		return err == nil
	})
	// Again: nothing changes.
	st, err = e.social.Follow(ctx, fan, owner)
	testkit.Must(t, err)
	if st != Following || e.counts(t, owner).Followers != 1 {
		t.Fatalf("third follow: %s, %+v", st, e.counts(t, owner))
	}
}

// TestReviewRelationshipTimesIgnoreReplicaClocks: content applies follow
// and block events by their time, newest wins, so the times must order the
// changes as they happened even when replicas' clocks disagree. A follow
// made on a replica whose clock runs ahead, then an unfollow on another,
// must end "not following" in content too.
func TestReviewRelationshipTimesIgnoreReplicaClocks(t *testing.T) {
	e := newEnv(t, Config{})
	ctx := context.Background()
	ahead := New(e.social.pool, e.bus, e.content, e.acc, Config{})
	ahead.now = func() time.Time { return time.Now().UTC().Add(time.Hour).Truncate(time.Microsecond) }
	author, fan := e.user(false), e.user(false)
	secret := e.post(t, author, content.Followers)

	_, err := ahead.Follow(ctx, fan, author)
	testkit.Must(t, err)
	testkit.Eventually(t, "content learns the follow", func() bool {
		_, err := e.content.Post(ctx, fan, secret.ID)
		return err == nil
	})
	testkit.Must(t, e.social.Unfollow(ctx, fan, author))
	testkit.Eventually(t, "content learns the unfollow", func() bool {
		_, err := e.content.Post(ctx, fan, secret.ID)
		return apperr.Is(err, apperr.NotFound)
	})

	// The same for a block lifted on the replica behind after it was made
	// on the one ahead.
	other := e.user(false)
	pub := e.post(t, author, content.Public)
	testkit.Must(t, ahead.Block(ctx, author, other))
	testkit.Eventually(t, "content learns the block", func() bool {
		_, err := e.content.Post(ctx, other, pub.ID)
		return apperr.Is(err, apperr.NotFound)
	})
	testkit.Must(t, e.social.Unblock(ctx, author, other))
	testkit.Eventually(t, "content learns the unblock", func() bool {
		_, err := e.content.Post(ctx, other, pub.ID)
		return err == nil
	})
}

// TestReviewInvisibleShareCommentIsNone: a comment with nothing visible in
// it (a zero-width space) is blank by the rule every domain applies, and a
// blank share comment means none.
func TestReviewInvisibleShareCommentIsNone(t *testing.T) {
	e := newEnv(t, Config{})
	ctx := context.Background()
	author, reader := e.user(false), e.user(false)
	p := e.post(t, author, content.Public)
	for _, blank := range []string{"\u200b", " \u200d\ufeff "} {
		sh, err := e.social.SharePost(ctx, reader, p.ID, &blank)
		testkit.Must(t, err)
		if sh.Comment != nil {
			t.Fatalf("invisible share comment kept: %q", *sh.Comment)
		}
		got, err := e.social.SharesByIDs(ctx, []uuid.UUID{sh.ID})
		testkit.Must(t, err)
		if got[sh.ID].Comment != nil {
			t.Fatalf("invisible share comment stored: %q", *got[sh.ID].Comment)
		}
	}
}

// TestReviewFollowersPostAfterUnfollow: content learns an unfollow from an
// event, so for a moment it still answers for a FOLLOWERS post to the
// former follower. Social's relationships are authoritative: the like or
// share of a post the viewer may no longer see is NOT_FOUND, as once
// content has caught up.
func TestReviewFollowersPostAfterUnfollow(t *testing.T) {
	e := newEnv(t, Config{})
	ctx := context.Background()
	author, fan := e.user(false), e.user(false)
	e.follow(t, fan, author)
	secret := e.post(t, author, content.Followers)
	testkit.Eventually(t, "content learns the follow", func() bool {
		_, err := e.content.Post(ctx, fan, secret.ID)
		return err == nil
	})

	// Content's projection row is held, so the unfollow reaches social only.
	tx, err := e.db.Pools.For(domains.Content).Begin(ctx)
	testkit.Must(t, err)
	defer func() { _ = tx.Rollback(ctx) }()
	_, err = tx.Exec(ctx, `SELECT 1 FROM content.follows WHERE follower_id = $1 AND followee_id = $2 FOR UPDATE`, fan, author)
	testkit.Must(t, err)
	testkit.Must(t, e.social.Unfollow(ctx, fan, author))
	if _, err := e.content.PostForInteraction(ctx, fan, secret.ID); err != nil {
		t.Fatalf("content learnt the unfollow already (%v); the test needs it not to", err)
	}

	testkit.WantCode(t, e.social.LikePost(ctx, fan, secret.ID), apperr.NotFound)
	_, err = e.social.SharePost(ctx, fan, secret.ID, nil)
	testkit.WantCode(t, err, apperr.NotFound)
	stats, err := e.social.PostStats(ctx, fan, []uuid.UUID{secret.ID})
	testkit.Must(t, err)
	if got := stats[secret.ID]; got != (PostStats{}) {
		t.Fatalf("former follower's interactions counted: %+v", got)
	}
	testkit.Must(t, tx.Rollback(ctx))

	// The author and a follower still interact.
	other := e.user(false)
	e.follow(t, other, author)
	testkit.Eventually(t, "content learns the second follow", func() bool {
		_, err := e.content.Post(ctx, other, secret.ID)
		return err == nil
	})
	testkit.Must(t, e.social.LikePost(ctx, other, secret.ID))
	testkit.Must(t, e.social.LikePost(ctx, author, secret.ID))
	_, err = e.social.SharePost(ctx, other, secret.ID, nil)
	testkit.Must(t, err)
}
