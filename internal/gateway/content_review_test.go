package gateway_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/nova-social/nova/internal/content"
	"github.com/nova-social/nova/internal/gateway/gid"
	"github.com/nova-social/nova/internal/platform/testkit"
)

// Reviews of the content domain's behaviour over HTTP: input limits, edit
// history, comments and replies, articles, reports, and the hashtags and
// mentions that post and comment events carry.

const (
	updatePostMutation     = `mutation($id: ID!, $body: String!) { updatePost(id: $id, body: $body) { id body editedAt versions { body createdAt } } }`
	deletePostMutation     = `mutation($id: ID!) { deletePost(id: $id) }`
	createCommentMutation  = `mutation($in: CreateCommentInput!) { createComment(input: $in) { id body parent { id } } }`
	deleteCommentMutation  = `mutation($id: ID!) { deleteComment(id: $id) }`
	createArticleMutation  = `mutation($in: CreateArticleInput!) { createArticle(input: $in) { id title body status publishedAt } }`
	publishArticleMutation = `mutation($id: ID!) { publishArticle(id: $id) { id status publishedAt } }`
	reportMutation         = `mutation($id: ID!, $reason: String!) { reportContent(contentId: $id, reason: $reason) }`
)

// bigBodies lets a request carry an article body of 100,000 four-byte code points.
func bigBodies(o *envOptions) { o.maxBody = 1 << 20 }

// comment posts body on post as a (a reply when parent is set) and returns its id.
func (e *env) comment(a *account, post, parent, body string) string {
	e.t.Helper()
	in := map[string]any{"postId": post, "body": body}
	if parent != "" {
		in["parentId"] = parent
	}
	return ok(e.t, e.gql(a.Access, createCommentMutation, map[string]any{"in": in})).str("createComment.id")
}

// TestContentReviewTextLimits: every text input is counted in code points
// (an emoji with a skin tone is two, a combining mark one), the bounds of
// API.md are accepted, one past them and blank text are BAD_USER_INPUT on
// the input's own field.
func TestContentReviewTextLimits(t *testing.T) {
	t.Parallel()
	e := newEnv(t, bigBodies)
	a := e.register("limits")
	post := e.createPost(a, "a post to comment on", "")

	createPost := func(body string) *response {
		return e.gql(a.Access, `mutation($in: CreatePostInput!) { createPost(input: $in) { body } }`,
			map[string]any{"in": map[string]any{"body": body}})
	}
	updatePost := func(body string) *response {
		return e.gql(a.Access, updatePostMutation, map[string]any{"id": post, "body": body})
	}
	createComment := func(body string) *response {
		return e.gql(a.Access, createCommentMutation, map[string]any{"in": map[string]any{"postId": post, "body": body}})
	}
	article := func(title, body string) *response {
		return e.gql(a.Access, createArticleMutation, map[string]any{"in": map[string]any{"title": title, "body": body}})
	}
	articleTitle := func(s string) *response { return article(s, "body") }
	articleBody := func(s string) *response { return article("title", s) }
	report := func(s string) *response {
		return e.gql(a.Access, reportMutation, map[string]any{"id": post, "reason": s})
	}

	const (
		emoji     = "👍🏽"      // two code points, eight bytes
		combining = "e\u0301" // two code points
	)
	cases := []struct {
		name  string
		send  func(string) *response
		field string
		max   int
	}{
		{"createPost", createPost, "body", content.MaxPostBody},
		{"updatePost", updatePost, "body", content.MaxPostBody},
		{"createComment", createComment, "body", content.MaxCommentBody},
		{"createArticle title", articleTitle, "title", content.MaxArticleTitle},
		{"createArticle body", articleBody, "body", content.MaxArticleBody},
		{"reportContent", report, "reason", content.MaxReportReason},
	}
	if content.MaxPostBody != 5_000 || content.MaxCommentBody != 2_000 || content.MaxArticleTitle != 200 ||
		content.MaxArticleBody != 100_000 || content.MaxReportReason != 1_000 {
		t.Fatal("limits differ from API.md")
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, good := range []string{"x", strings.Repeat("x", c.max), strings.Repeat(emoji, c.max/2),
				strings.Repeat(combining, c.max/2), " padded "} {
				if r := c.send(good); r.Status != http.StatusOK || len(r.Errors) > 0 {
					t.Fatalf("%d code points: status %d, body %.300s", len([]rune(good)), r.Status, r.Raw)
				}
			}
			for _, bad := range []string{"", " ", " \t\n\r ", "\u00a0\u3000", "\u200b", "\u200b \ufeff",
				strings.Repeat("x", c.max+1), strings.Repeat(emoji, c.max/2) + "x", strings.Repeat(combining, c.max/2) + "\u0301"} {
				r := c.send(bad)
				if r.Status != http.StatusOK || r.code() != "BAD_USER_INPUT" || r.field() != c.field {
					t.Errorf("%q (%d code points): status %d code %q field %q, want BAD_USER_INPUT %q; body %.300s",
						trimmed(bad), len([]rune(bad)), r.Status, r.code(), r.field(), c.field, r.Raw)
				}
			}
		})
	}
}

