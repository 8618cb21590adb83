package gid

import (
	"encoding/base64"
	"testing"

	"github.com/google/uuid"

	"github.com/nova-social/nova/internal/platform/apperr"
)

func TestRoundTrip(t *testing.T) {
	id := uuid.Must(uuid.NewV7())
	s := Encode(User, id)
	typ, got, ok := Decode(s)
	if !ok || typ != User || got != id {
		t.Fatalf("Decode(%q) = %q, %v, %v; want User, %v, true", s, typ, got, ok, id)
	}
	if _, err := Parse("userId", Session, s); !apperr.Is(err, apperr.BadInput) {
		t.Fatalf("Parse as Session: err = %v, want BAD_USER_INPUT", err)
	}
	if got, err := Parse("userId", User, s); err != nil || got != id {
		t.Fatalf("Parse = %v, %v", got, err)
	}
}

func TestRejects(t *testing.T) {
	id := uuid.Must(uuid.NewV7())
	for _, s := range []string{
		"", "x", id.String(), Encode("", id), Encode(User, uuid.Nil),
		Encode(User, id) + "=", "VXNlcjo", // "User:" alone
	} {
		if typ, got, ok := Decode(s); ok {
			t.Errorf("Decode(%q) = %q, %v, true; want rejected", s, typ, got)
		}
	}
	e, ok := apperr.As(func() error { _, err := Parse("id", User, "nope"); return err }())
	if !ok || e.Field != "id" {
		t.Fatalf("Parse error = %v, want field id", e)
	}
}

// FuzzDecode checks that Decode never panics and that whatever it accepts
// re-encodes to the very same string (one id per object, no aliases).
func FuzzDecode(f *testing.F) {
	f.Add(Encode(User, uuid.MustParse("0190f5b6-6f5c-7c3e-9a4e-3c1d2b3a4f5e")))
	f.Add(Encode(Session, uuid.MustParse("0190f5b6-6f5c-7c3e-9a4e-3c1d2b3a4f5e")))
	f.Add("VXNlcjowMTkwZjViNi02ZjVjLTdjM2UtOWE0ZS0zYzFkMmIzYTRmNUU")
	f.Add("")
	f.Add("%%%")
	f.Fuzz(func(t *testing.T, s string) {
		typ, id, ok := Decode(s)
		if !ok {
			return
		}
		if again := Encode(typ, id); again != s {
			t.Fatalf("Decode(%q) accepted an alias of %q", s, again)
		}
	})
}

// Ids already handed to clients must keep working: the encoding is the
// base64 of "<Type>:<canonical uuid>", to the byte.
func TestEncodingIsStable(t *testing.T) {
	if got := Encode(Post, uuid.MustParse("01a24bb8-3d3f-78cd-8130-c3925b1b5654")); got != "UG9zdDowMWEyNGJiOC0zZDNmLTc4Y2QtODEzMC1jMzkyNWIxYjU2NTQ" {
		t.Fatalf("Encode = %s", got)
	}
	for _, typ := range []string{User, Session, Media, Post, Comment, Article, Share} {
		for range 100 {
			id := uuid.New()
			if got, want := Encode(typ, id), base64.RawURLEncoding.EncodeToString([]byte(typ+":"+id.String())); got != want {
				t.Fatalf("Encode(%s, %s) = %s, want %s", typ, id, got, want)
			}
		}
	}
	if n := testing.AllocsPerRun(100, func() { Encode(Comment, uuid.Nil) }); n != 1 {
		t.Fatalf("Encode allocates %v times, want 1", n)
	}
}
