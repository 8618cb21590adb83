package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Session lifetimes: a session ends 30 days after login whatever happens, and
// earlier once its refresh token has gone unused for 7 days.
const (
	AbsoluteTTL = 30 * 24 * time.Hour
	IdleTTL     = 7 * 24 * time.Hour
)

// NewSession is a session to open.
type NewSession struct {
	ID, UserID uuid.UUID
	UserAgent  string
	Addr       string
	// RefreshHash is the hash of the session's first refresh token.
	RefreshHash []byte
}

// CreateSession opens a session with its first refresh token.
func CreateSession(ctx context.Context, q Querier, s NewSession) error {
	if _, err := q.Exec(ctx, `INSERT INTO identity.sessions (id, user_id, expires_at, user_agent, client_addr)
		VALUES ($1, $2, now() + $3::interval, $4, $5)`, s.ID, s.UserID, AbsoluteTTL, s.UserAgent, s.Addr); err != nil {
		return fmt.Errorf("insert session: %w", err)
	}
	if _, err := q.Exec(ctx, `INSERT INTO identity.refresh_tokens (token_hash, session_id) VALUES ($1, $2)`, s.RefreshHash, s.ID); err != nil {
		return fmt.Errorf("insert refresh token: %w", err)
	}
	return nil
}

// LiveSession returns the user of a session that is neither revoked nor
// past its absolute expiry, and how long it has left until then by the
// database's clock (a replica's may differ): one primary-key look-up, the
// per-request cost of immediate logout when the session is not cached.
func LiveSession(ctx context.Context, q Querier, sessionID uuid.UUID) (user uuid.UUID, left time.Duration, err error) {
	err = q.QueryRow(ctx, `SELECT user_id, expires_at - now() FROM identity.sessions
		WHERE id = $1 AND revoked_at IS NULL AND expires_at > now()`, sessionID).Scan(&user, &left)
	if errors.Is(err, pgx.ErrNoRows) {
		return uuid.Nil, 0, ErrNotFound
	}
	if err != nil {
		return uuid.Nil, 0, fmt.Errorf("look up session: %w", err)
	}
	return user, left, nil
}

// RefreshState is what a refresh needs to know about a presented token.
type RefreshState struct {
	SessionID, UserID uuid.UUID
	// Rotated: the token was already exchanged, so this is a reuse.
	Rotated bool
	// Live: the session is not revoked and not expired (idle or absolute),
	// and its account is not banned.
	Live bool
}

// LockRefresh finds the token by hash and locks its session row, so that two
// refreshes of one token cannot both succeed. The account's row is read but
// not locked: a ban locks it before the sessions, so locking it after one
// could deadlock, and a ban committing after this read revokes the session
// as soon as this transaction lets go of it.
func LockRefresh(ctx context.Context, q Querier, hash []byte) (RefreshState, error) {
	var st RefreshState
	err := q.QueryRow(ctx, `SELECT s.id, s.user_id, t.rotated_at IS NOT NULL,
			s.revoked_at IS NULL AND s.expires_at > now() AND s.last_used_at + $2::interval > now()
			AND c.banned_at IS NULL
		FROM identity.refresh_tokens t JOIN identity.sessions s ON s.id = t.session_id
		JOIN identity.credentials c ON c.user_id = s.user_id
		WHERE t.token_hash = $1
		FOR UPDATE OF s, t`, hash, IdleTTL).Scan(&st.SessionID, &st.UserID, &st.Rotated, &st.Live)
	if errors.Is(err, pgx.ErrNoRows) {
		return RefreshState{}, ErrNotFound
	}
	if err != nil {
		return RefreshState{}, fmt.Errorf("look up refresh token: %w", err)
	}
	return st, nil
}

// KeptRotated is how many rotated refresh tokens a session keeps the hashes
// of. Older ones are dropped so that a client refreshing in a loop cannot
// grow storage; their reuse is still recognised by the tag the token
// carries (token.Issuer.RefreshSession).
const KeptRotated = 100

