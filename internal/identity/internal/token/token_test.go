package token

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
)

func newIssuer(t testing.TB) *Issuer {
	_, k, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return NewIssuer(k, nil, "nova", "nova")
}

func TestIssueVerifyAndExpiry(t *testing.T) {
	i := newIssuer(t)
	u, s := uuid.New(), uuid.New()
	tok, exp, err := i.Issue(u, s)
	if err != nil {
		t.Fatal(err)
	}
	gu, gs, err := i.Verify(tok)
	if err != nil || gu != u || gs != s {
		t.Fatalf("Verify = %v %v %v", gu, gs, err)
	}
	// Just before expiry it verifies; past it (and the 5 s leeway) it does not.
	i.now = func() time.Time { return exp.Add(-time.Second) }
	if _, _, err := i.Verify(tok); err != nil {
		t.Fatalf("before expiry: %v", err)
	}
	i.now = func() time.Time { return exp.Add(6 * time.Second) }
	if _, _, err := i.Verify(tok); !errors.Is(err, ErrInvalid) {
		t.Fatalf("after expiry: %v", err)
	}
}

func TestRefreshTokens(t *testing.T) {
	i := newIssuer(t)
	sid := uuid.New()
	a, ha, err := i.NewRefresh(sid)
	if err != nil {
		t.Fatal(err)
	}
	b, _, _ := i.NewRefresh(sid)
	if a == b || len(a) != 86 || len(ha) != 32 || string(HashRefresh(a)) != string(ha) {
		t.Fatalf("refresh tokens %q %q", a, b)
	}
	if got, ok := i.RefreshSession(a); !ok || got != sid {
		t.Fatalf("RefreshSession = %v, %v", got, ok)
	}
	// Another key's token, a changed one and an old-style one name no session.
	other, _, _ := newIssuer(t).NewRefresh(sid)
	changed := []byte(a)
	changed[3] ^= 1
	for _, tok := range []string{other, string(changed), a[:43], ""} {
		if _, ok := i.RefreshSession(tok); ok {
			t.Fatalf("RefreshSession(%q) names a session", tok)
		}
	}
}

// BenchmarkVerify is the signature part of Authenticate, without the database.
func BenchmarkVerify(b *testing.B) {
	i := newIssuer(b)
	tok, _, err := i.Issue(uuid.New(), uuid.New())
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, _, err := i.Verify(tok); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyUncached is the first verification of a token: the Ed25519
// signature check and claim validation.
func BenchmarkVerifyUncached(b *testing.B) {
	i := newIssuer(b)
	tok, _, err := i.Issue(uuid.New(), uuid.New())
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		i.verified.m = map[[32]byte]verifiedToken{}
		if _, _, err := i.Verify(tok); err != nil {
			b.Fatal(err)
		}
	}
}

func TestVerifiedCacheIsBounded(t *testing.T) {
	var c verifiedCache
	key := func(n int) (k [32]byte) {
		binary.LittleEndian.PutUint64(k[:], uint64(n))
		return k
	}
	for n := range maxVerified + 10 {
		c.put(key(n), verifiedToken{})
	}
	if len(c.m) > maxVerified {
		t.Fatalf("%d entries", len(c.m))
	}
	if _, ok := c.get(key(maxVerified + 9)); !ok {
		t.Fatal("latest entry missing")
	}
}

// A token differing in any byte from a cached one is verified afresh.
func TestCacheDoesNotAcceptAlteredTokens(t *testing.T) {
	i := newIssuer(t)
	tok, _, err := i.Issue(uuid.New(), uuid.New())
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := i.Verify(tok); err != nil {
		t.Fatal(err)
	}
	altered := tok[:len(tok)-2] + "AA"
	if altered == tok {
		altered = tok[:len(tok)-2] + "BB"
	}
	if _, _, err := i.Verify(altered); !errors.Is(err, ErrInvalid) {
		t.Fatalf("altered token: %v", err)
	}
}

