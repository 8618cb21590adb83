// Package user owns profiles; it may call identity. // want package:"domainEdges\\(identity→events, user→events, user→identity\\)"
//
//nova:domain user schema=users deps=identity,events
package user

import (
	_ "example.com/nova/internal/events"
	_ "example.com/nova/internal/identity"
)
