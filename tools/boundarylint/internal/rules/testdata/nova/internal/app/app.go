// Package app is the composition root: it may import every domain. // want package:"domainEdges\\(content→media, content→social, content→user, identity→events, social→content, user→events, user→identity\\)"
package app

import (
	"context"

	"github.com/jackc/pgx/v5/pgxpool"

	_ "example.com/nova/internal/content"
	_ "example.com/nova/internal/identity"
	_ "example.com/nova/internal/media"
	_ "example.com/nova/internal/platform/db"
	_ "example.com/nova/internal/social"
	_ "example.com/nova/internal/user"
)

func Ping(ctx context.Context, p *pgxpool.Pool) {
	p.Exec(ctx, `SELECT 1`) // want `internal/app is a composition root and runs no SQL`
}
