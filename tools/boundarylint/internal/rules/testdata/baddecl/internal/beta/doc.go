// Package beta closes the cycle.
//
//nova:domain beta schema=alpha deps=alpha // want `domains alpha and beta both declare schema alpha`
package beta
