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
