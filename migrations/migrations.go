// Package migrations embeds every domain's SQL migrations, one folder per
// domain (named after the domain, holding goose files that touch only that
// domain's schema).
package migrations

import "embed"

// FS holds <domain>/NNNNN_name.sql for every domain.
//
//go:embed */*.sql
var FS embed.FS
