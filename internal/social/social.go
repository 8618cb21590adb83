package social

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/nova-social/nova/internal/content"
	"github.com/nova-social/nova/internal/events"
	"github.com/nova-social/nova/internal/platform/apperr"
	"github.com/nova-social/nova/internal/platform/postgres"
)

// Accounts is what social asks the user domain when someone follows or
// blocks: does the account exist, and must it approve its followers.
type Accounts interface {
	// IsPrivate reports whether the account approves followers; an unknown
	// or banned account is an apperr NOT_FOUND.
	IsPrivate(ctx context.Context, id uuid.UUID) (bool, error)
}

// Config tunes the home feed.
type Config struct {
	// FanoutMaxFollowers: authors with more followers are not fanned out;
	// their posts are merged into feeds at read time (default 10,000).
	FanoutMaxFollowers int
	// MaxEntriesPerUser bounds each stored feed (default 800); older pages
	// are served by a read-time query.
	MaxEntriesPerUser int
	Log               *slog.Logger
}

// Service is the social domain's API.
type Service struct {
	pool     *pgxpool.Pool
	bus      *events.Bus
	content  *content.Service
	accounts Accounts
	cfg      Config
	log      *slog.Logger
	now      func() time.Time
}

// New builds the service on the social domain's pool.
func New(pool *pgxpool.Pool, bus *events.Bus, posts *content.Service, accounts Accounts, cfg Config) *Service {
	if cfg.FanoutMaxFollowers <= 0 {
		cfg.FanoutMaxFollowers = 10_000
	}
	if cfg.MaxEntriesPerUser <= 0 {
		cfg.MaxEntriesPerUser = 800
	}
	log := cfg.Log
	if log == nil {
		log = slog.Default()
	}
	return &Service{pool: pool, bus: bus, content: posts, accounts: accounts, cfg: cfg, log: log.With("domain", "social"),
		now: func() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }}
}

// FollowState is the viewer's relationship to a user.
type FollowState string

const (
	None      FollowState = "NONE"
	Requested FollowState = "REQUESTED"
	Following FollowState = "FOLLOWING"
)

func requireUser(viewer uuid.UUID) error {
	if viewer == uuid.Nil {
		return apperr.NewUnauthenticated("sign in to do this")
	}
	return nil
}

// inTx runs f in a transaction, retried after a deadlock (see postgres.InTx).
func (s *Service) inTx(ctx context.Context, f func(tx pgx.Tx) error) error {
	return postgres.InTx(ctx, s.pool, s.log, f)
}

func newID() (uuid.UUID, error) {
	id, err := uuid.NewV7()
	if err != nil {
		return uuid.Nil, fmt.Errorf("new id: %w", err)
	}
	return id, nil
}