func trimmed(s string) string {
	if len(s) > 20 {
		return s[:20] + "…"
	}
	return s
}

// TestContentReviewEditHistory: versions are the earlier bodies only, newest
// first, each dated from when it became current; an update to the same body
// is no edit (no version, editedAt unchanged); deleted posts are NOT_FOUND.
func TestContentReviewEditHistory(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a, other := e.register("editor"), e.register("other")
	post := e.createPost(a, "v1", "")
	read := func() *response {
		return ok(t, e.gql(a.Access, `query($id: ID!) { post(id: $id) { body createdAt editedAt versions { body createdAt } } }`,
			map[string]any{"id": post}))
	}
	if r := read(); r.get("post.editedAt") != nil || len(r.get("post.versions").([]any)) != 0 {
		t.Fatalf("new post: %s", r.Raw)
	}
	created := read().str("post.createdAt")

	// The same body is no edit.
	r := ok(t, e.gql(a.Access, updatePostMutation, map[string]any{"id": post, "body": "v1"}))
	if r.get("updatePost.editedAt") != nil || len(r.get("updatePost.versions").([]any)) != 0 {
		t.Fatalf("same-body update changed the post: %s", r.Raw)
	}

	r = ok(t, e.gql(a.Access, updatePostMutation, map[string]any{"id": post, "body": "v2"}))
	edit1 := r.str("updatePost.editedAt")
	if edit1 == "" {
		t.Fatalf("no editedAt after an edit: %s", r.Raw)
	}
	ok(t, e.gql(a.Access, updatePostMutation, map[string]any{"id": post, "body": "v3"}))
	edit2 := read().str("post.editedAt")
	// Same body again: editedAt and versions stay.
	ok(t, e.gql(a.Access, updatePostMutation, map[string]any{"id": post, "body": "v3"}))

	r = read()
	if r.str("post.body") != "v3" || r.str("post.editedAt") != edit2 {
		t.Fatalf("after a same-body update: %s", r.Raw)
	}
	var got []string
	for _, v := range r.get("post.versions").([]any) {
		m := v.(map[string]any)
		got = append(got, m["body"].(string)+"@"+m["createdAt"].(string))
	}
	if want := []string{"v2@" + edit1, "v1@" + created}; !slices.Equal(got, want) {
		t.Fatalf("versions = %q, want %q", got, want)
	}

	wantError(t, e.gql(other.Access, updatePostMutation, map[string]any{"id": post, "body": "mine"}), 200, "FORBIDDEN", "")
	ok(t, e.gql(a.Access, deletePostMutation, map[string]any{"id": post}))
	for _, c := range []struct {
		query string
		vars  map[string]any
	}{
		{updatePostMutation, map[string]any{"id": post, "body": "again"}},
		{deletePostMutation, map[string]any{"id": post}},
	} {
		wantError(t, e.gql(a.Access, c.query, c.vars), 200, "NOT_FOUND", "")
	}
}

