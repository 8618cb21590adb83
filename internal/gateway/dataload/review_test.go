package dataload

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// identity answers every key with itself.
func identity(_ context.Context, keys []int) (map[int]int, error) {
	m := make(map[int]int, len(keys))
	for _, k := range keys {
		m[k] = k
	}
	return m, nil
}

// A fetch that panics in LoadMany must leave no entry behind that later
// loads wait on for ever; the panic becomes the batch's error, not cached.
func TestPanickingFetchLeavesNoStuckEntry(t *testing.T) {
	var panicked atomic.Bool
	l := New(func(ctx context.Context, keys []int) (map[int]int, error) {
		if panicked.CompareAndSwap(false, true) {
			panic("boom")
		}
		return identity(ctx, keys)
	}, time.Millisecond, 10)
	func() {
		defer func() { recover() }() // the code before the fix let the panic through
		if _, err := l.LoadMany(context.Background(), []int{1, 2}); err == nil {
			t.Error("LoadMany of a panicking fetch: no error")
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if v, found, err := l.Load(ctx, 2); err != nil || !found || v != 2 {
		t.Fatalf("Load after a panicking fetch = %d, %v, %v; want a fresh fetch", v, found, err)
	}
}

// A fetch that panics on the loader's own goroutine (the wait elapsed) must
// answer every waiter with an error instead of crashing the process.
func TestPanickingBatchAnswersEveryWaiter(t *testing.T) {
	l := New(func(context.Context, []int) (map[int]int, error) { panic("boom") }, time.Millisecond, 10)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	for k := range 3 {
		wg.Go(func() {
			if _, _, err := l.Load(ctx, k); err == nil || errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("Load(%d) of a panicking batch: err %v, want the panic as an error", k, err)
			}
		})
	}
	wg.Wait()
}

// Hints and LoadMany must respect the batch size: no fetch asks for more
// than maxBatch keys, however many are hinted or asked for at once.
func TestBatchSizeHoldsWithHintsAndLoadMany(t *testing.T) {
	var mu sync.Mutex
	var sizes []int
	l := New(func(ctx context.Context, keys []int) (map[int]int, error) {
		mu.Lock()
		sizes = append(sizes, len(keys))
		mu.Unlock()
		return identity(ctx, keys)
	}, time.Millisecond, 4)
	hinted := make([]int, 10)
	for i := range hinted {
		hinted[i] = i
	}
	l.Hint(hinted...)
	for _, k := range hinted {
		if v, _, err := l.Load(context.Background(), k); err != nil || v != k {
			t.Fatalf("Load(%d) = %d, %v", k, v, err)
		}
	}
	many := make([]int, 10)
	for i := range many {
		many[i] = 100 + i
	}
	got, err := l.LoadMany(context.Background(), many)
	if err != nil || len(got) != len(many) {
		t.Fatalf("LoadMany = %v, %v", got, err)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, n := range sizes {
		if n > 4 {
			t.Fatalf("fetch sizes %v; want none over 4", sizes)
		}
	}
}

// A full batch must not grow past maxBatch with hints taken along.
func TestFullBatchTakesNoHints(t *testing.T) {
	sizes := make(chan int, 10)
	l := New(func(ctx context.Context, keys []int) (map[int]int, error) {
		sizes <- len(keys)
		return identity(ctx, keys)
	}, time.Hour, 2)
	l.Hint(7, 8, 9)
	var wg sync.WaitGroup
	for k := range 2 {
		wg.Go(func() { l.Load(context.Background(), 100+k) })
	}
	wg.Wait()
	if n := <-sizes; n != 2 {
		t.Fatalf("a full batch fetched %d keys, want 2", n)
	}
}

// One caller giving up does not cancel the fetch the others wait for (nor
// a context the fetch derives, as a database driver does), and the fetch
// sees the values of the context of the caller that started it.
func TestOneCallerGivingUpLeavesTheFetch(t *testing.T) {
	type key struct{}
	release := make(chan struct{})
	l := New(func(ctx context.Context, keys []int) (map[int]int, error) {
		derived, stop := context.WithCancel(ctx)
		defer stop()
		<-release
		if ctx.Err() != nil || derived.Err() != nil || ctx.Value(key{}) != "v" {
			return nil, errors.New("fetch context cancelled or without the caller's values")
		}
		return identity(ctx, keys)
	}, time.Millisecond, 10)
	req, end := context.WithCancel(context.Background())
	defer end()
	first, cancel := context.WithCancel(context.WithValue(req, key{}, "v"))
	gone := make(chan error, 1)
	go func() {
		_, _, err := l.Load(first, 1)
		gone <- err
	}()
	time.Sleep(10 * time.Millisecond) // the batch is fetching
	done := make(chan error, 1)
	go func() {
		_, _, err := l.Load(req, 1)
		done <- err
	}()
	cancel()
	if err := <-gone; !errors.Is(err, context.Canceled) {
		t.Fatalf("the caller that gave up got %v", err)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatalf("the caller still waiting got %v", err)
	}
}
