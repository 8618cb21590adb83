package identity_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/nova-social/nova/internal/identity"
	"github.com/nova-social/nova/internal/platform/apperr"
	"github.com/nova-social/nova/internal/platform/testkit"
)

func TestRegisterLoginRefreshLogout(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	ctx := context.Background()
	in, reg := e.register(t)
	if reg.AccessToken == "" || reg.RefreshToken == "" || reg.UserID == uuid.Nil || reg.SessionID == uuid.Nil {
		t.Fatalf("incomplete tokens: %+v", reg)
	}
	if d := time.Until(reg.ExpiresAt); d < 14*time.Minute || d > 15*time.Minute+time.Second {
		t.Fatalf("access token lifetime %v, want 15m", d)
	}
	if reg.UserID.Version() != 7 || reg.SessionID.Version() != 7 {
		t.Fatalf("ids are not UUIDv7: %v %v", reg.UserID, reg.SessionID)
	}
	p, err := e.svc.Authenticate(ctx, reg.AccessToken)
	testkit.Must(t, err)
	if p.UserID != reg.UserID || p.SessionID != reg.SessionID {
		t.Fatalf("principal %+v, want %v/%v", p, reg.UserID, reg.SessionID)
	}

	// Login by email and by username, both case-insensitively.
	for _, login := range []string{in.Email, strings.ToUpper(in.Email), in.Username, strings.ToLower(in.Username)} {
		tok, err := e.svc.Login(ctx, identity.LoginInput{Login: login, Password: in.Password}, client)
		if err != nil {
			t.Fatalf("Login(%q): %v", login, err)
		}
		if tok.UserID != reg.UserID || tok.SessionID == reg.SessionID {
			t.Fatalf("Login(%q) = %+v", login, tok)
		}
	}
	sessions, err := e.svc.Sessions(ctx, reg.UserID)
	testkit.Must(t, err)
	if len(sessions) != 5 {
		t.Fatalf("%d sessions, want 5", len(sessions))
	}
	if sessions[0].UserAgent != client.UserAgent {
		t.Fatalf("user agent %q", sessions[0].UserAgent)
	}

	// Refresh rotates: a new pair, same session.
	next, err := e.svc.Refresh(ctx, reg.RefreshToken, client)
	testkit.Must(t, err)
	if next.SessionID != reg.SessionID || next.UserID != reg.UserID || next.RefreshToken == reg.RefreshToken {
		t.Fatalf("refresh = %+v", next)
	}
	if _, err := e.svc.Authenticate(ctx, next.AccessToken); err != nil {
		t.Fatal(err)
	}

	// Logout: the session's access and refresh tokens stop working at once.
	testkit.Must(t, e.svc.Logout(ctx, identity.Principal{UserID: reg.UserID, SessionID: reg.SessionID}))
	_, err = e.svc.Authenticate(ctx, next.AccessToken)
	testkit.WantCode(t, err, apperr.Unauthenticated)
	_, err = e.svc.Authenticate(ctx, reg.AccessToken)
	testkit.WantCode(t, err, apperr.Unauthenticated)
	_, err = e.svc.Refresh(ctx, next.RefreshToken, client)
	testkit.WantCode(t, err, apperr.Unauthenticated)
	testkit.Must(t, e.svc.Logout(ctx, identity.Principal{UserID: reg.UserID, SessionID: reg.SessionID})) // idempotent

	sessions, err = e.svc.Sessions(ctx, reg.UserID)
	testkit.Must(t, err)
	if len(sessions) != 4 || slices.ContainsFunc(sessions, func(s identity.Session) bool { return s.ID == reg.SessionID }) {
		t.Fatalf("sessions after logout: %+v", sessions)
	}

	// LogoutAll ends the rest.
	testkit.Must(t, e.svc.LogoutAll(ctx, reg.UserID))
	sessions, err = e.svc.Sessions(ctx, reg.UserID)
	testkit.Must(t, err)
	if len(sessions) != 0 {
		t.Fatalf("sessions after logoutAll: %+v", sessions)
	}

	got := e.db.Topics(t, "userId", reg.UserID.String())
	want := []string{"identity.user.registered", "identity.user.logged_in", "identity.user.logged_in", "identity.user.logged_in", "identity.user.logged_in", "identity.session.revoked", "identity.session.revoked"}
	if !slices.Equal(got, want) {
		t.Fatalf("events %v, want %v", got, want)
	}
}

