// Package migcheck checks the SQL migrations: every file under
// migrations/<domain>/ may touch only that domain's schema, because goose
// runs it as that domain's role and because the schema must be able to move
// to its own database one day.
package migcheck

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/nova-social/nova/tools/boundarylint/internal/decl"
	"github.com/nova-social/nova/tools/boundarylint/internal/sqlcheck"
)

// Finding is one problem in one migration file.
type Finding struct {
	File string // relative to the migrations directory's parent
	Line int
	Msg  string
}

func (f Finding) String() string { return fmt.Sprintf("%s:%d: %s", f.File, f.Line, f.Msg) }

// Check checks every migrations/<domain>/*.sql file below dir against the
// declarations in set.
func Check(dir string, set *decl.Set) ([]Finding, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("read migrations: %w", err)
	}
	base := filepath.Base(filepath.Clean(dir))
	var out []Finding
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		d := set.Domains[e.Name()]
		if d == nil {
			out = append(out, Finding{File: filepath.ToSlash(filepath.Join(base, e.Name())), Line: 1,
				Msg: fmt.Sprintf("migrations/%s is not a declared domain: migration folders are named after domains (%s)", e.Name(), strings.Join(set.Names(), ", "))})
			continue
		}
		files, err := filepath.Glob(filepath.Join(dir, e.Name(), "*.sql"))
		if err != nil {
			return nil, fmt.Errorf("list migrations of %s: %w", d.Name, err)
		}
		sort.Strings(files)
		for _, file := range files {
			data, err := os.ReadFile(file)
			if err != nil {
				return nil, fmt.Errorf("read migration: %w", err)
			}
			rel := filepath.ToSlash(filepath.Join(base, e.Name(), filepath.Base(file)))
			sc := sqlcheck.Scope{Domain: d.Name, Schema: d.Schema, Owners: set.Owners, Migration: true}
			for _, f := range CheckFile(string(data), sc) {
				f.File = rel
				out = append(out, f)
			}
		}
	}
	return out, nil
}

// CheckFile checks one goose migration: its Up and Down sections are parsed
// separately (goose runs them separately), with their line numbers kept.
func CheckFile(text string, sc sqlcheck.Scope) []Finding {
	lines := strings.SplitAfter(text, "\n")
	section := make([]string, len(lines)) // "up", "down" or "" per line
	cur, sawUp := "", false
	for i, l := range lines {
		switch t := strings.TrimSpace(l); {
		case strings.HasPrefix(t, "-- +goose Up"):
			cur, sawUp = "up", true
		case strings.HasPrefix(t, "-- +goose Down"):
			cur = "down"
		default:
			section[i] = cur
		}
	}
	if !sawUp {
		return []Finding{{Line: 1, Msg: "no `-- +goose Up` annotation: goose would apply nothing"}}
	}
	var out []Finding
	for _, want := range []string{"up", "down"} {
		// Blank out the other lines so offsets stay those of the file.
		var b strings.Builder
		for i, l := range lines {
			if section[i] == want {
				b.WriteString(l)
			} else {
				b.WriteString(strings.Repeat(" ", len(strings.TrimRight(l, "\n"))))
				if strings.HasSuffix(l, "\n") {
					b.WriteString("\n")
				}
			}
		}
		body := b.String()
		if strings.TrimSpace(body) == "" {
			continue
		}
		for _, p := range sqlcheck.Check(body, sc) {
			line := 1
			if p.Offset >= 0 {
				line += strings.Count(body[:skipSpace(body, p.Offset)], "\n")
			}
			out = append(out, Finding{Line: line, Msg: p.Msg})
		}
	}
	return out
}

// skipSpace moves off past whitespace and -- comments: a statement's
// location starts right after the previous statement's semicolon.
func skipSpace(s string, off int) int {
	for off < len(s) {
		switch {
		case s[off] == ' ' || s[off] == '\t' || s[off] == '\n' || s[off] == '\r':
			off++
		case strings.HasPrefix(s[off:], "--"):
			nl := strings.IndexByte(s[off:], '\n')
			if nl < 0 {
				return len(s)
			}
			off += nl
		default:
			return off
		}
	}
	return min(off, len(s))
}
