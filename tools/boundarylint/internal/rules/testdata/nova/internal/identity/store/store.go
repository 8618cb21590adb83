// Package store is identity's SQL: every case here is clean.
package store

import (
	"context"
	"database/sql"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

const sessionCols = `s.id, s.user_id, s.expires_at`

const getSession = `SELECT ` + sessionCols + ` FROM identity.sessions s WHERE s.id = $1`

// DBTX is the repository's abstraction over pools and transactions.
type DBTX interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

func Get(ctx context.Context, p *pgxpool.Pool, id string) pgx.Row {
	return p.QueryRow(ctx, getSession, id)
}

func Revoke(ctx context.Context, tx pgx.Tx, id string) error {
	q := `UPDATE identity.sessions SET revoked_at = now() WHERE id = $1`
	if id == "" {
		q = `UPDATE identity.sessions SET revoked_at = now()`
	}
	_, err := tx.Exec(ctx, q, id)
	return err
}

func Recent(ctx context.Context, db DBTX, user string) pgx.Row {
	return db.QueryRow(ctx, `WITH mine AS (SELECT id, created_at FROM identity.sessions WHERE user_id = $1)
		SELECT count(*), max(created_at), gen_random_uuid() FROM mine`, user)
}

func Lock(ctx context.Context, db DBTX, id string) pgx.Row {
	return db.QueryRow(ctx, `SELECT s.id FROM identity.sessions s JOIN identity.refresh_tokens t ON t.session_id = s.id
		WHERE s.id = $1 FOR UPDATE OF s, t`, id)
}

func count(ctx context.Context, db DBTX, query string) pgx.Row { return db.QueryRow(ctx, query) }

func Counts(ctx context.Context, db DBTX) (pgx.Row, pgx.Row) {
	return count(ctx, db, `SELECT count(*) FROM identity.sessions`), count(ctx, db, `SELECT count(*) FROM identity.refresh_tokens`)
}

func Batch(ctx context.Context, p *pgxpool.Pool, ids []string) error {
	b := &pgx.Batch{}
	for _, id := range ids {
		b.Queue(`DELETE FROM identity.revoked_tokens WHERE jti = $1`, id)
	}
	return p.SendBatch(ctx, b).Close()
}

func Copy(ctx context.Context, p *pgxpool.Pool, src pgx.CopyFromSource) error {
	_, err := p.CopyFrom(ctx, pgx.Identifier{"identity", "revoked_tokens"}, []string{"jti"}, src)
	return err
}

func Lock2(ctx context.Context, c *pgx.Conn) error {
	_, err := c.Exec(ctx, `SELECT pg_catalog.pg_advisory_xact_lock($1)`, 42)
	return err
}

func Std(ctx context.Context, db *sql.DB) error {
	_, err := db.ExecContext(ctx, `DELETE FROM identity.sessions WHERE expires_at < now()`)
	return err
}

func Ordered(ctx context.Context, db DBTX, newest bool) pgx.Row {
	var q string
	switch {
	case newest:
		q = `SELECT id FROM identity.sessions ORDER BY created_at DESC LIMIT 1`
	default:
		q = `SELECT id FROM identity.sessions ORDER BY created_at LIMIT 1`
	}
	return db.QueryRow(ctx, q)
}
