// Package content owns posts, articles, comments, edit history and moderation.
//
//nova:domain content schema=content deps=user,media,events
package content
