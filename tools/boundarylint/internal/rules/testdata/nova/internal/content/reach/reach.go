// Package reach sends content's SQL by every other route than a literal at
// the query: fields, partly dynamic variables, pgconn's lower layer,
// method values, generic helpers and interfaces.
package reach

import (
	"context"
	"io"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

type queries struct{ likes, posts string }

var qs = queries{likes: `SELECT * FROM social.likes`, posts: `SELECT * FROM content.posts`}

// A field assigned only constants has each of them checked.
func Field(ctx context.Context, p *pgxpool.Pool) (pgx.Row, pgx.Row) {
	return p.QueryRow(ctx, qs.likes), p.QueryRow(ctx, qs.posts) // want `content may not read social.likes`
}

// A directive excuses the dynamic assignment it marks, not the constant
// beside it.
func Mixed(ctx context.Context, p *pgxpool.Pool, partition string) pgx.Row {
	q := `SELECT * FROM social.likes`
	if partition != "" {
		q = "SELECT * FROM content." + partition //boundarylint:allow partitions are named by date
	}
	return p.QueryRow(ctx, q) // want `content may not read social.likes`
}

func PgConn(ctx context.Context, c *pgconn.PgConn, r io.Reader, w io.Writer) {
	c.Exec(ctx, `DELETE FROM social.likes`)            // want `content may not write social.likes`
	c.CopyFrom(ctx, r, `COPY social.likes FROM STDIN`) // want `content may not write social.likes`
	c.CopyTo(ctx, w, `COPY social.likes TO STDOUT`)    // want `content may not read social.likes`
	c.CopyTo(ctx, w, `COPY content.posts TO STDOUT`)
	c.Prepare(ctx, "p", `SELECT * FROM social.likes`, nil) // want `content may not read social.likes`
	var b pgconn.Batch
	b.ExecParams(`DELETE FROM social.likes`, nil, nil, nil, nil) // want `content may not write social.likes`
	var pl pgconn.Pipeline
	pl.SendPrepare("p", `SELECT * FROM social.likes`, nil)               // want `content may not read social.likes`
	pl.SendQueryParams(`SELECT * FROM social.likes`, nil, nil, nil, nil) // want `content may not read social.likes`
}

func MethodValue(ctx context.Context, tx pgx.Tx) {
	exec := tx.Exec // want `Exec is used as a value, so the SQL it runs cannot be checked`
	exec(ctx, `DELETE FROM social.likes`)
}

func MethodExpr(ctx context.Context, p *pgxpool.Pool) {
	(*pgxpool.Pool).Exec(p, ctx, `DELETE FROM social.likes`) // want `content may not write social.likes`
}

type repo[T any] struct{ tx pgx.Tx }

func (r *repo[T]) run(ctx context.Context, q string) error {
	_, err := r.tx.Exec(ctx, q)
	return err
}

func GenericMethod(ctx context.Context, tx pgx.Tx) error {
	r := &repo[int]{tx: tx}
	return r.run(ctx, `DELETE FROM social.likes`) // want `content may not write social.likes`
}

func gexec[T any](ctx context.Context, tx pgx.Tx, q string) error {
	_, err := tx.Exec(ctx, q)
	return err
}

func GenericFunc(ctx context.Context, tx pgx.Tx) error {
	return gexec[int](ctx, tx, `DELETE FROM social.likes`) // want `content may not write social.likes`
}

// runner.Run is reached through Runner, whose calls are out of sight: the
// query inside is reported, as if Run were used as a value.
type runner struct{ tx pgx.Tx }

func (r runner) Run(ctx context.Context, q string) error {
	_, err := r.tx.Exec(ctx, q) // want `SQL passed to Exec is built at run time`
	return err
}

type Runner interface {
	Run(ctx context.Context, q string) error
}

func ViaInterface(ctx context.Context, r Runner) error {
	return r.Run(ctx, `DELETE FROM social.likes`)
}

var _ Runner = runner{}

// DB is content's own abstraction with a query method's shape: calls
// through it are checked as queries, so traced stays a helper checked at
// its callers.
type DB interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

type traced struct{ tx pgx.Tx }

func (t traced) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) { // want Exec:"sqlSink\\(1, Exec\\)"
	return t.tx.Exec(ctx, sql, args...)
}

func Traced(ctx context.Context, tx pgx.Tx) {
	var db DB = traced{tx: tx}
	db.Exec(ctx, `DELETE FROM social.likes`)             // want `content may not write social.likes`
	traced{tx: tx}.Exec(ctx, `DELETE FROM social.likes`) // want `content may not write social.likes`
}
