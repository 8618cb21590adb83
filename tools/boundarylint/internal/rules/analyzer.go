// Package rules is the boundarylint analyzer: the go/analysis pass that
// `go vet -vettool` runs on every package to enforce Nova's domain
// boundaries (declared imports, no domain cycles, SQL confined to the
// domain's own schema, a gateway and platform without domain data access).
package rules

import (
	"fmt"
	"go/ast"
	"go/token"
	"go/types"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/tools/go/analysis"

	"github.com/nova-social/nova/tools/boundarylint/internal/decl"
)

// Analyzer enforces the boundaries.
var Analyzer = &analysis.Analyzer{
	Name:      "boundarylint",
	Doc:       "enforce Nova's domain boundaries: declared domain imports, no domain cycles, SQL only on the domain's own schema, no SQL or drivers in the gateway, no domains in platform",
	URL:       "https://github.com/nova-social/nova#boundaries",
	Run:       run,
	FactTypes: []analysis.Fact{new(DomainEdges), new(SQLSink)},
}

// Edge is "From imports To" between two domains; Via names one package
// import that creates it.
type Edge struct {
	From, To string
	Via      string
}

// Reach is a domain that a package outside the domains imports, itself or
// through other packages outside the domains; Via is one chain of imports
// leading there.
type Reach struct {
	Domain, Via string
}

// DomainEdges is the package fact: every domain-to-domain import edge in the
// package's transitive import closure, the package's own imports included.
// It is what lets a package see a domain cycle that its imports close.
// Reaches, on a package outside the domains, is what a domain importing it
// depends on in truth.
type DomainEdges struct {
	Edges   []Edge
	Reaches []Reach
}

// AFact marks DomainEdges as an analysis fact.
func (*DomainEdges) AFact() {}

func (f *DomainEdges) String() string {
	parts := make([]string, len(f.Edges))
	for i, e := range f.Edges {
		parts[i] = e.From + "→" + e.To
	}
	s := "domainEdges(" + strings.Join(parts, ", ") + ")"
	if len(f.Reaches) > 0 {
		names := make([]string, len(f.Reaches))
		for i, r := range f.Reaches {
			names[i] = r.Domain
		}
		s += " reaches(" + strings.Join(names, ", ") + ")"
	}
	return s
}

// key identifies a domain edge.
type key struct{ from, to string }

// repo is the repository a package belongs to.
type repo struct {
	mod  string // module path
	root string // module directory
	set  *decl.Set
}

var (
	declMu    sync.Mutex
	declCache = map[string]*decl.Set{}
)

func loadDecls(root string) (*decl.Set, error) {
	declMu.Lock()
	defer declMu.Unlock()
	if s, ok := declCache[root]; ok {
		return s, nil
	}
	s, err := decl.Load(root)
	if err != nil {
		return nil, err
	}
	declCache[root] = s
	return s, nil
}

// findRepo locates the package's module and its declarations; nil means
// the package is not part of a repository with declared domains
// (the standard library, dependencies).
func findRepo(pass *analysis.Pass) (*repo, error) {
	if pass.Module != nil && pass.Module.Version != "" {
		return nil, nil // a dependency from the module cache
	}
	dir := packageDir(pass)
	if dir == "" {
		return nil, nil
	}
	mod, root := "", ""
	if pass.Module != nil && pass.Module.Path != "" {
		mod = pass.Module.Path
		rel, ok := decl.Rel(mod, pass.Pkg.Path())
		if !ok {
			return nil, nil
		}
		root = dir
		if suffix := string(filepath.Separator) + filepath.FromSlash(rel); rel != "" {
			root = strings.TrimSuffix(dir, suffix)
			if root == dir { // files not where the import path says
				mod, root = moduleOf(dir)
			}
		}
	} else {
		mod, root = moduleOf(dir)
	}
	if mod == "" || mod == "std" {
		return nil, nil
	}
	if _, ok := decl.Rel(mod, pass.Pkg.Path()); !ok {
		return nil, nil
	}
	set, err := loadDecls(root)
	if err != nil || len(set.Domains) == 0 {
		return nil, err
	}
	return &repo{mod: mod, root: root, set: set}, nil
}

