// Package pgconn is a stand-in with pgconn's shapes for the analyzer tests.
package pgconn

type CommandTag struct{}
