package user

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/nova-social/nova/internal/events"
	"github.com/nova-social/nova/internal/identity"
	"github.com/nova-social/nova/internal/platform/apperr"
	"github.com/nova-social/nova/internal/platform/domains"
	"github.com/nova-social/nova/internal/platform/pgcache"
	"github.com/nova-social/nova/internal/platform/text"
	"github.com/nova-social/nova/internal/user/internal/store"
)

// Role is a user's role; each grants a set of permissions.
type Role string

// The roles, lowest first.
const (
	RoleUser      Role = "USER"
	RoleModerator Role = "MODERATOR"
	RoleAdmin     Role = "ADMIN"
)

// Valid reports whether r is one of the roles.
func (r Role) Valid() bool { return r == RoleUser || r == RoleModerator || r == RoleAdmin }

// Permission is something a role may allow. Code asks for permissions, never
// for role names; the mapping lives in the users.role_permissions table.
type Permission string

// The permissions.
const (
	PermAssignRole      Permission = "user.assign_role" // ADMIN
	PermVerify          Permission = "user.verify"      // ADMIN
	PermBan             Permission = "user.ban"         // MODERATOR, ADMIN (only users of a lower role)
	PermModerateContent Permission = "content.moderate" // MODERATOR, ADMIN
)

// Limits of profile text (a display name's are identity's, as at
// registration).
const (
	MaxBio       = 500
	MaxBanReason = 1000
)

// User is an account's public data.
type User struct {
	ID            uuid.UUID
	Username      string // as registered
	DisplayName   string
	Bio           string
	AvatarMediaID *uuid.UUID
	Verified      bool
	Role          Role
	Banned        bool
	CreatedAt     time.Time
}

// Settings are an account's preferences.
type Settings struct {
	IsPrivate, EmailNotifications, PushNotifications bool
}

// ProfileUpdate changes the non-nil fields.
type ProfileUpdate struct {
	DisplayName, Bio *string
	AvatarMediaID    *uuid.UUID
}

// SettingsUpdate changes the non-nil fields.
type SettingsUpdate struct {
	IsPrivate, EmailNotifications, PushNotifications *bool
}

// Service is the user domain: users, profiles, settings, roles.
type Service struct {
	pool *pgxpool.Pool
	bus  *events.Bus
	ids  *identity.Service
	log  *slog.Logger
	// users caches GetMany's users (a feed page's authors) while
	// WatchUsers runs.
	users *pgcache.Cache[User]
}

// New builds the service on the user domain's own pool. Its metrics are
// registered on reg when reg is not nil.
func New(pool *pgxpool.Pool, bus *events.Bus, ids *identity.Service, log *slog.Logger, reg prometheus.Registerer) *Service {
	return &Service{pool: pool, bus: bus, ids: ids, log: log.With("domain", "user"), users: pgcache.New[User](userChanged, maxCachedUsers, userCacheMetrics, reg)}
}

// userChanged is the channel on which triggers on the tables a user is read
// from (migration user/00005) announce every user that changes.
const userChanged = "users.user_changed"

// maxCachedUsers bounds the cache of users: an entry takes a few hundred
// bytes, up to about 2 KB with the longest bio and names, so at most about
// 40 MB.
const maxCachedUsers = 20_000

// userTTL bounds how long a cached user is answered without being read
// again, a margin over the notifications that keep it current.
const userTTL = time.Minute

var userCacheMetrics = pgcache.Metrics{
	Reads: prometheus.CounterOpts{
		Name: "nova_user_reads_total",
		Help: "Users read by id for lists (a feed page's authors, say), by where they came from (cache or database).",
	},
	Heard: prometheus.CounterOpts{
		Name: "nova_user_changes_heard_total",
		Help: "Notifications of changed users this replica heard (from any replica, itself included).",
	},
	Listening: prometheus.GaugeOpts{
		Name: "nova_user_cache_listening",
		Help: "1 while this replica hears changed users and so may answer reads of users from its cache.",
	},
	Entries: prometheus.GaugeOpts{
		Name: "nova_user_cache_entries",
		Help: "Users this replica remembers.",
	},
}

// WatchUsers lets GetMany answer from a cache of the users it read, until
// ctx ends: it listens, on a connection of its own, for the users that
// change anywhere, and the cache answers only while it provably hears them.
// wait returns once the connection is closed.
func (s *Service) WatchUsers(ctx context.Context) (wait func()) {
	return s.users.Start(ctx, s.pool, s.log)
}

