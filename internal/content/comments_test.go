package content_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/nova-social/nova/internal/content"
	"github.com/nova-social/nova/internal/events"
	"github.com/nova-social/nova/internal/platform/apperr"
	"github.com/nova-social/nova/internal/platform/page"
	"github.com/nova-social/nova/internal/platform/testkit"
)

func TestCommentsAndReplies(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	author, a, b := user(), user(), user()
	p := e.post(t, author, "discuss", content.Public)
	other := e.post(t, author, "elsewhere", content.Public)

	_, err := e.svc.CreateComment(ctx, uuid.Nil, content.CreateCommentInput{PostID: p.ID, Body: "x"})
	testkit.WantCode(t, err, apperr.Unauthenticated)
	_, err = e.svc.CreateComment(ctx, a, content.CreateCommentInput{PostID: p.ID, Body: strings.Repeat("c", 2001)})
	testkit.WantCode(t, err, apperr.BadInput, "body")
	_, err = e.svc.CreateComment(ctx, a, content.CreateCommentInput{PostID: user(), Body: "x"})
	testkit.WantCode(t, err, apperr.NotFound)

	c1 := must(e.svc.CreateComment(ctx, a, content.CreateCommentInput{PostID: p.ID, Body: "first @someone"}))(t)
	c2 := must(e.svc.CreateComment(ctx, b, content.CreateCommentInput{PostID: p.ID, Body: "reply", ParentID: &c1.ID}))(t)
	c3 := must(e.svc.CreateComment(ctx, a, content.CreateCommentInput{PostID: p.ID, Body: "reply to reply", ParentID: &c2.ID}))(t)
	c4 := must(e.svc.CreateComment(ctx, b, content.CreateCommentInput{PostID: p.ID, Body: "second"}))(t)
	oc := must(e.svc.CreateComment(ctx, b, content.CreateCommentInput{PostID: other.ID, Body: "x"}))(t)
	_, err = e.svc.CreateComment(ctx, a, content.CreateCommentInput{PostID: p.ID, Body: "x", ParentID: &oc.ID})
	testkit.WantCode(t, err, apperr.BadInput, "parentId")
	if len(c1.Mentions) != 1 || c1.Mentions[0] != "someone" {
		t.Fatalf("comment mentions %q", c1.Mentions)
	}

	var got []uuid.UUID
	req := page.Request{Size: 3}
	for {
		pg := must(e.svc.Comments(ctx, uuid.Nil, p.ID, req))(t)
		for _, c := range pg.Items {
			got = append(got, c.ID)
		}
		if !pg.HasNext {
			break
		}
		k := pg.Keys[len(pg.Keys)-1]
		req.After = &k
	}
	want := []uuid.UUID{c1.ID, c2.ID, c3.ID, c4.ID}
	if len(got) != len(want) {
		t.Fatalf("comments %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("comments not oldest first: %v, want %v", got, want)
		}
	}
	counts := must(e.svc.CommentCounts(ctx, []uuid.UUID{p.ID, other.ID}))(t)
	if counts[p.ID] != 4 || counts[other.ID] != 1 {
		t.Fatalf("comment counts %v", counts)
	}
	byID := must(e.svc.CommentsByIDs(ctx, uuid.Nil, []uuid.UUID{c2.ID, c3.ID}))(t)
	if byID[c3.ID].ParentID == nil || *byID[c3.ID].ParentID != c2.ID {
		t.Fatalf("reply parent: %+v", byID[c3.ID])
	}

	// Deleting a comment removes its replies too, and the count follows.
	testkit.Must(t, e.svc.DeleteComment(ctx, content.Actor{ID: b}, c2.ID))
	if _, err := e.svc.Comment(ctx, uuid.Nil, c3.ID); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("reply of a deleted comment: %v", err)
	}
	if n := must(e.svc.CommentCounts(ctx, []uuid.UUID{p.ID}))(t)[p.ID]; n != 2 {
		t.Fatalf("comment count after deleting a thread: %d", n)
	}
	// Deleting the post deletes its comments.
	testkit.Must(t, e.svc.DeletePost(ctx, content.Actor{ID: author}, p.ID))
	if _, err := e.svc.Comment(ctx, uuid.Nil, c1.ID); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("comment of a deleted post: %v", err)
	}
}