// Rotate marks the old token used, stores its successor, touches the
// session and drops its rotated tokens beyond the KeptRotated newest.
func Rotate(ctx context.Context, q Querier, sessionID uuid.UUID, oldHash, newHash []byte) error {
	// One statement; the DELETE's snapshot predates the UPDATE, so it keeps
	// the newly rotated token and the KeptRotated-1 rotated before it.
	_, err := q.Exec(ctx, `WITH used AS (
			UPDATE identity.refresh_tokens SET rotated_at = now() WHERE token_hash = $1),
		fresh AS (
			INSERT INTO identity.refresh_tokens (token_hash, session_id) VALUES ($2, $3)),
		touched AS (
			UPDATE identity.sessions SET last_used_at = now() WHERE id = $3)
		DELETE FROM identity.refresh_tokens WHERE token_hash IN (
			SELECT token_hash FROM identity.refresh_tokens
			WHERE session_id = $3 AND rotated_at IS NOT NULL
			ORDER BY rotated_at DESC, token_hash OFFSET $4)`, oldHash, newHash, sessionID, KeptRotated-1)
	if err != nil {
		return fmt.Errorf("rotate refresh token: %w", err)
	}
	return nil
}

// RevokeSession ends one session of the user; it reports whether it was live.
func RevokeSession(ctx context.Context, q Querier, userID, sessionID uuid.UUID, reason string) (bool, error) {
	tag, err := q.Exec(ctx, `UPDATE identity.sessions SET revoked_at = now(), revoked_reason = $3
		WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL`, sessionID, userID, reason)
	if err != nil {
		return false, fmt.Errorf("revoke session: %w", err)
	}
	return tag.RowsAffected() == 1, nil
}

// RevokeAll ends every live session of the user except keep (uuid.Nil keeps
// none) and returns the ids it ended.
func RevokeAll(ctx context.Context, q Querier, userID, keep uuid.UUID, reason string) ([]uuid.UUID, error) {
	rows, err := q.Query(ctx, `UPDATE identity.sessions SET revoked_at = now(), revoked_reason = $3
		WHERE user_id = $1 AND revoked_at IS NULL AND id <> $2
		RETURNING id`, userID, keep, reason)
	if err != nil {
		return nil, fmt.Errorf("revoke sessions: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
	if err != nil {
		return nil, fmt.Errorf("revoke sessions: %w", err)
	}
	return ids, nil
}

// Session is a live session as listed to its owner.
type Session struct {
	ID                    uuid.UUID
	CreatedAt, LastUsedAt time.Time
	UserAgent             string
}

// LiveSessions lists the user's live sessions, most recently used first.
func LiveSessions(ctx context.Context, q Querier, userID uuid.UUID) ([]Session, error) {
	rows, err := q.Query(ctx, `SELECT id, created_at, last_used_at, user_agent FROM identity.sessions
		WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > now() AND last_used_at + $2::interval > now()
		ORDER BY last_used_at DESC, id DESC`, userID, IdleTTL)
	if err != nil {
		return nil, fmt.Errorf("list sessions: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Session, error) {
		var s Session
		err := r.Scan(&s.ID, &s.CreatedAt, &s.LastUsedAt, &s.UserAgent)
		return s, err
	})
	if err != nil {
		return nil, fmt.Errorf("list sessions: %w", err)
	}
	return out, nil
}

// SweepSessions deletes up to limit sessions (and, by cascade, their
// refresh tokens) a day past their absolute expiry, oldest first: no token
// of theirs can work any more, and a replayed one is refused as unknown just
// as it was as rotated. The limit keeps a sweep short however large a
// backlog grew (it runs inside a login); sessions locked by another sweep
// are left to it.
func SweepSessions(ctx context.Context, q Querier, limit int) (int64, error) {
	tag, err := q.Exec(ctx, `DELETE FROM identity.sessions WHERE id IN (
			SELECT id FROM identity.sessions WHERE expires_at < now() - interval '1 day'
			ORDER BY expires_at LIMIT $1 FOR UPDATE SKIP LOCKED)`, limit)
	if err != nil {
		return 0, fmt.Errorf("sweep sessions: %w", err)
	}
	return tag.RowsAffected(), nil
}
