package gateway_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/nova-social/nova/internal/gateway/gid"
	"github.com/nova-social/nova/internal/platform/domains"
	"github.com/nova-social/nova/internal/user"
)

// Races of the content domain's mutations, made deterministic: a test
// transaction holds a post's row lock while the racing mutations queue
// behind it in a known order, then lets them go.

// holdPost locks post (a global id) in a transaction of the content role and
// returns its backend's pid and a function that commits it.
func (e *env) holdPost(t *testing.T, post string) (pid int, release func()) {
	t.Helper()
	_, id, _ := gid.Decode(post)
	ctx := context.Background()
	tx, err := e.db.Pools.For(domains.Content).Begin(ctx)
	if err != nil {
		t.Fatalf("begin: %v", err)
	}
	if err := tx.QueryRow(ctx, `SELECT pg_backend_pid() FROM content.posts WHERE id = $1 FOR UPDATE`, id).Scan(&pid); err != nil {
		t.Fatalf("lock post: %v", err)
	}
	return pid, func() {
		if err := tx.Commit(ctx); err != nil {
			t.Errorf("release post: %v", err)
		}
	}
}

// waitQueued waits until n sessions wait, directly or behind one another,
// for the session pid.
func (e *env) waitQueued(t *testing.T, pid, n int) {
	t.Helper()
	pool := e.db.Pools.For(domains.Content)
	deadline := time.Now().Add(5 * time.Second)
	for {
		var queued int
		if err := pool.QueryRow(context.Background(), `WITH RECURSIVE q (pid) AS (
				SELECT $1::int
				UNION
				SELECT a.pid FROM pg_stat_activity a JOIN q ON q.pid = ANY (pg_blocking_pids(a.pid))
				WHERE a.datname = current_database()
			) SELECT count(*) - 1 FROM q`, pid).Scan(&queued); err != nil {
			t.Fatalf("count queued sessions: %v", err)
		}
		if queued >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d sessions queued behind the held post, want %d", queued, n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// race runs first, waits until it queues behind the held post, runs second,
// waits until it queues too, releases the post and returns both answers.
func (e *env) race(t *testing.T, post string, first, second func() *response) (*response, *response) {
	t.Helper()
	pid, release := e.holdPost(t, post)
	a, b := make(chan *response, 1), make(chan *response, 1)
	go func() { a <- first() }()
	e.waitQueued(t, pid, 1)
	go func() { b <- second() }()
	e.waitQueued(t, pid, 2)
	release()
	return <-a, <-b
}

// TestContentRaceCommentVsPostDeletion: a comment created while its post is
// being deleted is NOT_FOUND, as after the deletion, not an INTERNAL error
// from a foreign key.
func TestContentRaceCommentVsPostDeletion(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a, b := e.register("racea"), e.register("raceb")

	post := e.createPost(a, "about to go", "")
	del, com := e.race(t, post,
		func() *response { return e.gql(a.Access, deletePostMutation, map[string]any{"id": post}) },
		func() *response {
			return e.gql(b.Access, createCommentMutation, map[string]any{"in": map[string]any{"postId": post, "body": "late"}})
		})
	ok(t, del)
	wantError(t, com, http.StatusOK, "NOT_FOUND", "")
}

// TestContentRaceReplyVsParentDeletion: the same for a reply to a comment
// being deleted; the post is left without comments.
func TestContentRaceReplyVsParentDeletion(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a, b := e.register("racea"), e.register("raceb")

	post := e.createPost(a, "thread", "")
	parent := e.comment(a, post, "", "parent")
	del, com := e.race(t, post,
		func() *response { return e.gql(a.Access, deleteCommentMutation, map[string]any{"id": parent}) },
		func() *response {
			return e.gql(b.Access, createCommentMutation, map[string]any{"in": map[string]any{"postId": post, "body": "late", "parentId": parent}})
		})
	ok(t, del)
	wantError(t, com, http.StatusOK, "NOT_FOUND", "")
	r := ok(t, e.gql(b.Access, `query($id: ID!) { post(id: $id) { commentCount comments { edges { node { id } } } } }`,
		map[string]any{"id": post}))
	if n := r.get("post.commentCount"); n != float64(0) || len(nodeIDs(r, "post.comments")) != 0 {
		t.Fatalf("after the thread's deletion: %s", r.Raw)
	}
}

// TestContentRaceEditVsDeleteAndHide: an edit queued behind the post's
// deletion or hiding is NOT_FOUND and leaves no version behind; one queued
// ahead of a hiding applies, and the post is hidden with its new body.
func TestContentRaceEditVsDeleteAndHide(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a, mod := e.register("editor"), e.register("mod")
	e.grant(mod, user.RoleModerator)
	edit := func(post string) func() *response {
		return func() *response {
			return e.gql(a.Access, updatePostMutation, map[string]any{"id": post, "body": "edited"})
		}
	}
	hide := func(post string) func() *response {
		return func() *response {
			return e.gql(mod.Access, `mutation($id: ID!) { moderatePost(id: $id, action: HIDE) { id body } }`, map[string]any{"id": post})
		}
	}

	post := e.createPost(a, "doomed", "")
	del, upd := e.race(t, post, func() *response { return e.gql(a.Access, deletePostMutation, map[string]any{"id": post}) }, edit(post))
	ok(t, del)
	wantError(t, upd, http.StatusOK, "NOT_FOUND", "")

	post = e.createPost(a, "questionable", "")
	hid, upd := e.race(t, post, hide(post), edit(post))
	ok(t, hid)
	wantError(t, upd, http.StatusOK, "NOT_FOUND", "")
	if hid.str("moderatePost.body") != "questionable" {
		t.Fatalf("hidden post: %s", hid.Raw)
	}

	post = e.createPost(a, "questionable", "")
	upd, hid = e.race(t, post, edit(post), hide(post))
	ok(t, upd)
	if ok(t, hid).str("moderatePost.body") != "edited" {
		t.Fatalf("post hidden after its edit: %s", hid.Raw)
	}
}
