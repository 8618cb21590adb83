package page_test

import (
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/nova-social/nova/internal/platform/apperr"
	"github.com/nova-social/nova/internal/platform/page"
)

func TestParse(t *testing.T) {
	ptr := func(n int) *int { return &n }
	if r, err := page.Parse(nil, nil); err != nil || r.Size != page.DefaultSize || r.After != nil {
		t.Fatalf("defaults: %+v %v", r, err)
	}
	for _, bad := range []int{0, -1, 101} {
		_, err := page.Parse(ptr(bad), nil)
		if e, ok := apperr.As(err); !ok || e.Code != apperr.BadInput || e.Field != "first" {
			t.Errorf("first=%d: %v, want BAD_USER_INPUT on first", bad, err)
		}
	}
	k := page.Key{Time: time.Now().UTC().Truncate(time.Microsecond), ID: uuid.Must(uuid.NewV7())}
	c := page.Encode(k)
	r, err := page.Parse(ptr(100), &c)
	if err != nil || r.After == nil || !r.After.Time.Equal(k.Time) || r.After.ID != k.ID {
		t.Fatalf("round trip: %+v %v", r, err)
	}
	bad := "not a cursor"
	if _, err := page.Parse(nil, &bad); !apperr.Is(err, apperr.BadInput) {
		t.Errorf("garbage cursor: %v", err)
	}
}

func TestTrim(t *testing.T) {
	items := []int{1, 2, 3}
	key := func(i int) page.Key { return page.Key{ID: uuid.NewSHA1(uuid.Nil, []byte{byte(i)})} }
	p := page.Trim(page.Request{Size: 2}, items, key)
	if len(p.Items) != 2 || !p.HasNext || p.HasPrevious || len(p.Keys) != 2 {
		t.Fatalf("trim: %+v", p)
	}
	p = page.Trim(page.Request{Size: 5}, items, key)
	if len(p.Items) != 3 || p.HasNext {
		t.Fatalf("short page: %+v", p)
	}
}

// nonCanonical spells the cursor of one position in ways Encode never
// writes: each would be a second cursor for a position that already has one.
var nonCanonical = []string{
	// JSON: another key order, spaces, a key in capitals, an unknown or
	// repeated key, an upper-case or braced id, a fraction with a trailing zero
	`{"i":"0190a3c4-5e6f-7a8b-9c0d-1e2f3a4b5c6d","t":"2026-01-01T00:00:00Z"}`,
	`{"t": "2026-01-01T00:00:00Z", "i": "0190a3c4-5e6f-7a8b-9c0d-1e2f3a4b5c6d"}`,
	`{"T":"2026-01-01T00:00:00Z","i":"0190a3c4-5e6f-7a8b-9c0d-1e2f3a4b5c6d"}`,
	`{"t":"2026-01-01T00:00:00Z","i":"0190a3c4-5e6f-7a8b-9c0d-1e2f3a4b5c6d","x":1}`,
	`{"t":"2026-01-01T00:00:00Z","i":"00000000-0000-0000-0000-000000000001","i":"0190a3c4-5e6f-7a8b-9c0d-1e2f3a4b5c6d"}`,
	`{"t":"2026-01-01T00:00:00Z","i":"0190A3C4-5E6F-7A8B-9C0D-1E2F3A4B5C6D"}`,
	`{"t":"2026-01-01T00:00:00Z","i":"{0190a3c4-5e6f-7a8b-9c0d-1e2f3a4b5c6d}"}`,
	`{"t":"2026-01-01T00:00:00.10Z","i":"0190a3c4-5e6f-7a8b-9c0d-1e2f3a4b5c6d"}`,
	`{"t":"2026-01-01T00:00:00Z","i":"0190a3c4-5e6f-7a8b-9c0d-1e2f3a4b5c6d","r":0}`,
}

// TestDecodeRefusesNonCanonical: a position has exactly one cursor, the one
// Encode writes; any other spelling of it, in the JSON or in the base64, is
// not a cursor Nova made and is refused.
func TestDecodeRefusesNonCanonical(t *testing.T) {
	t.Parallel()
	c := page.Encode(page.Key{Time: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), ID: uuid.MustParse("0190a3c4-5e6f-7a8b-9c0d-1e2f3a4b5c6d")})
	if _, err := page.Decode(c); err != nil {
		t.Fatalf("canonical cursor %s refused: %v", c, err)
	}
	// Positions far from any item are still Encode's spelling.
	for _, at := range []string{"0001-01-01T00:00:00Z", "9999-12-31T23:59:59-23:59", "2026-01-01T05:30:00.123456+05:30"} {
		s := base64.RawURLEncoding.EncodeToString([]byte(`{"t":"` + at + `","i":"0190a3c4-5e6f-7a8b-9c0d-1e2f3a4b5c6d"}`))
		if _, err := page.Decode(s); err != nil {
			t.Errorf("cursor at %s refused: %v", at, err)
		}
	}
	for _, j := range nonCanonical {
		s := base64.RawURLEncoding.EncodeToString([]byte(j))
		if k, err := page.Decode(s); err == nil {
			t.Errorf("Decode accepted %s (%s) as %+v", s, j, k)
		}
	}
	// The last character carries bits past the end of the bytes; setting
	// one spells the same bytes differently.
	last := strings.IndexByte("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", c[len(c)-1])
	twin := c[:len(c)-1] + string("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"[last|1])
	if k, err := page.Decode(twin); twin != c && err == nil {
		t.Errorf("Decode accepted %s, a second spelling of %s, as %+v", twin, c, k)
	}
	if _, err := page.Decode(strings.Repeat("A", 1<<20)); !apperr.Is(err, apperr.BadInput) {
		t.Errorf("a megabyte cursor: %v", err)
	}
}

func FuzzDecode(f *testing.F) {
	f.Add(page.Encode(page.Key{ID: uuid.Must(uuid.NewV7()), Time: time.Now()}))
	f.Add(page.Encode(page.Key{ID: uuid.Must(uuid.NewV7()), Time: time.Now().In(time.FixedZone("", 5*3600+1800)), Rank: 0.125}))
	f.Add("")
	f.Add("eyJ0IjoiMjAyNi0wMS0wMVQwMDowMDowMFoiLCJpIjoiIn0")
	f.Add("%%%")
	for _, j := range nonCanonical {
		f.Add(base64.RawURLEncoding.EncodeToString([]byte(j)))
	}
	// the canonical cursor of the first of them with a trailing bit set
	f.Add("eyJ0IjoiMjAyNi0wMS0wMVQwMDowMDowMFoiLCJpIjoiMDE5MGEzYzQtNWU2Zi03YThiLTljMGQtMWUyZjNhNGI1YzZkIn1")
	f.Fuzz(func(t *testing.T, s string) {
		k, err := page.Decode(s)
		if err != nil {
			if !apperr.Is(err, apperr.BadInput) {
				t.Fatalf("decode error is not BAD_USER_INPUT: %v", err)
			}
			return
		}
		if k.ID == uuid.Nil {
			t.Fatal("decoded a cursor without id")
		}
		// One position, one cursor: what Decode accepts is what Encode writes.
		if again := page.Encode(k); again != s {
			t.Fatalf("Decode accepted %q, which Encode writes as %q", s, again)
		}
	})
}
