package token

import (
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
)

// leeway tolerates clock skew between replicas in exp and iat checks.
const leeway = 5 * time.Second

// AccessTTL is the lifetime of an access token.
const AccessTTL = 15 * time.Minute

// TypeAccess is the typ claim of an access token; a token of any other type
// is refused wherever an access token is expected.
const TypeAccess = "access"

// Claims are an access token's claims.
type Claims struct {
	jwt.RegisteredClaims
	SessionID string `json:"sid"`
	Type      string `json:"typ"`
}

// Issuer signs access tokens with the current key and verifies them against
// the current and the previous key (key rotation).
type Issuer struct {
	priv     ed25519.PrivateKey
	kid      string
	keys     map[string]ed25519.PublicKey
	issuer   string
	audience string
	parser   *jwt.Parser
	now      func() time.Time
	verified verifiedCache
	// previousUntil is the last iat accepted from the previous key: one
	// AccessTTL after the current key took over (CurrentSince; until told,
	// this issuer's start), time enough for replicas still signing with it
	// to be rotated. Its tokens all expire within another AccessTTL, so a
	// previous key left configured, or leaked, stops mattering.
	previousUntil time.Time
	// refreshKey tags refresh tokens; it is derived from the signing key,
	// which every replica shares and which is never stored with the tokens.
	refreshKey []byte
}

// NewIssuer builds an issuer. previous may be nil.
func NewIssuer(priv ed25519.PrivateKey, previous ed25519.PublicKey, issuer, audience string) *Issuer {
	pub := priv.Public().(ed25519.PublicKey)
	i := &Issuer{
		priv:     priv,
		kid:      KeyID(pub),
		keys:     map[string]ed25519.PublicKey{KeyID(pub): pub},
		issuer:   issuer,
		audience: audience,
		now:      time.Now,
	}
	rk := sha256.Sum256(append([]byte("nova refresh token tag\x00"), priv.Seed()...))
	i.refreshKey = rk[:]
	if previous != nil {
		i.keys[KeyID(previous)] = previous
		i.previousUntil = i.now().Add(AccessTTL)
	}
	// One pinned algorithm: "none", HMAC and RSA tokens fail before any key
	// is looked at, so a public key can never be used as an HMAC secret.
	i.parser = jwt.NewParser(
		jwt.WithValidMethods([]string{jwt.SigningMethodEdDSA.Alg()}),
		jwt.WithIssuer(issuer),
		jwt.WithAudience(audience),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(leeway),
		jwt.WithTimeFunc(func() time.Time { return i.now() }),
	)
	return i
}

// KeyID is the kid of the signing key.
func (i *Issuer) KeyID() string { return i.kid }

// Issue signs an access token for the session; it expires after AccessTTL.
func (i *Issuer) Issue(userID, sessionID uuid.UUID) (string, time.Time, error) {
	now := i.now().Truncate(time.Second)
	exp := now.Add(AccessTTL)
	c := Claims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    i.issuer,
			Subject:   userID.String(),
			Audience:  jwt.ClaimStrings{i.audience},
			ExpiresAt: jwt.NewNumericDate(exp),
			IssuedAt:  jwt.NewNumericDate(now),
		},
		SessionID: sessionID.String(),
		Type:      TypeAccess,
	}
	t := jwt.NewWithClaims(jwt.SigningMethodEdDSA, c)
	t.Header["kid"] = i.kid
	s, err := t.SignedString(i.priv)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("sign access token: %w", err)
	}
	return s, exp, nil
}

// ErrInvalid is any token that does not verify.
var ErrInvalid = errors.New("invalid access token")

