// Package store is the user domain's SQL, all in the users schema.
package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/nova-social/nova/internal/platform/postgres"
)

// Querier is a pool or a transaction.
type Querier = postgres.Querier

// ErrNotFound is a user (or its profile) that does not exist.
var ErrNotFound = errors.New("not found")

// User is one account's public data.
type User struct {
	ID            uuid.UUID
	Username      string
	DisplayName   string
	Bio           string
	AvatarMediaID *uuid.UUID
	Verified      bool
	Role          string
	Banned        bool
	CreatedAt     time.Time
}

// Settings are one account's preferences.
type Settings struct {
	IsPrivate, EmailNotifications, PushNotifications bool
}

// QueueCreateAccount queues the rows of a new account: user, profile,
// default settings and the USER role. Rows already there are kept, so a
// redelivered registration (or the event arriving after an operator created
// the account) changes nothing. The account's insert names no conflict
// target: the event's handler and an operator's synchronous create can
// insert the same account at once, and with the id alone as the target the
// second would fail on the username's unique index instead of standing down.
func QueueCreateAccount(b *pgx.Batch, id uuid.UUID, username, usernameKey, displayName string, at time.Time) {
	b.Queue(`INSERT INTO users.users (id, username, username_key, created_at)
		VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`, id, username, usernameKey, at)
	b.Queue(`INSERT INTO users.user_profiles (user_id, display_name) VALUES ($1, $2)
		ON CONFLICT (user_id) DO NOTHING`, id, displayName)
	b.Queue(`INSERT INTO users.user_settings (user_id) VALUES ($1) ON CONFLICT (user_id) DO NOTHING`, id)
	b.Queue(`INSERT INTO users.user_roles (user_id, role) VALUES ($1, 'USER') ON CONFLICT (user_id) DO NOTHING`, id)
}

const selectUser = `SELECT u.id, u.username, p.display_name, p.bio, p.avatar_media_id,
		u.verified_at IS NOT NULL, r.role, u.banned_at IS NOT NULL, u.created_at
	FROM users.users u
	JOIN users.user_profiles p ON p.user_id = u.id
	JOIN users.user_roles r ON r.user_id = u.id`

func scanUser(row pgx.Row) (User, error) {
	var u User
	err := row.Scan(&u.ID, &u.Username, &u.DisplayName, &u.Bio, &u.AvatarMediaID, &u.Verified, &u.Role, &u.Banned, &u.CreatedAt)
	return u, err
}

func one(row pgx.Row) (User, error) {
	u, err := scanUser(row)
	if errors.Is(err, pgx.ErrNoRows) {
		return User{}, ErrNotFound
	}
	if err != nil {
		return User{}, fmt.Errorf("read user: %w", err)
	}
	return u, nil
}

// Get reads one user.
func Get(ctx context.Context, q Querier, id uuid.UUID) (User, error) {
	return one(q.QueryRow(ctx, selectUser+` WHERE u.id = $1`, id))
}

// ByUsernameKey reads the user with the case-folded username.
func ByUsernameKey(ctx context.Context, q Querier, key string) (User, error) {
	return one(q.QueryRow(ctx, selectUser+` WHERE u.username_key = $1`, key))
}

// GetMany reads every listed user that exists, in one query.
func GetMany(ctx context.Context, q Querier, ids []uuid.UUID) ([]User, error) {
	return many(ctx, q, selectUser+` WHERE u.id = ANY($1)`, ids)
}

// ByUsernameKeys reads every user whose case-folded username is listed, in
// one query.
func ByUsernameKeys(ctx context.Context, q Querier, keys []string) ([]User, error) {
	return many(ctx, q, selectUser+` WHERE u.username_key = ANY($1)`, keys)
}

