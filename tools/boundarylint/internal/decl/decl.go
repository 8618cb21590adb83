// Package decl reads the domain declarations: the one line in each domain's
// root package that names the domain, the schema it owns and the domains it
// may call. Every boundarylint rule starts from these declarations, so they
// live in the code (where a reviewer sees them change) rather than in the
// linter.
package decl

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Directive starts a declaration line, e.g.
//
//	//nova:domain social schema=social deps=content,user,events
const Directive = "//nova:domain"

// Domain is one declared domain.
type Domain struct {
	Name   string
	Schema string
	Deps   []string // sorted
	File   string   // the file holding the declaration
	Line   int
}

// Allows reports whether the domain may import other.
func (d *Domain) Allows(other string) bool {
	for _, dep := range d.Deps {
		if dep == other {
			return true
		}
	}
	return false
}

// Problem is a declaration that is malformed or inconsistent; File and Line
// locate it (Line 0 means the package as a whole).
type Problem struct {
	Dir  string // internal/<dir> the problem belongs to
	File string
	Line int
	Msg  string
}

// Set is every declaration of a repository.
type Set struct {
	Domains  map[string]*Domain // by name
	ByDir    map[string]*Domain // by directory name under internal/
	Owners   map[string]string  // schema -> domain name
	Problems []Problem
	// Undeclared lists the directories under internal/ that hold Go code
	// but are neither a declared domain nor one of the non-domain roles.
	Undeclared []string
}

// NonDomainDirs are the directories under internal/ that are not domains.
var NonDomainDirs = map[string]bool{"platform": true, "gateway": true, "app": true}

