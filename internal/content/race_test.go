package content_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/nova-social/nova/internal/content"
	"github.com/nova-social/nova/internal/platform/apperr"
	"github.com/nova-social/nova/internal/platform/domains"
	"github.com/nova-social/nova/internal/platform/page"
	"github.com/nova-social/nova/internal/platform/testkit"
)

// TestEditTimesFollowEachOther: edits of one post made on replicas whose
// clocks lag (or by a clock stepped back) still get editedAt later than the
// post's creation and previous edit, so versions list newest first.
func TestEditTimesFollowEachOther(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	alice := user()
	p := e.post(t, alice, "first", content.Public)
	behind := p.CreatedAt.Add(-time.Hour)
	content.SetClock(e.svc, func() time.Time { return behind })
	prev := p.CreatedAt
	for _, body := range []string{"second", "third", "fourth"} {
		u := must(e.svc.UpdatePost(ctx, alice, p.ID, body))(t)
		if u.EditedAt == nil || !u.EditedAt.After(prev) {
			t.Fatalf("edit to %q: editedAt %v, not after %v", body, u.EditedAt, prev)
		}
		prev = *u.EditedAt
	}
	vs := must(e.svc.Versions(ctx, alice, []uuid.UUID{p.ID}))(t)[p.ID]
	want := []string{"third", "second", "first"}
	if len(vs) != len(want) {
		t.Fatalf("versions %+v, want bodies %q", vs, want)
	}
	for i, v := range vs {
		if v.Body != want[i] || (i > 0 && !v.CreatedAt.Before(vs[i-1].CreatedAt)) {
			t.Fatalf("versions %+v, want bodies %q newest first", vs, want)
		}
	}
}

// parallel runs f(0..n-1) at once and returns their errors.
func parallel(n int, f func(i int) error) []error {
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = f(i)
		}()
	}
	wg.Wait()
	return errs
}

// TestConcurrentEdits: concurrent edits of one post lose no version, keep
// them in edit order, and hold the bound with the original body kept.
func TestConcurrentEdits(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	alice := user()
	p := e.post(t, alice, "original", content.Public)
	edit := func(round int) {
		for _, err := range parallel(30, func(i int) error {
			_, err := e.svc.UpdatePost(ctx, alice, p.ID, fmt.Sprintf("edit %d.%d", round, i))
			return err
		}) {
			testkit.Must(t, err)
		}
	}
	edit(1)
	vs := must(e.svc.Versions(ctx, alice, []uuid.UUID{p.ID}))(t)[p.ID]
	cur := must(e.svc.Post(ctx, alice, p.ID))(t)
	seen := map[string]bool{cur.Body: true}
	for i, v := range vs {
		if seen[v.Body] || (i > 0 && !v.CreatedAt.Before(vs[i-1].CreatedAt)) || !v.CreatedAt.Before(*cur.EditedAt) {
			t.Fatalf("versions after 30 concurrent edits: %+v, current %+v", vs, cur)
		}
		seen[v.Body] = true
	}
	if len(seen) != 31 || vs[len(vs)-1].Body != "original" {
		t.Fatalf("%d distinct bodies after 30 edits, oldest %q", len(seen), vs[len(vs)-1].Body)
	}
	edit(2)
	vs = must(e.svc.Versions(ctx, alice, []uuid.UUID{p.ID}))(t)[p.ID]
	if len(vs) != content.MaxPostVersions || vs[len(vs)-1].Body != "original" {
		t.Fatalf("%d versions after 60 edits, oldest %q", len(vs), vs[len(vs)-1].Body)
	}
}

// TestConcurrentCommentsCount: comments and replies created while others
// and their parents are deleted leave commentCount equal to the comments
// there are, and fail, if at all, with NOT_FOUND.
func TestConcurrentCommentsCount(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	author := user()
	p := e.post(t, author, "busy", content.Public)
	roots := make([]content.Comment, 5)
	for i := range roots {
		roots[i] = must(e.svc.CreateComment(ctx, user(), content.CreateCommentInput{PostID: p.ID, Body: "root"}))(t)
	}
	for _, err := range parallel(40, func(i int) error {
		root := roots[i%len(roots)]
		switch {
		case i%8 == 0:
			return e.svc.DeleteComment(ctx, content.Actor{ID: author}, root.ID)
		case i%2 == 0:
			_, err := e.svc.CreateComment(ctx, user(), content.CreateCommentInput{PostID: p.ID, Body: "reply", ParentID: &root.ID})
			return err
		default:
			_, err := e.svc.CreateComment(ctx, user(), content.CreateCommentInput{PostID: p.ID, Body: "new"})
			return err
		}
	}) {
		if err != nil && !apperr.Is(err, apperr.NotFound) {
			t.Fatalf("concurrent comments: %v", err)
		}
	}
	list := must(e.svc.Comments(ctx, author, p.ID, page.Request{Size: 100}))(t)
	if n := must(e.svc.CommentCounts(ctx, []uuid.UUID{p.ID}))(t)[p.ID]; n != len(list.Items) {
		t.Fatalf("commentCount %d, %d comments", n, len(list.Items))
	}
}