// TestContentReviewEditBound: a post keeps at most content.MaxPostVersions
// earlier bodies, so edits cannot grow storage without bound; the oldest
// go first and the original body is always kept.
func TestContentReviewEditBound(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.register("bound")
	post := e.createPost(a, "original", "")
	edits := content.MaxPostVersions + 5
	for i := 1; i <= edits; i++ {
		ok(t, e.gql(a.Access, updatePostMutation, map[string]any{"id": post, "body": fmt.Sprintf("edit %d", i)}))
	}
	r := ok(t, e.gql(a.Access, `query($id: ID!) { post(id: $id) { body versions { body } } }`, map[string]any{"id": post}))
	var got []string
	for _, v := range r.get("post.versions").([]any) {
		got = append(got, v.(map[string]any)["body"].(string))
	}
	var want []string
	for i := edits - 1; len(want) < content.MaxPostVersions-1; i-- {
		want = append(want, fmt.Sprintf("edit %d", i))
	}
	want = append(want, "original")
	if r.str("post.body") != fmt.Sprintf("edit %d", edits) || !slices.Equal(got, want) {
		t.Fatalf("body %q, versions %q; want %q", r.str("post.body"), got, want)
	}
	var stored int
	if err := e.db.Pools.Login().QueryRow(context.Background(),
		`SELECT count(*) FROM content.content_versions`).Scan(&stored); err != nil || stored != content.MaxPostVersions {
		t.Fatalf("stored versions = %d (%v), want %d", stored, err, content.MaxPostVersions)
	}
}

// TestContentReviewComments: comments read oldest first, pages chain by
// cursor without repeats or gaps (also with comments added meanwhile);
// replies nest to any depth; a parent on another post is BAD_USER_INPUT
// parentId; deleting a comment takes its whole subtree off commentCount;
// deleting it again is NOT_FOUND.
func TestContentReviewComments(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a, b := e.register("ca"), e.register("cb")
	post, other := e.createPost(a, "commented", ""), e.createPost(a, "another", "")
	var all []string
	for i := range 7 {
		all = append(all, e.comment([]*account{a, b}[i%2], post, "", fmt.Sprintf("c%d", i)))
	}
	walk := func(n int, insertAfterFirst bool) []string {
		var ids []string
		after := ""
		for range 20 {
			vars := map[string]any{"id": post, "n": n}
			if after != "" {
				vars["after"] = after
			}
			r := ok(t, e.gql(b.Access, `query($id: ID!, $n: Int, $after: String) { post(id: $id) {
				comments(first: $n, after: $after) { edges { cursor node { id } } pageInfo { hasNextPage endCursor } } } }`, vars))
			ids = append(ids, nodeIDs(r, "post.comments")...)
			if insertAfterFirst {
				all = append(all, e.comment(b, post, "", "late"))
				insertAfterFirst = false
			}
			if r.get("post.comments.pageInfo.hasNextPage") != true {
				return ids
			}
			after = r.str("post.comments.pageInfo.endCursor")
		}
		t.Fatal("comments do not end")
		return nil
	}
	for _, n := range []int{1, 3, 100} {
		if got := walk(n, false); !slices.Equal(got, all) {
			t.Fatalf("pages of %d: %q, want %q", n, got, all)
		}
	}
	if got := walk(2, true); !slices.Equal(got, all) {
		t.Fatalf("pages with a comment added meanwhile: %q, want %q", got, all)
	}

	// Replies to replies nest.
	root := all[0]
	r1 := e.comment(b, post, root, "r1")
	r2 := e.comment(a, post, r1, "r2")
	r3 := e.comment(b, post, r2, "r3")
	r := ok(t, e.gql(a.Access, `query($id: ID!) { node(id: $id) { ... on Comment { parent { id parent { id parent { id } } } } } }`,
		map[string]any{"id": r3}))
	if r.str("node.parent.id") != r2 || r.str("node.parent.parent.id") != r1 || r.str("node.parent.parent.parent.id") != root {
		t.Fatalf("reply chain: %s", r.Raw)
	}

	wantError(t, e.gql(b.Access, createCommentMutation, map[string]any{"in": map[string]any{"postId": other, "body": "x", "parentId": r1}}),
		200, "BAD_USER_INPUT", "parentId")
	wantError(t, e.gql(b.Access, createCommentMutation, map[string]any{"in": map[string]any{"postId": post, "body": "x", "parentId": post}}),
		200, "BAD_USER_INPUT", "parentId")

	count := func() float64 {
		return ok(t, e.gql(a.Access, `query($id: ID!) { post(id: $id) { commentCount } }`, map[string]any{"id": post})).get("post.commentCount").(float64)
	}
	total := len(all) + 3
	if got := count(); got != float64(total) {
		t.Fatalf("commentCount %v, want %d", got, total)
	}
	ok(t, e.gql(a.Access, deleteCommentMutation, map[string]any{"id": r1}))
	if got := count(); got != float64(total-3) {
		t.Fatalf("commentCount after deleting a subtree of 3: %v, want %d", got, total-3)
	}
	for _, id := range []string{r1, r3} {
		wantError(t, e.gql(a.Access, deleteCommentMutation, map[string]any{"id": id}), 200, "NOT_FOUND", "")
	}
	wantError(t, e.gql(b.Access, createCommentMutation, map[string]any{"in": map[string]any{"postId": post, "body": "x", "parentId": r2}}),
		200, "NOT_FOUND", "")

	wantError(t, e.gql(b.Access, `query($id: ID!) { post(id: $id) { comments(first: 101) { edges { cursor } } } }`,
		map[string]any{"id": post}), 200, "BAD_USER_INPUT", "first")
	stranger := e.register("cs")
	wantError(t, e.gql(stranger.Access, deleteCommentMutation, map[string]any{"id": all[1]}), 200, "FORBIDDEN", "")
	// The post's author deletes b's comment.
	ok(t, e.gql(a.Access, deleteCommentMutation, map[string]any{"id": all[1]}))
	ok(t, e.gql(a.Access, deletePostMutation, map[string]any{"id": post}))
	wantError(t, e.gql(b.Access, createCommentMutation, map[string]any{"in": map[string]any{"postId": post, "body": "x"}}),
		200, "NOT_FOUND", "")
	wantError(t, e.gql(b.Access, deleteCommentMutation, map[string]any{"id": all[3]}), 200, "NOT_FOUND", "")
}

