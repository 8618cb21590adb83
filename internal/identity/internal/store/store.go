// Package store is identity's SQL: credentials, sessions, refresh tokens and
// rate-limit counters, all in the identity schema.
package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgerrcode"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/nova-social/nova/internal/platform/postgres"
)

// Querier is a pool or a transaction.
type Querier = postgres.Querier

// Errors the service maps to client-facing ones.
var (
	ErrNotFound      = errors.New("not found")
	ErrEmailTaken    = errors.New("email taken")
	ErrUsernameTaken = errors.New("username taken")
)

// Credential is one account's login data.
type Credential struct {
	UserID       uuid.UUID
	Email        string
	Username     string
	PasswordHash string
	// PasswordChangedAt moves when the user sets a new password, not when
	// a login upgrades the hash of the same one.
	PasswordChangedAt time.Time
	Banned            bool
}

// NewCredential is the data of a registration.
type NewCredential struct {
	UserID                uuid.UUID
	Email, EmailKey       string
	Username, UsernameKey string
	PasswordHash          string
}

// InsertCredential stores a new account; a duplicate email or username is
// ErrEmailTaken or ErrUsernameTaken.
func InsertCredential(ctx context.Context, q Querier, c NewCredential) error {
	_, err := q.Exec(ctx, `INSERT INTO identity.credentials (user_id, email, email_key, username, username_key, password_hash)
		VALUES ($1, $2, $3, $4, $5, $6)`, c.UserID, c.Email, c.EmailKey, c.Username, c.UsernameKey, c.PasswordHash)
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == pgerrcode.UniqueViolation {
		switch pgErr.ConstraintName {
		case "credentials_email_key":
			return ErrEmailTaken
		case "credentials_username_key":
			return ErrUsernameTaken
		}
	}
	if err != nil {
		return fmt.Errorf("insert credentials: %w", err)
	}
	return nil
}

// Taken reports which of the two keys already belong to an account.
func Taken(ctx context.Context, q Querier, emailKey, usernameKey string) (email, username bool, err error) {
	err = q.QueryRow(ctx, `SELECT
			EXISTS (SELECT 1 FROM identity.credentials WHERE email_key = $1),
			EXISTS (SELECT 1 FROM identity.credentials WHERE username_key = $2)`,
		emailKey, usernameKey).Scan(&email, &username)
	if err != nil {
		return false, false, fmt.Errorf("check taken: %w", err)
	}
	return email, username, nil
}

const credentialColumns = `user_id, email, username, password_hash, password_changed_at, banned_at IS NOT NULL`

func scanCredential(row pgx.Row) (Credential, error) {
	var c Credential
	err := row.Scan(&c.UserID, &c.Email, &c.Username, &c.PasswordHash, &c.PasswordChangedAt, &c.Banned)
	if errors.Is(err, pgx.ErrNoRows) {
		return Credential{}, ErrNotFound
	}
	if err != nil {
		return Credential{}, fmt.Errorf("read credentials: %w", err)
	}
	return c, nil
}

// ByEmailKey finds the account by case-folded email.
func ByEmailKey(ctx context.Context, q Querier, key string) (Credential, error) {
	return scanCredential(q.QueryRow(ctx, `SELECT `+credentialColumns+` FROM identity.credentials WHERE email_key = $1`, key))
}

// ByUsernameKey finds the account by case-folded username.
func ByUsernameKey(ctx context.Context, q Querier, key string) (Credential, error) {
	return scanCredential(q.QueryRow(ctx, `SELECT `+credentialColumns+` FROM identity.credentials WHERE username_key = $1`, key))
}

// ByUserID finds the account by id.
func ByUserID(ctx context.Context, q Querier, id uuid.UUID) (Credential, error) {
	return scanCredential(q.QueryRow(ctx, `SELECT `+credentialColumns+` FROM identity.credentials WHERE user_id = $1`, id))
}

// LockCredential re-reads the account in tx and locks its row until tx ends,
// so that a ban or a password change (both update the row) cannot commit
// between this read and the end of tx. A shared lock lets logins of one
// account proceed together; forUpdate is for a caller that will update the
// row, since two holders of the shared lock upgrading it would deadlock.
func LockCredential(ctx context.Context, tx pgx.Tx, id uuid.UUID, forUpdate bool) (Credential, error) {
	if forUpdate {
		return scanCredential(tx.QueryRow(ctx, `SELECT `+credentialColumns+` FROM identity.credentials WHERE user_id = $1 FOR UPDATE`, id))
	}
	return scanCredential(tx.QueryRow(ctx, `SELECT `+credentialColumns+` FROM identity.credentials WHERE user_id = $1 FOR SHARE`, id))
}

// UpgradePasswordHash replaces the hash old with upgraded, a stronger hash
// of the same password, and changes nothing if the stored hash is no longer
// old. It leaves password_changed_at alone: the password stays the same.
func UpgradePasswordHash(ctx context.Context, q Querier, userID uuid.UUID, old, upgraded string) error {
	if _, err := q.Exec(ctx, `UPDATE identity.credentials SET password_hash = $3 WHERE user_id = $1 AND password_hash = $2`, userID, old, upgraded); err != nil {
		return fmt.Errorf("upgrade password hash: %w", err)
	}
	return nil
}

// SetPasswordHash stores the hash of a new password.
func SetPasswordHash(ctx context.Context, q Querier, userID uuid.UUID, hash string) error {
	if _, err := q.Exec(ctx, `UPDATE identity.credentials SET password_hash = $2, password_changed_at = now() WHERE user_id = $1`, userID, hash); err != nil {
		return fmt.Errorf("update password: %w", err)
	}
	return nil
}

// MarkBanned records a ban that occurred at at; it reports whether the
// account exists. The ban's time, not the delivery's, so that a replay
// rebuilds the record as it was.
func MarkBanned(ctx context.Context, q Querier, userID uuid.UUID, at time.Time) (bool, error) {
	tag, err := q.Exec(ctx, `UPDATE identity.credentials SET banned_at = coalesce(banned_at, $2) WHERE user_id = $1`, userID, at)
	if err != nil {
		return false, fmt.Errorf("mark banned: %w", err)
	}
	return tag.RowsAffected() == 1, nil
}

// KeyFirstUsed records kid as a signing key in use, unless it is known, and
// returns when it was first recorded. The conflict updates the row to return
// it: replicas starting together with a new key insert it at once, and the
// one whose insert waited for the other's commit could not read that row in
// its statement's snapshot.
func KeyFirstUsed(ctx context.Context, q Querier, kid string) (time.Time, error) {
	var at time.Time
	err := q.QueryRow(ctx, `INSERT INTO identity.signing_keys AS k (kid) VALUES ($1)
		ON CONFLICT (kid) DO UPDATE SET first_used_at = k.first_used_at
		RETURNING first_used_at`, kid).Scan(&at)
	if err != nil {
		return at, fmt.Errorf("signing key %s first use: %w", kid, err)
	}
	return at, nil
}