// TestReplyToBlockersComment: replying to a comment whose author blocks the
// viewer is FORBIDDEN, like commenting on a blocker's post; a parent the
// viewer cannot see otherwise is NOT_FOUND.
func TestReplyToBlockersComment(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	owner, blocker, blocked := user(), user(), user()
	p := e.post(t, owner, "open thread", content.Public)
	c := must(e.svc.CreateComment(ctx, blocker, content.CreateCommentInput{PostID: p.ID, Body: "mine"}))(t)
	e.publish(t, events.BlockCreated{BlockerID: blocker, BlockedID: blocked, At: time.Now()})
	testkit.Eventually(t, "block applied", func() bool { _, err := e.svc.Comment(ctx, blocked, c.ID); return err != nil })

	_, err := e.svc.CreateComment(ctx, blocked, content.CreateCommentInput{PostID: p.ID, Body: "reply", ParentID: &c.ID})
	testkit.WantCode(t, err, apperr.Forbidden)
	missing := user()
	_, err = e.svc.CreateComment(ctx, blocked, content.CreateCommentInput{PostID: p.ID, Body: "reply", ParentID: &missing})
	testkit.WantCode(t, err, apperr.NotFound)
	must(e.svc.CreateComment(ctx, owner, content.CreateCommentInput{PostID: p.ID, Body: "reply", ParentID: &c.ID}))(t)
}

// TestConcurrentDeletesInAThread: deleting a comment while its reply is
// deleted, or the post while a comment on it is, succeeds or finds the
// other deletion done (NOT_FOUND); it never fails with a deadlock.
func TestConcurrentDeletesInAThread(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	author, a, b := user(), user(), user()
	for i := range 20 {
		p := e.post(t, author, "thread", content.Public)
		parent := must(e.svc.CreateComment(ctx, a, content.CreateCommentInput{PostID: p.ID, Body: "parent"}))(t)
		reply := must(e.svc.CreateComment(ctx, b, content.CreateCommentInput{PostID: p.ID, Body: "reply", ParentID: &parent.ID}))(t)
		errs := make(chan error, 2)
		go func() {
			if i%2 == 0 {
				errs <- e.svc.DeleteComment(ctx, content.Actor{ID: author}, parent.ID)
			} else {
				errs <- e.svc.DeletePost(ctx, content.Actor{ID: author}, p.ID)
			}
		}()
		go func() { errs <- e.svc.DeleteComment(ctx, content.Actor{ID: b}, reply.ID) }()
		for range 2 {
			if err := <-errs; err != nil && !apperr.Is(err, apperr.NotFound) {
				t.Fatalf("concurrent deletes in a thread: %v", err)
			}
		}
		if n := must(e.svc.CommentCounts(ctx, []uuid.UUID{p.ID}))(t)[p.ID]; n != 0 {
			t.Fatalf("comment count after deleting the thread: %d", n)
		}
	}
}

func TestArticles(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	author, reader := user(), user()
	_, err := e.svc.CreateArticle(ctx, author, content.CreateArticleInput{Title: strings.Repeat("t", 201), Body: "b"})
	testkit.WantCode(t, err, apperr.BadInput, "title")
	_, err = e.svc.CreateArticle(ctx, author, content.CreateArticleInput{Title: "t", Body: strings.Repeat("b", 100_001)})
	testkit.WantCode(t, err, apperr.BadInput, "body")
	_, err = e.svc.CreateArticle(ctx, uuid.Nil, content.CreateArticleInput{Title: "t", Body: "b"})
	testkit.WantCode(t, err, apperr.Unauthenticated)

	a := must(e.svc.CreateArticle(ctx, author, content.CreateArticleInput{Title: "Title", Body: strings.Repeat("b", 100_000)}))(t)
	if a.Status != content.Draft || a.PublishedAt != nil {
		t.Fatalf("new article %+v", a)
	}
	if _, err := e.svc.Article(ctx, reader, a.ID); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("draft visible to a reader: %v", err)
	}
	if _, err := e.svc.Article(ctx, author, a.ID); err != nil {
		t.Fatalf("draft invisible to its author: %v", err)
	}
	testkit.WantCode(t, e.svc.ReportContent(ctx, reader, a.ID, "x"), apperr.NotFound)
	pub := must(e.svc.PublishArticle(ctx, author, a.ID))(t)
	if pub.Status != content.Published || pub.PublishedAt == nil {
		t.Fatalf("published %+v", pub)
	}
	again := must(e.svc.PublishArticle(ctx, author, a.ID))(t)
	if !again.PublishedAt.Equal(*pub.PublishedAt) {
		t.Fatal("republishing changed publishedAt")
	}
	m := must(e.svc.ArticlesByIDs(ctx, reader, []uuid.UUID{a.ID}))(t)
	if m[a.ID].Title != "Title" {
		t.Fatalf("ArticlesByIDs %+v", m)
	}
	testkit.Must(t, e.svc.ReportContent(ctx, reader, a.ID, "plagiarism"))
}

