package gateway_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/nova-social/nova/internal/platform/testkit"
)

// TestVariableErrorsNameTheirField: a variable whose value does not fit its
// type is the client's input at fault, so BAD_USER_INPUT names the variable,
// or the input field within it, as the contract asks (not "query", which
// stays for documents that do not validate). Nothing executes: 422.
func TestVariableErrorsNameTheirField(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.register("vars")
	const create = `mutation($in: CreatePostInput!) { createPost(input: $in) { id } }`
	for _, c := range []struct {
		name, query string
		vars        map[string]any
		field       string
	}{
		{"unknown enum value", create, map[string]any{"in": map[string]any{"body": "x", "visibility": "SECRET"}}, "visibility"},
		{"missing input field", create, map[string]any{"in": map[string]any{}}, "body"},
		{"unknown input field", create, map[string]any{"in": map[string]any{"body": "x", "bogus": 1}}, "bogus"},
		{"null list item", create, map[string]any{"in": map[string]any{"body": "x", "mediaIds": []any{nil}}}, "mediaIds"},
		{"input not an object", create, map[string]any{"in": "x"}, "in"},
		{"string for Int", `query($n: Int) { feed(first: $n) { edges { cursor } } }`, map[string]any{"n": "many"}, "n"},
		{"null for non-null", `mutation($b: String!) { updatePost(id: "x", body: $b) { id } }`, map[string]any{"b": nil}, "b"},
		{"missing variable", `query($id: ID!) { post(id: $id) { id } }`, nil, "id"},
		{"string for Boolean", `mutation($p: Boolean) { updateSettings(input: {isPrivate: $p}) { isPrivate } }`, map[string]any{"p": "yes"}, "p"},
	} {
		t.Run(c.name, func(t *testing.T) {
			wantError(t, e.gql(a.Access, c.query, c.vars), http.StatusUnprocessableEntity, "BAD_USER_INPUT", c.field)
		})
	}
}

// TestPostMediaAndUserAvatar: Post.media and User.avatar are fields every
// client may rely on; a document selecting them must run. No post carries
// media and no user has an avatar while uploads are not served (createPost
// and updateProfile refuse media ids), so they read as [] and null.
func TestPostMediaAndUserAvatar(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.register("media")
	const media = `media { id url mimeType size status altText width height durationSeconds thumbnailUrl }`
	created := ok(t, e.gql(a.Access, `mutation { createPost(input: {body: "no pictures"}) { id `+media+` author { avatar { id url } } } }`, nil))
	post := created.str("createPost.id")
	if m, isList := created.get("createPost.media").([]any); !isList || len(m) != 0 || created.get("createPost.author.avatar") != nil {
		t.Fatalf("createPost = %s", created.Raw)
	}
	testkit.Eventually(t, "the post in its author's feed", func() bool { return contains(e.feedIDs(a, 5), post) })
	// A list without `first` is costed at 20 items: pages select less.
	r := ok(t, e.gql(a.Access, `query($p: ID!, $u: ID!) {
		post(id: $p) { `+media+` }
		node(id: $p) { ... on Post { `+media+` } }
		viewer { avatar { id } }
		user(id: $u) { avatar { id } posts { edges { node { id media { id url } } } } }
		feed { edges { node { id media { id url } author { avatar { thumbnailUrl } } } } }
	}`, map[string]any{"p": post, "u": a.ID}))
	for _, path := range []string{"post.media", "node.media"} {
		if m, isList := r.get(path).([]any); !isList || len(m) != 0 {
			t.Fatalf("%s: %s", path, r.Raw)
		}
	}
	if !contains(nodeIDs(r, "feed"), post) || !contains(nodeIDs(r, "user.posts"), post) || !strings.Contains(string(r.Raw), `"media":[],"author":{"avatar":null}`) {
		t.Fatalf("pages: %s", r.Raw)
	}
	if r.get("viewer.avatar") != nil || r.get("user.avatar") != nil {
		t.Fatalf("avatar: %s", r.Raw)
	}
}
