// Package river is a stand-in for the analyzer tests.
package river

type Client struct{}