// Verify checks signature, algorithm, issuer, audience, expiry and type, and
// returns the user and session the token names.
func (i *Issuer) Verify(s string) (userID, sessionID uuid.UUID, err error) {
	// A client sends the same token with every request for 15 minutes, and
	// a signature that verified once verifies forever: the cache skips the
	// Ed25519 check (the bulk of the CPU cost) for a token seen before,
	// keyed by the hash of its exact bytes. Expiry is still checked here,
	// with the parser's bound: valid only before exp plus the leeway.
	sum := sha256.Sum256([]byte(s))
	if e, ok := i.verified.get(sum); ok {
		if !i.now().Before(e.expires.Add(leeway)) {
			return uuid.Nil, uuid.Nil, fmt.Errorf("%w: token is expired", ErrInvalid)
		}
		return e.userID, e.sessionID, nil
	}
	var c Claims
	var kid string
	_, err = i.parser.ParseWithClaims(s, &c, func(t *jwt.Token) (any, error) {
		kid, _ = t.Header["kid"].(string)
		if k, ok := i.keys[kid]; ok {
			return k, nil
		}
		return nil, errors.New("unknown key id")
	})
	if err != nil {
		return uuid.Nil, uuid.Nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if c.Type != TypeAccess {
		return uuid.Nil, uuid.Nil, fmt.Errorf("%w: token type %q", ErrInvalid, c.Type)
	}
	if c.IssuedAt == nil {
		return uuid.Nil, uuid.Nil, fmt.Errorf("%w: no iat", ErrInvalid)
	}
	// Issue makes tokens living AccessTTL; a longer-lived one is forged.
	if c.ExpiresAt.Sub(c.IssuedAt.Time) > AccessTTL {
		return uuid.Nil, uuid.Nil, fmt.Errorf("%w: lifetime over %v", ErrInvalid, AccessTTL)
	}
	if kid != i.kid && c.IssuedAt.After(i.previousUntil) {
		return uuid.Nil, uuid.Nil, fmt.Errorf("%w: signed by the previous key after its rotation window", ErrInvalid)
	}
	userID, err = uuid.Parse(c.Subject)
	if err != nil {
		return uuid.Nil, uuid.Nil, fmt.Errorf("%w: sub: %w", ErrInvalid, err)
	}
	sessionID, err = uuid.Parse(c.SessionID)
	if err != nil {
		return uuid.Nil, uuid.Nil, fmt.Errorf("%w: sid: %w", ErrInvalid, err)
	}
	i.verified.put(sum, verifiedToken{userID: userID, sessionID: sessionID, expires: c.ExpiresAt.Time})
	return userID, sessionID, nil
}

// A refresh token is its session's id, 256 random bits and a tag over both,
// base64url-encoded.
const (
	refreshRandom = 32
	refreshTag    = 16
	refreshLen    = len(uuid.UUID{}) + refreshRandom + refreshTag
)

// CurrentSince tells the issuer when its key first signed, on any replica:
// the previous key's tokens are accepted only if issued up to AccessTTL
// after that, however long after it this replica started.
func (i *Issuer) CurrentSince(t time.Time) { i.previousUntil = t.Add(AccessTTL) }

// NewRefresh returns a refresh token of the session and the SHA-256 under
// which it is stored. Only the hash is ever written down. The tag lets
// RefreshSession recognise the token after its hash was dropped.
func (i *Issuer) NewRefresh(sessionID uuid.UUID) (token string, hash []byte, err error) {
	b := make([]byte, refreshLen)
	copy(b, sessionID[:])
	body := b[:len(b)-refreshTag]
	if _, err := rand.Read(body[len(sessionID):]); err != nil {
		return "", nil, fmt.Errorf("refresh token: %w", err)
	}
	copy(b[len(body):], i.refreshTag(body))
	token = base64.RawURLEncoding.EncodeToString(b)
	return token, HashRefresh(token), nil
}

// RefreshSession returns the session of a refresh token this key made,
// whether or not its hash is still stored: a session forgets its oldest
// rotated tokens, and one presented after that is still a reuse. A token of
// another format, another key or a forged one names no session, nor does
// another spelling of one (base64 decoding skips line breaks and unused
// bits): its hash would not match, and the session of the token it copies
// would be revoked.
func (i *Issuer) RefreshSession(token string) (uuid.UUID, bool) {
	b, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || len(b) != refreshLen || base64.RawURLEncoding.EncodeToString(b) != token {
		return uuid.Nil, false
	}
	body := b[:len(b)-refreshTag]
	if !hmac.Equal(b[len(body):], i.refreshTag(body)) {
		return uuid.Nil, false
	}
	return uuid.UUID(body[:len(uuid.UUID{})]), true
}

func (i *Issuer) refreshTag(body []byte) []byte {
	m := hmac.New(sha256.New, i.refreshKey)
	m.Write(body)
	return m.Sum(nil)[:refreshTag]
}

// HashRefresh is the stored form of a refresh token.
func HashRefresh(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}
