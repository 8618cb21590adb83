// Package db is platform plumbing: its own SQL (bootstrap) is allowed.
package db

import (
	"context"

	"github.com/jackc/pgx/v5/pgxpool"
)

func Bootstrap(ctx context.Context, p *pgxpool.Pool, schema string) error {
	_, err := p.Exec(ctx, "CREATE SCHEMA IF NOT EXISTS "+schema)
	return err
}

// Exec is a platform helper that runs the SQL it is given.
func Exec(ctx context.Context, p *pgxpool.Pool, sql string) error { // want Exec:"sqlSink\\(2, Exec\\)"
	_, err := p.Exec(ctx, sql)
	return err
}
