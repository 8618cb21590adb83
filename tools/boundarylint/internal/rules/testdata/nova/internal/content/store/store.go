// Package store is content's SQL, with one violation per function.
package store

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Querier is content's own abstraction over pools and transactions.
type Querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

const sessionsOfAuthor = `SELECT s.id FROM identity.sessions s WHERE s.user_id = $1`

func ReadOther(ctx context.Context, p *pgxpool.Pool, author string) pgx.Row {
	return p.QueryRow(ctx, sessionsOfAuthor, author) // want `content may not read identity.sessions: ask identity through its API or keep a projection fed by events`
}

func WriteOther(ctx context.Context, tx pgx.Tx, id string) error {
	_, err := tx.Exec(ctx, `UPDATE users.users SET post_count = post_count + 1 WHERE id = $1`, id) // want `content may not write users.users: only user writes its tables`
	return err
}

func JoinOther(ctx context.Context, p *pgxpool.Pool) (pgx.Rows, error) {
	return p.Query(ctx, `SELECT p.id FROM content.posts p JOIN social.relationships r ON r.followee_id = p.author_id`) // want `content may not read social.relationships`
}

func Unqualified(ctx context.Context, p *pgxpool.Pool) (pgx.Rows, error) {
	return p.Query(ctx, `SELECT id FROM posts`) // want `unqualified table posts: write content.posts`
}

func OtherFunction(ctx context.Context, p *pgxpool.Pool) pgx.Row {
	return p.QueryRow(ctx, `SELECT identity.session_owner($1)`, "x") // want `content may not call function identity.session_owner\(\)`
}

func OtherType(ctx context.Context, p *pgxpool.Pool) pgx.Row {
	return p.QueryRow(ctx, `SELECT $1::users.role`, "x") // want `content may not use type users.role`
}

func PublicSchema(ctx context.Context, p *pgxpool.Pool) pgx.Row {
	return p.QueryRow(ctx, `SELECT id FROM public.posts`) // want `schema public belongs to no domain`
}

func SetRole(ctx context.Context, tx pgx.Tx) error {
	_, err := tx.Exec(ctx, `SET ROLE nova_identity`) // want `SET ROLE is forbidden`
	return err
}

func ResetRole(ctx context.Context, tx pgx.Tx) error {
	_, err := tx.Exec(ctx, `RESET ROLE`) // want `RESET ROLE is forbidden`
	return err
}

func SessionAuthorization(ctx context.Context, c *pgx.Conn) error {
	_, err := c.Exec(ctx, `SET SESSION AUTHORIZATION nova`) // want `SET SESSION AUTHORIZATION is forbidden`
	return err
}

func SearchPath(ctx context.Context, tx pgx.Tx) error {
	_, err := tx.Exec(ctx, `SET LOCAL search_path TO identity, content`) // want `SET search_path is forbidden`
	return err
}

func SetConfig(ctx context.Context, tx pgx.Tx) error {
	_, err := tx.Exec(ctx, `SELECT set_config('search_path', 'identity', true)`) // want `set_config\('search_path'\)`
	return err
}

func Unparsable(ctx context.Context, tx pgx.Tx) error {
	_, err := tx.Exec(ctx, `SELEC id FROM content.posts`) // want `SQL does not parse`
	return err
}

func Sprintf(ctx context.Context, tx pgx.Tx, id string) error {
	_, err := tx.Exec(ctx, fmt.Sprintf("DELETE FROM content.posts WHERE id = '%s'", id)) // want `SQL passed to Exec is built at run time, not a compile-time constant`
	return err
}

func Concat(ctx context.Context, tx pgx.Tx, order string) (pgx.Rows, error) {
	return tx.Query(ctx, `SELECT id FROM content.posts ORDER BY `+order) // want `SQL passed to Query is built at run time`
}

func Assigned(ctx context.Context, tx pgx.Tx, id string) error {
	q := `DELETE FROM content.posts WHERE id = $1`
	q += ` AND deleted_at IS NULL`
	_, err := tx.Exec(ctx, q, id) // want `SQL passed to Exec is built at run time`
	return err
}

// Helper runs its parameter: its callers are checked instead.
func Helper(ctx context.Context, tx pgx.Tx, query string) error { // want Helper:"sqlSink\\(2, Exec\\)"
	_, err := tx.Exec(ctx, query)
	return err
}

// Forward passes its parameter on to a helper: it is a helper too.
func Forward(ctx context.Context, tx pgx.Tx, query string) error { // want Forward:"sqlSink\\(2, Helper → Exec\\)"
	return Helper(ctx, tx, query)
}

