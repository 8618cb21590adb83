package gateway_test

import "testing"

// Postgres cannot store U+0000: text holding it is the client's bad input,
// refused before any domain sees it, not an internal error.
func TestNULInTextIsBadInput(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.register("nul")
	r := e.gql(a.Access, `mutation($in: CreatePostInput!) { createPost(input: $in) { id } }`,
		map[string]any{"in": map[string]any{"body": "a\x00b", "visibility": "PUBLIC"}})
	wantError(t, r, 422, "BAD_USER_INPUT", "in")
	wantError(t, e.gql("", `{ user(username: "a\u0000b") { id } }`, nil), 422, "BAD_USER_INPUT", "username")
	ok(t, e.gql(a.Access, `mutation($in: CreatePostInput!) { createPost(input: $in) { id } }`,
		map[string]any{"in": map[string]any{"body": `a\u0000b is fine as text`, "visibility": "PUBLIC"}}))
}
