package identity

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/nova-social/nova/internal/events"
	"github.com/nova-social/nova/internal/identity/internal/password"
	"github.com/nova-social/nova/internal/identity/internal/store"
	"github.com/nova-social/nova/internal/identity/internal/validate"
	"github.com/nova-social/nova/internal/platform/apperr"
)

// Reasons recorded on revoked sessions and carried by identity.session.revoked.
const (
	ReasonLogout          = "logout"
	ReasonLogoutAll       = "logout_all"
	ReasonPasswordChanged = "password_changed"
	ReasonRefreshReuse    = "refresh_token_reuse"
	ReasonBanned          = "banned"
)

// The same error for an unknown account and a wrong password: a guesser
// learns nothing from the answer.
func errBadLogin() error { return apperr.NewUnauthenticated("invalid login or password") }

func errSuspended() error { return apperr.NewForbidden("account suspended") }

// maxUserAgent and maxAddr bound the stored client details; they are
// display data only.
const (
	maxUserAgent = 512
	maxAddr      = 100
)

// clip makes client-supplied text fit for a text column: valid UTF-8
// (Postgres refuses anything else, NUL included) without control
// characters, cut to at most n bytes on a character boundary.
func clip(s string, n int) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, strings.ToValidUTF8(s, "\uFFFD"))
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// checkRegistration validates in and returns it with defaults filled.
func checkRegistration(in RegisterInput) (RegisterInput, error) {
	if err := validate.Email("email", in.Email); err != nil {
		return in, err
	}
	if err := validate.Username("username", in.Username); err != nil {
		return in, err
	}
	if err := validate.Password("password", in.Password); err != nil {
		return in, err
	}
	if in.DisplayName == "" {
		in.DisplayName = in.Username
	}
	if err := validate.DisplayName("displayName", in.DisplayName); err != nil {
		return in, err
	}
	return in, nil
}

// limit counts one event in bucket and refuses it past max per window,
// telling the client how long until a retry would be allowed. The usage it
// returns is what store.Unhit needs to take the event back.
func (s *Service) limit(ctx context.Context, bucket string, max int, window time.Duration) (store.Usage, error) {
	u, err := store.Hit(ctx, s.pool, bucket, window)
	if err != nil {
		return u, err
	}
	if u.Hits > max {
		return u, apperr.NewRateLimited(retryAfter(u.RetryAfter(max)))
	}
	return u, nil
}

// addrKey is the rate-limit key of a client address. An IPv6 client is
// keyed by its /64, the smallest block a subscriber is usually given, so
// that hopping between its addresses does not escape the per-address
// limits; an IPv4 address (also one mapped into IPv6) is keyed whole.
func addrKey(addr string) string {
	ip, err := netip.ParseAddr(addr)
	if err != nil {
		return clip(addr, maxAddr)
	}
	ip = ip.Unmap().WithZone("")
	if ip.Is4() {
		return ip.String()
	}
	return netip.PrefixFrom(ip, 64).Masked().String()
}

// retryAfter rounds up to whole seconds, at least one.
func retryAfter(d time.Duration) time.Duration {
	d = (d + time.Second - 1).Truncate(time.Second)
	if d < time.Second {
		return time.Second
	}
	return d
}

// prepareAccount validates a registration, checks that the email and
// username are free and hashes the password (outside any transaction).
func (s *Service) prepareAccount(ctx context.Context, in RegisterInput) (store.NewCredential, RegisterInput, error) {
	in, err := checkRegistration(in)
	if err != nil {
		return store.NewCredential{}, in, err
	}
	c := store.NewCredential{
		Email: in.Email, EmailKey: validate.EmailKey(in.Email),
		Username: in.Username, UsernameKey: validate.UsernameKey(in.Username),
	}
	emailTaken, usernameTaken, err := store.Taken(ctx, s.pool, c.EmailKey, c.UsernameKey)
	if err != nil {
		return c, in, err
	}
	if err := takenError(emailTaken, usernameTaken); err != nil {
		return c, in, err
	}
	if c.PasswordHash, err = s.hasher.Hash(ctx, in.Password); err != nil {
		return c, in, err
	}
	if c.UserID, err = uuid.NewV7(); err != nil {
		return c, in, fmt.Errorf("user id: %w", err)
	}
	return c, in, nil
}

