// Package stdlib is a stand-in with the shapes of pgx's database/sql driver
// for the analyzer tests.
package stdlib

import (
	"context"
	"database/sql/driver"
)

type Conn struct{}

func (c *Conn) Prepare(query string) (driver.Stmt, error) { return nil, nil }

func (c *Conn) ExecContext(ctx context.Context, query string, argsV []driver.NamedValue) (driver.Result, error) {
	return nil, nil
}