// TestConcurrentPublishAndModeration: concurrent publishes of a draft make
// one content.article.published; concurrent HIDE and RESTORE leave the post
// as the last content.post.moderated says, counted accordingly.
func TestConcurrentPublishAndModeration(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	alice := user()
	a := must(e.svc.CreateArticle(ctx, alice, content.CreateArticleInput{Title: "t", Body: "b"}))(t)
	for _, err := range parallel(8, func(int) error {
		_, err := e.svc.PublishArticle(ctx, alice, a.ID)
		return err
	}) {
		testkit.Must(t, err)
	}
	evs := e.pools.For(domains.Events)
	var n int
	if err := evs.QueryRow(ctx, `SELECT count(*) FROM events.domain_events WHERE topic = 'content.article.published'
		AND payload->>'articleId' = $1`, a.ID.String()).Scan(&n); err != nil || n != 1 {
		t.Fatalf("%d article.published events (%v)", n, err)
	}

	p := e.post(t, alice, "contested", content.Public)
	mod := content.Actor{ID: user(), Role: content.RoleModerator}
	for _, err := range parallel(20, func(i int) error {
		_, err := e.svc.ModeratePost(ctx, mod, p.ID, []content.ModerationAction{content.Hide, content.Restore}[i%2])
		return err
	}) {
		testkit.Must(t, err)
	}
	var hidden []bool
	rows, err := evs.Query(ctx, `SELECT (payload->>'hidden')::bool FROM events.domain_events
		WHERE topic = 'content.post.moderated' AND payload->>'postId' = $1 ORDER BY occurred_at`, p.ID.String())
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var h bool
		testkit.Must(t, rows.Scan(&h))
		if len(hidden) > 0 && hidden[len(hidden)-1] == h || len(hidden) == 0 && !h {
			t.Fatalf("moderation events out of turn: %v then %v", hidden, h)
		}
		hidden = append(hidden, h)
	}
	rows.Close()
	final := len(hidden) > 0 && hidden[len(hidden)-1]
	counted := must(e.svc.PostCounts(ctx, []uuid.UUID{alice}))(t)[alice]
	if e.visible(alice, p.ID) == final || (counted == 1) == final {
		t.Fatalf("after %v: visible %v, counted %d", hidden, e.visible(alice, p.ID), counted)
	}
}

// TestPostsByAuthorPerViewer: a user's post list, page by page, holds the
// FOLLOWERS posts for the author and approved followers only, and hidden
// posts for nobody, whichever way the query reads it.
func TestPostsByAuthorPerViewer(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	author, follower, requester, stranger := user(), user(), user(), user()
	e.follow(t, follower, author, "FOLLOWING", time.Now())
	e.follow(t, requester, author, "REQUESTED", time.Now())
	testkit.Eventually(t, "follow projected", func() bool { return e.handled(t, "content.relationships") == 2 })
	var all, public []uuid.UUID
	mod := content.Actor{ID: user(), Role: content.RoleModerator}
	for i := range 9 {
		vis := []content.Visibility{content.Public, content.Followers, content.Followers}[i%3]
		p := e.post(t, author, "p", vis)
		if i == 4 || i == 6 {
			must(e.svc.ModeratePost(ctx, mod, p.ID, content.Hide))(t)
			continue
		}
		all = append([]uuid.UUID{p.ID}, all...)
		if vis == content.Public {
			public = append([]uuid.UUID{p.ID}, public...)
		}
	}
	for viewer, want := range map[uuid.UUID][]uuid.UUID{author: all, follower: all, requester: public, stranger: public, uuid.Nil: public} {
		var got []uuid.UUID
		req := page.Request{Size: 2}
		for {
			pg := must(e.svc.PostsByAuthor(ctx, viewer, author, req))(t)
			for _, p := range pg.Items {
				got = append(got, p.ID)
			}
			if !pg.HasNext {
				break
			}
			k := pg.Keys[len(pg.Keys)-1]
			req.After = &k
		}
		if !slices.Equal(got, want) {
			t.Fatalf("viewer %v: pages %v, want %v", viewer, got, want)
		}
	}
}