// TestCommentOrderFollowsCreation: comments list in the order they were
// made, also when one is made on a replica whose clock is behind: a reader
// who paged to the end finds it on the next page instead of never.
func TestCommentOrderFollowsCreation(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	author, a := user(), user()
	p := e.post(t, author, "thread", content.Public)
	base := time.Now().UTC().Truncate(time.Microsecond)
	content.SetClock(e.svc, func() time.Time { return base })
	c1 := must(e.svc.CreateComment(ctx, a, content.CreateCommentInput{PostID: p.ID, Body: "first"}))(t)
	first := must(e.svc.Comments(ctx, uuid.Nil, p.ID, page.Request{Size: 10}))(t)
	if len(first.Items) != 1 || first.HasNext {
		t.Fatalf("first page %+v", first.Items)
	}
	content.SetClock(e.svc, func() time.Time { return base.Add(-time.Minute) })
	c2 := must(e.svc.CreateComment(ctx, a, content.CreateCommentInput{PostID: p.ID, Body: "second"}))(t)
	c3 := must(e.svc.CreateComment(ctx, a, content.CreateCommentInput{PostID: p.ID, Body: "third", ParentID: &c2.ID}))(t)
	if !c2.CreatedAt.After(c1.CreatedAt) || !c3.CreatedAt.After(c2.CreatedAt) {
		t.Fatalf("comment times %v, %v, %v not in creation order", c1.CreatedAt, c2.CreatedAt, c3.CreatedAt)
	}
	next := must(e.svc.Comments(ctx, uuid.Nil, p.ID, page.Request{Size: 10, After: &first.Keys[0]}))(t)
	if len(next.Items) != 2 || next.Items[0].ID != c2.ID || next.Items[1].ID != c3.ID {
		t.Fatalf("next page %+v, want the comments made after the first", next.Items)
	}
	if !next.Items[0].CreatedAt.Equal(c2.CreatedAt) {
		t.Fatalf("stored time %v, returned %v", next.Items[0].CreatedAt, c2.CreatedAt)
	}
}

// TestCommentAfterDeletedNewest: a comment made after the post's newest
// comment was deleted, on a replica whose clock is behind, still lands after
// the deleted one, where a reader who paged to the end holds their cursor.
func TestCommentAfterDeletedNewest(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	author, a := user(), user()
	p := e.post(t, author, "thread", content.Public)
	base := time.Now().UTC().Truncate(time.Microsecond)
	content.SetClock(e.svc, func() time.Time { return base })
	must(e.svc.CreateComment(ctx, a, content.CreateCommentInput{PostID: p.ID, Body: "first"}))(t)
	content.SetClock(e.svc, func() time.Time { return base.Add(time.Second) })
	newest := must(e.svc.CreateComment(ctx, a, content.CreateCommentInput{PostID: p.ID, Body: "second"}))(t)
	read := must(e.svc.Comments(ctx, uuid.Nil, p.ID, page.Request{Size: 10}))(t)
	if len(read.Items) != 2 || read.HasNext {
		t.Fatalf("first page %+v", read.Items)
	}
	testkit.Must(t, e.svc.DeleteComment(ctx, content.Actor{ID: a}, newest.ID))
	content.SetClock(e.svc, func() time.Time { return base.Add(time.Millisecond) })
	c := must(e.svc.CreateComment(ctx, a, content.CreateCommentInput{PostID: p.ID, Body: "third"}))(t)
	if !c.CreatedAt.After(newest.CreatedAt) {
		t.Fatalf("comment at %v, not after the deleted newest one at %v", c.CreatedAt, newest.CreatedAt)
	}
	next := must(e.svc.Comments(ctx, uuid.Nil, p.ID, page.Request{Size: 10, After: &read.Keys[1]}))(t)
	if len(next.Items) != 1 || next.Items[0].ID != c.ID {
		t.Fatalf("next page %+v, want the comment made after the reader's last one", next.Items)
	}
}
