package identity_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/nova-social/nova/internal/identity"
	"github.com/nova-social/nova/internal/platform/apperr"
	"github.com/nova-social/nova/internal/platform/testkit"
)

// wantRateLimited checks a refusal by a limit counted per window. A retry
// may have to wait until most of the current fixed window has slid out of
// the sliding one, so up to two windows.
func wantRateLimited(t *testing.T, err error, window time.Duration) {
	t.Helper()
	ae := testkit.WantCode(t, err, apperr.RateLimited)
	if ae.RetryAfter < time.Second || ae.RetryAfter > 2*window || ae.RetryAfter%time.Second != 0 {
		t.Fatalf("RetryAfter %v, want whole seconds in [1s, %v]", ae.RetryAfter, 2*window)
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
	register := func(addr string) error {
		_, err := e.svc.Register(ctx, registration(), identity.ClientInfo{Addr: addr})
		return err
	}
	for _, addr := range []string{"2001:db8:0:1::1", "2001:db8:0:1::2"} {
		testkit.Must(t, register(addr))
	}
	// An IPv6 client is one /64: any other address in it is refused too.
	for _, addr := range []string{"2001:db8:0:1:ffff:ffff:ffff:ffff", "2001:db8:0:1::3%eth0"} {
		wantRateLimited(t, register(addr), time.Hour)
	}
	testkit.Must(t, register("2001:db8:0:2::1"))

	// An IPv4 client is its address, also when it comes mapped into IPv6.
	testkit.Must(t, register("192.0.2.1"))
	testkit.Must(t, register("::ffff:192.0.2.1"))
	wantRateLimited(t, register("192.0.2.1"), time.Hour)
	testkit.Must(t, register("::ffff:192.0.2.2"))
}

// An unknown login is counted under the key it was looked up by, as a known
// one is under its account: otherwise failing with one spelling of an email
// (decomposed accents) and trying another (composed) is refused only if the
// account exists. And no login text, often a password typed into the wrong
// field, is stored with the counter.
func TestUnknownLoginCountedUnderItsLookupKey(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *identity.Config) { c.LoginFailuresPerAccount = 3; c.LoginFailureWindow = time.Hour })
	ctx := context.Background()
	in := registration()
	in.Email = "Jos\u00e9." + in.Email
	_, err := e.svc.Register(ctx, in, client)
	testkit.Must(t, err)
	decomposed := func(email string) string { return strings.ReplaceAll(email, "\u00e9", "e\u0301") }
	for name, email := range map[string]string{"known": in.Email, "unknown": "Jos\u00e9.nobody@example.org"} {
		for range 3 {
			_, err := e.svc.Login(ctx, identity.LoginInput{Login: decomposed(email), Password: "wrong password"}, identity.ClientInfo{Addr: "203.0.113.40"})
			testkit.WantCode(t, err, apperr.Unauthenticated)
		}
		_, err := e.svc.Login(ctx, identity.LoginInput{Login: email, Password: "wrong password"}, identity.ClientInfo{Addr: "203.0.113.41"})
		if !apperr.Is(err, apperr.RateLimited) {
			t.Errorf("%s email: composed spelling after 3 failures of the decomposed one: %v, want RATE_LIMITED", name, err)
		}
	}

	_, err = e.svc.Login(ctx, identity.LoginInput{Login: "Hunter2-Secret", Password: "wrong password"}, client)
	testkit.WantCode(t, err, apperr.Unauthenticated)
	var n int
	testkit.Must(t, e.pool.QueryRow(ctx, `SELECT count(*) FROM identity.rate_limits WHERE bucket ILIKE '%hunter2%' OR bucket ILIKE '%nobody%'`).Scan(&n))
	if n != 0 {
		t.Errorf("%d counters hold the login text", n)
	}
}
