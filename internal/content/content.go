package content

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/nova-social/nova/internal/content/internal/store"
	"github.com/nova-social/nova/internal/events"
	"github.com/nova-social/nova/internal/platform/apperr"
	"github.com/nova-social/nova/internal/platform/postgres"
	"github.com/nova-social/nova/internal/platform/text"
)

// Roles a caller may hold, as the user domain names them. The gateway passes
// the caller's role in an Actor for the operations that moderators may take.
const (
	RoleUser      = "USER"
	RoleModerator = "MODERATOR"
	RoleAdmin     = "ADMIN"
)

// Actor is the caller of an operation whose permission depends on the
// caller's role (deletePost, deleteComment, moderatePost).
type Actor struct {
	ID   uuid.UUID
	Role string
}

// IsModerator reports whether the actor may moderate others' content.
func (a Actor) IsModerator() bool { return a.Role == RoleModerator || a.Role == RoleAdmin }

// Visibility is who may read a post.
type Visibility string

const (
	Public    Visibility = "PUBLIC"
	Followers Visibility = "FOLLOWERS"
)

// MediaChecker validates the media a post attaches: each id must be READY
// media uploaded by owner, else a BAD_USER_INPUT error on field "mediaIds".
// The media domain provides it.
type MediaChecker interface {
	CheckAttachable(ctx context.Context, owner uuid.UUID, ids []uuid.UUID) error
}

// Options configures New.
type Options struct {
	// Media validates attachments; without it, posts with mediaIds are refused.
	Media MediaChecker
	// Users resolves @mentions to user ids for events; without it, events
	// carry the mentioned usernames only.
	Users Directory
	Log   *slog.Logger
}

// Service is the content domain's API.
type Service struct {
	pool  *pgxpool.Pool
	bus   *events.Bus
	media MediaChecker
	users Directory
	log   *slog.Logger
	now   func() time.Time
}

// New builds the service on the content domain's pool, publishing on bus.
func New(pool *pgxpool.Pool, bus *events.Bus, opts Options) *Service {
	log := opts.Log
	if log == nil {
		log = slog.Default()
	}
	return &Service{pool: pool, bus: bus, media: opts.Media, users: opts.Users, log: log.With("domain", "content"),
		now: func() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }}
}

// Input limits, in Unicode code points.
const (
	MaxPostBody     = 5_000
	MaxCommentBody  = 2_000
	MaxArticleTitle = 200
	MaxArticleBody  = 100_000
	MaxReportReason = 1_000
)

// MaxPostVersions bounds a post's edit history: each edit stores the
// previous body, so without a bound a client could grow storage by editing
// in a loop. A post keeps its original body (what it said when readers and
// moderators first saw it) and the newest earlier bodies, this many in all;
// the ones in between are dropped. Editing never fails for it.
const MaxPostVersions = 50

// checkText validates a required text input of at most max code points.
// U+0000 is refused: Postgres text cannot store it.
func checkText(field, v string, max int) error {
	if !utf8.ValidString(v) {
		return apperr.Invalid(field, "%s is not valid UTF-8", field)
	}
	if text.HasNUL(v) {
		return apperr.Invalid(field, "%s must not contain NUL characters", field)
	}
	if text.Blank(v) {
		return apperr.Invalid(field, "%s must not be empty", field)
	}
	if n := utf8.RuneCountInString(v); n > max {
		return apperr.Invalid(field, "%s must be at most %d characters, got %d", field, max, n)
	}
	return nil
}

func requireUser(viewer uuid.UUID) error {
	if viewer == uuid.Nil {
		return apperr.NewUnauthenticated("sign in to do this")
	}
	return nil
}

// keyed turns the rows of a batch read into values keyed by id, as the
// dataloaders of the gateway want them.
func keyed[R, T any](rows []R, kv func(R) (uuid.UUID, T)) map[uuid.UUID]T {
	out := make(map[uuid.UUID]T, len(rows))
	for _, r := range rows {
		k, v := kv(r)
		out[k] = v
	}
	return out
}

// notFound turns store.ErrNotFound into the client's NOT_FOUND for what.
func notFound(err error, what string) error {
	if errors.Is(err, store.ErrNotFound) {
		return apperr.NewNotFound(what)
	}
	return err
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
