// Package page implements Relay cursor pagination shared by every domain:
// validated page sizes and opaque keyset cursors that stay stable under
// concurrent inserts (a cursor names a position, never an offset).
package page

import (
	"encoding/base64"
	"encoding/json"
	"time"

	"github.com/google/uuid"

	"github.com/nova-social/nova/internal/platform/apperr"
)

const (
	// DefaultSize is the page size when the client gives none.
	DefaultSize = 20
	// MaxSize is the largest page a client may ask for.
	MaxSize = 100
)

// Request is a validated page request.
type Request struct {
	// Size is the number of items wanted.
	Size int
	// After is the decoded cursor, nil for the first page.
	After *Key
}

// Key is a keyset position: a sort time and an id as tie-breaker. Lists
// ordered by something else put their sort value in Time or Rank.
type Key struct {
	Time time.Time `json:"t"`
	ID   uuid.UUID `json:"i"`
	Rank float64   `json:"r,omitempty"`
}

// Parse validates `first` and decodes `after`. A nil first means DefaultSize.
func Parse(first *int, after *string) (Request, error) {
	r := Request{Size: DefaultSize}
	if first != nil {
		if *first < 1 || *first > MaxSize {
			return Request{}, apperr.Invalid("first", "first must be between 1 and %d", MaxSize)
		}
		r.Size = *first
	}
	if after != nil && *after != "" {
		k, err := Decode(*after)
		if err != nil {
			return Request{}, err
		}
		r.After = &k
	}
	return r, nil
}

// Encode makes an opaque cursor for k.
func Encode(k Key) string {
	b, _ := json.Marshal(k)
	return base64.RawURLEncoding.EncodeToString(b)
}

// maxCursorLen bounds a cursor before it is decoded: Encode's are about 120
// characters.
var maxCursorLen = base64.RawURLEncoding.EncodedLen(256)

// Decode parses a cursor made by Encode. Only Encode's own spelling of a
// position is accepted: base64 and JSON both allow many spellings of the
// same key (unused trailing bits, key order and case, spaces, unknown or
// repeated keys, other forms of the id), and a cursor is a name a client
// hands back, not input to be made sense of.
func Decode(s string) (Key, error) {
	var k Key
	if len(s) > maxCursorLen {
		return Key{}, apperr.Invalid("after", "after is not a valid cursor")
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || json.Unmarshal(b, &k) != nil || k.ID == uuid.Nil || Encode(k) != s {
		return Key{}, apperr.Invalid("after", "after is not a valid cursor")
	}
	return k, nil
}

// Page is one page of items with what the connection's PageInfo needs.
type Page[T any] struct {
	Items       []T
	Keys        []Key
	HasNext     bool
	HasPrevious bool
}

// Trim turns up to Size+1 fetched rows into a page: fetching one extra row
// tells whether a next page exists without a COUNT.
func Trim[T any](r Request, items []T, key func(T) Key) Page[T] {
	p := Page[T]{HasPrevious: r.After != nil}
	if len(items) > r.Size {
		items, p.HasNext = items[:r.Size], true
	}
	p.Items = items
	p.Keys = make([]Key, len(items))
	for i, it := range items {
		p.Keys[i] = key(it)
	}
	return p
}
