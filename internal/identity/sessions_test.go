package identity_test

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/nova-social/nova/internal/events"
	"github.com/nova-social/nova/internal/identity"
	"github.com/nova-social/nova/internal/identity/internal/store"
	"github.com/nova-social/nova/internal/platform/apperr"
	"github.com/nova-social/nova/internal/platform/domains"
	"github.com/nova-social/nova/internal/platform/testkit"
)

func TestRefreshReuseRevokesTheFamily(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	ctx := context.Background()
	in, reg := e.register(t)
	other, err := e.svc.Login(ctx, identity.LoginInput{Login: in.Username, Password: in.Password}, client)
	testkit.Must(t, err)

	second, err := e.svc.Refresh(ctx, reg.RefreshToken, client)
	testkit.Must(t, err)
	third, err := e.svc.Refresh(ctx, second.RefreshToken, client)
	testkit.Must(t, err)

	// An attacker replays the first, already rotated token.
	_, err = e.svc.Refresh(ctx, reg.RefreshToken, client)
	testkit.WantCode(t, err, apperr.Unauthenticated)
	// The whole family is dead: the latest refresh token and the access token too.
	_, err = e.svc.Refresh(ctx, third.RefreshToken, client)
	testkit.WantCode(t, err, apperr.Unauthenticated)
	_, err = e.svc.Authenticate(ctx, third.AccessToken)
	testkit.WantCode(t, err, apperr.Unauthenticated)
	// Another session (another family) is untouched.
	if _, err := e.svc.Refresh(ctx, other.RefreshToken, client); err != nil {
		t.Fatalf("unrelated session affected: %v", err)
	}
	if got := e.db.Topics(t, "userId", reg.UserID.String()); !slices.Contains(got, "identity.session.revoked") {
		t.Fatalf("no identity.session.revoked in %v", got)
	}
	var reason string
	testkit.Must(t, e.pool.QueryRow(ctx, `SELECT revoked_reason FROM identity.sessions WHERE id = $1`, reg.SessionID).Scan(&reason))
	if reason != identity.ReasonRefreshReuse {
		t.Fatalf("revoked reason %q", reason)
	}

	for _, tok := range []string{"", "unknown-token", reg.AccessToken} {
		_, err = e.svc.Refresh(ctx, tok, client)
		testkit.WantCode(t, err, apperr.Unauthenticated)
	}
}