func TestRegisterValidation(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	ctx := context.Background()
	cases := []struct {
		name   string
		change func(*identity.RegisterInput)
		field  string
	}{
		{"empty email", func(in *identity.RegisterInput) { in.Email = "" }, "email"},
		{"email without @", func(in *identity.RegisterInput) { in.Email = "nobody.example.org" }, "email"},
		{"email with name", func(in *identity.RegisterInput) { in.Email = "Bob <bob@example.org>" }, "email"},
		{"email with space", func(in *identity.RegisterInput) { in.Email = " bob@example.org" }, "email"},
		{"email too long", func(in *identity.RegisterInput) { in.Email = strings.Repeat("a", 250) + "@e.org" }, "email"},
		{"username too short", func(in *identity.RegisterInput) { in.Username = "ab" }, "username"},
		{"username too long", func(in *identity.RegisterInput) { in.Username = strings.Repeat("a", 31) }, "username"},
		{"username with dash", func(in *identity.RegisterInput) { in.Username = "a-b-c" }, "username"},
		{"username with accent", func(in *identity.RegisterInput) { in.Username = "josé_1" }, "username"},
		{"password too short", func(in *identity.RegisterInput) { in.Password = "1234567" }, "password"},
		{"password 7 code points in 21 bytes", func(in *identity.RegisterInput) { in.Password = "日本語日本語日" }, "password"},
		{"password too long", func(in *identity.RegisterInput) { in.Password = strings.Repeat("x", 129) }, "password"},
		{"common password", func(in *identity.RegisterInput) { in.Password = "password1" }, "password"},
		{"common password other case", func(in *identity.RegisterInput) { in.Password = "BaseBall1" }, "password"},
		{"invalid UTF-8 password", func(in *identity.RegisterInput) { in.Password = "abc\xffdefgh" }, "password"},
		{"display name too long", func(in *identity.RegisterInput) { in.DisplayName = strings.Repeat("é", 65) }, "displayName"},
		{"display name blank", func(in *identity.RegisterInput) { in.DisplayName = "   " }, "displayName"},
		{"display name with NUL", func(in *identity.RegisterInput) { in.DisplayName = "a\x00b" }, "displayName"},
	}
	for _, c := range cases {
		in := registration()
		c.change(&in)
		_, err := e.svc.Register(ctx, in, client)
		if ae := testkit.WantCode(t, err, apperr.BadInput, c.field); ae.Message == "" {
			t.Fatalf("%s: empty message", c.name)
		}
	}

	// Limits are inclusive, counted in code points, and nothing is truncated.
	in := registration()
	in.Username = strings.Repeat("A", 30)
	in.Password = strings.Repeat("🔑", 128) // 512 bytes
	in.DisplayName = strings.Repeat("ß", 64)
	reg, err := e.svc.Register(ctx, in, client)
	testkit.Must(t, err)
	_, err = e.svc.Login(ctx, identity.LoginInput{Login: in.Username, Password: strings.Repeat("🔑", 127)}, client)
	testkit.WantCode(t, err, apperr.Unauthenticated)
	tok, err := e.svc.Login(ctx, identity.LoginInput{Login: in.Username, Password: in.Password}, client)
	testkit.Must(t, err)
	if tok.UserID != reg.UserID {
		t.Fatal("login found another account")
	}
	in = registration()
	in.Username = "abc"
	in.Password = "12345678x"
	in.DisplayName = ""
	_, err = e.svc.Register(ctx, in, client)
	testkit.Must(t, err)
}