// Names returns the declared domain names, sorted.
func (s *Set) Names() []string {
	names := make([]string, 0, len(s.Domains))
	for n := range s.Domains {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Load reads the declarations of the repository rooted at root, scanning
// the non-test Go files directly inside each internal/<dir>/.
func Load(root string) (*Set, error) {
	s := &Set{Domains: map[string]*Domain{}, ByDir: map[string]*Domain{}, Owners: map[string]string{}}
	entries, err := os.ReadDir(filepath.Join(root, "internal"))
	if err != nil {
		if os.IsNotExist(err) {
			return s, nil
		}
		return nil, fmt.Errorf("read declarations: %w", err)
	}
	for _, e := range entries {
		if !e.IsDir() || NonDomainDirs[e.Name()] {
			continue
		}
		dir := e.Name()
		found, hasGo, err := scanDir(s, filepath.Join(root, "internal", dir), dir)
		if err != nil {
			return nil, err
		}
		if !found && hasGo {
			s.Undeclared = append(s.Undeclared, dir)
		}
	}
	s.validate()
	return s, nil
}

func scanDir(s *Set, path, dir string) (found, hasGo bool, err error) {
	files, err := os.ReadDir(path)
	if err != nil {
		return false, false, fmt.Errorf("read declarations: %w", err)
	}
	for _, f := range files {
		name := f.Name()
		if f.IsDir() || !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			continue
		}
		hasGo = true
		file := filepath.Join(path, name)
		fh, err := os.Open(file)
		if err != nil {
			return found, hasGo, fmt.Errorf("read declarations: %w", err)
		}
		sc := bufio.NewScanner(fh)
		line := 0
		for sc.Scan() {
			line++
			text := strings.TrimSpace(sc.Text())
			if strings.HasPrefix(text, "package ") {
				break // directives live in the file's leading comments
			}
			if !strings.HasPrefix(text, Directive) {
				continue
			}
			if found {
				s.Problems = append(s.Problems, Problem{Dir: dir, File: file, Line: line,
					Msg: fmt.Sprintf("internal/%s declares its domain twice: keep one %s line", dir, Directive)})
				continue
			}
			found = true
			d, msg := Parse(text)
			if msg != "" {
				s.Problems = append(s.Problems, Problem{Dir: dir, File: file, Line: line, Msg: msg})
				continue
			}
			d.File, d.Line = file, line
			if d.Name != dir {
				s.Problems = append(s.Problems, Problem{Dir: dir, File: file, Line: line,
					Msg: fmt.Sprintf("internal/%s declares domain %q: a domain's name is its directory name", dir, d.Name)})
				continue
			}
			s.Domains[d.Name] = d
			s.ByDir[dir] = d
		}
		closeErr := fh.Close()
		if err := sc.Err(); err != nil {
			return found, hasGo, fmt.Errorf("read %s: %w", file, err)
		}
		if closeErr != nil {
			return found, hasGo, fmt.Errorf("read %s: %w", file, closeErr)
		}
	}
	return found, hasGo, nil
}

// Parse parses one declaration line; msg explains what is wrong with it.
func Parse(line string) (d *Domain, msg string) {
	const usage = "want " + Directive + " <name> schema=<schema> deps=<comma-separated domains>"
	line, _, _ = strings.Cut(line, " //") // a trailing comment is not part of it
	fields := strings.Fields(strings.TrimPrefix(line, Directive))
	if len(fields) != 3 {
		return nil, "malformed domain declaration: " + usage
	}
	d = &Domain{Name: fields[0]}
	schema, ok := strings.CutPrefix(fields[1], "schema=")
	if !ok || schema == "" {
		return nil, "malformed domain declaration (schema=): " + usage
	}
	d.Schema = schema
	deps, ok := strings.CutPrefix(fields[2], "deps=")
	if !ok {
		return nil, "malformed domain declaration (deps=): " + usage
	}
	if deps != "" {
		d.Deps = strings.Split(deps, ",")
		sort.Strings(d.Deps)
	}
	return d, ""
}

func (s *Set) validate() {
	for _, name := range s.Names() {
		d := s.Domains[name]
		if other, dup := s.Owners[d.Schema]; dup {
			s.Problems = append(s.Problems, Problem{Dir: name, File: d.File, Line: d.Line,
				Msg: fmt.Sprintf("domains %s and %s both declare schema %s: each schema has exactly one owner", other, name, d.Schema)})
		} else {
			s.Owners[d.Schema] = name
		}
		for _, dep := range d.Deps {
			switch {
			case dep == name:
				s.Problems = append(s.Problems, Problem{Dir: name, File: d.File, Line: d.Line,
					Msg: fmt.Sprintf("domain %s lists itself in deps=", name)})
			case s.Domains[dep] == nil:
				s.Problems = append(s.Problems, Problem{Dir: name, File: d.File, Line: d.Line,
					Msg: fmt.Sprintf("domain %s declares a dependency on %q, which is not a declared domain", name, dep)})
			}
		}
	}
	for _, cyc := range s.cycles() {
		d := s.Domains[cyc[0]]
		s.Problems = append(s.Problems, Problem{Dir: d.Name, File: d.File, Line: d.Line,
			Msg: fmt.Sprintf("declared dependencies form a cycle %s: dependencies go one way only; replace one edge by events", strings.Join(cyc, " → "))})
	}
}

// cycles returns one cycle per strongly connected group of declared
// domains, each starting and ending at its alphabetically first domain.
func (s *Set) cycles() [][]string {
	g := map[string][]string{}
	for _, name := range s.Names() {
		for _, dep := range s.Domains[name].Deps {
			if s.Domains[dep] != nil && dep != name {
				g[name] = append(g[name], dep)
			}
		}
	}
	return Cycles(s.Names(), g)
}

// Cycles finds, for every strongly connected component of the directed
// graph g with more than one node, one cycle through its smallest node.
// nodes fixes the iteration order so that the result is deterministic.
func Cycles(nodes []string, g map[string][]string) [][]string {
	var out [][]string
	seen := map[string]bool{}
	for _, start := range nodes {
		if seen[start] {
			continue
		}
		path := shortestPath(g, g[start], start)
		if path == nil {
			continue
		}
		cyc := append([]string{start}, path...)
		for _, n := range cyc {
			seen[n] = true
		}
		out = append(out, cyc)
	}
	return out
}

// shortestPath finds the shortest path from any of froms to target (BFS),
// returned including both ends, or nil.
func shortestPath(g map[string][]string, froms []string, target string) []string {
	prev := map[string]string{}
	var queue []string
	for _, f := range froms {
		if _, ok := prev[f]; !ok {
			prev[f] = ""
			queue = append(queue, f)
		}
	}
	for len(queue) > 0 {
		n := queue[0]
		queue = queue[1:]
		if n == target {
			var path []string
			for ; n != ""; n = prev[n] {
				path = append([]string{n}, path...)
			}
			return path
		}
		for _, next := range g[n] {
			if _, ok := prev[next]; !ok {
				prev[next] = n
				queue = append(queue, next)
			}
		}
	}
	return nil
}
