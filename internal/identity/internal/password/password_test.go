package password

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"testing"
	"time"
)

var fast = Params{MemoryKiB: 64, Iterations: 1, Lanes: 1}

func TestHashVerify(t *testing.T) {
	h, err := NewHasher(OWASP, 0)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	enc, err := h.Hash(ctx, "pässwörd ✓ long enough")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(enc, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("hash %q", enc)
	}
	if rehash, err := h.Verify(ctx, enc, "pässwörd ✓ long enough"); err != nil || rehash {
		t.Fatalf("Verify = %v, %v", rehash, err)
	}
	if _, err := h.Verify(ctx, enc, "pässwörd ✓ long enoug"); !errors.Is(err, ErrMismatch) {
		t.Fatalf("prefix verified: %v", err)
	}
	if err := h.VerifyDummy(ctx, "anything"); !errors.Is(err, ErrMismatch) {
		t.Fatalf("dummy: %v", err)
	}
	// A hash made with weaker parameters verifies and asks for a rehash.
	weak, _ := NewHasher(fast, 0)
	old, _ := weak.Hash(ctx, "secret-secret")
	if rehash, err := h.Verify(ctx, old, "secret-secret"); err != nil || !rehash {
		t.Fatalf("weak hash: rehash=%v err=%v", rehash, err)
	}
	for _, bad := range []string{"", "$argon2i$v=19$m=1,t=1,p=1$AA$AA", "$argon2id$v=18$m=1,t=1,p=1$AA$AA", "$argon2id$v=19$m=x$AA$AA"} {
		if _, err := h.Verify(ctx, bad, "x"); err == nil || errors.Is(err, ErrMismatch) {
			t.Fatalf("malformed hash %q accepted: %v", bad, err)
		}
	}
}

// By default the hasher computes at most NumCPU-1 hashes at once (at least
// one); the next caller waits for a slot and gives up when its context ends.
func TestConcurrencyIsCappedBelowNumCPU(t *testing.T) {
	h, err := NewHasher(fast, 0)
	if err != nil {
		t.Fatal(err)
	}
	want := max(1, runtime.NumCPU()-1)
	if cap(h.slots) != want {
		t.Fatalf("cap %d, want %d", cap(h.slots), want)
	}
	for range want {
		h.slots <- struct{}{}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := h.Hash(ctx, "waiting for a slot"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Hash with every slot taken: %v", err)
	}
	done := make(chan error)
	go func() { _, err := h.Hash(context.Background(), "waiting for a slot"); done <- err }()
	select {
	case err := <-done:
		t.Fatalf("hash ran without a slot: %v", err)
	case <-time.After(50 * time.Millisecond):
	}
	<-h.slots
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	one, err := NewHasher(fast, 1)
	if err != nil || cap(one.slots) != 1 {
		t.Fatalf("explicit cap: %v", err)
	}
}

func TestCommonList(t *testing.T) {
	if n := len(common); n < 9_900 || n > 10_000 {
		t.Fatalf("%d common passwords", n)
	}
	for _, p := range []string{"password", "123456789", "qwertyuiop", "iloveyou", "PASSWORD", "Football"} {
		if !IsCommon(p) {
			t.Errorf("%q not common", p)
		}
	}
	if IsCommon("correct horse battery staple") {
		t.Error("passphrase reported common")
	}
}

// BenchmarkHash is the cost of one argon2id hash at the OWASP parameters:
// what a registration, a login or a password change spends on hashing.
func BenchmarkHash(b *testing.B) {
	h, err := NewHasher(OWASP, 0)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := h.Hash(context.Background(), "correct horse battery staple"); err != nil {
			b.Fatal(err)
		}
	}
}

// Only a weaker hash asks for a rehash: one made with more memory or passes
// (by an operator's stronger settings, or a later version since rolled back)
// is kept, not replaced by a weaker hash at the next login.
func TestStrongerHashIsNotDowngraded(t *testing.T) {
	h, err := NewHasher(fast, 0)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, p := range []Params{
		{MemoryKiB: 128, Iterations: 1, Lanes: 1},
		{MemoryKiB: 64, Iterations: 3, Lanes: 1},
		{MemoryKiB: 64, Iterations: 1, Lanes: 2},
	} {
		enc := hashWith(t, p)
		if rehash, err := h.Verify(ctx, enc, "secret-secret"); err != nil || rehash {
			t.Fatalf("hash with %+v: rehash=%v err=%v, want it kept", p, rehash, err)
		}
	}
	// Less memory is weaker, whatever the passes: memory is what makes
	// argon2id costly to attack on custom hardware.
	enc := hashWith(t, Params{MemoryKiB: 32, Iterations: 4, Lanes: 1})
	if rehash, err := h.Verify(ctx, enc, "secret-secret"); err != nil || !rehash {
		t.Fatalf("hash with less memory: rehash=%v err=%v, want a rehash", rehash, err)
	}
}

// hashWith hashes "secret-secret" with p.
func hashWith(t *testing.T, p Params) string {
	t.Helper()
	h, err := NewHasher(p, 0)
	if err != nil {
		t.Fatal(err)
	}
	enc, err := h.Hash(context.Background(), "secret-secret")
	if err != nil {
		t.Fatal(err)
	}
	return enc
}
