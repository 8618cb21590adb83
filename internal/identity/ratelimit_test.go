package identity_test

import (
	"context"
	"testing"
	"time"

	"github.com/nova-social/nova/internal/identity"
	"github.com/nova-social/nova/internal/platform/apperr"
	"github.com/nova-social/nova/internal/platform/testkit"
)

func wantRateLimited(t *testing.T, err error, max time.Duration) {
	t.Helper()
	ae := testkit.WantCode(t, err, apperr.RateLimited)
	if ae.RetryAfter < time.Second || ae.RetryAfter > max || ae.RetryAfter%time.Second != 0 {
		t.Fatalf("RetryAfter %v, want whole seconds in [1s, %v]", ae.RetryAfter, max)
	}
}

func TestLoginLimitPerAddress(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *identity.Config) { c.LoginPerAddrPerMinute = 3 })
	ctx := context.Background()
	in, _ := e.register(t)
	addr := identity.ClientInfo{Addr: "198.51.100.7"}
	for range 3 {
		if _, err := e.svc.Login(ctx, identity.LoginInput{Login: in.Username, Password: in.Password}, addr); err != nil {
			t.Fatal(err)
		}
	}
	// Successful or not, the fourth attempt from the address within the minute is refused.
	_, err := e.svc.Login(ctx, identity.LoginInput{Login: in.Username, Password: in.Password}, addr)
	wantRateLimited(t, err, time.Minute)
	// Another address is not affected.
	if _, err := e.svc.Login(ctx, identity.LoginInput{Login: in.Username, Password: in.Password}, identity.ClientInfo{Addr: "198.51.100.8"}); err != nil {
		t.Fatal(err)
	}
}

func TestFailedLoginLimitPerAccount(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *identity.Config) { c.LoginFailuresPerAccount = 3; c.LoginFailureWindow = time.Hour })
	ctx := context.Background()
	in, reg := e.register(t)
	// Successes do not count as failures.
	for range 5 {
		if _, err := e.svc.Login(ctx, identity.LoginInput{Login: in.Email, Password: in.Password}, identity.ClientInfo{Addr: "203.0.113.1"}); err != nil {
			t.Fatal(err)
		}
	}
	// Three failures from three addresses, by email and by username.
	for i, login := range []string{in.Email, in.Username, in.Email} {
		_, err := e.svc.Login(ctx, identity.LoginInput{Login: login, Password: "wrong password"}, identity.ClientInfo{Addr: "203.0.113." + string(rune('2'+i))})
		testkit.WantCode(t, err, apperr.Unauthenticated)
	}
	// Now even the right password from a fresh address is refused.
	_, err := e.svc.Login(ctx, identity.LoginInput{Login: in.Username, Password: in.Password}, identity.ClientInfo{Addr: "203.0.113.9"})
	wantRateLimited(t, err, time.Hour)
	// changePassword's current-password check counts against the same limit.
	err = e.svc.ChangePassword(ctx, identity.Principal{UserID: reg.UserID, SessionID: reg.SessionID}, in.Password, "another fine secret")
	wantRateLimited(t, err, time.Hour)

	// An unknown login is limited alike, so the limit does not reveal which accounts exist.
	for range 3 {
		_, err := e.svc.Login(ctx, identity.LoginInput{Login: "ghost_user", Password: "wrong password"}, identity.ClientInfo{Addr: "203.0.113.20"})
		testkit.WantCode(t, err, apperr.Unauthenticated)
	}
	_, err = e.svc.Login(ctx, identity.LoginInput{Login: "ghost_user", Password: "wrong password"}, identity.ClientInfo{Addr: "203.0.113.21"})
	wantRateLimited(t, err, time.Hour)

	// The counters live in Postgres: a second service (another replica) sees them.
	replica, err := identity.New(ctx, e.pool, e.bus, e.cfg, quietLog())
	testkit.Must(t, err)
	_, err = replica.Login(ctx, identity.LoginInput{Login: in.Email, Password: in.Password}, identity.ClientInfo{Addr: "203.0.113.30"})
	wantRateLimited(t, err, time.Hour)

	// When the sliding window has passed (two fixed windows), the account logs in again.
	_, err = e.pool.Exec(ctx, `UPDATE identity.rate_limits SET window_start = window_start - interval '2 hours', expires_at = expires_at - interval '2 hours'`)
	testkit.Must(t, err)
	if _, err := e.svc.Login(ctx, identity.LoginInput{Login: in.Email, Password: in.Password}, identity.ClientInfo{Addr: "203.0.113.31"}); err != nil {
		t.Fatal(err)
	}
}

func TestRegisterLimitPerAddress(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *identity.Config) { c.RegisterPerAddrPerHour = 2 })
	ctx := context.Background()
	addr := identity.ClientInfo{Addr: "2001:db8::1"}
	for range 2 {
		if _, err := e.svc.Register(ctx, registration(), addr); err != nil {
			t.Fatal(err)
		}
	}
	_, err := e.svc.Register(ctx, registration(), addr)
	wantRateLimited(t, err, time.Hour)
	if _, err := e.svc.Register(ctx, registration(), identity.ClientInfo{Addr: "2001:db8::2"}); err != nil {
		t.Fatal(err)
	}
}