func packageDir(pass *analysis.Pass) string {
	for _, f := range pass.Files {
		if name := pass.Fset.File(f.Pos()).Name(); name != "" {
			return filepath.Dir(name)
		}
	}
	return ""
}

// moduleOf finds the go.mod above dir and returns the module path and
// directory; it is the fallback for drivers that give no module.
func moduleOf(dir string) (mod, root string) {
	for d := dir; ; d = filepath.Dir(d) {
		data, err := os.ReadFile(filepath.Join(d, "go.mod"))
		if err == nil {
			for _, line := range strings.Split(string(data), "\n") {
				if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "module "); ok {
					return strings.Trim(strings.TrimSpace(rest), `"`), d
				}
			}
			return "", ""
		}
		if filepath.Dir(d) == d {
			return "", ""
		}
	}
}

// checker is one analysis pass over a package of the repository.
type checker struct {
	*analysis.Pass
	repo *repo
	rel  string
	role decl.Role
	// fileDirs holds the allow directives of each file, by line.
	fileDirs map[string]map[int]bool
	// localSinks are the package's functions that run a parameter as SQL.
	localSinks map[*types.Func]SQLSink
}

func run(pass *analysis.Pass) (any, error) {
	r, err := findRepo(pass)
	if err != nil {
		return nil, fmt.Errorf("boundarylint: %w", err)
	}
	if r == nil {
		return nil, nil
	}
	rel, _ := decl.Rel(r.mod, pass.Pkg.Path())
	c := &checker{Pass: pass, repo: r, rel: rel, role: r.set.Classify(rel)}
	if c.role.Kind == decl.Tools {
		c.cycles()                 // tooling may still carry a domain to its importers
		c.sinks(newValues(c.Pass)) // and run the SQL a domain hands it
		return nil, nil
	}
	c.declarations()
	c.imports()
	c.cycles()
	c.sql()
	return nil, nil
}

// declarations reports, on a domain's root package, what is wrong with its
// declaration, and on an undeclared directory's root package, that it
// declares nothing.
func (c *checker) declarations() {
	if len(c.Files) == 0 {
		return
	}
	parts := strings.Split(c.rel, "/")
	if len(parts) != 2 || parts[0] != "internal" {
		return
	}
	dir := parts[1]
	for _, p := range c.repo.set.Problems {
		if p.Dir == dir {
			c.Reportf(c.lineOf(p.File, p.Line), "%s", p.Msg)
		}
	}
	if c.role.Kind == decl.Undeclared && !c.hasProblem(dir) {
		c.Reportf(c.Files[0].Name.Pos(), "internal/%s declares no domain: add `%s %s schema=<schema> deps=<domains>` to its doc.go, or move shared infrastructure under internal/platform", dir, decl.Directive, dir)
	}
}

func (c *checker) hasProblem(dir string) bool {
	for _, p := range c.repo.set.Problems {
		if p.Dir == dir {
			return true
		}
	}
	return false
}

// lineOf converts file:line into a position in this pass, falling back to
// the package clause when the file is not part of it.
func (c *checker) lineOf(file string, line int) token.Pos {
	for _, f := range c.Files {
		tf := c.Fset.File(f.Pos())
		if tf.Name() == file && line >= 1 && line <= tf.LineCount() {
			return tf.LineStart(line)
		}
	}
	return c.Files[0].Name.Pos()
}

// riverPath is the job queue under the event bus.
const riverPath = "github.com/riverqueue/river"

// driverPrefixes are the database drivers the gateway must not import.
var driverPrefixes = []string{"database/sql", "github.com/jackc/pgx", "github.com/jackc/pgconn", "github.com/lib/pq", "github.com/riverqueue/river/riverdriver"}

func isDriver(path string) bool {
	for _, p := range driverPrefixes {
		if path == p || strings.HasPrefix(path, p+"/") {
			return true
		}
	}
	return false
}

func (c *checker) imports() {
	for _, f := range c.Files {
		for _, spec := range f.Imports {
			path, err := strconv.Unquote(spec.Path.Value)
			if err != nil {
				continue
			}
			c.checkImport(spec, path, c.isTest(f))
		}
	}
}

func (c *checker) targetRole(path string) (decl.Role, string, bool) {
	rel, ok := decl.Rel(c.repo.mod, path)
	if !ok {
		return decl.Role{}, "", false
	}
	return c.repo.set.Classify(rel), rel, true
}