// A cached token expires at the very instant the parser would refuse it.
func TestCachedTokenExpiresWithTheParser(t *testing.T) {
	i := newIssuer(t)
	tok, exp, err := i.Issue(uuid.New(), uuid.New())
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := i.Verify(tok); err != nil {
		t.Fatal(err)
	}
	end := exp.Add(leeway)
	uncached := NewIssuer(i.priv, nil, i.issuer, i.audience)
	uncached.now = func() time.Time { return end }
	if _, _, err := uncached.Verify(tok); !errors.Is(err, ErrInvalid) {
		t.Fatalf("parser at exp+leeway: %v", err)
	}
	i.now = func() time.Time { return end }
	if _, _, err := i.Verify(tok); !errors.Is(err, ErrInvalid) {
		t.Fatalf("cache at exp+leeway: %v", err)
	}
}

// Replicas starting at once on a fresh data dir all get the one key, none
// an error from reading the file while another is still writing it.
func TestConcurrentDevKeyCreation(t *testing.T) {
	for range 50 {
		dir := t.TempDir()
		keys := make([][]byte, 8)
		errs := make([]error, len(keys))
		var wg sync.WaitGroup
		for i := range keys {
			wg.Go(func() {
				k, err := LoadOrCreateDevKey(dir)
				keys[i], errs[i] = k, err
			})
		}
		wg.Wait()
		for i := range keys {
			if errs[i] != nil {
				t.Fatalf("start %d: %v", i, errs[i])
			}
			if string(keys[i]) != string(keys[0]) {
				t.Fatalf("start %d got another key", i)
			}
		}
	}
}

// The previous key's tokens are accepted only as long as one it signed
// before the rotation can live: one it signs later (a leaked key, a key file
// left configured) is refused, as is any token living longer than AccessTTL.
func TestPreviousKeyOnlyForTokensOfBeforeTheRotation(t *testing.T) {
	old, current := newIssuer(t), newIssuer(t)
	rotated := NewIssuer(current.priv, old.priv.Public().(ed25519.PublicKey), "nova", "nova")
	start := rotated.now()
	at := func(i *Issuer, when time.Time) string {
		i.now = func() time.Time { return when }
		tok, _, err := i.Issue(uuid.New(), uuid.New())
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	before := at(old, start.Add(-time.Minute))
	rotated.now = func() time.Time { return start.Add(10 * time.Minute) }
	if _, _, err := rotated.Verify(before); err != nil {
		t.Fatalf("token of the previous key from before the rotation: %v", err)
	}
	late := start.Add(AccessTTL + time.Minute)
	after := at(old, late)
	rotated.now = func() time.Time { return late }
	if _, _, err := rotated.Verify(after); !errors.Is(err, ErrInvalid) {
		t.Fatalf("token the previous key signed after the rotation window: %v", err)
	}
	if _, _, err := rotated.Verify(at(current, late)); err != nil {
		t.Fatalf("token of the current key: %v", err)
	}
	// A token (of either key) with a lifetime longer than AccessTTL.
	long := jwt.NewWithClaims(jwt.SigningMethodEdDSA, Claims{RegisteredClaims: jwt.RegisteredClaims{
		Issuer: "nova", Subject: uuid.NewString(), Audience: jwt.ClaimStrings{"nova"},
		IssuedAt: jwt.NewNumericDate(start.Add(-time.Minute)), ExpiresAt: jwt.NewNumericDate(start.Add(24 * time.Hour)),
	}, SessionID: uuid.NewString(), Type: TypeAccess})
	long.Header["kid"] = old.kid
	s, err := long.SignedString(old.priv)
	if err != nil {
		t.Fatal(err)
	}
	rotated.now = func() time.Time { return start.Add(20 * time.Hour) }
	if _, _, err := rotated.Verify(s); !errors.Is(err, ErrInvalid) {
		t.Fatalf("token living a day: %v", err)
	}
}
