package store_test // want package:"domainEdges\\(social→content\\)"

import (
	"testing"

	_ "example.com/nova/internal/content/store"
	_ "example.com/nova/internal/social" // want `content may not import social`
)

// The import rules hold in tests too.
func TestImports(t *testing.T) {}