// TestContentReviewArticles: an article starts as a DRAFT only its author
// reads; publishing twice returns it unchanged; others cannot publish it.
func TestContentReviewArticles(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a, b := e.register("writer"), e.register("reader")
	r := ok(t, e.gql(a.Access, createArticleMutation, map[string]any{"in": map[string]any{"title": "T", "body": "B"}}))
	id := r.str("createArticle.id")
	if r.str("createArticle.status") != "DRAFT" || r.get("createArticle.publishedAt") != nil {
		t.Fatalf("new article: %s", r.Raw)
	}
	read := `query($id: ID!) { article(id: $id) { id status } }`
	if r := ok(t, e.gql(b.Access, read, map[string]any{"id": id})); r.get("article") != nil {
		t.Fatalf("someone else's draft read: %s", r.Raw)
	}
	wantError(t, e.gql(b.Access, publishArticleMutation, map[string]any{"id": id}), 200, "NOT_FOUND", "")
	first := ok(t, e.gql(a.Access, publishArticleMutation, map[string]any{"id": id}))
	at := first.str("publishArticle.publishedAt")
	if first.str("publishArticle.status") != "PUBLISHED" || at == "" {
		t.Fatalf("publish: %s", first.Raw)
	}
	again := ok(t, e.gql(a.Access, publishArticleMutation, map[string]any{"id": id}))
	if again.str("publishArticle.publishedAt") != at {
		t.Fatalf("publishing twice moved publishedAt: %s then %s", first.Raw, again.Raw)
	}
	wantError(t, e.gql(b.Access, publishArticleMutation, map[string]any{"id": id}), 200, "FORBIDDEN", "")
	if r := ok(t, e.gql(b.Access, read, map[string]any{"id": id})); r.str("article.status") != "PUBLISHED" {
		t.Fatalf("published article: %s", r.Raw)
	}
	if n := len(e.db.Topics(t, "articleId", mustUUID(t, id))); n != 1 {
		t.Fatalf("%d article events, want 1", n)
	}
}

// TestContentReviewReports: reporting is idempotent, works on posts,
// comments, published articles and one's own content; an unknown or
// invisible id is NOT_FOUND; an id of another type is BAD_USER_INPUT.
func TestContentReviewReports(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a, b := e.register("reported"), e.register("reporter")
	post := e.createPost(a, "reportable", "")
	cm := e.comment(a, post, "", "a comment")
	art := ok(t, e.gql(a.Access, createArticleMutation, map[string]any{"in": map[string]any{"title": "T", "body": "B"}})).str("createArticle.id")
	report := func(who *account, id string) *response {
		return e.gql(who.Access, reportMutation, map[string]any{"id": id, "reason": "spam"})
	}
	wantError(t, report(b, art), 200, "NOT_FOUND", "")
	ok(t, e.gql(a.Access, publishArticleMutation, map[string]any{"id": art}))
	for _, id := range []string{post, cm, art, post} {
		if r := ok(t, report(b, id)); r.get("reportContent") != true {
			t.Fatalf("report %s: %s", id, r.Raw)
		}
	}
	ok(t, report(a, post))
	var n int
	if err := e.db.Pools.Login().QueryRow(context.Background(), `SELECT count(*) FROM content.reports`).Scan(&n); err != nil || n != 4 {
		t.Fatalf("%d reports stored (%v), want 4", n, err)
	}
	unknown := gid.Encode(gid.Post, uuid.MustParse("0190a000-0000-7000-8000-000000000001"))
	wantError(t, report(b, unknown), 200, "NOT_FOUND", "")
	wantError(t, report(b, a.ID), 200, "BAD_USER_INPUT", "contentId")
	ok(t, e.gql(a.Access, deletePostMutation, map[string]any{"id": post}))
	wantError(t, report(b, post), 200, "NOT_FOUND", "")
	wantError(t, report(b, cm), 200, "NOT_FOUND", "")
}