// change runs f in a transaction that changes user id, and then forgets id
// from the cache, so that this replica's next read already sees the change;
// the others hear of it from the triggers.
func (s *Service) change(ctx context.Context, id uuid.UUID, f func(pgx.Tx) error) error {
	defer s.users.Forget(id)
	return pgx.BeginFunc(ctx, s.pool, f)
}

// Subscribe consumes identity.user.registered and creates the user, profile,
// default settings and USER role, as statements queued with the other
// deliveries of the transaction. Redelivery changes nothing.
func (s *Service) Subscribe(b *events.Bus) {
	events.SubscribeQueued(b, events.Subscriber{Domain: domains.User, Pool: s.pool}, "user.accounts",
		func(q *pgx.Batch, m events.Meta, e events.UserRegistered) {
			queueAccount(q, e.UserID, e.Username, e.DisplayName, m.OccurredAt)
		})
}

// queueAccount queues the rows of a new account, with the display name
// defaulting to the username.
func queueAccount(q *pgx.Batch, id uuid.UUID, username, displayName string, at time.Time) {
	if displayName == "" {
		displayName = username
	}
	if at.IsZero() {
		at = time.Now()
	}
	store.QueueCreateAccount(q, id, username, identity.UsernameKey(username), displayName, at)
}

func fromStore(u store.User) User {
	return User{
		ID: u.ID, Username: u.Username, DisplayName: u.DisplayName, Bio: u.Bio,
		AvatarMediaID: u.AvatarMediaID, Verified: u.Verified, Role: Role(u.Role),
		Banned: u.Banned, CreatedAt: u.CreatedAt,
	}
}

func notFound(err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return apperr.NewNotFound("user")
	}
	return err
}

// Get returns the user, or NOT_FOUND.
func (s *Service) Get(ctx context.Context, id uuid.UUID) (User, error) {
	u, err := store.Get(ctx, s.pool, id)
	if err != nil {
		return User{}, notFound(err)
	}
	return fromStore(u), nil
}

// GetMany returns the listed users that exist, in one query (for dataloaders).
func (s *Service) GetMany(ctx context.Context, ids []uuid.UUID) (map[uuid.UUID]User, error) {
	now := time.Now()
	out, missing, gen := s.users.LookupMany(ids, now)
	if len(missing) == 0 {
		return out, nil
	}
	rows, err := store.GetMany(ctx, s.pool, missing)
	if err != nil {
		return nil, err
	}
	for _, row := range rows {
		u := fromStore(row)
		out[u.ID] = u
		s.users.Store(gen, u.ID, u, now.Add(userTTL))
	}
	return out, nil
}

// ByUsername finds a user by username, ignoring case.
func (s *Service) ByUsername(ctx context.Context, username string) (User, error) {
	// A name Postgres cannot hold names no one (user(username:) is
	// anyone's to ask): answered here rather than failing the look-up.
	if text.HasNUL(username) {
		return User{}, apperr.NewNotFound("user")
	}
	u, err := store.ByUsernameKey(ctx, s.pool, identity.UsernameKey(username))
	if err != nil {
		return User{}, notFound(err)
	}
	return fromStore(u), nil
}

// ByUsernames finds the named users that exist, ignoring case, in one
// query, keyed by the names as given.
func (s *Service) ByUsernames(ctx context.Context, usernames []string) (map[string]User, error) {
	out := make(map[string]User, len(usernames))
	if len(usernames) == 0 {
		return out, nil
	}
	keys := make([]string, len(usernames))
	sent := make([]string, 0, len(usernames))
	for i, name := range usernames {
		keys[i] = identity.UsernameKey(name)
		if !text.HasNUL(name) {
			sent = append(sent, keys[i])
		}
	}
	rows, err := store.ByUsernameKeys(ctx, s.pool, sent)
	if err != nil {
		return nil, err
	}
	byKey := make(map[string]User, len(rows))
	for _, u := range rows {
		byKey[identity.UsernameKey(u.Username)] = fromStore(u)
	}
	for i, name := range usernames {
		if u, ok := byKey[keys[i]]; ok {
			out[name] = u
		}
	}
	return out, nil
}

