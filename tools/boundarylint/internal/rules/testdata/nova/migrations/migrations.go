// Package migrations only embeds files.
package migrations

import (
	"embed"
	"fmt" // want `package migrations only embeds SQL files: it may not import fmt`
)

//go:embed *.sql
var FS embed.FS

var _ = fmt.Sprint
