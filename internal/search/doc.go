// Package search owns the search projection: the full-text index and trending tags.
//
//nova:domain search schema=search deps=events
package search
