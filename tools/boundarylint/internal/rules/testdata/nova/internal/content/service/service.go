// Package service calls SQL helpers of other packages: the SQL it passes
// is checked against content's schema.
package service

import (
	"context"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"example.com/nova/internal/content/store"
	"example.com/nova/internal/platform/db"
)

func Purge(ctx context.Context, p *pgxpool.Pool, tx pgx.Tx, table string) error {
	if err := db.Exec(ctx, p, `DELETE FROM content.posts`); err != nil {
		return err
	}
	if err := db.Exec(ctx, p, `DELETE FROM users.users`); err != nil { // want `content may not write users.users`
		return err
	}
	return store.Helper(ctx, tx, "DELETE FROM content."+table) // want `SQL passed to Helper → Exec is built at run time`
}
