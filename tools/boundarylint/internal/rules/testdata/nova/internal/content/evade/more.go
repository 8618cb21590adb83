package evade

import (
	"context"
	"database/sql/driver"
	_ "embed"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"

	"example.com/nova/tools/seed"
)

// A batch's SQL field set by a call's results, by a range or through its
// address holds SQL out of sight.
func QueuedOtherwise(ctx context.Context, p *pgxpool.Pool, build func() (string, error), list []string) error {
	b := &pgx.Batch{}
	q := b.Queue(`DELETE FROM content.posts`)
	var err error
	q.SQL, err = build()        // want `SQL passed to QueuedQuery.SQL is built at run time`
	for _, q.SQL = range list { // want `SQL passed to QueuedQuery.SQL is built at run time`
	}
	s := &q.SQL // want `QueuedQuery.SQL is used by address`
	*s = `DELETE FROM social.likes`
	if err != nil {
		return err
	}
	return p.SendBatch(ctx, b).Close()
}

// pgx's database/sql driver and database/sql/driver's interfaces send SQL
// too.
func Driver(ctx context.Context, c *stdlib.Conn, d driver.Conn) {
	c.ExecContext(ctx, `DELETE FROM social.likes`, nil) // want `content may not write social.likes`
	c.Prepare(`SELECT id FROM content.posts`)
	d.Prepare(`SELECT * FROM social.likes`) // want `content may not read social.likes`
}

// An embedded file's text is the variable's constant.
//
//go:embed likes.sql
var likesSQL string

//go:embed posts.sql
var postsSQL string

func Embedded(ctx context.Context, tx pgx.Tx) {
	tx.Exec(ctx, likesSQL) // want `content may not write social.likes`
	tx.Exec(ctx, postsSQL)
}

// A variable assigned by a range or through its address holds SQL out of
// sight.
var current string

type held struct{ q string }

var h = held{q: `SELECT id FROM content.posts`}

func AssignedOutOfSight(ctx context.Context, tx pgx.Tx) {
	for _, current = range []string{`DELETE FROM social.likes`} {
		tx.Exec(ctx, current) // want `SQL passed to Exec is built at run time`
	}
	p := &h.q
	*p = `DELETE FROM social.likes`
	tx.Exec(ctx, h.q) // want `SQL passed to Exec is built at run time`
}

// A helper under tools/ that runs the SQL it is handed is a helper too.
func ToolsHelper(ctx context.Context, tx pgx.Tx) error {
	return seed.Run(ctx, tx, `DELETE FROM social.likes`) // want `content may not write social.likes`
}

// A directive after code covers its own line, not the next one.
func DirectiveAfterCode(ctx context.Context, tx pgx.Tx, partition string) {
	tx.Exec(ctx, "DELETE FROM content."+partition) //boundarylint:allow partitions are named by date
	tx.Exec(ctx, "DELETE FROM social."+partition)  // want `SQL passed to Exec is built at run time`
	//boundarylint:allow partitions are named by date
	tx.Exec(ctx, "DELETE FROM content."+partition)
}

// A query rewriter replaces the SQL checked at the call; pgx's named
// arguments only number its placeholders.
type swap struct{}

func (swap) RewriteQuery(ctx context.Context, conn *pgx.Conn, sql string, args []any) (string, []any, error) { // want `RewriteQuery makes a pgx.QueryRewriter`
	return `DELETE FROM social.likes`, nil, nil
}

func Rewritten(ctx context.Context, tx pgx.Tx, b *pgx.Batch, rw pgx.QueryRewriter) {
	tx.Exec(ctx, `SELECT 1`, swap{}) // want `this argument of Exec is a pgx.QueryRewriter`
	b.Queue(`SELECT 1`, rw)          // want `this argument of Queue is a pgx.QueryRewriter`
	tx.Exec(ctx, `SELECT id FROM content.posts WHERE id = @id`, pgx.NamedArgs{"id": 1})
}

// A parameter or range variable assigned a constant on some paths still
// holds, on the others, what it was given.
func Reassigned(ctx context.Context, tx pgx.Tx, q string, list []string) {
	if q == "" {
		q = `SELECT id FROM content.posts`
	}
	tx.Exec(ctx, q) // want `SQL passed to Exec is built at run time`
	for _, r := range list {
		if r == "" {
			r = `SELECT id FROM content.posts`
		}
		tx.Exec(ctx, r) // want `SQL passed to Exec is built at run time`
	}
	run := func(s string) {
		if s == "" {
			s = `SELECT id FROM content.posts`
		}
		tx.Exec(ctx, s) // want `SQL passed to Exec is built at run time`
	}
	run(`DELETE FROM social.likes`)
}
