// Package pgconn is a stand-in with pgconn's shapes for the analyzer tests.
package pgconn

import (
	"context"
	"io"
)

type CommandTag struct{}

type PgConn struct{}

type MultiResultReader struct{}

type StatementDescription struct{}

func (pgConn *PgConn) Exec(ctx context.Context, sql string) *MultiResultReader { return nil }

func (pgConn *PgConn) Prepare(ctx context.Context, name, sql string, paramOIDs []uint32) (*StatementDescription, error) {
	return nil, nil
}

func (pgConn *PgConn) CopyTo(ctx context.Context, w io.Writer, sql string) (CommandTag, error) {
	return CommandTag{}, nil
}

func (pgConn *PgConn) CopyFrom(ctx context.Context, r io.Reader, sql string) (CommandTag, error) {
	return CommandTag{}, nil
}

type Batch struct{}

func (batch *Batch) ExecParams(sql string, paramValues [][]byte, paramOIDs []uint32, paramFormats, resultFormats []int16) {
}

type Pipeline struct{}

func (p *Pipeline) SendPrepare(name, sql string, paramOIDs []uint32) {}

func (p *Pipeline) SendQueryParams(sql string, paramValues [][]byte, paramOIDs []uint32, paramFormats, resultFormats []int16) {
}

type Config struct {
	Host          string
	RuntimeParams map[string]string
}
