// Package content owns posts. // want package:"domainEdges\\(content→media, content→social, content→user, identity→events, social→content, user→events, user→identity\\)"
//
//nova:domain content schema=content deps=user,media,events
package content