func UseHelper(ctx context.Context, tx pgx.Tx, id string) error {
	if err := Helper(ctx, tx, `DELETE FROM content.posts WHERE id = $1`); err != nil {
		return err
	}
	if err := Forward(ctx, tx, `DELETE FROM identity.sessions`); err != nil { // want `content may not write identity.sessions`
		return err
	}
	return Helper(ctx, tx, fmt.Sprintf("DELETE FROM content.posts WHERE id = '%s'", id)) // want `SQL passed to Helper → Exec is built at run time`
}

// Escaping is used as a value, so its callers cannot all be seen: the
// query inside is reported.
func Escaping(ctx context.Context, tx pgx.Tx, query string) error {
	_, err := tx.Exec(ctx, query) // want `SQL passed to Exec is built at run time`
	return err
}

var _ = Escaping

func Interface(ctx context.Context, q Querier) error {
	_, err := q.Exec(ctx, `DELETE FROM identity.revoked_tokens`) // want `content may not write identity.revoked_tokens`
	return err
}

func BatchOther(ctx context.Context, p *pgxpool.Pool) error {
	b := &pgx.Batch{}
	b.Queue(`INSERT INTO content.posts (id) VALUES ($1)`, "a")
	b.Queue(`INSERT INTO social.feeds (post_id) VALUES ($1)`, "a") // want `content may not write social.feeds`
	return p.SendBatch(ctx, b).Close()
}

func CopyOther(ctx context.Context, p *pgxpool.Pool, src pgx.CopyFromSource) error {
	_, err := p.CopyFrom(ctx, pgx.Identifier{"social", "feeds"}, []string{"post_id"}, src) // want `content may not write social.feeds`
	return err
}

func CopyUnqualified(ctx context.Context, p *pgxpool.Pool, src pgx.CopyFromSource) error {
	_, err := p.CopyFrom(ctx, pgx.Identifier{"posts"}, []string{"id"}, src) // want `unqualified table posts`
	return err
}

func CopyDynamic(ctx context.Context, p *pgxpool.Pool, table pgx.Identifier, src pgx.CopyFromSource) error {
	_, err := p.CopyFrom(ctx, table, []string{"id"}, src) // want `CopyFrom's table is not a constant pgx.Identifier`
	return err
}

func StdSQL(ctx context.Context, db *sql.DB) error {
	_, err := db.ExecContext(ctx, `DELETE FROM media.media_files`) // want `content may not write media.media_files`
	return err
}

func Allowed(ctx context.Context, tx pgx.Tx, partition string) error {
	_, err := tx.Exec(ctx, "DROP TABLE content."+partition) //boundarylint:allow partitions are named by date
	return err
}

func Clean(ctx context.Context, tx pgx.Tx, id string) error {
	_, err := tx.Exec(ctx, `WITH gone AS (DELETE FROM content.comments WHERE post_id = $1 RETURNING post_id)
		UPDATE content.posts SET comment_count = 0, updated_at = now() WHERE id IN (SELECT post_id FROM gone)`, id)
	return err
}

// MultiLine's problem is reported on the line of the query that has it.
func MultiLine(ctx context.Context, tx pgx.Tx, id string) (pgx.Rows, error) {
	return tx.Query(ctx, `SELECT p.id, p.body FROM content.posts p
		JOIN identity.sessions s ON s.user_id = p.author_id WHERE p.id = $1`, id) // want `content may not read identity.sessions`
}

func Switched(ctx context.Context, tx pgx.Tx, mine bool) (pgx.Rows, error) {
	var q string
	if mine {
		q = `SELECT id FROM content.posts`
	} else {
		q = `SELECT id FROM social.likes`
	}
	return tx.Query(ctx, q) // want `content may not read social.likes`
}

// Runner's exported method can be called through an interface of another
// package, out of sight: its own query is checked.
type Runner struct{ Tx pgx.Tx }

func (r Runner) Run(ctx context.Context, query string) error {
	_, err := r.Tx.Exec(ctx, query) // want `SQL passed to Exec is built at run time`
	return err
}

// Query's SQL field is exported: another package may fill it in, so the
// constants assigned here are not all it can hold.
type Query struct{ SQL string }

var ByID = Query{SQL: `SELECT id FROM content.posts WHERE id = $1`}

func RunQuery(ctx context.Context, tx pgx.Tx, q Query) error {
	_, err := tx.Exec(ctx, q.SQL) // want `SQL passed to Exec is held in SQL, which other packages may assign`
	return err
}

// Default is exported: another package may assign it.
var Default = `SELECT id FROM content.posts`

func RunDefault(ctx context.Context, tx pgx.Tx) error {
	_, err := tx.Exec(ctx, Default) // want `SQL passed to Exec is held in Default, which other packages may assign`
	return err
}