func many(ctx context.Context, q Querier, sql string, arg any) ([]User, error) {
	rows, err := q.Query(ctx, sql, arg)
	if err != nil {
		return nil, fmt.Errorf("read users: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (User, error) { return scanUser(r) })
	if err != nil {
		return nil, fmt.Errorf("read users: %w", err)
	}
	return out, nil
}

// LockBanned reads whether the user is banned and share-locks the user's row
// until the transaction ends: a ban, which updates that row, then waits, so
// none commits between this read and the transaction's own commit.
func LockBanned(ctx context.Context, q Querier, id uuid.UUID) (bool, error) {
	var banned bool
	err := q.QueryRow(ctx, `SELECT banned_at IS NOT NULL FROM users.users WHERE id = $1 FOR SHARE`, id).Scan(&banned)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, ErrNotFound
	}
	if err != nil {
		return false, fmt.Errorf("read ban: %w", err)
	}
	return banned, nil
}

// UpdateProfile changes the non-nil fields; it reports whether any value
// changed. A user without a profile changes nothing, which the caller's
// read tells apart.
func UpdateProfile(ctx context.Context, q Querier, id uuid.UUID, displayName, bio *string, avatar *uuid.UUID) (bool, error) {
	tag, err := q.Exec(ctx, `UPDATE users.user_profiles SET
			display_name = coalesce($2, display_name),
			bio = coalesce($3, bio),
			avatar_media_id = coalesce($4, avatar_media_id),
			updated_at = now()
		WHERE user_id = $1 AND (display_name, bio, avatar_media_id)
			IS DISTINCT FROM (coalesce($2, display_name), coalesce($3, bio), coalesce($4, avatar_media_id))`,
		id, displayName, bio, avatar)
	if err != nil {
		return false, fmt.Errorf("update profile: %w", err)
	}
	return tag.RowsAffected() == 1, nil
}

func scanSettings(r pgx.Row) (uuid.UUID, Settings, error) {
	var id uuid.UUID
	var s Settings
	err := r.Scan(&id, &s.IsPrivate, &s.EmailNotifications, &s.PushNotifications)
	return id, s, err
}

// GetSettings reads one user's settings.
func GetSettings(ctx context.Context, q Querier, id uuid.UUID) (Settings, error) {
	_, s, err := scanSettings(q.QueryRow(ctx, `SELECT user_id, is_private, email_notifications, push_notifications
		FROM users.user_settings WHERE user_id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return Settings{}, ErrNotFound
	}
	if err != nil {
		return Settings{}, fmt.Errorf("read settings: %w", err)
	}
	return s, nil
}

// GetManySettings reads the settings of every listed user that exists.
func GetManySettings(ctx context.Context, q Querier, ids []uuid.UUID) (map[uuid.UUID]Settings, error) {
	rows, err := q.Query(ctx, `SELECT user_id, is_private, email_notifications, push_notifications
		FROM users.user_settings WHERE user_id = ANY($1)`, ids)
	return postgres.CollectByID(rows, err, "read settings", scanSettings)
}

// UpdateSettings changes the non-nil fields and returns the result, and
// whether any value changed.
func UpdateSettings(ctx context.Context, q Querier, id uuid.UUID, private, email, push *bool) (Settings, bool, error) {
	_, s, err := scanSettings(q.QueryRow(ctx, `UPDATE users.user_settings SET
			is_private = coalesce($2, is_private),
			email_notifications = coalesce($3, email_notifications),
			push_notifications = coalesce($4, push_notifications),
			updated_at = now()
		WHERE user_id = $1 AND (is_private, email_notifications, push_notifications)
			IS DISTINCT FROM (coalesce($2, is_private), coalesce($3, email_notifications), coalesce($4, push_notifications))
		RETURNING user_id, is_private, email_notifications, push_notifications`, id, private, email, push))
	if errors.Is(err, pgx.ErrNoRows) {
		s, err = GetSettings(ctx, q, id)
		return s, false, err
	}
	if err != nil {
		return Settings{}, false, fmt.Errorf("update settings: %w", err)
	}
	return s, true, nil
}

// Actor is what permission checks need to know about the acting user.
type Actor struct {
	Rank   int
	Banned bool
}

// GetActor reads the acting user's role rank and ban state.
func GetActor(ctx context.Context, q Querier, id uuid.UUID) (Actor, error) {
	var a Actor
	err := q.QueryRow(ctx, `SELECT ro.rank, u.banned_at IS NOT NULL
		FROM users.users u
		JOIN users.user_roles r ON r.user_id = u.id
		JOIN users.roles ro ON ro.name = r.role
		WHERE u.id = $1`, id).Scan(&a.Rank, &a.Banned)
	if errors.Is(err, pgx.ErrNoRows) {
		return Actor{}, ErrNotFound
	}
	if err != nil {
		return Actor{}, fmt.Errorf("read actor: %w", err)
	}
	return a, nil
}

// HasPermission reports whether the user's role grants permission and the
// user is not banned.
func HasPermission(ctx context.Context, q Querier, id uuid.UUID, permission string) (bool, error) {
	var ok bool
	err := q.QueryRow(ctx, `SELECT EXISTS (
		SELECT 1 FROM users.users u
		JOIN users.user_roles r ON r.user_id = u.id
		JOIN users.role_permissions rp ON rp.role = r.role
		WHERE u.id = $1 AND u.banned_at IS NULL AND rp.permission = $2)`, id, permission).Scan(&ok)
	if err != nil {
		return false, fmt.Errorf("check permission: %w", err)
	}
	return ok, nil
}

// LockRoles locks the role rows of ids until the transaction ends, in id
// order (so two transactions locking the same pair cannot deadlock): a
// permission checked after it cannot be revoked before the check's action
// commits.
func LockRoles(ctx context.Context, q Querier, ids ...uuid.UUID) error {
	if _, err := q.Exec(ctx, `SELECT 1 FROM users.user_roles WHERE user_id = ANY($1) ORDER BY user_id FOR UPDATE`, ids); err != nil {
		return fmt.Errorf("lock roles: %w", err)
	}
	return nil
}

// LockPermission locks the permission's row until the transaction ends:
// transactions that change who holds it take this lock first, so that each
// sees the holders the others left.
func LockPermission(ctx context.Context, q Querier, permission string) error {
	if _, err := q.Exec(ctx, `SELECT 1 FROM users.permissions WHERE name = $1 FOR NO KEY UPDATE`, permission); err != nil {
		return fmt.Errorf("lock permission: %w", err)
	}
	return nil
}

// KeepsHolder reports whether some user who is not banned still holds
// permission once id has role: role grants it, or a user other than id does.
func KeepsHolder(ctx context.Context, q Querier, id uuid.UUID, role, permission string) (bool, error) {
	var ok bool
	err := q.QueryRow(ctx, `SELECT EXISTS (
			SELECT 1 FROM users.role_permissions WHERE role = $2 AND permission = $3)
		OR EXISTS (
			SELECT 1 FROM users.users u
			JOIN users.user_roles r ON r.user_id = u.id
			JOIN users.role_permissions rp ON rp.role = r.role
			WHERE rp.permission = $3 AND u.banned_at IS NULL AND u.id <> $1)`, id, role, permission).Scan(&ok)
	if err != nil {
		return false, fmt.Errorf("check permission holders: %w", err)
	}
	return ok, nil
}

// SetRole assigns role; it reports whether the role changed.
func SetRole(ctx context.Context, q Querier, id uuid.UUID, role string, by *uuid.UUID) (bool, error) {
	tag, err := q.Exec(ctx, `UPDATE users.user_roles SET role = $2, granted_by = $3, granted_at = now()
		WHERE user_id = $1 AND role <> $2`, id, role, by)
	if err != nil {
		return false, fmt.Errorf("set role: %w", err)
	}
	return tag.RowsAffected() == 1, nil
}

// Ban marks the user banned; it reports whether it was not already.
func Ban(ctx context.Context, q Querier, id uuid.UUID, reason string, by uuid.UUID) (bool, error) {
	tag, err := q.Exec(ctx, `UPDATE users.users SET banned_at = now(), ban_reason = $2, banned_by = $3
		WHERE id = $1 AND banned_at IS NULL`, id, reason, by)
	if err != nil {
		return false, fmt.Errorf("ban: %w", err)
	}
	return tag.RowsAffected() == 1, nil
}

// Verify marks the user verified; it reports whether it was not already.
func Verify(ctx context.Context, q Querier, id uuid.UUID) (bool, error) {
	tag, err := q.Exec(ctx, `UPDATE users.users SET verified_at = now() WHERE id = $1 AND verified_at IS NULL`, id)
	if err != nil {
		return false, fmt.Errorf("verify: %w", err)
	}
	return tag.RowsAffected() == 1, nil
}
