package content_test

import (
	"context"
	"reflect"
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

func TestPostValidationAndEdits(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	alice := user()

	_, err := e.svc.CreatePost(ctx, uuid.Nil, content.CreatePostInput{Body: "hi"})
	testkit.WantCode(t, err, apperr.Unauthenticated)
	for _, body := range []string{"", "   ", strings.Repeat("é", 5001), "bad \xff utf8"} {
		_, err := e.svc.CreatePost(ctx, alice, content.CreatePostInput{Body: body})
		testkit.WantCode(t, err, apperr.BadInput, "body")
	}
	_, err = e.svc.CreatePost(ctx, alice, content.CreatePostInput{Body: "x", Visibility: "FRIENDS"})
	testkit.WantCode(t, err, apperr.BadInput, "visibility")
	_, err = e.svc.CreatePost(ctx, alice, content.CreatePostInput{Body: "x", MediaIDs: []uuid.UUID{user()}})
	testkit.WantCode(t, err, apperr.BadInput, "mediaIds")

	long := e.post(t, alice, strings.Repeat("é", 5000), "")
	if long.Visibility != content.Public {
		t.Fatalf("default visibility = %s", long.Visibility)
	}
	p := e.post(t, alice, "Hello #Go world @Bob_1 and #go", content.Public)
	if !reflect.DeepEqual(p.Tags, []string{"go"}) || !reflect.DeepEqual(p.Mentions, []string{"bob_1"}) {
		t.Fatalf("tags %q mentions %q", p.Tags, p.Mentions)
	}
	if got := e.mentioned(t, p.ID); len(got) != 0 {
		t.Fatalf("unknown username resolved: %v", got)
	}
	m := e.post(t, alice, "hi @Carol and @BOB, @nobody_here, @bob again", content.Public)
	if got, want := e.mentioned(t, m.ID), []uuid.UUID{knownUsers["carol"], knownUsers["bob"]}; !reflect.DeepEqual(got, want) {
		t.Fatalf("mention ids %v, want %v", got, want)
	}
	c := must(e.svc.CreateComment(ctx, alice, content.CreateCommentInput{PostID: m.ID, Body: "cc @bob"}))(t)
	if got := e.mentioned(t, c.ID); !reflect.DeepEqual(got, []uuid.UUID{knownUsers["bob"]}) {
		t.Fatalf("comment mention ids %v", got)
	}

	_, err = e.svc.UpdatePost(ctx, alice, p.ID, strings.Repeat("a", 5001))
	testkit.WantCode(t, err, apperr.BadInput, "body")
	u1 := must(e.svc.UpdatePost(ctx, alice, p.ID, "second #edit"))(t)
	if u1.EditedAt == nil || !reflect.DeepEqual(u1.Tags, []string{"edit"}) {
		t.Fatalf("after edit: %+v", u1)
	}
	must(e.svc.UpdatePost(ctx, alice, p.ID, "third"))(t)
	got := must(e.svc.Post(ctx, uuid.Nil, p.ID))(t)
	if got.Body != "third" || got.EditedAt == nil {
		t.Fatalf("read after edits: %+v", got)
	}
	vs := must(e.svc.Versions(ctx, uuid.Nil, []uuid.UUID{p.ID, long.ID}))(t)
	if len(vs[p.ID]) != 2 || vs[p.ID][0].Body != "second #edit" || vs[p.ID][1].Body != "Hello #Go world @Bob_1 and #go" {
		t.Fatalf("versions newest first: %+v", vs[p.ID])
	}
	if !vs[p.ID][0].CreatedAt.After(vs[p.ID][1].CreatedAt) {
		t.Fatalf("version times not newest first: %+v", vs[p.ID])
	}
	if len(vs[long.ID]) != 0 {
		t.Fatalf("unedited post has versions: %+v", vs[long.ID])
	}
	counts := must(e.svc.PostCounts(ctx, []uuid.UUID{alice, user()}))(t)
	if counts[alice] != 3 || len(counts) != 1 {
		t.Fatalf("post counts %v", counts)
	}

	testkit.Must(t, e.svc.DeletePost(ctx, content.Actor{ID: alice, Role: content.RoleUser}, p.ID))
	if e.visible(alice, p.ID) {
		t.Fatal("deleted post still visible")
	}
	_, err = e.svc.UpdatePost(ctx, alice, p.ID, "again")
	testkit.WantCode(t, err, apperr.NotFound)
	testkit.WantCode(t, e.svc.DeletePost(ctx, content.Actor{ID: alice}, p.ID), apperr.NotFound)
	if n := must(e.svc.PostCounts(ctx, []uuid.UUID{alice}))(t)[alice]; n != 2 {
		t.Fatalf("post count after delete %d", n)
	}
}

// TestAuthorizationMatrix: who may edit, delete and moderate what.
func TestAuthorizationMatrix(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	author, other, commenter := user(), user(), user()
	mod := content.Actor{ID: user(), Role: content.RoleModerator}
	admin := content.Actor{ID: user(), Role: content.RoleAdmin}
	plain := content.Actor{ID: other, Role: content.RoleUser}

	p := e.post(t, author, "post", content.Public)
	_, err := e.svc.UpdatePost(ctx, other, p.ID, "mine now")
	testkit.WantCode(t, err, apperr.Forbidden)
	testkit.WantCode(t, e.svc.DeletePost(ctx, plain, p.ID), apperr.Forbidden)
	_, err = e.svc.UpdatePost(ctx, mod.ID, p.ID, "moderators do not edit")
	testkit.WantCode(t, err, apperr.Forbidden)
	_, err = e.svc.ModeratePost(ctx, plain, p.ID, content.Hide)
	testkit.WantCode(t, err, apperr.Forbidden)
	_, err = e.svc.ModeratePost(ctx, mod, p.ID, "DELETE")
	testkit.WantCode(t, err, apperr.BadInput, "action")
	_, err = e.svc.UpdatePost(ctx, other, user(), "missing")
	testkit.WantCode(t, err, apperr.NotFound)
	testkit.WantCode(t, e.svc.DeletePost(ctx, content.Actor{}, p.ID), apperr.Unauthenticated)

	c := must(e.svc.CreateComment(ctx, commenter, content.CreateCommentInput{PostID: p.ID, Body: "c"}))(t)
	testkit.WantCode(t, e.svc.DeleteComment(ctx, plain, c.ID), apperr.Forbidden)
	testkit.Must(t, e.svc.DeleteComment(ctx, content.Actor{ID: commenter}, c.ID))
	c = must(e.svc.CreateComment(ctx, commenter, content.CreateCommentInput{PostID: p.ID, Body: "c2"}))(t)
	testkit.Must(t, e.svc.DeleteComment(ctx, content.Actor{ID: author}, c.ID))
	c = must(e.svc.CreateComment(ctx, commenter, content.CreateCommentInput{PostID: p.ID, Body: "c3"}))(t)
	testkit.Must(t, e.svc.DeleteComment(ctx, mod, c.ID))
	testkit.WantCode(t, e.svc.DeleteComment(ctx, mod, c.ID), apperr.NotFound)

	testkit.Must(t, e.svc.DeletePost(ctx, mod, p.ID))
	p2 := e.post(t, author, "post 2", content.Public)
	testkit.Must(t, e.svc.DeletePost(ctx, admin, p2.ID))

	draft := must(e.svc.CreateArticle(ctx, author, content.CreateArticleInput{Title: "t", Body: "b"}))(t)
	_, err = e.svc.PublishArticle(ctx, other, draft.ID)
	testkit.WantCode(t, err, apperr.NotFound) // someone else's draft does not exist for them
	pub := must(e.svc.PublishArticle(ctx, author, draft.ID))(t)
	_, err = e.svc.PublishArticle(ctx, other, pub.ID)
	testkit.WantCode(t, err, apperr.Forbidden)
}

func TestFollowersVisibilityFromProjection(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	author, fan, stranger := user(), user(), user()
	p := e.post(t, author, "for my followers", content.Followers)
	pub := e.post(t, author, "for everyone", content.Public)

	for _, v := range []uuid.UUID{uuid.Nil, fan, stranger} {
		if e.visible(v, p.ID) {
			t.Fatalf("FOLLOWERS post visible to %v before any follow", v)
		}
	}
	if !e.visible(author, p.ID) || !e.visible(stranger, pub.ID) {
		t.Fatal("author must see own post, anyone a PUBLIC one")
	}
	byIDs := must(e.svc.PostsByIDs(ctx, stranger, []uuid.UUID{p.ID, pub.ID, user()}))(t)
	if _, has := byIDs[p.ID]; has || len(byIDs) != 1 {
		t.Fatalf("PostsByIDs leaked: %v", byIDs)
	}
	list := must(e.svc.PostsByAuthor(ctx, stranger, author, page.Request{Size: 10}))(t)
	if len(list.Items) != 1 || list.Items[0].ID != pub.ID {
		t.Fatalf("User.posts leaked: %+v", list.Items)
	}
	_, err := e.svc.UpdatePost(ctx, stranger, p.ID, "x")
	testkit.WantCode(t, err, apperr.NotFound)
	_, err = e.svc.CreateComment(ctx, stranger, content.CreateCommentInput{PostID: p.ID, Body: "x"})
	testkit.WantCode(t, err, apperr.NotFound)
	testkit.WantCode(t, e.svc.ReportContent(ctx, stranger, p.ID, "spam"), apperr.NotFound)

	t0 := time.Now()
	e.follow(t, fan, author, "REQUESTED", t0)
	e.follow(t, stranger, author, "FOLLOWING", t0) // marker: once applied, the request was too
	testkit.Eventually(t, "stranger's follow applied", func() bool { return e.visible(stranger, p.ID) })
	if e.visible(fan, p.ID) {
		t.Fatal("a pending request must not grant FOLLOWERS visibility")
	}
	e.follow(t, fan, author, "FOLLOWING", t0.Add(time.Second))
	testkit.Eventually(t, "approval applied", func() bool { return e.visible(fan, p.ID) })
	must(e.svc.CreateComment(ctx, fan, content.CreateCommentInput{PostID: p.ID, Body: "seen"}))(t)

	// Unfollow delivered before the (older) follow it undoes: still converges.
	e.publish(t, events.FollowDeleted{FollowerID: stranger, FolloweeID: author, At: t0.Add(2 * time.Second)})
	e.follow(t, stranger, author, "FOLLOWING", t0.Add(time.Second))
	e.publish(t, events.FollowDeleted{FollowerID: fan, FolloweeID: author, At: t0.Add(3 * time.Second)})
	testkit.Eventually(t, "all six follow events applied", func() bool { return e.handled(t, "content.relationships") == 6 })
	if e.visible(fan, p.ID) {
		t.Fatal("unfollow not applied")
	}
	if e.visible(stranger, p.ID) {
		t.Fatal("a late, older follow event overrode a newer unfollow")
	}
}

func TestBlocksAndBans(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	author, blocked, reader := user(), user(), user()
	p := e.post(t, author, "hello", content.Public)
	c := must(e.svc.CreateComment(ctx, blocked, content.CreateCommentInput{PostID: p.ID, Body: "hi"}))(t)
	a := must(e.svc.CreateArticle(ctx, author, content.CreateArticleInput{Title: "t", Body: "b"}))(t)
	must(e.svc.PublishArticle(ctx, author, a.ID))(t)

	at := time.Now()
	e.publish(t, events.BlockCreated{BlockerID: author, BlockedID: blocked, At: at})
	testkit.Eventually(t, "block applied", func() bool { return !e.visible(blocked, p.ID) })
	if !e.visible(reader, p.ID) || !e.visible(author, p.ID) {
		t.Fatal("a block hides content from the blocked user only")
	}
	_, err := e.svc.Article(ctx, blocked, a.ID)
	testkit.WantCode(t, err, apperr.NotFound)
	_, err = e.svc.CreateComment(ctx, blocked, content.CreateCommentInput{PostID: p.ID, Body: "let me in"})
	testkit.WantCode(t, err, apperr.Forbidden)
	_, err = e.svc.PostForInteraction(ctx, blocked, p.ID)
	testkit.WantCode(t, err, apperr.Forbidden)
	_, err = e.svc.PostForInteraction(ctx, reader, user())
	testkit.WantCode(t, err, apperr.NotFound)
	// The blocker no longer sees the blocked user's comment either way round:
	// only the blocked user's view of the blocker's content changes.
	if _, err := e.svc.Comment(ctx, reader, c.ID); err != nil {
		t.Fatalf("comment by blocked user hidden from a third party: %v", err)
	}

	e.publish(t, events.BlockDeleted{BlockerID: author, BlockedID: blocked, At: at.Add(time.Second)})
	testkit.Eventually(t, "unblock applied", func() bool { return e.visible(blocked, p.ID) })

	e.publish(t, events.UserBanned{UserID: author, Reason: "spam", By: user()})
	testkit.Eventually(t, "ban applied", func() bool { return !e.visible(reader, p.ID) })
	if e.visible(author, p.ID) {
		t.Fatal("banned author's post still visible to the author")
	}
	if _, err := e.svc.Article(ctx, reader, a.ID); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("banned author's article: %v", err)
	}
	if _, err := e.svc.Comment(ctx, reader, c.ID); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("comment on banned author's post: %v", err)
	}
}

