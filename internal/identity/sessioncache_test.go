package identity_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/nova-social/nova/internal/identity"
	"github.com/nova-social/nova/internal/platform/apperr"
	"github.com/nova-social/nova/internal/platform/domains"
	"github.com/nova-social/nova/internal/platform/pgtest"
	"github.com/nova-social/nova/internal/platform/postgres"
	"github.com/nova-social/nova/internal/platform/testkit"
)

const sessionLookup = "FROM identity.sessions"

// replica is another identity service on the same database, with its own
// metrics and a tracer on its pool, watching sessions until the test ends.
type replica struct {
	svc *identity.Service
	reg *prometheus.Registry
}

func (e *env) watchingReplica(t testing.TB, tracer pgx.QueryTracer) *replica {
	t.Helper()
	pools := e.db.Pools
	if tracer != nil {
		pools = e.db.Traced(t, tracer)
	}
	return e.watchingReplicaOn(t, pools)
}

// watchingReplicaOn is watchingReplica on pools of the test's own.
func (e *env) watchingReplicaOn(t testing.TB, pools *postgres.Pools) *replica {
	t.Helper()
	r := &replica{reg: prometheus.NewRegistry()}
	cfg := e.cfg
	cfg.Metrics = r.reg
	var err error
	r.svc, err = identity.New(context.Background(), pools.For(domains.Identity), e.bus, cfg, quietLog())
	testkit.Must(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	wait := r.svc.WatchSessions(ctx)
	t.Cleanup(func() {
		cancel()
		wait()
	})
	r.waitListening(t, true)
	return r
}

func (r *replica) metric(t testing.TB, name string) float64 {
	t.Helper()
	return testkit.MetricSum(t, r.reg, name)
}

func (r *replica) waitListening(t testing.TB, on bool) {
	t.Helper()
	testkit.Eventually(t, "session cache listening = "+map[bool]string{true: "1", false: "0"}[on], func() bool {
		return (r.metric(t, "nova_identity_session_cache_listening") == 1) == on
	})
}

// A replica that watches sessions looks each one up once, and the replica
// that ends a session refuses its tokens on their very next request.
func TestSessionCacheSparesLookups(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	ctx := context.Background()
	count := &pgtest.StatementCounter{Match: sessionLookup}
	r := e.watchingReplica(t, count)
	_, reg := e.register(t)

	for range 20 {
		p, err := r.svc.Authenticate(ctx, reg.AccessToken)
		testkit.Must(t, err)
		if p.SessionID != reg.SessionID || p.UserID != reg.UserID {
			t.Fatalf("principal %+v", p)
		}
	}
	if n := count.Count(); n != 1 {
		t.Fatalf("%d session look-ups for 20 requests, want 1", n)
	}
	if got := r.metric(t, "nova_identity_session_checks_total"); got != 20 {
		t.Fatalf("session checks counted %v, want 20", got)
	}

	testkit.Must(t, r.svc.Logout(ctx, identity.Principal{UserID: reg.UserID, SessionID: reg.SessionID}))
	_, err := r.svc.Authenticate(ctx, reg.AccessToken)
	testkit.WantCode(t, err, apperr.Unauthenticated)
}

// However a session ends, on any replica or by hand in the database, every
// other replica that cached it refuses its tokens as soon as it hears.
func TestSessionEndedAnywhereReachesEveryReplica(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	ctx := context.Background()
	r := e.watchingReplica(t, nil)
	ends := map[string]func(identity.Tokens){
		"logout on another replica": func(reg identity.Tokens) {
			testkit.Must(t, e.svc.Logout(ctx, identity.Principal{UserID: reg.UserID, SessionID: reg.SessionID}))
		},
		"logoutAll on another replica": func(reg identity.Tokens) {
			testkit.Must(t, e.svc.LogoutAll(ctx, reg.UserID))
		},
		"revoked by hand": func(reg identity.Tokens) {
			_, err := e.pool.Exec(ctx, `UPDATE identity.sessions SET revoked_at = now() WHERE id = $1`, reg.SessionID)
			testkit.Must(t, err)
		},
		"expiry brought forward by hand": func(reg identity.Tokens) {
			_, err := e.pool.Exec(ctx, `UPDATE identity.sessions SET expires_at = now() - interval '1 second' WHERE id = $1`, reg.SessionID)
			testkit.Must(t, err)
		},
		"deleted by hand": func(reg identity.Tokens) {
			_, err := e.pool.Exec(ctx, `DELETE FROM identity.sessions WHERE id = $1`, reg.SessionID)
			testkit.Must(t, err)
		},
		"moved to another account by hand": func(reg identity.Tokens) {
			_, other := e.register(t)
			_, err := e.pool.Exec(ctx, `UPDATE identity.sessions SET user_id = $2 WHERE id = $1`, reg.SessionID, other.UserID)
			testkit.Must(t, err)
		},
		// TRUNCATE fires no row trigger.
		"truncated by hand": func(identity.Tokens) {
			_, err := e.pool.Exec(ctx, `TRUNCATE identity.sessions CASCADE`)
			testkit.Must(t, err)
		},
	}
	for name, end := range ends {
		t.Run(name, func(t *testing.T) {
			_, reg := e.register(t)
			cacheLive(t, r, reg)
			heard := r.metric(t, "nova_identity_sessions_ended_heard_total")
			end(reg)
			testkit.Eventually(t, "the end heard", func() bool {
				return r.metric(t, "nova_identity_sessions_ended_heard_total") > heard
			})
			_, err := r.svc.Authenticate(ctx, reg.AccessToken)
			testkit.WantCode(t, err, apperr.Unauthenticated)
		})
	}
}

// A look-up that found the session live just before it ended, and finished
// after the end was heard, must not leave the session cached as live.
func TestSessionCacheKeepsNoLookupFromBeforeAnEnd(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	ctx := context.Background()
	p := &pause{match: sessionLookup, after: true, reached: make(chan struct{}), release: make(chan struct{})}
	r := e.watchingReplica(t, p)
	var once sync.Once
	release := func() { once.Do(func() { close(p.release) }) }
	t.Cleanup(release)
	_, reg := e.register(t)

	first := make(chan error, 1)
	go func() {
		_, err := r.svc.Authenticate(ctx, reg.AccessToken)
		first <- err
	}()
	select {
	case <-p.reached:
	case <-time.After(10 * time.Second):
		t.Fatal("look-up never ran")
	}
	heard := r.metric(t, "nova_identity_sessions_ended_heard_total")
	testkit.Must(t, e.svc.Logout(ctx, identity.Principal{UserID: reg.UserID, SessionID: reg.SessionID}))
	testkit.Eventually(t, "logout heard", func() bool {
		return r.metric(t, "nova_identity_sessions_ended_heard_total") > heard
	})
	release()
	// The request that read the session live before the logout passes, as it
	// would have had it run a moment earlier; the next one must not.
	testkit.Must(t, <-first)
	_, err := r.svc.Authenticate(ctx, reg.AccessToken)
	testkit.WantCode(t, err, apperr.Unauthenticated)
}

// While a replica cannot hear ended sessions it looks every session up, and
// what it cached before is gone when it hears again: an end it missed
// cannot be answered from the cache.
func TestSessionCacheForgetsAcrossADeafSpell(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	ctx := context.Background()
	r := e.watchingReplica(t, nil)
	_, reg := e.register(t)
	cacheLive(t, r, reg)

	var killed int
	testkit.Must(t, e.db.Pools.Login().QueryRow(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE datname = current_database() AND query LIKE '%identity.session_ended%' AND pid <> pg_backend_pid()`).Scan(&killed))
	if killed != 1 {
		t.Fatalf("terminated %d listening connections, want 1", killed)
	}
	r.waitListening(t, false)
	// Ended while nobody heard: no notification will ever arrive for it.
	_, err := e.pool.Exec(ctx, `UPDATE identity.sessions SET revoked_at = now() WHERE id = $1`, reg.SessionID)
	testkit.Must(t, err)
	r.waitListening(t, true)
	_, err = r.svc.Authenticate(ctx, reg.AccessToken)
	testkit.WantCode(t, err, apperr.Unauthenticated)
}

// relayedReplica is a watching replica whose connections go through a relay.
func (e *env) relayedReplica(t testing.TB) (*pgtest.Relay, *replica) {
	t.Helper()
	rl, url := e.db.Relay(t)
	return rl, e.watchingReplicaOn(t, e.db.Open(t, postgres.Options{URL: url}))
}

// A replica whose connection goes silent without closing (a network
// partition) hears nothing, and must stop answering from its cache within
// ProbeEvery and ProbeTimeout, not once TCP gives up many minutes later.
func TestSessionCacheTrustsNoSilentConnection(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	ctx := context.Background()
	rl, r := e.relayedReplica(t)
	_, reg := e.register(t)
	cacheLive(t, r, reg)

	rl.Silence()
	_, err := e.pool.Exec(ctx, `UPDATE identity.sessions SET revoked_at = now() WHERE id = $1`, reg.SessionID)
	testkit.Must(t, err)
	r.waitListening(t, false)
	_, err = r.svc.Authenticate(ctx, reg.AccessToken)
	testkit.WantCode(t, err, apperr.Unauthenticated)
}

// The replica that ends a session refuses its tokens on their next request
// without waiting to hear the notification, however the session ended.
func TestSessionCacheForgetsWhatItEndsItself(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	ctx := context.Background()
	rl, r := e.relayedReplica(t)
	rl.Deaf.Store(true)
	// Each ends a session r has cached and returns its tokens.
	ends := map[string]func(t *testing.T) identity.Tokens{
		"logout": func(t *testing.T) identity.Tokens {
			_, reg := e.register(t)
			cacheLive(t, r, reg)
			testkit.Must(t, r.svc.Logout(ctx, identity.Principal{UserID: reg.UserID, SessionID: reg.SessionID}))
			return reg
		},
		"logoutAll": func(t *testing.T) identity.Tokens {
			_, reg := e.register(t)
			cacheLive(t, r, reg)
			testkit.Must(t, r.svc.LogoutAll(ctx, reg.UserID))
			return reg
		},
		"changePassword": func(t *testing.T) identity.Tokens {
			in, reg := e.register(t)
			other, err := e.svc.Login(ctx, identity.LoginInput{Login: in.Username, Password: in.Password}, client)
			testkit.Must(t, err)
			cacheLive(t, r, other)
			testkit.Must(t, r.svc.ChangePassword(ctx, identity.Principal{UserID: reg.UserID, SessionID: reg.SessionID},
				in.Password, "another horse battery staple"))
			return other
		},
		"refresh token reused": func(t *testing.T) identity.Tokens {
			_, reg := e.register(t)
			next, err := r.svc.Refresh(ctx, reg.RefreshToken, client)
			testkit.Must(t, err)
			cacheLive(t, r, next)
			_, err = r.svc.Refresh(ctx, reg.RefreshToken, client)
			testkit.WantCode(t, err, apperr.Unauthenticated)
			return next
		},
	}
	for name, end := range ends {
		t.Run(name, func(t *testing.T) {
			ended := end(t)
			_, err := r.svc.Authenticate(ctx, ended.AccessToken)
			testkit.WantCode(t, err, apperr.Unauthenticated)
		})
	}
	// Else the cache may have been off, and the checks above proved nothing.
	if got := r.metric(t, "nova_identity_sessions_ended_heard_total"); got != 0 {
		t.Fatalf("the replica heard %v ended sessions, want none", got)
	}
	if r.metric(t, "nova_identity_session_cache_listening") != 1 {
		t.Fatal("the cache stopped listening")
	}
}

// cacheLive has r cache tok's session as live.
func cacheLive(t *testing.T, r *replica, tok identity.Tokens) {
	t.Helper()
	_, err := r.svc.Authenticate(context.Background(), tok.AccessToken)
	testkit.Must(t, err)
}

// No notification marks a session reaching its expiry: the cache must end
// its entry when the database's clock says so, even on a replica whose clock
// is behind (here by an hour, the database's now() being moved on for its
// connections).
func TestSessionCacheExpiresByTheDatabaseClock(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	ctx := context.Background()
	_, err := e.db.Pools.Login().Exec(ctx, `CREATE SCHEMA clock;
		GRANT USAGE ON SCHEMA clock TO PUBLIC;
		CREATE FUNCTION clock.now() RETURNS timestamptz LANGUAGE sql STABLE
			AS $$ SELECT pg_catalog.now() + interval '1 hour' $$`)
	testkit.Must(t, err)
	r := e.watchingReplicaOn(t, e.db.Open(t, postgres.Options{URL: e.db.WithParam("search_path", "clock,pg_catalog")}))
	_, reg := e.register(t)
	heard := r.metric(t, "nova_identity_sessions_ended_heard_total")
	_, err = e.pool.Exec(ctx, `UPDATE identity.sessions SET expires_at = now() + interval '1 hour 1 second' WHERE id = $1`, reg.SessionID)
	testkit.Must(t, err)
	// Else the shortening, heard during the look-up below, would keep it
	// from being cached.
	testkit.Eventually(t, "the shortening heard", func() bool {
		return r.metric(t, "nova_identity_sessions_ended_heard_total") > heard
	})

	cacheLive(t, r, reg)
	// Else the check below would prove nothing: the database refuses the
	// session by its own clock too.
	if n := r.metric(t, "nova_identity_session_cache_entries"); n != 1 {
		t.Fatalf("%v sessions cached, want the one just checked", n)
	}
	time.Sleep(1500 * time.Millisecond)
	_, err = r.svc.Authenticate(ctx, reg.AccessToken)
	testkit.WantCode(t, err, apperr.Unauthenticated)
}
