package identity_test

import (
	"context"
	"testing"
)

// BenchmarkAuthenticate is the per-request cost of authentication: Ed25519
// verification plus the session's primary-key look-up.
func BenchmarkAuthenticate(b *testing.B) {
	e := newEnv(b, nil)
	_, reg := e.register(b)
	ctx := context.Background()
	b.ResetTimer()
	for b.Loop() {
		if _, err := e.svc.Authenticate(ctx, reg.AccessToken); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAuthenticateParallel measures it with concurrent requests.
func BenchmarkAuthenticateParallel(b *testing.B) {
	e := newEnv(b, nil)
	_, reg := e.register(b)
	ctx := context.Background()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := e.svc.Authenticate(ctx, reg.AccessToken); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
