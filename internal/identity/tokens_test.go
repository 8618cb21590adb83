package identity_test

import (
	"context"
	"crypto/ed25519"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	"github.com/nova-social/nova/internal/identity"
	"github.com/nova-social/nova/internal/identity/internal/token"
	"github.com/nova-social/nova/internal/platform/apperr"
	"github.com/nova-social/nova/internal/platform/config"
	"github.com/nova-social/nova/internal/platform/testkit"
)

// claims builds the claims of a valid access token for reg.
func claims(reg identity.Tokens) jwt.MapClaims {
	now := time.Now()
	return jwt.MapClaims{
		"iss": "nova", "aud": []string{"nova"}, "sub": reg.UserID.String(), "sid": reg.SessionID.String(),
		"typ": "access", "iat": now.Unix(), "exp": now.Add(15 * time.Minute).Unix(),
	}
}

func sign(t *testing.T, k ed25519.PrivateKey, c jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(jwt.SigningMethodEdDSA, c)
	tok.Header["kid"] = token.KeyID(k.Public().(ed25519.PublicKey))
	s, err := tok.SignedString(k)
	testkit.Must(t, err)
	return s
}

func b64(v any) string {
	b, _ := json.Marshal(v)
	return base64.RawURLEncoding.EncodeToString(b)
}

func TestAccessTokenAttacks(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	ctx := context.Background()
	_, reg := e.register(t)
	pub := e.key.Public().(ed25519.PublicKey)
	pubDER, err := x509.MarshalPKIXPublicKey(pub)
	testkit.Must(t, err)

	// A forgery made with the real key proves the test's claims are right.
	if _, err := e.svc.Authenticate(ctx, sign(t, e.key, claims(reg))); err != nil {
		t.Fatalf("control token refused: %v", err)
	}
	valid := reg.AccessToken
	parts := strings.Split(valid, ".")

	hs256 := func(secret []byte) string {
		tok := jwt.NewWithClaims(jwt.SigningMethodHS256, claims(reg))
		tok.Header["kid"] = e.svc.KeyID()
		s, err := tok.SignedString(secret)
		testkit.Must(t, err)
		return s
	}
	with := func(change func(jwt.MapClaims)) string {
		c := claims(reg)
		change(c)
		return sign(t, e.key, c)
	}
	flipped := []byte(parts[2])
	flipped[10] ^= 0x01

	attacks := map[string]string{
		"empty":             "",
		"garbage":           "not.a.jwt",
		"alg none":          b64(map[string]string{"alg": "none", "typ": "JWT"}) + "." + b64(claims(reg)) + ".",
		"alg none signed":   b64(map[string]string{"alg": "none", "kid": e.svc.KeyID()}) + "." + parts[1] + ".",
		"changed signature": parts[0] + "." + parts[1] + "." + string(flipped),
		"changed payload": parts[0] + "." + b64(func() jwt.MapClaims {
			c := claims(reg)
			c["sub"] = uuid.NewString()
			return c
		}()) + "." + parts[2],
		"HS256 with public key bytes": hs256(pub),
		"HS256 with public key DER":   hs256(pubDER),
		"HS256 with guessed secret":   hs256([]byte("secret")),
		"expired":                     with(func(c jwt.MapClaims) { c["exp"] = time.Now().Add(-time.Minute).Unix() }),
		"no expiry":                   with(func(c jwt.MapClaims) { delete(c, "exp") }),
		"issued in the future":        with(func(c jwt.MapClaims) { c["iat"] = time.Now().Add(time.Hour).Unix() }),
		"no iat":                      with(func(c jwt.MapClaims) { delete(c, "iat") }),
		"wrong audience":              with(func(c jwt.MapClaims) { c["aud"] = []string{"other"} }),
		"wrong issuer":                with(func(c jwt.MapClaims) { c["iss"] = "evil" }),
		"typ refresh":                 with(func(c jwt.MapClaims) { c["typ"] = "refresh" }),
		"no typ":                      with(func(c jwt.MapClaims) { delete(c, "typ") }),
		"other user's session":        with(func(c jwt.MapClaims) { c["sub"] = uuid.NewString() }),
		"unknown session":             with(func(c jwt.MapClaims) { c["sid"] = uuid.NewString() }),
		"bad subject":                 with(func(c jwt.MapClaims) { c["sub"] = "admin" }),
		"refresh token as access":     reg.RefreshToken,
		"signed by another key":       sign(t, newKey(t), claims(reg)),
	}
	for name, tok := range attacks {
		if _, err := e.svc.Authenticate(ctx, tok); !apperr.Is(err, apperr.Unauthenticated) {
			t.Errorf("%s: want UNAUTHENTICATED, got %v", name, err)
		}
	}
	// The access token is no refresh token either.
	_, err = e.svc.Refresh(ctx, reg.AccessToken, client)
	testkit.WantCode(t, err, apperr.Unauthenticated)
}

