package page_test

import (
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

func FuzzDecode(f *testing.F) {
	f.Add(page.Encode(page.Key{ID: uuid.Must(uuid.NewV7()), Time: time.Now()}))
	f.Add("")
	f.Add("eyJ0IjoiMjAyNi0wMS0wMVQwMDowMDowMFoiLCJpIjoiIn0")
	f.Add("%%%")
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
		if again, err := page.Decode(page.Encode(k)); err != nil || again.ID != k.ID {
			t.Fatalf("re-encode round trip failed: %v", err)
		}
	})
}