func TestRegisterConflicts(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	ctx := context.Background()
	first, _ := e.register(t)

	in := registration()
	in.Email = strings.ToUpper(first.Email)
	_, err := e.svc.Register(ctx, in, client)
	testkit.WantCode(t, err, apperr.Conflict, "email")

	in = registration()
	in.Username = strings.ToLower(first.Username)
	_, err = e.svc.Register(ctx, in, client)
	testkit.WantCode(t, err, apperr.Conflict, "username")

	// Concurrent registrations of one username: exactly one wins, the other
	// gets CONFLICT from the unique index.
	a, b := registration(), registration()
	b.Username = strings.ToUpper(a.Username)
	errs := make(chan error, 2)
	for _, in := range []identity.RegisterInput{a, b} {
		go func() { _, err := e.svc.Register(ctx, in, client); errs <- err }()
	}
	e1, e2 := <-errs, <-errs
	if (e1 == nil) == (e2 == nil) {
		t.Fatalf("want one success and one conflict, got %v and %v", e1, e2)
	}
	if e1 != nil {
		testkit.WantCode(t, e1, apperr.Conflict, "username")
	} else {
		testkit.WantCode(t, e2, apperr.Conflict, "username")
	}
	// The loser's transaction rolled back whole: one account, one event.
	var accounts, registered int
	testkit.Must(t, e.pool.QueryRow(ctx, `SELECT count(*) FROM identity.credentials WHERE username_key = lower($1)`, a.Username).Scan(&accounts))
	testkit.Must(t, e.db.Pools.Login().QueryRow(ctx, `SELECT count(*) FROM events.domain_events
		WHERE topic = 'identity.user.registered' AND lower(payload->>'username') = lower($1)`, a.Username).Scan(&registered))
	if accounts != 1 || registered != 1 {
		t.Fatalf("%d accounts and %d registration events, want 1 and 1", accounts, registered)
	}
}

func TestLoginUnknownUserAndWrongPasswordAreIndistinguishable(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	ctx := context.Background()
	in, _ := e.register(t)

	login := func(l, p string) (time.Duration, *apperr.Error) {
		start := time.Now()
		_, err := e.svc.Login(ctx, identity.LoginInput{Login: l, Password: p}, identity.ClientInfo{Addr: uuid.NewString()})
		return time.Since(start), testkit.WantCode(t, err, apperr.Unauthenticated)
	}
	var wrong, unknown []time.Duration
	var msgs []string
	for i := range 7 {
		d, ae := login(in.Username, "wrong password "+string(rune('a'+i)))
		wrong, msgs = append(wrong, d), append(msgs, ae.Message)
		d, ae = login("nobody_"+string(rune('a'+i)), "wrong password")
		unknown, msgs = append(unknown, d), append(msgs, ae.Message)
	}
	for _, m := range msgs {
		if m != msgs[0] {
			t.Fatalf("messages differ: %q vs %q", m, msgs[0])
		}
	}
	// Both paths compute one argon2id hash; without the dummy hash an unknown
	// user would answer tens of times faster. The fastest of several runs is
	// compared, which filters out the noise of a shared machine.
	mw, mu := slices.Min(wrong), slices.Min(unknown)
	if ratio := float64(mu) / float64(mw); ratio < 0.33 || ratio > 3 {
		t.Fatalf("timing differs: wrong password %v, unknown user %v", mw, mu)
	}
	t.Logf("fastest login: wrong password %v, unknown user %v", mw, mu)
}

func TestPasswordHashIsArgon2idWithOWASPParameters(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	_, reg := e.register(t)
	var hash string
	testkit.Must(t, e.pool.QueryRow(context.Background(), `SELECT password_hash FROM identity.credentials WHERE user_id = $1`, reg.UserID).Scan(&hash))
	if !strings.HasPrefix(hash, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("hash %q", hash)
	}
	if strings.Contains(hash, "correct horse") {
		t.Fatal("password stored in clear")
	}
}

