package gateway_test

import (
	"bytes"
	"io"
	"net/http"
	"testing"
)

// BenchmarkViewer measures the viewer query with a valid token over HTTP:
// authentication (token and session check), the user load and the gateway.
func BenchmarkViewer(b *testing.B) {
	e := newEnv(b)
	a := e.register("bench")
	body := []byte(`{"query":"{ viewer { id username displayName bio verified role createdAt } }"}`)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req, _ := http.NewRequest(http.MethodPost, e.url+"/graphql", bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+a.Access)
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
