// Package user owns users, profiles, settings, roles and permissions.
//
//nova:domain user schema=users deps=identity,events
package user
