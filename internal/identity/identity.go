package identity

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/nova-social/nova/internal/events"
	"github.com/nova-social/nova/internal/identity/internal/password"
	"github.com/nova-social/nova/internal/identity/internal/store"
	"github.com/nova-social/nova/internal/identity/internal/token"
	"github.com/nova-social/nova/internal/platform/config"
	"github.com/nova-social/nova/internal/platform/pgcache"
)

// Config is identity's part of Nova's configuration.
type Config struct {
	// PrivateKeyFile is the PEM PKCS#8 Ed25519 key that signs access tokens.
	// Required unless Dev, where a key is generated once into DataDir.
	PrivateKeyFile string
	// PreviousPublicKeyFile, when set, is a PEM public key whose tokens are
	// still accepted: the key that signed before the last rotation.
	PreviousPublicKeyFile string
	DataDir               string
	Dev                   bool
	// EphemeralKey signs with a throwaway in-memory key instead of the
	// configured one: for operator commands that create accounts but never
	// hand out tokens, so they need no access to the signing key.
	EphemeralKey bool

	// Rate limits; zero takes the documented default.
	RegisterPerAddrPerHour  int           // default 20
	LoginPerAddrPerMinute   int           // default 60
	LoginFailuresPerAccount int           // default 10
	LoginFailureWindow      time.Duration // default 15m

	// HashConcurrency caps the argon2id hashes computed at once (default
	// one less than the number of CPUs, at least 1), so that a login storm
	// queues instead of taking every core from other requests.
	HashConcurrency int

	// Issuer and Audience are the iss and aud of access tokens (default "nova").
	Issuer, Audience string

	// Metrics, when set, registers the session cache's metrics.
	Metrics prometheus.Registerer
}

func (c Config) withDefaults() Config {
	if c.RegisterPerAddrPerHour <= 0 {
		c.RegisterPerAddrPerHour = 20
	}
	if c.LoginPerAddrPerMinute <= 0 {
		c.LoginPerAddrPerMinute = 60
	}
	if c.LoginFailuresPerAccount <= 0 {
		c.LoginFailuresPerAccount = 10
	}
	if c.LoginFailureWindow <= 0 {
		c.LoginFailureWindow = 15 * time.Minute
	}
	if c.Issuer == "" {
		c.Issuer = "nova"
	}
	if c.Audience == "" {
		c.Audience = "nova"
	}
	return c
}

// Service is the identity domain: accounts' credentials, sessions and tokens.
type Service struct {
	pool   *pgxpool.Pool
	bus    *events.Bus
	cfg    Config
	log    *slog.Logger
	hasher *password.Hasher
	tokens *token.Issuer
	live   *pgcache.Cache[uuid.UUID] // live sessions: their users by session id
}

// New builds the service on identity's own pool. A missing or unreadable
// signing key is a *config.Error (exit status 2).
func New(ctx context.Context, pool *pgxpool.Pool, bus *events.Bus, cfg Config, log *slog.Logger) (*Service, error) {
	cfg = cfg.withDefaults()
	priv, err := signingKey(cfg)
	if err != nil {
		return nil, err
	}
	var previous ed25519.PublicKey
	if cfg.PreviousPublicKeyFile != "" {
		previous, err = token.LoadPublicKey(cfg.PreviousPublicKeyFile)
		if err != nil {
			return nil, &config.Error{Var: "NOVA_JWT_PREVIOUS_PUBLIC_KEY_FILE", Flag: "jwt-previous-public-key-file", Problem: err.Error()}
		}
	}
	hasher, err := password.NewHasher(password.OWASP, cfg.HashConcurrency)
	if err != nil {
		return nil, fmt.Errorf("identity: %w", err)
	}
	s := &Service{
		pool:   pool,
		bus:    bus,
		cfg:    cfg,
		log:    log.With("domain", "identity"),
		hasher: hasher,
		tokens: token.NewIssuer(priv, previous, cfg.Issuer, cfg.Audience),
		live:   pgcache.New[uuid.UUID](sessionEnded, maxLiveSessions, sessionCacheMetrics, cfg.Metrics),
	}
	// The key's first use is recorded whether or not a previous key is
	// configured: recorded only with one, a key rotated in without it (the
	// old key leaked, say) would open a new window for the old key's tokens
	// whenever it was configured later. A throwaway key signs nothing, and a
	// service without a database (a configuration check) records nothing.
	if !cfg.EphemeralKey && pool != nil {
		since, err := store.KeyFirstUsed(ctx, pool, s.tokens.KeyID())
		if err != nil {
			return nil, fmt.Errorf("identity: %w", err)
		}
		if previous != nil {
			s.tokens.CurrentSince(since)
		}
	}
	s.log.Info("access tokens signed with Ed25519", "kid", s.tokens.KeyID(), "previous_key", previous != nil)
	return s, nil
}

func signingKey(cfg Config) (ed25519.PrivateKey, error) {
	const env, flag = "NOVA_JWT_PRIVATE_KEY_FILE", "jwt-private-key-file"
	switch {
	case cfg.EphemeralKey:
		_, k, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return nil, fmt.Errorf("ephemeral signing key: %w", err)
		}
		return k, nil
	case cfg.PrivateKeyFile != "":
		k, err := token.LoadPrivateKey(cfg.PrivateKeyFile)
		if err != nil {
			return nil, &config.Error{Var: env, Flag: flag, Problem: err.Error()}
		}
		return k, nil
	case cfg.Dev:
		k, err := token.LoadOrCreateDevKey(cfg.DataDir)
		if err != nil {
			return nil, &config.Error{Var: env, Flag: flag, Problem: "dev key in the data dir: " + err.Error()}
		}
		return k, nil
	default:
		return nil, &config.Error{Var: env, Flag: flag, Problem: "is required in production: a PEM PKCS#8 Ed25519 key (openssl genpkey -algorithm ed25519)"}
	}
}

// ClientInfo describes the client making a request, for rate limits and the
// session list.
type ClientInfo struct {
	Addr      string
	UserAgent string
}

// RegisterInput is a registration. DisplayName may be empty: the username
// is then used.
type RegisterInput struct {
	Email, Username, Password, DisplayName string
}

// LoginInput is a login; Login is the email or the username.
type LoginInput struct {
	Login, Password string
}

// Tokens are what a client keeps after register, login or refresh.
type Tokens struct {
	AccessToken, RefreshToken string
	// ExpiresAt is when the access token expires.
	ExpiresAt         time.Time
	UserID, SessionID uuid.UUID
}

// Session is a live session as listed to its owner.
type Session struct {
	ID                    uuid.UUID
	CreatedAt, LastUsedAt time.Time
	UserAgent             string
}

// Principal is the authenticated caller of a request.
type Principal struct {
	UserID, SessionID uuid.UUID
}

// KeyID is the kid of the key that signs access tokens now.
func (s *Service) KeyID() string { return s.tokens.KeyID() }

// WatchSessions lets Authenticate answer from a cache of the sessions it
// found live, until ctx ends: it listens, on a connection of its own, for
// the sessions that end anywhere, and the cache answers only while it
// provably hears them. wait returns once the connection is closed. Without
// it, every authenticated request looks its session up.
func (s *Service) WatchSessions(ctx context.Context) (wait func()) {
	return s.live.Start(ctx, s.pool, s.log)
}

func (s *Service) inTx(ctx context.Context, f func(pgx.Tx) error) error {
	return pgx.BeginFunc(ctx, s.pool, f)
}