func takenError(email, username bool) error {
	switch {
	case email:
		return apperr.Taken("email", "email is already registered")
	case username:
		return apperr.Taken("username", "username is taken")
	}
	return nil
}

// insertAccount stores the credentials and publishes identity.user.registered in tx.
func (s *Service) insertAccount(ctx context.Context, tx pgx.Tx, c store.NewCredential, displayName string) error {
	err := store.InsertCredential(ctx, tx, c)
	switch {
	case errors.Is(err, store.ErrEmailTaken):
		return takenError(true, false)
	case errors.Is(err, store.ErrUsernameTaken):
		return takenError(false, true)
	case err != nil:
		return err
	}
	return s.bus.Publish(ctx, tx, events.UserRegistered{
		UserID: c.UserID, Email: c.Email, Username: c.Username, DisplayName: displayName,
	})
}

// Register creates an account and its first session. The credentials, the
// session and identity.user.registered commit in one transaction; the user
// domain creates the profile from that event, so Register answers at once.
func (s *Service) Register(ctx context.Context, in RegisterInput, c ClientInfo) (Tokens, error) {
	if _, err := checkRegistration(in); err != nil {
		return Tokens{}, err
	}
	if _, err := s.limit(ctx, "register-addr:"+addrKey(c.Addr), s.cfg.RegisterPerAddrPerHour, time.Hour); err != nil {
		return Tokens{}, err
	}
	cred, in, err := s.prepareAccount(ctx, in)
	if err != nil {
		return Tokens{}, err
	}
	var t Tokens
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		if err := s.insertAccount(ctx, tx, cred, in.DisplayName); err != nil {
			return err
		}
		t, err = s.openSession(ctx, tx, cred.UserID, c)
		return err
	})
	if err != nil {
		return Tokens{}, fmt.Errorf("register: %w", err)
	}
	return t, nil
}

// CreateAccount creates an account without a session or rate limit, for
// operators' scripted setups (nova admin create-user). It publishes
// identity.user.registered like Register and returns the new user id.
func (s *Service) CreateAccount(ctx context.Context, in RegisterInput) (uuid.UUID, error) {
	cred, in, err := s.prepareAccount(ctx, in)
	if err != nil {
		return uuid.Nil, err
	}
	if err := s.inTx(ctx, func(tx pgx.Tx) error { return s.insertAccount(ctx, tx, cred, in.DisplayName) }); err != nil {
		return uuid.Nil, fmt.Errorf("create account: %w", err)
	}
	return cred.UserID, nil
}

// openSession creates a session with its first refresh token in tx and signs
// the access token.
func (s *Service) openSession(ctx context.Context, tx pgx.Tx, userID uuid.UUID, c ClientInfo) (Tokens, error) {
	sessionID, err := uuid.NewV7()
	if err != nil {
		return Tokens{}, fmt.Errorf("session id: %w", err)
	}
	refresh, hash, err := s.tokens.NewRefresh(sessionID)
	if err != nil {
		return Tokens{}, err
	}
	err = store.CreateSession(ctx, tx, store.NewSession{
		ID: sessionID, UserID: userID, RefreshHash: hash,
		UserAgent: clip(c.UserAgent, maxUserAgent), Addr: clip(c.Addr, maxAddr),
	})
	if err != nil {
		return Tokens{}, err
	}
	return s.tokensFor(userID, sessionID, refresh)
}

func (s *Service) tokensFor(userID, sessionID uuid.UUID, refresh string) (Tokens, error) {
	access, exp, err := s.tokens.Issue(userID, sessionID)
	if err != nil {
		return Tokens{}, err
	}
	return Tokens{AccessToken: access, RefreshToken: refresh, ExpiresAt: exp, UserID: userID, SessionID: sessionID}, nil
}

// UsernameKey is the case-folded form under which usernames are unique and
// looked up; the user domain keys its copy of the username the same way.
func UsernameKey(username string) string { return validate.UsernameKey(username) }

// CheckDisplayName applies registration's display-name rules, so that the
// user domain holds a changed name to the same ones.
func CheckDisplayName(field, s string) error { return validate.DisplayName(field, s) }