func TestModeration(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	author, reader := user(), user()
	mod := content.Actor{ID: user(), Role: content.RoleModerator}
	p := e.post(t, author, "questionable", content.Public)

	testkit.WantCode(t, e.svc.ReportContent(ctx, uuid.Nil, p.ID, "spam"), apperr.Unauthenticated)
	testkit.WantCode(t, e.svc.ReportContent(ctx, reader, p.ID, strings.Repeat("r", 1001)), apperr.BadInput, "reason")
	testkit.Must(t, e.svc.ReportContent(ctx, reader, p.ID, "spam"))
	testkit.Must(t, e.svc.ReportContent(ctx, reader, p.ID, "spam again"))

	hidden := must(e.svc.ModeratePost(ctx, mod, p.ID, content.Hide))(t)
	if !hidden.Hidden {
		t.Fatal("HIDE did not hide")
	}
	for _, v := range []uuid.UUID{uuid.Nil, reader, author, mod.ID} {
		if e.visible(v, p.ID) {
			t.Fatalf("hidden post visible to %v", v)
		}
	}
	if n := must(e.svc.PostCounts(ctx, []uuid.UUID{author}))(t)[author]; n != 0 {
		t.Fatalf("hidden post still counted: %d", n)
	}
	_, err := e.svc.UpdatePost(ctx, author, p.ID, "edit")
	testkit.WantCode(t, err, apperr.NotFound)
	_, err = e.svc.ModeratePost(ctx, content.Actor{ID: reader}, p.ID, content.Restore)
	testkit.WantCode(t, err, apperr.NotFound)
	again := must(e.svc.ModeratePost(ctx, mod, p.ID, content.Hide))(t)
	if !again.Hidden {
		t.Fatal("second HIDE restored")
	}
	restored := must(e.svc.ModeratePost(ctx, mod, p.ID, content.Restore))(t)
	if restored.Hidden || !e.visible(reader, p.ID) {
		t.Fatal("RESTORE did not restore")
	}
	if n := must(e.svc.PostCounts(ctx, []uuid.UUID{author}))(t)[author]; n != 1 {
		t.Fatalf("restored post not counted: %d", n)
	}
}