func TestAccessTokenClaims(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *identity.Config) { c.Issuer, c.Audience = "https://nova.test", "nova-api" })
	_, reg := e.register(t)
	tok, _, err := jwt.NewParser().ParseUnverified(reg.AccessToken, jwt.MapClaims{})
	testkit.Must(t, err)
	c := tok.Claims.(jwt.MapClaims)
	if tok.Method.Alg() != "EdDSA" || tok.Header["kid"] != token.KeyID(e.key.Public().(ed25519.PublicKey)) {
		t.Fatalf("header %v", tok.Header)
	}
	if c["iss"] != "https://nova.test" || c["sub"] != reg.UserID.String() || c["sid"] != reg.SessionID.String() || c["typ"] != "access" {
		t.Fatalf("claims %v", c)
	}
	if aud, _ := c.GetAudience(); len(aud) != 1 || aud[0] != "nova-api" {
		t.Fatalf("aud %v", c["aud"])
	}
	iat, _ := c.GetIssuedAt()
	exp, _ := c.GetExpirationTime()
	if exp.Sub(iat.Time) != 15*time.Minute {
		t.Fatalf("lifetime %v", exp.Sub(iat.Time))
	}
}

// writePublicKey writes the public half of k as PEM into dir and returns
// the path.
func writePublicKey(t *testing.T, dir string, k ed25519.PrivateKey) string {
	t.Helper()
	pubPEM, err := token.EncodePublicKey(k.Public().(ed25519.PublicKey))
	testkit.Must(t, err)
	path := filepath.Join(dir, "previous.pem")
	testkit.Must(t, os.WriteFile(path, pubPEM, 0o600))
	return path
}

func TestKeyRotationAcceptsPreviousKey(t *testing.T) {
	t.Parallel()
	old := newEnv(t, nil)
	ctx := context.Background()
	_, reg := old.register(t)

	// The same database, a new signing key, the old public key kept for verification.
	dir := t.TempDir()
	prevFile := writePublicKey(t, dir, old.key)
	newKeyFile := writeKey(t, dir, newKey(t))
	rotated, err := identity.New(ctx, old.pool, old.bus, identity.Config{PrivateKeyFile: newKeyFile, PreviousPublicKeyFile: prevFile}, quietLog())
	testkit.Must(t, err)
	if rotated.KeyID() == old.svc.KeyID() {
		t.Fatal("kid did not change with the key")
	}
	if _, err := rotated.Authenticate(ctx, reg.AccessToken); err != nil {
		t.Fatalf("token of the previous key refused: %v", err)
	}
	fresh, err := rotated.Refresh(ctx, reg.RefreshToken, client)
	testkit.Must(t, err)
	// Without the previous key, old tokens fail; new ones verify.
	noPrev, err := identity.New(ctx, old.pool, old.bus, identity.Config{PrivateKeyFile: newKeyFile}, quietLog())
	testkit.Must(t, err)
	_, err = noPrev.Authenticate(ctx, reg.AccessToken)
	testkit.WantCode(t, err, apperr.Unauthenticated)
	if _, err := noPrev.Authenticate(ctx, fresh.AccessToken); err != nil {
		t.Fatal(err)
	}
}

