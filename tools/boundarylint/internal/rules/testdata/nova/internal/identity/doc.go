// Package identity owns sessions. // want package:"domainEdges\\(identity→events\\)"
//
//nova:domain identity schema=identity deps=events
package identity

import _ "example.com/nova/internal/events"
