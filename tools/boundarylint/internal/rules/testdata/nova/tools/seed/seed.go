// Package seed is tooling, outside the rules.
package seed

import (
	"context"

	"github.com/jackc/pgx/v5/pgxpool"
)

func Seed(ctx context.Context, p *pgxpool.Pool) {
	p.Exec(ctx, `INSERT INTO identity.sessions (id) VALUES (gen_random_uuid())`)
	p.Exec(ctx, `INSERT INTO posts (id) VALUES (gen_random_uuid())`)
}