func TestSigningKeyConfiguration(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	var cfgErr *config.Error

	_, err := identity.New(ctx, nil, nil, identity.Config{}, quietLog())
	if !errors.As(err, &cfgErr) || cfgErr.Var != "NOVA_JWT_PRIVATE_KEY_FILE" {
		t.Fatalf("production without a key: want a configuration error, got %v", err)
	}
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.pem")
	testkit.Must(t, os.WriteFile(bad, []byte("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"), 0o600))
	if _, err := identity.New(ctx, nil, nil, identity.Config{PrivateKeyFile: bad}, quietLog()); !errors.As(err, &cfgErr) {
		t.Fatalf("bad key: want a configuration error, got %v", err)
	}
	if _, err := identity.New(ctx, nil, nil, identity.Config{PrivateKeyFile: filepath.Join(dir, "missing.pem")}, quietLog()); !errors.As(err, &cfgErr) {
		t.Fatalf("missing key: want a configuration error, got %v", err)
	}
	// An openssl-style PKCS#8 file loads.
	good := writeKey(t, dir, newKey(t))
	if _, err := identity.New(ctx, nil, nil, identity.Config{PrivateKeyFile: good}, quietLog()); err != nil {
		t.Fatal(err)
	}

	// Dev: generated once into the data dir, then reused.
	data := filepath.Join(dir, "data")
	a, err := identity.New(ctx, nil, nil, identity.Config{Dev: true, DataDir: data}, quietLog())
	testkit.Must(t, err)
	st, err := os.Stat(filepath.Join(data, token.DevKeyFile))
	testkit.Must(t, err)
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("dev key mode %v", st.Mode())
	}
	b, err := identity.New(ctx, nil, nil, identity.Config{Dev: true, DataDir: data}, quietLog())
	testkit.Must(t, err)
	if a.KeyID() != b.KeyID() {
		t.Fatal("dev key regenerated instead of reused")
	}
}

// The Ed25519 key of RFC 8037 appendix A.1 in the PEM PKCS#8 form that
// `openssl genpkey -algorithm ed25519` writes.
const opensslKey = `-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEIJ1hsZ3v/VpguoRK9JLsLMREScVpezJpGXA7rAMcrn9g
-----END PRIVATE KEY-----
`

func TestOpenSSLKeyAndKeyID(t *testing.T) {
	k, err := token.ParsePrivateKey([]byte(opensslKey))
	testkit.Must(t, err)
	// RFC 8037 A.3: the JWK thumbprint of that key.
	if got := token.KeyID(k.Public().(ed25519.PublicKey)); got != "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k" {
		t.Fatalf("kid %s", got)
	}
}

// The previous key's window counts from when the current key took over, as
// recorded in the database, not from each replica's start: a replica
// restarted a day after the rotation, the previous key still configured,
// refuses a token that key signs now.
func TestPreviousKeyWindowCountsFromTheRotation(t *testing.T) {
	t.Parallel()
	old := newEnv(t, nil)
	ctx := context.Background()
	dir := t.TempDir()
	prevFile := writePublicKey(t, dir, old.key)
	cfg := identity.Config{PrivateKeyFile: writeKey(t, dir, newKey(t)), PreviousPublicKeyFile: prevFile}
	first, err := identity.New(ctx, old.pool, old.bus, cfg, quietLog())
	testkit.Must(t, err)
	_, err = old.pool.Exec(ctx, `UPDATE identity.signing_keys SET first_used_at = now() - interval '1 day' WHERE kid = $1`, first.KeyID())
	testkit.Must(t, err)
	restarted, err := identity.New(ctx, old.pool, old.bus, cfg, quietLog())
	testkit.Must(t, err)
	_, reg := old.register(t) // signed now by the previous key
	_, err = restarted.Authenticate(ctx, reg.AccessToken)
	testkit.WantCode(t, err, apperr.Unauthenticated)
}

// The current key's first use is recorded even while no previous key is
// configured: a key rotated in without one (the old key leaked, say) and
// given it only a day later does not open a new window for the old key's
// tokens.
func TestPreviousKeyConfiguredLateOpensNoWindow(t *testing.T) {
	t.Parallel()
	old := newEnv(t, nil)
	ctx := context.Background()
	dir := t.TempDir()
	keyFile := writeKey(t, dir, newKey(t))
	first, err := identity.New(ctx, old.pool, old.bus, identity.Config{PrivateKeyFile: keyFile}, quietLog())
	testkit.Must(t, err)
	_, err = old.pool.Exec(ctx, `UPDATE identity.signing_keys SET first_used_at = now() - interval '1 day' WHERE kid = $1`, first.KeyID())
	testkit.Must(t, err)
	late, err := identity.New(ctx, old.pool, old.bus, identity.Config{PrivateKeyFile: keyFile, PreviousPublicKeyFile: writePublicKey(t, dir, old.key)}, quietLog())
	testkit.Must(t, err)
	_, reg := old.register(t) // signed now by the previous key
	_, err = late.Authenticate(ctx, reg.AccessToken)
	testkit.WantCode(t, err, apperr.Unauthenticated)
}