func TestChangePassword(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	ctx := context.Background()
	in, reg := e.register(t)
	other, err := e.svc.Login(ctx, identity.LoginInput{Login: in.Email, Password: in.Password}, client)
	testkit.Must(t, err)
	p := identity.Principal{UserID: reg.UserID, SessionID: reg.SessionID}

	testkit.WantCode(t, e.svc.ChangePassword(ctx, p, "not the password", "a brand new secret"), apperr.BadInput, "currentPassword")
	testkit.WantCode(t, e.svc.ChangePassword(ctx, p, in.Password, "short"), apperr.BadInput, "newPassword")
	testkit.WantCode(t, e.svc.ChangePassword(ctx, p, in.Password, "qwertyuiop"), apperr.BadInput, "newPassword")
	testkit.WantCode(t, e.svc.ChangePassword(ctx, p, "", "a brand new secret"), apperr.BadInput, "currentPassword")

	testkit.Must(t, e.svc.ChangePassword(ctx, p, in.Password, "a brand new secret"))
	// The calling session lives on; the other one is gone, tokens and all.
	if _, err := e.svc.Authenticate(ctx, reg.AccessToken); err != nil {
		t.Fatalf("calling session revoked: %v", err)
	}
	_, err = e.svc.Authenticate(ctx, other.AccessToken)
	testkit.WantCode(t, err, apperr.Unauthenticated)
	_, err = e.svc.Refresh(ctx, other.RefreshToken, client)
	testkit.WantCode(t, err, apperr.Unauthenticated)

	_, err = e.svc.Login(ctx, identity.LoginInput{Login: in.Email, Password: in.Password}, client)
	testkit.WantCode(t, err, apperr.Unauthenticated)
	_, err = e.svc.Login(ctx, identity.LoginInput{Login: in.Email, Password: "a brand new secret"}, client)
	testkit.Must(t, err)
	got := e.db.Topics(t, "userId", reg.UserID.String())
	if !slices.Contains(got, "identity.password.changed") || !slices.Contains(got, "identity.session.revoked") {
		t.Fatalf("events %v", got)
	}
}

func TestLoginInputRequired(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	_, err := e.svc.Login(context.Background(), identity.LoginInput{Password: "whatever1"}, client)
	testkit.WantCode(t, err, apperr.BadInput, "login")
	_, err = e.svc.Login(context.Background(), identity.LoginInput{Login: "someone"}, client)
	testkit.WantCode(t, err, apperr.BadInput, "password")
}

// A password change that lands while a login with the old password is
// between verifying it and opening its session refuses that login, and the
// login's upgrade of the hash does not bring the old password back.
func TestPasswordChangeDuringLoginRefusesIt(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	ctx := context.Background()
	in, reg := e.register(t)
	e.setWeakHash(t, reg.UserID, in.Password)
	resume := e.pausedLogin(t, unhitSQL, identity.LoginInput{Login: in.Username, Password: in.Password})

	const next = "a brand new passphrase 42"
	testkit.Must(t, e.svc.ChangePassword(ctx, identity.Principal{UserID: reg.UserID, SessionID: reg.SessionID}, in.Password, next))

	r := resume()
	testkit.WantCode(t, r.err, apperr.Unauthenticated)
	sessions, err := e.svc.Sessions(ctx, reg.UserID)
	testkit.Must(t, err)
	if len(sessions) != 1 || sessions[0].ID != reg.SessionID {
		t.Fatalf("live sessions %+v, want only the one that changed the password", sessions)
	}
	_, err = e.svc.Login(ctx, identity.LoginInput{Login: in.Username, Password: in.Password}, client)
	testkit.WantCode(t, err, apperr.Unauthenticated)
	_, err = e.svc.Login(ctx, identity.LoginInput{Login: in.Username, Password: next}, client)
	testkit.Must(t, err)
}