// checkText refuses invalid UTF-8, NUL and control characters other than
// line breaks and tabs, and text over max code points.
func checkText(field, s string, max int) error {
	if !utf8.ValidString(s) {
		return apperr.Invalid(field, "must be valid UTF-8 text")
	}
	if utf8.RuneCountInString(s) > max {
		return apperr.Invalid(field, "must be at most %d characters", max)
	}
	for _, r := range s {
		if unicode.IsControl(r) && r != '\n' && r != '\r' && r != '\t' {
			return apperr.Invalid(field, "must not contain control characters")
		}
	}
	return nil
}

// UpdateProfile changes the viewer's own profile and publishes
// user.profile.updated with the whole profile when a value changed, so a
// client resending its profile adds nothing to the log. Text is stored as
// given. A banned account is refused: its sessions end only once identity
// has handled user.banned, and its profile still reads. The ban is read
// under a lock a ban waits for: read without it, a ban could commit between
// the check and this commit, and the profile change after it.
func (s *Service) UpdateProfile(ctx context.Context, viewer uuid.UUID, in ProfileUpdate) (User, error) {
	if viewer == uuid.Nil {
		return User{}, apperr.NewUnauthenticated("sign in to update your profile")
	}
	if in.DisplayName != nil {
		if err := identity.CheckDisplayName("displayName", *in.DisplayName); err != nil {
			return User{}, err
		}
	}
	if in.Bio != nil {
		if err := checkText("bio", *in.Bio, MaxBio); err != nil {
			return User{}, err
		}
	}
	if in.DisplayName == nil && in.Bio == nil && in.AvatarMediaID == nil {
		return s.Get(ctx, viewer)
	}
	var u store.User
	err := s.change(ctx, viewer, func(tx pgx.Tx) error {
		banned, err := store.LockBanned(ctx, tx, viewer)
		if err != nil {
			return err
		}
		if banned {
			return apperr.NewForbidden("account suspended")
		}
		changed, err := store.UpdateProfile(ctx, tx, viewer, in.DisplayName, in.Bio, in.AvatarMediaID)
		if err != nil {
			return err
		}
		if u, err = store.Get(ctx, tx, viewer); err != nil {
			return err
		}
		if !changed {
			return nil
		}
		return s.bus.Publish(ctx, tx, events.ProfileUpdated{
			UserID: u.ID, Username: u.Username, DisplayName: u.DisplayName, Bio: u.Bio, AvatarMediaID: u.AvatarMediaID,
		})
	})
	if err != nil {
		return User{}, fmt.Errorf("update profile: %w", notFound(err))
	}
	return fromStore(u), nil
}

// Settings returns the user's settings, or NOT_FOUND.
func (s *Service) Settings(ctx context.Context, userID uuid.UUID) (Settings, error) {
	st, err := store.GetSettings(ctx, s.pool, userID)
	if err != nil {
		return Settings{}, notFound(err)
	}
	return Settings(st), nil
}

// SettingsMany returns the settings of the listed users that exist, in one query.
func (s *Service) SettingsMany(ctx context.Context, ids []uuid.UUID) (map[uuid.UUID]Settings, error) {
	out := make(map[uuid.UUID]Settings, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	m, err := store.GetManySettings(ctx, s.pool, ids)
	if err != nil {
		return nil, err
	}
	for id, st := range m {
		out[id] = Settings(st)
	}
	return out, nil
}

// UpdateSettings changes the user's settings and publishes
// user.settings.updated when a value changed.
func (s *Service) UpdateSettings(ctx context.Context, userID uuid.UUID, in SettingsUpdate) (Settings, error) {
	if userID == uuid.Nil {
		return Settings{}, apperr.NewUnauthenticated("sign in to update your settings")
	}
	if in.IsPrivate == nil && in.EmailNotifications == nil && in.PushNotifications == nil {
		return s.Settings(ctx, userID)
	}
	var st store.Settings
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var (
			changed bool
			err     error
		)
		st, changed, err = store.UpdateSettings(ctx, tx, userID, in.IsPrivate, in.EmailNotifications, in.PushNotifications)
		if err != nil || !changed {
			return err
		}
		return s.bus.Publish(ctx, tx, events.SettingsUpdated{
			UserID: userID, IsPrivate: st.IsPrivate, EmailNotifications: st.EmailNotifications, PushNotifications: st.PushNotifications,
		})
	})
	if err != nil {
		return Settings{}, fmt.Errorf("update settings: %w", notFound(err))
	}
	return Settings(st), nil
}
