// Package media owns files.
//
//nova:domain media schema=media deps=events
package media
