package dataload

import (
	"context"
	"testing"
	"time"
)

// BenchmarkFeedPage does what the feed does per page: prime 20 posts' stats,
// hint their versions, then load their 20 authors (5 distinct) and the
// primed stats at once.
func BenchmarkFeedPage(b *testing.B) {
	fetch := func(_ context.Context, keys []int) (map[int]int, error) {
		m := make(map[int]int, len(keys))
		for _, k := range keys {
			m[k] = k
		}
		return m, nil
	}
	ids := make([]int, 20)
	authors := make([]int, 20)
	for i := range ids {
		ids[i], authors[i] = i, 1000+i%5
	}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		users := New(fetch, 500*time.Microsecond, 100)
		stats := New(fetch, 500*time.Microsecond, 100)
		versions := New(fetch, 500*time.Microsecond, 100)
		for _, id := range ids {
			stats.Prime(id, id)
		}
		versions.Hint(ids...)
		if _, err := users.LoadMany(ctx, authors); err != nil {
			b.Fatal(err)
		}
		if _, err := stats.LoadMany(ctx, ids); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkHintedLoad is a single load of a hinted key: it fetches at once.
func BenchmarkHintedLoad(b *testing.B) {
	fetch := func(_ context.Context, keys []int) (map[int]int, error) {
		return map[int]int{keys[0]: 1}, nil
	}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		l := New(fetch, 500*time.Microsecond, 100)
		l.Hint(1)
		if _, _, err := l.Load(ctx, 1); err != nil {
			b.Fatal(err)
		}
	}
}
