// Package evade sends SQL, or changes the session's role and search_path,
// by routes that look unlike a query call.
package evade

import (
	"context"
	"database/sql"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"example.com/nova/internal/content/store"
)

func run(ctx context.Context, tx pgx.Tx, q string, args ...any) error {
	_, err := tx.Exec(ctx, q, args...)
	return err
}

// A helper called with its variadic arguments spread is still a helper.
func Spread(ctx context.Context, tx pgx.Tx, args []any) error {
	return run(ctx, tx, `DELETE FROM social.likes WHERE id = $1`, args...) // want `content may not write social.likes`
}

// A helper of another package taken as a value hides its callers.
func HelperValue(ctx context.Context, tx pgx.Tx) error {
	f := store.Helper // want `Helper is used as a value, so the SQL it runs cannot be checked`
	return f(ctx, tx, `DELETE FROM social.likes`)
}

// A batch's queued queries are SQL, however they are queued.
func Queued(ctx context.Context, p *pgxpool.Pool, sql string) error {
	b := &pgx.Batch{}
	b.QueuedQueries = append(b.QueuedQueries, &pgx.QueuedQuery{SQL: `DELETE FROM social.likes`}) // want `content may not write social.likes`
	q := b.Queue(`DELETE FROM content.posts`)
	q.SQL = `DELETE FROM social.shares`                                   // want `content may not write social.shares`
	b.QueuedQueries = append(b.QueuedQueries, &pgx.QueuedQuery{SQL: sql}) // want `SQL passed to QueuedQuery.SQL is built at run time`
	return p.SendBatch(ctx, b).Close()
}

// The pool's role and search_path travel as startup parameters.
func Params(ctx context.Context, p *pgxpool.Pool, key string) (*pgxpool.Pool, error) {
	cfg := p.Config()
	cfg.ConnConfig.RuntimeParams["application_name"] = "nova-content"
	cfg.ConnConfig.RuntimeParams["role"] = "nova_social"       // want `setting the startup parameter role is SET ROLE in disguise`
	cfg.ConnConfig.RuntimeParams["Search_Path"] = "social"     // want `setting the startup parameter search_path is SET search_path in disguise`
	cfg.ConnConfig.RuntimeParams["options"] = "-c role=x"      // want `setting the startup parameter options`
	cfg.ConnConfig.RuntimeParams[key] = "x"                    // want `a startup parameter named at run time cannot be checked`
	delete(cfg.ConnConfig.RuntimeParams, "role")               // want `removing the startup parameter role`
	cfg.ConnConfig.RuntimeParams = map[string]string{"a": "b"} // want `replacing the startup parameters`
	return pgxpool.NewWithConfig(ctx, cfg)
}

type pair struct{ first, second string }

var (
	named      = pair{first: `SELECT id FROM content.posts`}
	positional = pair{`SELECT id FROM social.likes`, ``}
)

// A field assigned by position is assigned all the same.
func Positional(ctx context.Context, p *pgxpool.Pool) pgx.Row {
	return p.QueryRow(ctx, named.first) // want `content may not read social.likes`
}

// A repository interface in database/sql's shape is a query method.
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

func StdShape(ctx context.Context, db execer) error {
	_, err := db.ExecContext(ctx, `DELETE FROM social.likes`) // want `content may not write social.likes`
	return err
}

var _ = positional

type running interface {
	Run(ctx context.Context, query string) error
}

// Through an interface of its own, another package reaches store.Runner.Run.
func ForeignInterface(ctx context.Context, r store.Runner) error {
	var i running = r
	return i.Run(ctx, `DELETE FROM social.likes`)
}

// Exported variables and fields are assigned here, out of store's sight.
func Assigns(ctx context.Context, tx pgx.Tx) error {
	store.Default = `DELETE FROM social.likes`
	return store.RunQuery(ctx, tx, store.Query{SQL: `DELETE FROM social.likes`})
}
