package token

import (
	"crypto/ed25519"
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
	if previous != nil {
		i.keys[KeyID(previous)] = previous
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
	_, err = i.parser.ParseWithClaims(s, &c, func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
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

// NewRefresh returns an opaque refresh token of 256 random bits and the
// SHA-256 under which it is stored. Only the hash is ever written down.
func NewRefresh() (token string, hash []byte, err error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", nil, fmt.Errorf("refresh token: %w", err)
	}
	token = base64.RawURLEncoding.EncodeToString(b)
	return token, HashRefresh(token), nil
}

// HashRefresh is the stored form of a refresh token.
func HashRefresh(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}