func (c *checker) checkImport(spec *ast.ImportSpec, path string, test bool) {
	target, rel, inRepo := c.targetRole(path)
	switch c.role.Kind {
	case decl.DomainPkg:
		d := c.repo.set.Domains[c.role.Name]
		switch {
		case !inRepo:
		case target.Kind == decl.DomainPkg:
			if target.Name != d.Name && !d.Allows(target.Name) {
				c.Reportf(spec.Pos(), "%s may not import %s (%s): %s's declared dependencies are {%s}; call only those, or react to %s's events and keep a projection in %s", d.Name, target.Name, rel, d.Name, strings.Join(d.Deps, ", "), target.Name, d.Name)
			}
		case target.Kind == decl.Gateway || target.Kind == decl.Root:
			c.Reportf(spec.Pos(), "%s may not import %s: domains never depend on the gateway or the composition root; they depend on it", d.Name, rel)
		}
		for _, r := range c.reaches(path, c.carrier(target, inRepo)) {
			if r.Domain != d.Name && !d.Allows(r.Domain) {
				c.Reportf(spec.Pos(), "%s may not import %s through %s (%s): %s's declared dependencies are {%s}; a package outside the domains does not widen them", d.Name, r.Domain, rel, r.Via, d.Name, strings.Join(d.Deps, ", "))
			}
		}
		if d.Name != "events" && (path == riverPath || strings.HasPrefix(path, riverPath+"/")) {
			c.Reportf(spec.Pos(), "%s may not import %s: only the events domain talks to River; publish with events.Bus and subscribe with events.Subscribe", d.Name, path)
		}
	case decl.Platform:
		if inRepo && (target.Kind == decl.DomainPkg || target.Kind == decl.Gateway || target.Kind == decl.Root) {
			c.Reportf(spec.Pos(), "platform may not import %s: platform is infrastructure and imports no domain; pass what it needs in from the composition root", rel)
			break
		}
		if target.Kind == decl.Platform {
			break // what another platform package reaches is reported there
		}
		for _, r := range c.reaches(path, c.carrier(target, inRepo)) {
			c.Reportf(spec.Pos(), "platform may not import %s through %s (%s): platform is infrastructure and imports no domain, not even through a package outside the domains", r.Domain, rel, r.Via)
		}
	case decl.Gateway:
		if isDriver(path) && !test { // its tests may inspect the database
			c.Reportf(spec.Pos(), "gateway may not import the database driver %s: the gateway owns no data; call the owning domain's service", path)
		}
	case decl.Migrations:
		if path != "embed" {
			c.Reportf(spec.Pos(), "package migrations only embeds SQL files: it may not import %s", path)
		}
	}
}

