package pgcache

import (
	"testing"
	"time"

	"github.com/google/uuid"
)

// A read from before a change must not store its value once the change was
// heard: the generation it took is no longer current.
func TestStoreAfterForgetIsRefused(t *testing.T) {
	c := New[uuid.UUID]("test.changed", 100, Metrics{}, nil)
	c.setListening(true)
	id, user := uuid.New(), uuid.New()
	now := time.Now()
	expires := now.Add(time.Hour)

	_, gen, ok := c.Lookup(id, now)
	if ok {
		t.Fatal("empty cache answered")
	}
	c.Forget(id)
	c.Store(gen, id, user, expires)
	if _, _, ok := c.Lookup(id, now); ok {
		t.Fatal("a read from before the change was stored")
	}

	_, gen, _ = c.Lookup(id, now)
	c.Store(gen, id, user, expires)
	if got, _, ok := c.Lookup(id, now); !ok || got != user {
		t.Fatalf("Lookup = %v, %v; want %v, true", got, ok, user)
	}
	if _, _, ok := c.Lookup(id, expires); ok {
		t.Fatal("answered at the entry's expiry")
	}
}

// Deaf, the cache neither answers nor stores, and it comes back empty.
func TestDeafCacheAnswersNothing(t *testing.T) {
	c := New[uuid.UUID]("test.changed", 100, Metrics{}, nil)
	id, user := uuid.New(), uuid.New()
	now := time.Now()
	_, gen, _ := c.Lookup(id, now)
	c.Store(gen, id, user, now.Add(time.Hour))
	c.setListening(true)
	if _, _, ok := c.Lookup(id, now); ok {
		t.Fatal("stored while not listening")
	}
	_, gen, _ = c.Lookup(id, now)
	c.Store(gen, id, user, now.Add(time.Hour))
	c.setListening(false)
	if _, _, ok := c.Lookup(id, now); ok {
		t.Fatal("answered while not listening")
	}
	c.setListening(true)
	if _, _, ok := c.Lookup(id, now); ok {
		t.Fatal("kept an entry across a deaf spell")
	}
}

// A full cache is emptied whole before it takes another entry.
func TestFullCacheStartsAgain(t *testing.T) {
	c := New[int]("test.changed", 2, Metrics{}, nil)
	c.setListening(true)
	now := time.Now()
	ids := []uuid.UUID{uuid.New(), uuid.New(), uuid.New()}
	for i, id := range ids {
		_, gen, _ := c.Lookup(id, now)
		c.Store(gen, id, i, now.Add(time.Hour))
	}
	if got := c.size(); got != 1 {
		t.Fatalf("%v entries after storing 3 in a cache of 2, want 1 (the last)", got)
	}
	if v, _, ok := c.Lookup(ids[2], now); !ok || v != 2 {
		t.Fatalf("Lookup(last) = %v, %v", v, ok)
	}
}
