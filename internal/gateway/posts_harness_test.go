package gateway_test

import (
	"sync"
)

// Helpers of the posts, follows and feeds tests.

const postFields = `id body visibility createdAt editedAt likeCount commentCount shareCount viewerHasLiked author { id username }`

// createPost posts body as a and returns the post's id.
func (e *env) createPost(a *account, body, visibility string) string {
	e.t.Helper()
	in := map[string]any{"body": body}
	if visibility != "" {
		in["visibility"] = visibility
	}
	r := ok(e.t, e.gql(a.Access, `mutation($in: CreatePostInput!) { createPost(input: $in) { id } }`, map[string]any{"in": in}))
	return r.str("createPost.id")
}

// follow makes a follow b and returns b's viewerFollowState.
func (e *env) follow(a, b *account) string {
	e.t.Helper()
	r := ok(e.t, e.gql(a.Access, `mutation($id: ID!) { follow(userId: $id) { id viewerFollowState } }`, map[string]any{"id": b.ID}))
	return r.str("follow.viewerFollowState")
}

// feedIDs reads a's first feed page of size n.
func (e *env) feedIDs(a *account, n int) []string {
	e.t.Helper()
	r := ok(e.t, e.gql(a.Access, `query($n: Int) { feed(first: $n) { edges { node { id } } } }`, map[string]any{"n": n}))
	return nodeIDs(r, "feed")
}

// nodeIDs lists the node ids of the connection at path.
func nodeIDs(r *response, path string) []string {
	edges, _ := r.get(path + ".edges").([]any)
	ids := make([]string, 0, len(edges))
	for _, ed := range edges {
		node, _ := ed.(map[string]any)["node"].(map[string]any)
		id, _ := node["id"].(string)
		ids = append(ids, id)
	}
	return ids
}

func contains(ids []string, id string) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

// registerMany registers n accounts, a few at a time.
func (e *env) registerMany(prefix string, n int) []*account {
	e.t.Helper()
	out := make([]*account, n)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 4)
	for i := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			out[i] = e.register(prefix)
		}()
	}
	wg.Wait()
	return out
}
