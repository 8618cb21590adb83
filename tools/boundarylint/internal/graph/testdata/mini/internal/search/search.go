// Package search is subscribed by the composition root.
//
//nova:domain search schema=search deps=events
package search