// TestContentReviewEventTagsAndMentions: post events carry the tags and
// mentions of README's rule (word starts only, lowercase, distinct, unicode
// tags) and mentionIds of existing users only; an edit to the same body
// publishes no update.
func TestContentReviewEventTagsAndMentions(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a, bob := e.register("tagger"), e.register("bob")
	body := fmt.Sprintf("#Go and #go, page#top a@b.c #Café #ÇA @%s @%s @nobody_here #1 (#paren) @ab",
		strings.ToUpper(bob.Username), bob.Username)
	post := e.createPost(a, body, "")
	type payload struct {
		Tags       []string `json:"tags"`
		Mentions   []string `json:"mentions"`
		MentionIDs []string `json:"mentionIds"`
	}
	read := func(topic string) []payload {
		rows, err := e.db.Pools.Login().Query(context.Background(),
			`SELECT payload FROM events.domain_events WHERE topic = $1 AND payload->>'postId' = $2 ORDER BY occurred_at, id`, topic, mustUUID(t, post))
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var out []payload
		for rows.Next() {
			var raw []byte
			if err := rows.Scan(&raw); err != nil {
				t.Fatal(err)
			}
			var p payload
			if err := json.Unmarshal(raw, &p); err != nil {
				t.Fatal(err)
			}
			out = append(out, p)
		}
		return out
	}
	var created []payload
	testkit.Eventually(t, "post.created logged", func() bool { created = read("content.post.created"); return len(created) == 1 })
	want := payload{Tags: []string{"go", "café", "ça", "paren"}, Mentions: []string{strings.ToLower(bob.Username), "nobody_here"},
		MentionIDs: []string{mustUUID(t, bob.ID)}}
	got := created[0]
	if !slices.Equal(got.Tags, want.Tags) || !slices.Equal(got.Mentions, want.Mentions) || !slices.Equal(got.MentionIDs, want.MentionIDs) {
		t.Fatalf("created event %+v, want %+v", got, want)
	}
	ok(t, e.gql(a.Access, updatePostMutation, map[string]any{"id": post, "body": body}))
	ok(t, e.gql(a.Access, updatePostMutation, map[string]any{"id": post, "body": "now #Other"}))
	updated := read("content.post.updated")
	if len(updated) != 1 || !slices.Equal(updated[0].Tags, []string{"other"}) || len(updated[0].Mentions) != 0 {
		t.Fatalf("update events %+v, want one with tags [other]", updated)
	}

	cm := e.comment(a, post, "", fmt.Sprintf("@%s @%s @nobody_here #notatag", strings.ToUpper(bob.Username), bob.Username))
	var raw []byte
	if err := e.db.Pools.Login().QueryRow(context.Background(), `SELECT payload FROM events.domain_events
		WHERE topic = 'content.comment.created' AND payload->>'commentId' = $1`, mustUUID(t, cm)).Scan(&raw); err != nil {
		t.Fatal(err)
	}
	var c payload
	if err := json.Unmarshal(raw, &c); err != nil {
		t.Fatal(err)
	}
	if c.Tags != nil || !slices.Equal(c.Mentions, want.Mentions) || !slices.Equal(c.MentionIDs, want.MentionIDs) {
		t.Fatalf("comment event %+v, want mentions %q and ids %q", c, want.Mentions, want.MentionIDs)
	}
}

// mustUUID returns the uuid inside global id s, as events carry it.
func mustUUID(t *testing.T, s string) string {
	t.Helper()
	_, id, ok := gid.Decode(s)
	if !ok {
		t.Fatalf("bad id %q", s)
	}
	return id.String()
}
