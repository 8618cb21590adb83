// Package seed is tooling, outside the rules.
package seed

import (
	"context"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

func Seed(ctx context.Context, p *pgxpool.Pool) {
	p.Exec(ctx, `INSERT INTO identity.sessions (id) VALUES (gen_random_uuid())`)
	p.Exec(ctx, `INSERT INTO posts (id) VALUES (gen_random_uuid())`)
}

// Run runs the SQL its caller hands it: the caller's SQL is checked.
func Run(ctx context.Context, tx pgx.Tx, q string) error { // want Run:"sqlSink\\(2, Exec\\)"
	_, err := tx.Exec(ctx, q)
	return err
}
