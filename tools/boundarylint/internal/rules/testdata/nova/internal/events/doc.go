// Package events is the bus.
//
//nova:domain events schema=events deps=
package events
