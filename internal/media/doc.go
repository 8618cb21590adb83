// Package media owns uploaded media, their metadata, thumbnails and transcodes.
//
//nova:domain media schema=media deps=events
package media