// Someone holding a session and the old password (a thief) changes it at the
// same moment as the owner, who changes it to lock the thief out. The
// owner's change commits first: the thief's, which verified a password that
// is no longer the account's, must not overwrite it nor end the owner's
// session.
func TestConcurrentPasswordChangeDoesNotUndoTheOther(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	ctx := context.Background()
	in, owner := e.register(t)
	thief, err := e.svc.Login(ctx, identity.LoginInput{Login: in.Username, Password: in.Password}, client)
	testkit.Must(t, err)

	const ownerNew, thiefNew = "the owner's new passphrase", "the thief's new passphrase"
	resume := e.paused(t, unhitSQL, func(s *identity.Service) error {
		return s.ChangePassword(ctx, identity.Principal{UserID: thief.UserID, SessionID: thief.SessionID}, in.Password, thiefNew)
	})
	testkit.Must(t, e.svc.ChangePassword(ctx, identity.Principal{UserID: owner.UserID, SessionID: owner.SessionID}, in.Password, ownerNew))

	testkit.WantCode(t, resume(), apperr.BadInput, "currentPassword")
	if _, err := e.svc.Authenticate(ctx, owner.AccessToken); err != nil {
		t.Fatalf("owner's session ended: %v", err)
	}
	_, err = e.svc.Authenticate(ctx, thief.AccessToken)
	testkit.WantCode(t, err, apperr.Unauthenticated)
	if _, err := e.svc.Login(ctx, identity.LoginInput{Login: in.Username, Password: ownerNew}, client); err != nil {
		t.Fatalf("owner's new password refused: %v", err)
	}
}

// Two logins that both verified a weak hash and both upgrade it succeed:
// an upgrade is not a password change.
func TestConcurrentLoginsUpgradingTheHash(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	ctx := context.Background()
	in, reg := e.register(t)
	e.setWeakHash(t, reg.UserID, in.Password)
	login := identity.LoginInput{Login: in.Email, Password: in.Password}
	resume := e.pausedLogin(t, unhitSQL, login)
	_, err := e.svc.Login(ctx, login, client)
	testkit.Must(t, err)
	testkit.Must(t, resume().err)

	var hash string
	testkit.Must(t, e.pool.QueryRow(ctx, `SELECT password_hash FROM identity.credentials WHERE user_id = $1`, reg.UserID).Scan(&hash))
	if !strings.HasPrefix(hash, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("hash not upgraded: %q", hash)
	}
	_, err = e.svc.Login(ctx, login, client)
	testkit.Must(t, err)
}

// A login no account can have fails like an unknown one instead of breaking
// the failure counter's key.
func TestImplausibleLoginFailsLikeAnUnknownOne(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	ctx := context.Background()
	long := make([]byte, 2000)
	_, err := rand.Read(long)
	testkit.Must(t, err)
	for _, login := range []string{hex.EncodeToString(long), "someone\x00", strings.Repeat("a", 250) + "@e.org"} {
		_, err := e.svc.Login(ctx, identity.LoginInput{Login: login, Password: "whatever it is"}, client)
		testkit.WantCode(t, err, apperr.Unauthenticated)
	}
	var n int
	testkit.Must(t, e.pool.QueryRow(ctx, `SELECT count(*) FROM identity.rate_limits WHERE bucket LIKE 'login-fail:%'`).Scan(&n))
	if n != 0 {
		t.Fatalf("%d failure counters for logins no account can have", n)
	}
}

// Client details are display text: whatever bytes a client sends, register
// and login store them as valid UTF-8 without control characters.
func TestClientDetailsStoredAsText(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	ctx := context.Background()
	c := identity.ClientInfo{Addr: "192.0.2.7\xff\x00", UserAgent: "Agent/1.0 (Caf\xe9)\x00\r\n" + strings.Repeat("é", 300)}
	in := registration()
	reg, err := e.svc.Register(ctx, in, c)
	testkit.Must(t, err)
	_, err = e.svc.Login(ctx, identity.LoginInput{Login: in.Username, Password: in.Password}, c)
	testkit.Must(t, err)
	sessions, err := e.svc.Sessions(ctx, reg.UserID)
	testkit.Must(t, err)
	for _, s := range sessions {
		ua := s.UserAgent
		if !strings.HasPrefix(ua, "Agent/1.0 (Caf\uFFFD)é") || !utf8.ValidString(ua) || len(ua) > 512 || strings.ContainsFunc(ua, unicode.IsControl) {
			t.Fatalf("stored user agent %q", ua)
		}
	}
}
