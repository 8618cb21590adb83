package social

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"

	"github.com/nova-social/nova/internal/content"
	"github.com/nova-social/nova/internal/platform/apperr"
	"github.com/nova-social/nova/internal/platform/page"
	"github.com/nova-social/nova/internal/platform/testkit"
)

func TestConcurrentLikesAreExact(t *testing.T) {
	e := newEnv(t, Config{})
	ctx := context.Background()
	author := e.user(false)
	p := e.post(t, author, content.Public)
	likers := make([]uuid.UUID, 100)
	for i := range likers {
		likers[i] = e.user(false)
	}
	var wg sync.WaitGroup
	for _, u := range likers {
		for range 2 { // every like twice: idempotent
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := e.social.LikePost(ctx, u, p.ID); err != nil {
					t.Errorf("like: %v", err)
				}
			}()
		}
	}
	wg.Wait()
	c, err := e.social.PostStats(ctx, likers[0], []uuid.UUID{p.ID})
	testkit.Must(t, err)
	if c[p.ID] != (PostStats{Likes: 100, ViewerLiked: true}) {
		t.Fatalf("stats seen by a liker = %+v, want 100 likes, liked", c[p.ID])
	}
	for _, viewer := range []uuid.UUID{author, uuid.Nil} {
		c, err := e.social.PostStats(ctx, viewer, []uuid.UUID{p.ID})
		testkit.Must(t, err)
		if c[p.ID] != (PostStats{Likes: 100}) {
			t.Fatalf("stats seen by %s = %+v, want 100 likes, not liked", viewer, c[p.ID])
		}
	}
	for _, u := range likers[:50] {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := e.social.UnlikePost(ctx, u, p.ID); err != nil {
				t.Errorf("unlike: %v", err)
			}
		}()
	}
	wg.Wait()
	testkit.Must(t, e.social.UnlikePost(ctx, likers[0], p.ID))
	c, err = e.social.PostStats(ctx, likers[0], []uuid.UUID{p.ID})
	testkit.Must(t, err)
	if c[p.ID] != (PostStats{Likes: 50}) {
		t.Fatalf("stats after unlikes = %+v, want 50 likes, not liked", c[p.ID])
	}
}

func TestLikeAndShareVisibility(t *testing.T) {
	e := newEnv(t, Config{})
	ctx := context.Background()
	author, reader := e.user(false), e.user(false)
	secret := e.post(t, author, content.Followers)
	p := e.post(t, author, content.Public)

	testkit.WantCode(t, e.social.LikePost(ctx, uuid.Nil, p.ID), apperr.Unauthenticated)
	testkit.WantCode(t, e.social.LikePost(ctx, reader, secret.ID), apperr.NotFound)
	testkit.WantCode(t, e.social.LikePost(ctx, reader, uuid.Must(uuid.NewV7())), apperr.NotFound)
	testkit.WantCode(t, e.social.UnlikePost(ctx, reader, secret.ID), apperr.NotFound)
	_, err := e.social.SharePost(ctx, reader, secret.ID, nil)
	testkit.WantCode(t, err, apperr.NotFound)
	long := strings.Repeat("x", MaxShareComment+1)
	_, err = e.social.SharePost(ctx, reader, p.ID, &long)
	if ae, _ := apperr.As(err); ae == nil || ae.Field != "comment" {
		t.Fatalf("long share comment: %v", err)
	}

	blank := "  "
	plain, err := e.social.SharePost(ctx, reader, p.ID, &blank)
	testkit.Must(t, err)
	if plain.Comment != nil {
		t.Fatalf("blank share comment kept: %q", *plain.Comment)
	}
	note := "look"
	sh, err := e.social.SharePost(ctx, reader, p.ID, &note)
	testkit.Must(t, err)
	_, err = e.social.SharePost(ctx, author, p.ID, nil)
	testkit.Must(t, err)
	got, err := e.social.SharesByIDs(ctx, []uuid.UUID{sh.ID})
	testkit.Must(t, err)
	if got[sh.ID].Comment == nil || *got[sh.ID].Comment != "look" || got[sh.ID].UserID != reader {
		t.Fatalf("share %+v", got[sh.ID])
	}
	testkit.Must(t, e.social.LikePost(ctx, reader, p.ID))
	c, err := e.social.PostStats(ctx, reader, []uuid.UUID{p.ID, secret.ID})
	testkit.Must(t, err)
	if c[p.ID] != (PostStats{Likes: 1, Shares: 3, ViewerLiked: true}) || c[secret.ID] != (PostStats{}) {
		t.Fatalf("post stats %+v", c)
	}
	// A feed page carries the same stats, as its reader sees them.
	testkit.Must(t, e.social.LikePost(ctx, author, p.ID))
	testkit.Eventually(t, "post in its author's feed", func() bool { return e.feedHas(t, author, p.ID) })
	pg, err := e.social.Feed(ctx, author, page.Request{Size: 10})
	testkit.Must(t, err)
	for _, it := range pg.Items {
		want := map[uuid.UUID]PostStats{p.ID: {Likes: 2, Shares: 3, ViewerLiked: true}, secret.ID: {}}[it.PostID]
		if it.Stats != want {
			t.Fatalf("feed entry %s stats %+v, want %+v", it.PostID, it.Stats, want)
		}
	}

	// Deleting the post drops its likes and shares.
	testkit.Must(t, e.content.DeletePost(ctx, content.Actor{ID: author}, p.ID))
	testkit.Eventually(t, "deletion reaches social", func() bool {
		c, err := e.social.PostStats(ctx, reader, []uuid.UUID{p.ID})
		testkit.Must(t, err)
		return c[p.ID] == PostStats{}
	})
}

// TestShareCommentWithNUL: Postgres text cannot hold U+0000, so a comment
// with one inside is the client's error (BAD_USER_INPUT on comment), as in
// posts and comments, not a failed insert.
func TestShareCommentWithNUL(t *testing.T) {
	e := newEnv(t, Config{})
	ctx := context.Background()
	author, reader := e.user(false), e.user(false)
	p := e.post(t, author, content.Public)
	bad := "nice\x00post"
	_, err := e.social.SharePost(ctx, reader, p.ID, &bad)
	testkit.WantCode(t, err, apperr.BadInput, "comment")
	st, err := e.social.PostStats(ctx, reader, []uuid.UUID{p.ID})
	testkit.Must(t, err)
	if st[p.ID].Shares != 0 {
		t.Fatalf("refused share counted: %+v", st[p.ID])
	}
}
