package graph

import (
	"fmt"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"sort"
	"strings"
)

// Allowance is one dynamic-SQL allow directive.
type Allowance struct {
	File   string // relative to the repository root
	Line   int
	Reason string
}

func (a Allowance) String() string { return fmt.Sprintf("%s:%d: %s", a.File, a.Line, a.Reason) }

// Allowances lists every `directive <reason>` comment in the repository's
// Go files (tools and testdata excluded), sorted by file and line.
func Allowances(root, directive string) ([]Allowance, error) {
	var out []Allowance
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		if err != nil {
			if d != nil && d.IsDir() && rel != "." {
				return filepath.SkipDir // e.g. a local database directory we may not read
			}
			return err
		}
		if d.IsDir() {
			name := d.Name()
			switch {
			case rel == "tools", rel == "bin", rel == "data", name == "testdata", name == "vendor", name == "node_modules",
				strings.HasPrefix(name, ".") && rel != ".":
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ParseComments|parser.SkipObjectResolution)
		if err != nil {
			return fmt.Errorf("parse %s: %w", rel, err)
		}
		for _, g := range f.Comments {
			for _, c := range g.List {
				rest, ok := strings.CutPrefix(c.Text, directive)
				if !ok || (rest != "" && rest[0] != ' ' && rest[0] != '\t') {
					continue
				}
				out = append(out, Allowance{File: rel, Line: fset.Position(c.Pos()).Line, Reason: strings.TrimSpace(rest)})
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("scan allow directives: %w", err)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].File != out[j].File {
			return out[i].File < out[j].File
		}
		return out[i].Line < out[j].Line
	})
	return out, nil
}
