// Package identity owns credentials, sessions, refresh tokens and revoked tokens: registration, login and token issuance.
//
//nova:domain identity schema=identity deps=events
package identity
