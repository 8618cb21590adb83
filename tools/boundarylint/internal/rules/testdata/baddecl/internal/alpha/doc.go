// Package alpha declares beta, which declares alpha: a declared cycle.
//
//nova:domain alpha schema=alpha deps=beta,nosuch // want `declared dependencies form a cycle alpha → beta → alpha` `domain alpha declares a dependency on "nosuch", which is not a declared domain`
package alpha