// cycles merges the domain edges of the package's imports with its own,
// exports them as a fact, and reports every domain cycle that becomes
// visible here (a cycle already inside one import's closure was reported
// there).
func (c *checker) cycles() {
	edges := map[key]string{}
	var order []key
	addEdge := func(e Edge) {
		k := key{e.From, e.To}
		if _, ok := edges[k]; !ok {
			edges[k] = e.Via
			order = append(order, k)
		}
	}
	var fromImports []map[key]bool
	var importPaths []string
	for _, imp := range c.Pkg.Imports() {
		var f DomainEdges
		if !c.ImportPackageFact(imp, &f) || len(f.Edges) == 0 {
			continue
		}
		set := map[key]bool{}
		for _, e := range f.Edges {
			addEdge(e)
			set[key{e.From, e.To}] = true
		}
		fromImports = append(fromImports, set)
		importPaths = append(importPaths, imp.Path())
	}
	own := map[key]*ast.ImportSpec{}
	reached := map[string]string{} // domain -> via, outside the domains
	for _, f := range c.Files {
		if c.isTest(f) {
			continue // the domain graph is the production code's
		}
		for _, spec := range f.Imports {
			path, _ := strconv.Unquote(spec.Path.Value)
			target, rel, ok := c.targetRole(path)
			if !ok {
				continue
			}
			imports := c.rel + " imports " + rel
			to := []Reach{{Domain: target.Name, Via: imports}}
			if target.Kind != decl.DomainPkg {
				to = nil
				for _, r := range c.reaches(path, c.carrier(target, true)) {
					to = append(to, Reach{Domain: r.Domain, Via: imports + "; " + r.Via})
				}
			}
			for _, r := range to {
				if c.role.Kind != decl.DomainPkg {
					if _, seen := reached[r.Domain]; !seen {
						reached[r.Domain] = r.Via
					}
					continue
				}
				if r.Domain == c.role.Name {
					continue
				}
				k := key{c.role.Name, r.Domain}
				if _, seen := own[k]; !seen {
					own[k] = spec
				}
				addEdge(Edge{From: c.role.Name, To: r.Domain, Via: r.Via})
			}
		}
	}
	if len(edges) == 0 && len(reached) == 0 {
		return
	}
	sort.SliceStable(order, func(i, j int) bool {
		if order[i].from != order[j].from {
			return order[i].from < order[j].from
		}
		return order[i].to < order[j].to
	})
	fact := &DomainEdges{}
	for _, d := range sortedKeys(reached) {
		fact.Reaches = append(fact.Reaches, Reach{Domain: d, Via: reached[d]})
	}
	g := map[string][]string{}
	nodeSet := map[string]bool{}
	for _, k := range order {
		fact.Edges = append(fact.Edges, Edge{From: k.from, To: k.to, Via: edges[k]})
		g[k.from] = append(g[k.from], k.to)
		nodeSet[k.from], nodeSet[k.to] = true, true
	}
	c.ExportPackageFact(fact)

	nodes := make([]string, 0, len(nodeSet))
	for n := range nodeSet {
		nodes = append(nodes, n)
	}
	sort.Strings(nodes)
cycles:
	for _, cyc := range decl.Cycles(nodes, g) {
		var cycEdges []key
		for i := 0; i+1 < len(cyc); i++ {
			cycEdges = append(cycEdges, key{cyc[i], cyc[i+1]})
		}
		for _, set := range fromImports {
			inside := true
			for _, k := range cycEdges {
				if !set[k] {
					inside = false
					break
				}
			}
			if inside {
				continue cycles
			}
		}
		pos := token.NoPos
		for _, k := range cycEdges {
			if spec, ok := own[k]; ok {
				pos = spec.Pos()
				break
			}
		}
		if pos == token.NoPos {
			pos = c.importSpecFor(importPaths, fromImports, cycEdges)
		}
		vias := make([]string, len(cycEdges))
		for i, k := range cycEdges {
			vias[i] = edges[k]
		}
		c.Reportf(pos, "domain cycle %s (%s): domains depend one way only; break one edge with events and a projection", strings.Join(cyc, " → "), strings.Join(vias, "; "))
	}
}

// carrier tells whether an import of target may bring in domains the
// importer does not see: a package of the repository outside the domains.
// A domain's import of the gateway or a composition root is forbidden
// outright, so what they reach is not reported again.
func (c *checker) carrier(target decl.Role, inRepo bool) bool {
	switch {
	case !inRepo || target.Kind == decl.DomainPkg:
		return false
	case c.role.Kind == decl.DomainPkg:
		return target.Kind != decl.Gateway && target.Kind != decl.Root
	}
	return true
}

// reaches returns the domains that the package at path, outside the
// domains, reaches (from its fact); nothing when it is no carrier.
func (c *checker) reaches(path string, carrier bool) []Reach {
	if !carrier {
		return nil
	}
	for _, imp := range c.Pkg.Imports() {
		var f DomainEdges
		if imp.Path() != path || !c.ImportPackageFact(imp, &f) {
			continue
		}
		return f.Reaches
	}
	return nil
}

// sortedKeys returns the keys of m in order, for a deterministic fact.
func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// importSpecFor finds the import that brings in the first edge of a cycle.
func (c *checker) importSpecFor(paths []string, sets []map[key]bool, cyc []key) token.Pos {
	for i, set := range sets {
		for _, k := range cyc {
			if !set[k] {
				continue
			}
			for _, f := range c.Files {
				for _, spec := range f.Imports {
					if p, _ := strconv.Unquote(spec.Path.Value); p == paths[i] {
						return spec.Pos()
					}
				}
			}
		}
	}
	return c.Files[0].Name.Pos()
}
