package identity_test

import (
	"context"
	"slices"
	"testing"
	"time"
)

// BenchmarkAuthenticate is the per-request cost of authentication: Ed25519
// verification (cached per token) plus the session check, looked up in the
// database or answered by the cache of live sessions.
func BenchmarkAuthenticate(b *testing.B) {
	e := newEnv(b, nil)
	_, reg := e.register(b)
	ctx := context.Background()
	cached := e.watchingReplica(b, nil)
	for name, svc := range map[string]*replica{"looked-up": {svc: e.svc}, "cached": cached} {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				if _, err := svc.svc.Authenticate(ctx, reg.AccessToken); err != nil {
					b.Fatal(err)
				}
			}
		})
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

// BenchmarkSessionEndHeard is how long another replica takes to hear that a
// session ended: from sending the ending statement (a one-statement
// transaction) to the replica having dropped the session.
func BenchmarkSessionEndHeard(b *testing.B) {
	e := newEnv(b, nil)
	_, reg := e.register(b)
	ctx := context.Background()
	r := e.watchingReplica(b, nil)
	const heard = "nova_identity_sessions_ended_heard_total"
	var lags []time.Duration
	for b.Loop() {
		before := r.metric(b, heard)
		start := time.Now()
		// Revoked, then live again: each change is an end as the trigger sees it.
		if _, err := e.pool.Exec(ctx, `UPDATE identity.sessions
			SET revoked_at = CASE WHEN revoked_at IS NULL THEN now() END WHERE id = $1`, reg.SessionID); err != nil {
			b.Fatal(err)
		}
		for r.metric(b, heard) == before {
		}
		lags = append(lags, time.Since(start))
	}
	slices.Sort(lags)
	b.ReportMetric(float64(lags[len(lags)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lags[len(lags)*99/100].Microseconds())/1000, "p99-ms")
}
