package decl

import (
	"fmt"
	"sort"
	"strings"
)

// Row is one domain row of the architecture document's dependency table.
type Row struct {
	Schema string
	Deps   []string // sorted
}

// ParseTable reads the "Dependencies" table of the architecture document
// (columns: domain | may call | owns schema). Rows whose schema is not a
// `code` span (gateway, platform) own no data and are not domains.
func ParseTable(markdown string) (map[string]Row, error) {
	rows := map[string]Row{}
	inTable := false
	for _, line := range strings.Split(markdown, "\n") {
		line = strings.TrimSpace(line)
		if !strings.HasPrefix(line, "|") {
			if inTable {
				break
			}
			continue
		}
		cells := strings.Split(strings.Trim(line, "|"), "|")
		for i := range cells {
			cells[i] = strings.TrimSpace(cells[i])
		}
		if len(cells) != 3 {
			continue
		}
		if cells[0] == "domain" && strings.Contains(cells[2], "schema") {
			inTable = true
			continue
		}
		if !inTable || strings.HasPrefix(cells[0], "-") {
			continue
		}
		schema := cells[2]
		if !strings.HasPrefix(schema, "`") || !strings.HasSuffix(schema, "`") {
			continue
		}
		r := Row{Schema: strings.Trim(schema, "`")}
		if deps := cells[1]; deps != "—" && deps != "-" && deps != "" {
			for _, dep := range strings.Split(deps, ",") {
				r.Deps = append(r.Deps, strings.TrimSpace(dep))
			}
			sort.Strings(r.Deps)
		}
		rows[cells[0]] = r
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("no dependency table (| domain | may call | owns schema |) found")
	}
	return rows, nil
}
