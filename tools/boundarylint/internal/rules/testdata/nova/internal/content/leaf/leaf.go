// Package leaf is a content package that imports nothing of other domains.
package leaf

const Name = "leaf"