// lookup finds the account a login names: an email if it holds an @, else a
// username. It also returns the key it looked up.
func (s *Service) lookup(ctx context.Context, login string) (store.Credential, string, error) {
	if strings.Contains(login, "@") {
		key := validate.EmailKey(login)
		c, err := store.ByEmailKey(ctx, s.pool, key)
		return c, key, err
	}
	key := validate.UsernameKey(login)
	c, err := store.ByUsernameKey(ctx, s.pool, key)
	return c, key, err
}

// unknownLoginBucket is the failure counter of a login naming no account:
// the hash of the key it was looked up by, so that the spellings that would
// name one account (case, composed or decomposed accents) share one count as
// a known account's do, and no login text (often a password typed into the
// wrong field) is stored or put into an error.
func unknownLoginBucket(key string) string {
	sum := sha256.Sum256([]byte(key))
	return "login-fail:login:" + base64.RawURLEncoding.EncodeToString(sum[:])
}

// Login checks the password and opens a session. Limits: attempts per client
// address per minute, and failed attempts per account per window. The failure
// count is kept per account, shared by its email and username, so that a
// guesser gains nothing by alternating them; unknown logins are counted
// alike, each by itself, so the limit alone does not tell whether an account
// exists. The price: once one name of an account has used up the limit, the
// other name is refused too, which links an email to its username.
func (s *Service) Login(ctx context.Context, in LoginInput, c ClientInfo) (Tokens, error) {
	if in.Login == "" {
		return Tokens{}, apperr.Invalid("login", "is required")
	}
	if in.Password == "" {
		return Tokens{}, apperr.Invalid("password", "is required")
	}
	if _, err := s.limit(ctx, "login-addr:"+addrKey(c.Addr), s.cfg.LoginPerAddrPerMinute, time.Minute); err != nil {
		return Tokens{}, err
	}
	// A login that no account can have (an oversized one, say) is neither
	// looked up nor counted under its own key, which could break the
	// counters' index; it fails like an unknown login.
	if !validate.PlausibleLogin(in.Login) {
		return Tokens{}, s.failLogin(ctx, in.Password)
	}
	cred, key, err := s.lookup(ctx, in.Login)
	found := err == nil
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return Tokens{}, err
	}
	bucket := unknownLoginBucket(key)
	if found {
		bucket = "login-fail:user:" + cred.UserID.String()
	}
	failure, err := s.limit(ctx, bucket, s.cfg.LoginFailuresPerAccount, s.cfg.LoginFailureWindow)
	if err != nil {
		return Tokens{}, err
	}
	if !found || utf8.RuneCountInString(in.Password) > validate.PasswordMax {
		return Tokens{}, s.failLogin(ctx, in.Password)
	}
	rehash, err := s.hasher.Verify(ctx, cred.PasswordHash, in.Password)
	if errors.Is(err, password.ErrMismatch) {
		return Tokens{}, errBadLogin()
	}
	if err != nil {
		return Tokens{}, fmt.Errorf("login: %w", err)
	}
	// The password was right: this attempt was not a failure.
	if err := store.Unhit(ctx, s.pool, bucket, failure); err != nil {
		return Tokens{}, err
	}
	if cred.Banned {
		return Tokens{}, errSuspended()
	}
	var upgraded string
	if rehash {
		if upgraded, err = s.hasher.Hash(ctx, in.Password); err != nil {
			return Tokens{}, err
		}
	}
	var t Tokens
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		// A ban or a password change may have committed since the
		// credentials were read, revoking the sessions there were but not
		// this one. Re-read the row under a lock that holds off both until
		// this session commits, so that their revocation sees it. A password
		// changed meanwhile is no longer the one verified above.
		if err := relock(ctx, tx, cred, upgraded != "", errBadLogin(), errBadLogin()); err != nil {
			return err
		}
		// Conditional, as a concurrent login may have upgraded it already.
		if upgraded != "" {
			if err := store.UpgradePasswordHash(ctx, tx, cred.UserID, cred.PasswordHash, upgraded); err != nil {
				return err
			}
		}
		t, err = s.openSession(ctx, tx, cred.UserID, c)
		if err != nil {
			return err
		}
		return s.bus.Publish(ctx, tx, events.UserLoggedIn{UserID: cred.UserID, SessionID: t.SessionID})
	})
	if err != nil {
		return Tokens{}, fmt.Errorf("login: %w", err)
	}
	// Ended sessions are swept now and then by a login passing by, which
	// keeps the tables small without a background job.
	if rand.IntN(sweepEvery) == 0 {
		if n, err := store.SweepSessions(ctx, s.pool, sweepBatch); err != nil {
			s.log.WarnContext(ctx, "sweep ended sessions", "err", err)
		} else if n > 0 {
			s.log.InfoContext(ctx, "swept ended sessions", "count", n)
		}
	}
	return t, nil
}

