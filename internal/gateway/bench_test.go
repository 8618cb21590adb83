package gateway_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"testing"

	"github.com/nova-social/nova/internal/platform/testkit"
)

// BenchmarkViewer measures the viewer query with a valid token over HTTP:
// authentication (token and session check), the user load and the gateway.
func BenchmarkViewer(b *testing.B) {
	e := newEnv(b)
	a := e.register("bench")
	body := []byte(`{"query":"{ viewer { id username displayName bio verified role createdAt } }"}`)
	postLoop(b, e.url, a.Access, body)
}

// BenchmarkFeedPage measures a home-feed page of 20 posts with their
// authors, counters and viewerHasLiked over HTTP, 16 clients at once.
func BenchmarkFeedPage(b *testing.B) {
	e := newEnv(b)
	reader := e.register("reader")
	for i := range 4 {
		author := e.register("author")
		e.follow(reader, author)
		for j := range 8 {
			e.createPost(author, fmt.Sprintf("post %d/%d", i, j), "")
		}
	}
	testkit.Eventually(b, "fan-out", func() bool { return len(e.feedIDs(reader, 20)) == 20 })
	body, _ := json.Marshal(map[string]any{"query": feedPage, "variables": map[string]any{"n": 20}})
	b.SetParallelism(8)
	postLoop(b, e.url, reader.Access, body)
}

// postLoop sends body to the GraphQL endpoint with token from parallel
// clients, b.N times in all, failing on any status but 200.
func postLoop(b *testing.B, url, token string, body []byte) {
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req, _ := http.NewRequest(http.MethodPost, url+"/graphql", bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+token)
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.StatusCode != 200 {
				b.Fatalf("status %d", res.StatusCode)
			}
		}
	})
}