func TestPostsByAuthorPagination(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	author := user()
	var want []uuid.UUID
	for i := 0; i < 7; i++ {
		want = append([]uuid.UUID{e.post(t, author, "p", content.Public).ID}, want...)
	}
	var got []uuid.UUID
	req := page.Request{Size: 3}
	for {
		pg := must(e.svc.PostsByAuthor(ctx, uuid.Nil, author, req))(t)
		for _, p := range pg.Items {
			got = append(got, p.ID)
		}
		// A post arriving mid-pagination lands before the cursor: no duplicate, no skip.
		e.post(t, author, "new", content.Public)
		if !pg.HasNext {
			break
		}
		k := pg.Keys[len(pg.Keys)-1]
		req.After = &k
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("pages %v, want %v", got, want)
	}
}

// TestNULIsBadInput: Postgres text cannot hold U+0000, so a body, title or
// reason holding one is BAD_USER_INPUT on its field, not an internal error.
func TestNULIsBadInput(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	alice, bob := user(), user()
	p := e.post(t, alice, "fine", content.Public)
	_, err := e.svc.CreatePost(ctx, alice, content.CreatePostInput{Body: "a\x00b"})
	testkit.WantCode(t, err, apperr.BadInput, "body")
	_, err = e.svc.UpdatePost(ctx, alice, p.ID, "a\x00b")
	testkit.WantCode(t, err, apperr.BadInput, "body")
	_, err = e.svc.CreateComment(ctx, bob, content.CreateCommentInput{PostID: p.ID, Body: "\x00"})
	testkit.WantCode(t, err, apperr.BadInput, "body")
	_, err = e.svc.CreateArticle(ctx, alice, content.CreateArticleInput{Title: "t\x00", Body: "b"})
	testkit.WantCode(t, err, apperr.BadInput, "title")
	_, err = e.svc.CreateArticle(ctx, alice, content.CreateArticleInput{Title: "t", Body: "b\x00"})
	testkit.WantCode(t, err, apperr.BadInput, "body")
	testkit.WantCode(t, e.svc.ReportContent(ctx, bob, p.ID, "spam\x00"), apperr.BadInput, "reason")
}

