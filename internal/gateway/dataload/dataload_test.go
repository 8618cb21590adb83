package dataload

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestBatchesConcurrentLoads(t *testing.T) {
	var calls atomic.Int32
	var mu sync.Mutex
	var sizes []int
	l := New(func(_ context.Context, keys []int) (map[int]string, error) {
		calls.Add(1)
		mu.Lock()
		sizes = append(sizes, len(keys))
		mu.Unlock()
		m := map[int]string{}
		for _, k := range keys {
			if k%2 == 0 {
				m[k] = "v"
			}
		}
		return m, nil
	}, 500*time.Millisecond, 100) // a window far longer than starting 50 goroutines takes, even under -race on a busy machine

	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			v, found, err := l.Load(context.Background(), i%25)
			if err != nil || found != (i%25%2 == 0) || (found && v != "v") {
				t.Errorf("Load(%d) = %q, %v, %v", i%25, v, found, err)
			}
		}()
	}
	close(start)
	wg.Wait()
	if calls.Load() != 1 || sizes[0] != 25 {
		t.Fatalf("fetch calls = %d, sizes %v; want one batch of the 25 distinct keys", calls.Load(), sizes)
	}
	// Cached: no new fetch.
	if _, _, err := l.Load(context.Background(), 3); err != nil || calls.Load() != 1 {
		t.Fatalf("cached load fetched again: calls=%d err=%v", calls.Load(), err)
	}
}

func TestMaxBatchFlushesEarly(t *testing.T) {
	var calls atomic.Int32
	l := New(func(_ context.Context, keys []int) (map[int]int, error) {
		calls.Add(1)
		m := map[int]int{}
		for _, k := range keys {
			m[k] = k
		}
		return m, nil
	}, time.Hour, 4)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if v, _, err := l.Load(context.Background(), i); err != nil || v != i {
				t.Errorf("Load(%d) = %d, %v", i, v, err)
			}
		}()
	}
	wg.Wait()
	if calls.Load() != 2 {
		t.Fatalf("fetch calls = %d, want 2 full batches", calls.Load())
	}
}

func TestErrorsAreNotCached(t *testing.T) {
	fail := true
	l := New(func(_ context.Context, keys []int) (map[int]int, error) {
		if fail {
			return nil, errors.New("boom")
		}
		return map[int]int{keys[0]: 7}, nil
	}, time.Millisecond, 10)
	if _, _, err := l.Load(context.Background(), 1); err == nil {
		t.Fatal("want error")
	}
	fail = false
	if v, found, err := l.Load(context.Background(), 1); err != nil || !found || v != 7 {
		t.Fatalf("retry = %d, %v, %v", v, found, err)
	}
	l.Prime(9, 99)
	if v, found, _ := l.Load(context.Background(), 9); !found || v != 99 {
		t.Fatalf("primed = %d, %v", v, found)
	}
	l.Forget(9)
	if v, found, err := l.Load(context.Background(), 9); err != nil || !found || v != 7 {
		t.Fatalf("load after Forget = %d, %v, %v; want a fresh fetch", v, found, err)
	}
}

func TestHintedKeysJoinTheNextFetch(t *testing.T) {
	var calls atomic.Int32
	var got []int
	l := New(func(_ context.Context, keys []int) (map[int]int, error) {
		calls.Add(1)
		got = append(got, keys...)
		m := map[int]int{}
		for _, k := range keys {
			m[k] = k * 10
		}
		return m, nil
	}, time.Hour, 100)
	l.Prime(3, 33)
	l.Hint(1, 2, 3, 4)
	if calls.Load() != 0 {
		t.Fatal("a hint fetched")
	}
	if v, found, err := l.Load(context.Background(), 2); err != nil || !found || v != 20 {
		t.Fatalf("Load(2) = %d, %v, %v", v, found, err)
	}
	// A hinted key fetched at once (the wait is an hour); later loads come
	// from the same fetch.
	for _, k := range []int{1, 4} {
		if v, _, err := l.Load(context.Background(), k); err != nil || v != k*10 {
			t.Fatalf("Load(%d) = %d, %v", k, v, err)
		}
	}
	if v, _, _ := l.Load(context.Background(), 3); calls.Load() != 1 || len(got) != 3 || v != 33 {
		t.Fatalf("fetches = %d of keys %v (primed 3 = %d); want one fetch of 2, 1 and 4", calls.Load(), got, v)
	}
}

func TestLoadManyFetchesTheUnknownKeysAtOnce(t *testing.T) {
	var fetched [][]int
	l := New(func(_ context.Context, keys []int) (map[int]string, error) {
		fetched = append(fetched, append([]int(nil), keys...))
		m := map[int]string{}
		for _, k := range keys {
			if k != 3 {
				m[k] = fmt.Sprint("v", k)
			}
		}
		return m, nil
	}, time.Hour, 100) // a window no test waits for: LoadMany must not wait
	l.Prime(1, "primed")
	l.Hint(9)
	got, err := l.LoadMany(context.Background(), []int{1, 2, 3, 2})
	if err != nil {
		t.Fatal(err)
	}
	want := map[int]string{1: "primed", 2: "v2"}
	if !maps.Equal(got, want) {
		t.Fatalf("LoadMany = %v, want %v", got, want)
	}
	if len(fetched) != 1 {
		t.Fatalf("fetches = %v, want one", fetched)
	}
	slices.Sort(fetched[0])
	if !slices.Equal(fetched[0], []int{2, 3, 9}) {
		t.Fatalf("fetched keys = %v, want the unknown ones and the hint", fetched[0])
	}
	// Everything is known now, the absent key included: no further fetch.
	if _, err := l.LoadMany(context.Background(), []int{2, 3, 9}); err != nil || len(fetched) != 1 {
		t.Fatalf("second LoadMany: err %v, fetches %d", err, len(fetched))
	}
}
