// Package cycb is a social package importing content (allowed). // want package:"domainEdges\\(social→content\\)"
package cycb

import "example.com/nova/internal/content/leaf"

const Name = leaf.Name + "b"