// relock re-reads the credentials verified earlier, in tx and under a lock
// that holds off bans and password changes until tx ends (exclusive for a
// caller that will update the row, see store.LockCredential): a ban since
// is errSuspended, an account gone is gone, and a password changed since is
// replaced, since it is no longer the one verified.
func relock(ctx context.Context, tx pgx.Tx, verified store.Credential, exclusive bool, gone, replaced error) error {
	cur, err := store.LockCredential(ctx, tx, verified.UserID, exclusive)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return gone
	case err != nil:
		return err
	case cur.Banned:
		return errSuspended()
	case !cur.PasswordChangedAt.Equal(verified.PasswordChangedAt):
		return replaced
	}
	return nil
}

// failLogin spends one verification against the dummy hash, so that a login
// naming no account takes as long as a wrong password, and answers like one.
func (s *Service) failLogin(ctx context.Context, pw string) error {
	if err := s.hasher.VerifyDummy(ctx, pw); !errors.Is(err, password.ErrMismatch) {
		return err
	}
	return errBadLogin()
}

// sweepEvery is the mean number of logins between two sweeps of ended
// sessions, and sweepBatch the most one sweep deletes: twice as many as
// the logins in between can have opened, so a backlog shrinks, a bounded
// step (tens of milliseconds) at a time.
const (
	sweepEvery = 500
	sweepBatch = 1000
)

// ChangePassword replaces the password after checking the current one, keeps
// the calling session and revokes every other. A wrong current password
// counts as a failed login of the account.
func (s *Service) ChangePassword(ctx context.Context, p Principal, current, next string) error {
	if current == "" {
		return apperr.Invalid("currentPassword", "is required")
	}
	if err := validate.Password("newPassword", next); err != nil {
		return err
	}
	cred, err := store.ByUserID(ctx, s.pool, p.UserID)
	if errors.Is(err, store.ErrNotFound) {
		return apperr.NewUnauthenticated("unknown account")
	}
	if err != nil {
		return err
	}
	bucket := "login-fail:user:" + cred.UserID.String()
	failure, err := s.limit(ctx, bucket, s.cfg.LoginFailuresPerAccount, s.cfg.LoginFailureWindow)
	if err != nil {
		return err
	}
	if _, err := s.hasher.Verify(ctx, cred.PasswordHash, current); errors.Is(err, password.ErrMismatch) {
		return apperr.Invalid("currentPassword", "is incorrect")
	} else if err != nil {
		return fmt.Errorf("change password: %w", err)
	}
	if err := store.Unhit(ctx, s.pool, bucket, failure); err != nil {
		return err
	}
	hash, err := s.hasher.Hash(ctx, next)
	if err != nil {
		return err
	}
	err = s.endSessions(ctx, func(tx pgx.Tx) ([]uuid.UUID, error) {
		// Another change or a ban may have committed since the current
		// password was verified: re-read the row under a lock that holds
		// off both, so that a caller who knew only the replaced password
		// cannot overwrite its replacement and end its owner's sessions.
		if err := relock(ctx, tx, cred, true, apperr.NewUnauthenticated("unknown account"), apperr.Invalid("currentPassword", "is incorrect")); err != nil {
			return nil, err
		}
		if err := store.SetPasswordHash(ctx, tx, p.UserID, hash); err != nil {
			return nil, err
		}
		ids, err := store.RevokeAll(ctx, tx, p.UserID, p.SessionID, ReasonPasswordChanged)
		if err != nil {
			return nil, err
		}
		evs := []events.Event{events.PasswordChanged{UserID: p.UserID}}
		if len(ids) > 0 {
			evs = append(evs, events.SessionRevoked{UserID: p.UserID, SessionIDs: ids, Reason: ReasonPasswordChanged})
		}
		return ids, s.bus.Publish(ctx, tx, evs...)
	})
	if err != nil {
		return fmt.Errorf("change password: %w", err)
	}
	return nil
}