// A client refreshing in a loop must not grow storage: a session keeps the
// hashes of its newest rotated tokens only.
func TestRotatedTokensAreKeptUpToALimit(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	ctx := context.Background()
	_, reg := e.register(t)
	tokens := []string{reg.RefreshToken}
	for range store.KeptRotated + 5 {
		next, err := e.svc.Refresh(ctx, tokens[len(tokens)-1], client)
		testkit.Must(t, err)
		tokens = append(tokens, next.RefreshToken)
	}
	var rotated, live int
	testkit.Must(t, e.pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE rotated_at IS NOT NULL), count(*) FILTER (WHERE rotated_at IS NULL)
		FROM identity.refresh_tokens WHERE session_id = $1`, reg.SessionID).Scan(&rotated, &live))
	if rotated != store.KeptRotated || live != 1 {
		t.Fatalf("stored %d rotated and %d live tokens, want %d and 1", rotated, live, store.KeptRotated)
	}
	// The oldest one kept is recognised as a reuse (forgotten ones too: see
	// TestReuseOfAForgottenRotatedTokenRevokesTheSession).
	_, err := e.svc.Refresh(ctx, tokens[len(tokens)-1-store.KeptRotated], client)
	testkit.WantCode(t, err, apperr.Unauthenticated)
	_, err = e.svc.Refresh(ctx, tokens[len(tokens)-1], client)
	testkit.WantCode(t, err, apperr.Unauthenticated)
}

func TestConcurrentRefreshOfOneTokenSucceedsOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	_, reg := e.register(t)
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Go(func() { _, errs[i] = e.svc.Refresh(context.Background(), reg.RefreshToken, client) })
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		if err == nil {
			ok++
		} else if !apperr.Is(err, apperr.Unauthenticated) {
			t.Fatalf("unexpected error %v", err)
		}
	}
	// The first wins; the others are reuses, which revoke the family.
	if ok != 1 {
		t.Fatalf("%d refreshes succeeded, want 1", ok)
	}
}

func TestSessionExpiry(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	ctx := context.Background()
	in, idle := e.register(t)
	absolute, err := e.svc.Login(ctx, identity.LoginInput{Login: in.Username, Password: in.Password}, client)
	testkit.Must(t, err)
	active, err := e.svc.Login(ctx, identity.LoginInput{Login: in.Username, Password: in.Password}, client)
	testkit.Must(t, err)

	// Idle for just over 7 days: the refresh token expired.
	_, err = e.pool.Exec(ctx, `UPDATE identity.sessions SET last_used_at = now() - interval '7 days 1 minute' WHERE id = $1`, idle.SessionID)
	testkit.Must(t, err)
	// Used recently but opened 30 days ago: past the absolute limit.
	_, err = e.pool.Exec(ctx, `UPDATE identity.sessions SET created_at = now() - interval '30 days', expires_at = now() - interval '1 second' WHERE id = $1`, absolute.SessionID)
	testkit.Must(t, err)
	// Idle for 6 days: still fine, and refreshing resets the idle clock.
	_, err = e.pool.Exec(ctx, `UPDATE identity.sessions SET last_used_at = now() - interval '6 days' WHERE id = $1`, active.SessionID)
	testkit.Must(t, err)

	_, err = e.svc.Refresh(ctx, idle.RefreshToken, client)
	testkit.WantCode(t, err, apperr.Unauthenticated)
	_, err = e.svc.Refresh(ctx, absolute.RefreshToken, client)
	testkit.WantCode(t, err, apperr.Unauthenticated)
	_, err = e.svc.Authenticate(ctx, absolute.AccessToken)
	testkit.WantCode(t, err, apperr.Unauthenticated)
	next, err := e.svc.Refresh(ctx, active.RefreshToken, client)
	testkit.Must(t, err)
	sessions, err := e.svc.Sessions(ctx, next.UserID)
	testkit.Must(t, err)
	if len(sessions) != 1 || sessions[0].ID != active.SessionID || time.Since(sessions[0].LastUsedAt) > time.Minute {
		t.Fatalf("live sessions %+v", sessions)
	}
}

func TestBanThroughTheBus(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	ctx := context.Background()
	in, reg := e.register(t)
	bystanderIn, bystander := e.register(t)

	// The user domain's ban, as it arrives on the bus.
	testkit.Must(t, pgx.BeginFunc(ctx, e.db.Pools.For(domains.User), func(tx pgx.Tx) error {
		return e.bus.Publish(ctx, tx, events.UserBanned{UserID: reg.UserID, Reason: "spam"})
	}))
	testkit.Eventually(t, "sessions revoked after user.banned", func() bool {
		_, err := e.svc.Authenticate(ctx, reg.AccessToken)
		return apperr.Is(err, apperr.Unauthenticated)
	})
	_, err := e.svc.Refresh(ctx, reg.RefreshToken, client)
	testkit.WantCode(t, err, apperr.Unauthenticated)

	// The right password: FORBIDDEN, account suspended. A wrong one reveals nothing.
	_, err = e.svc.Login(ctx, identity.LoginInput{Login: in.Email, Password: in.Password}, client)
	if ae := testkit.WantCode(t, err, apperr.Forbidden); ae.Message != "account suspended" {
		t.Fatalf("message %q", ae.Message)
	}
	_, err = e.svc.Login(ctx, identity.LoginInput{Login: in.Email, Password: "wrong password!"}, client)
	testkit.WantCode(t, err, apperr.Unauthenticated)

	if _, err := e.svc.Authenticate(ctx, bystander.AccessToken); err != nil {
		t.Fatalf("bystander affected: %v", err)
	}
	if _, err := e.svc.Login(ctx, identity.LoginInput{Login: bystanderIn.Email, Password: bystanderIn.Password}, client); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, "identity.session.revoked published", func() bool {
		return slices.Contains(e.db.Topics(t, "userId", reg.UserID.String()), "identity.session.revoked")
	})
}

// A ban that lands while a login with the right password is between reading
// the credentials and opening its session refuses that login: no session
// outlives the ban.
func TestBanDuringLoginRefusesIt(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	ctx := context.Background()
	in, reg := e.register(t)
	resume := e.pausedLogin(t, unhitSQL, identity.LoginInput{Login: in.Username, Password: in.Password})

	testkit.Must(t, pgx.BeginFunc(ctx, e.db.Pools.For(domains.User), func(tx pgx.Tx) error {
		return e.bus.Publish(ctx, tx, events.UserBanned{UserID: reg.UserID, Reason: "spam"})
	}))
	testkit.Eventually(t, "sessions revoked after user.banned", func() bool {
		_, err := e.svc.Authenticate(ctx, reg.AccessToken)
		return apperr.Is(err, apperr.Unauthenticated)
	})

	r := resume()
	if ae := testkit.WantCode(t, r.err, apperr.Forbidden); ae.Message != "account suspended" {
		t.Fatalf("message %q", ae.Message)
	}
	sessions, err := e.svc.Sessions(ctx, reg.UserID)
	testkit.Must(t, err)
	if len(sessions) != 0 {
		t.Fatalf("banned account has live sessions: %+v", sessions)
	}
}

// A session that a ban somehow missed does not refresh.
func TestRefreshRefusedOnceBanned(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	ctx := context.Background()
	_, reg := e.register(t)
	_, err := e.pool.Exec(ctx, `UPDATE identity.credentials SET banned_at = now() WHERE user_id = $1`, reg.UserID)
	testkit.Must(t, err)
	_, err = e.svc.Refresh(ctx, reg.RefreshToken, client)
	testkit.WantCode(t, err, apperr.Unauthenticated)
}

// A thief who refreshes a stolen token more than KeptRotated times in a row
// pushes it out of the kept ones; when its owner presents it afterwards, it
// is still recognised as reused and the thief's session is revoked.
func TestReuseOfAForgottenRotatedTokenRevokesTheSession(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	ctx := context.Background()
	_, reg := e.register(t)
	stolen := reg.RefreshToken
	for range store.KeptRotated + 1 {
		next, err := e.svc.Refresh(ctx, stolen, client)
		testkit.Must(t, err)
		stolen = next.RefreshToken
	}
	_, err := e.svc.Refresh(ctx, reg.RefreshToken, client)
	testkit.WantCode(t, err, apperr.Unauthenticated)
	_, err = e.svc.Refresh(ctx, stolen, client)
	testkit.WantCode(t, err, apperr.Unauthenticated)
	var reason string
	testkit.Must(t, e.pool.QueryRow(ctx, `SELECT coalesce(revoked_reason, '') FROM identity.sessions WHERE id = $1`, reg.SessionID).Scan(&reason))
	if reason != identity.ReasonRefreshReuse {
		t.Fatalf("revoked reason %q, want %q", reason, identity.ReasonRefreshReuse)
	}
}

// A respelling of the current refresh token (a trailing newline, unused
// bits of its last character set) is not a token Nova made: it is refused
// as unknown and ends nothing, where taken for a forgotten rotated token it
// would revoke its owner's session.
func TestRespelledRefreshTokenRevokesNothing(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	ctx := context.Background()
	_, reg := e.register(t)
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	tok := reg.RefreshToken
	last := strings.IndexByte(alphabet, tok[len(tok)-1])
	for _, respelled := range []string{tok + "\n", tok[:len(tok)-1] + string(alphabet[last^1]), "\n" + tok} {
		if respelled == tok {
			continue
		}
		_, err := e.svc.Refresh(ctx, respelled, client)
		testkit.WantCode(t, err, apperr.Unauthenticated)
	}
	if _, err := e.svc.Refresh(ctx, tok, client); err != nil {
		t.Fatalf("the current refresh token after respelled copies: %v", err)
	}
}
