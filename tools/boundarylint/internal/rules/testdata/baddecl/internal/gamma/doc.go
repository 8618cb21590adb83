// Package gamma has a malformed declaration.
//
//nova:domain gamma deps=alpha // want `malformed domain declaration`
package gamma