// TestModeratorsOwnPost: a moderator cannot moderate their own post, or
// they could restore what another moderator hid.
func TestModeratorsOwnPost(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	mod := content.Actor{ID: user(), Role: content.RoleModerator}
	other := content.Actor{ID: user(), Role: content.RoleAdmin}
	p := e.post(t, mod.ID, "my own", content.Public)
	_, err := e.svc.ModeratePost(ctx, mod, p.ID, content.Hide)
	testkit.WantCode(t, err, apperr.Forbidden)
	must(e.svc.ModeratePost(ctx, other, p.ID, content.Hide))(t)
	_, err = e.svc.ModeratePost(ctx, mod, p.ID, content.Restore)
	testkit.WantCode(t, err, apperr.Forbidden)
	if e.visible(uuid.Nil, p.ID) {
		t.Fatal("a moderator restored their own hidden post")
	}
}

// TestMentionIDsOnlyReaders: the mentionIds of a post or comment leave out
// the mentioned users who may not read it, so that no notification reveals
// a FOLLOWERS post to a stranger or a comment to someone its author blocks.
func TestMentionIDsOnlyReaders(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	bob, carol := knownUsers["bob"], knownUsers["carol"]
	author, commenter := user(), user()
	e.follow(t, carol, author, "FOLLOWING", time.Now())
	e.publish(t, events.BlockCreated{BlockerID: commenter, BlockedID: bob, At: time.Now()})
	testkit.Eventually(t, "projections applied", func() bool { return e.handled(t, "content.relationships") == 2 })

	p := e.post(t, author, "hi @bob and @carol", content.Followers)
	if got := e.mentioned(t, p.ID); !reflect.DeepEqual(got, []uuid.UUID{carol}) {
		t.Fatalf("FOLLOWERS post mention ids %v, want only the follower %v", got, carol)
	}
	e.mu.Lock()
	delete(e.mentions, p.ID)
	e.mu.Unlock()
	u := must(e.svc.UpdatePost(ctx, author, p.ID, "again @bob, @carol"))(t)
	if got := e.mentioned(t, u.ID); !reflect.DeepEqual(got, []uuid.UUID{carol}) {
		t.Fatalf("edited FOLLOWERS post mention ids %v, want %v", got, carol)
	}
	pub := e.post(t, author, "open", content.Public)
	c := must(e.svc.CreateComment(ctx, commenter, content.CreateCommentInput{PostID: pub.ID, Body: "@bob @carol"}))(t)
	if got := e.mentioned(t, c.ID); !reflect.DeepEqual(got, []uuid.UUID{carol}) {
		t.Fatalf("comment mention ids %v, want only %v", got, carol)
	}
}
