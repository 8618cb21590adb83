// Package broken declares a name that is not its directory.
//
//nova:domain other schema=broken deps= // want `internal/broken declares domain "other": a domain's name is its directory name`
package broken
