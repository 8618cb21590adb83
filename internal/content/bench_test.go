package content_test

import (
	"context"
	"testing"

	"github.com/nova-social/nova/internal/content"
)

// BenchmarkCreatePost: createPost throughput with parallel authors (the
// post row, the author's counter and the event commit together).
func BenchmarkCreatePost(b *testing.B) {
	e := newEnv(b)
	ctx := context.Background()
	b.SetParallelism(8)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		author := user()
		for pb.Next() {
			if _, err := e.svc.CreatePost(ctx, author, content.CreatePostInput{Body: "benchmark #post for @bob"}); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
