// Package dataload batches and caches the lookups of one GraphQL request:
// resolvers ask for one key each, and the loader gathers the keys asked for
// within a short window into one call of the batch function, so resolving a
// list never costs one query per item.
package dataload

import (
	"context"
	"fmt"
	"runtime/debug"
	"sync"
	"time"
)

// Fetch loads many keys at once. Keys absent from the map do not exist.
type Fetch[K comparable, V any] func(ctx context.Context, keys []K) (map[K]V, error)

// Loader batches Load calls into Fetch calls and remembers every answer for
// its lifetime, which is one request.
type Loader[K comparable, V any] struct {
	fetch    Fetch[K, V]
	wait     time.Duration
	maxBatch int

	mu      sync.Mutex
	cache   map[K]*result[V]
	pending *batch[K, V]
	// hints are keys likely to be asked for; the next fetch includes them.
	hints map[K]struct{}
}

type result[V any] struct {
	done  chan struct{}
	value V
	found bool
	err   error
}

type batch[K comparable, V any] struct {
	keys    []K
	results []*result[V]
	timer   *time.Timer
}

// New returns a loader that waits up to wait for more keys before fetching,
// and fetches at once when maxBatch keys are pending; no fetch asks for more.
func New[K comparable, V any](fetch Fetch[K, V], wait time.Duration, maxBatch int) *Loader[K, V] {
	return &Loader[K, V]{fetch: fetch, wait: wait, maxBatch: max(maxBatch, 1), cache: map[K]*result[V]{}, hints: map[K]struct{}{}}
}

// Load returns the value of key; found is false when it does not exist.
func (l *Loader[K, V]) Load(ctx context.Context, key K) (value V, found bool, err error) {
	l.mu.Lock()
	r, ok := l.cache[key]
	var now *batch[K, V]
	if !ok {
		r = &result[V]{done: make(chan struct{})}
		l.cache[key] = r
		if _, hinted := l.hints[key]; hinted {
			// The hints are the batch: waiting for more keys gains nothing.
			delete(l.hints, key)
			now = &batch[K, V]{keys: []K{key}, results: []*result[V]{r}}
			l.takeHints(now)
		} else {
			l.enqueue(ctx, key, r)
		}
	}
	l.mu.Unlock()
	if now != nil {
		l.run(ctx, now)
	}
	select {
	case <-r.done:
		return r.value, r.found, r.err
	case <-ctx.Done():
		var zero V
		return zero, false, ctx.Err()
	}
}

// LoadMany returns the values of the keys that exist. The keys no load has
// asked for yet are fetched in one batch at once, with the hinted ones: a
// list resolver that knows all its keys has nothing to wait for.
func (l *Loader[K, V]) LoadMany(ctx context.Context, keys []K) (map[K]V, error) {
	results := make([]*result[V], len(keys))
	var now *batch[K, V]
	l.mu.Lock()
	for i, k := range keys {
		r, ok := l.cache[k]
		if !ok {
			r = &result[V]{done: make(chan struct{})}
			l.cache[k] = r
			delete(l.hints, k)
			if now == nil {
				now = &batch[K, V]{}
			}
			now.keys = append(now.keys, k)
			now.results = append(now.results, r)
		}
		results[i] = r
	}
	l.mu.Unlock()
	// Past the batch size, the rest is fetched alongside in full batches.
	for now != nil && len(now.keys) > l.maxBatch {
		n := l.maxBatch
		go l.run(ctx, &batch[K, V]{keys: now.keys[:n:n], results: now.results[:n:n]})
		now.keys, now.results = now.keys[n:], now.results[n:]
	}
	if now != nil {
		l.run(ctx, now)
	}
	out := make(map[K]V, len(keys))
	for i, r := range results {
		select {
		case <-r.done:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		if r.err != nil {
			return nil, r.err
		}
		if r.found {
			out[keys[i]] = r.value
		}
	}
	return out, nil
}

// Prime records a value already known (e.g. returned by a mutation), so
// later loads of key in this request need no fetch.
func (l *Loader[K, V]) Prime(key K, value V) {
	r := &result[V]{done: make(chan struct{}), value: value, found: true}
	close(r.done)
	l.mu.Lock()
	l.cache[key] = r
	l.mu.Unlock()
}

// Forget drops what the loader knows of key, so that the next load fetches
// it again: a mutation that changed it calls this.
func (l *Loader[K, V]) Forget(key K) {
	l.mu.Lock()
	delete(l.cache, key)
	l.mu.Unlock()
}

// Hint announces keys that are likely to be loaded soon, e.g. the items of
// a page just read: the next fetch takes them along, and a load of a hinted
// key fetches at once instead of waiting for more keys. The batch then no
// longer depends on every resolver asking within the wait, and keys never
// asked for cost nothing unless another is.
func (l *Loader[K, V]) Hint(keys ...K) {
	l.mu.Lock()
	for _, k := range keys {
		if _, ok := l.cache[k]; !ok {
			l.hints[k] = struct{}{}
		}
	}
	l.mu.Unlock()
}

// enqueue adds key to the pending batch; l.mu is held.
func (l *Loader[K, V]) enqueue(ctx context.Context, key K, r *result[V]) {
	if l.pending == nil {
		b := &batch[K, V]{}
		l.pending = b
		b.timer = time.AfterFunc(l.wait, func() { l.flush(ctx, b) })
	}
	b := l.pending
	b.keys = append(b.keys, key)
	b.results = append(b.results, r)
	if len(b.keys) >= l.maxBatch {
		b.timer.Stop()
		l.pending = nil
		go l.run(ctx, b)
	}
}

// flush runs b if it is still the pending batch.
func (l *Loader[K, V]) flush(ctx context.Context, b *batch[K, V]) {
	l.mu.Lock()
	if l.pending != b {
		l.mu.Unlock()
		return
	}
	l.pending = nil
	l.mu.Unlock()
	l.run(ctx, b)
}

// takeHints moves the hinted keys not cached yet into b, as many as it has
// room for: the others wait for the next fetch. l.mu is held.
func (l *Loader[K, V]) takeHints(b *batch[K, V]) {
	for k := range l.hints {
		if len(b.keys) >= l.maxBatch {
			return
		}
		delete(l.hints, k)
		if _, ok := l.cache[k]; !ok {
			r := &result[V]{done: make(chan struct{})}
			l.cache[k] = r
			b.keys = append(b.keys, k)
			b.results = append(b.results, r)
		}
	}
}

func (l *Loader[K, V]) run(ctx context.Context, b *batch[K, V]) {
	l.mu.Lock()
	l.takeHints(b)
	l.mu.Unlock()
	values, err := l.call(context.WithoutCancel(ctx), b.keys)
	if err != nil {
		// A failed fetch is not remembered: a later load may succeed. The
		// entries go before the waiters wake, so none of them can see the
		// failure again.
		l.mu.Lock()
		for i, k := range b.keys {
			if l.cache[k] == b.results[i] {
				delete(l.cache, k)
			}
		}
		l.mu.Unlock()
	}
	for i, k := range b.keys {
		r := b.results[i]
		if err != nil {
			r.err = err
		} else {
			r.value, r.found = values[k]
		}
		close(r.done)
	}
}

// call fetches keys, turning a panic into the batch's error: a batch runs on
// a goroutine of its own or of one of its callers, and must neither crash
// the server nor leave the others waiting.
func (l *Loader[K, V]) call(ctx context.Context, keys []K) (values map[K]V, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("dataload: fetch panicked: %v\n%s", p, debug.Stack())
		}
	}()
	return l.fetch(ctx, keys)
}
