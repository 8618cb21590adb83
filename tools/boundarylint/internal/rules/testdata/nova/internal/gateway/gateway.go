// Package gateway orchestrates domains and owns no data. // want package:"domainEdges\\(identity→events, social→content, user→events, user→identity\\)"
package gateway

import (
	"context"

	"github.com/jackc/pgx/v5/pgxpool" // want `gateway may not import the database driver github.com/jackc/pgx/v5/pgxpool`

	_ "example.com/nova/internal/identity"
	"example.com/nova/internal/platform/db"
	_ "example.com/nova/internal/social"
	_ "example.com/nova/internal/user"
)

func Count(ctx context.Context, p *pgxpool.Pool) {
	p.QueryRow(ctx, `SELECT count(*) FROM content.posts`) // want `gateway may not run SQL \(QueryRow\)`
	db.Exec(ctx, p, `DELETE FROM content.posts`)          // want `gateway may not run SQL \(Exec → Exec\)`
}
