// Package graph draws, from the code itself, the domain dependency graph
// (Go imports between domains) and the event edges (which domain publishes
// each topic, which domains subscribe to it) as a Mermaid diagram, and
// lists the dynamic-SQL allow directives.
package graph

import (
	"fmt"
	"go/ast"
	"go/constant"
	"go/types"
	"sort"
	"strings"

	"golang.org/x/tools/go/packages"
	"golang.org/x/tools/go/types/typeutil"

	"github.com/nova-social/nova/tools/boundarylint/internal/callee"
	"github.com/nova-social/nova/tools/boundarylint/internal/decl"
)

// Graph is what the diagram shows.
type Graph struct {
	Domains     []string
	Deps        map[string][]string // domain -> domains it imports
	Publishers  map[string][]string // topic -> domains
	Subscribers map[string][]string // topic -> domains
}

// Load type-checks the repository's internal packages (no tests) at root
// and extracts the graph.
func Load(root string) (*Graph, error) {
	set, err := decl.Load(root)
	if err != nil {
		return nil, err
	}
	cfg := &packages.Config{
		Dir:  root,
		Mode: packages.NeedName | packages.NeedFiles | packages.NeedImports | packages.NeedTypes | packages.NeedSyntax | packages.NeedTypesInfo | packages.NeedModule,
	}
	pkgs, err := packages.Load(cfg, "./internal/...")
	if err != nil {
		return nil, fmt.Errorf("load packages: %w", err)
	}
	var errs []string
	packages.Visit(pkgs, nil, func(p *packages.Package) {
		for _, e := range p.Errors {
			errs = append(errs, e.Error())
		}
	})
	if len(errs) > 0 {
		return nil, fmt.Errorf("load packages: %s", strings.Join(errs, "; "))
	}
	return build(set, pkgs), nil
}

type extractor struct {
	set    *decl.Set
	mod    string
	g      *Graph
	topics map[*types.TypeName]string // catalogue type -> topic
	pub    map[string]map[string]bool
	sub    map[string]map[string]bool
	deps   map[string]map[string]bool
	// dynamic marks domains that publish events whose type is only known at
	// run time; their catalogue composite literals count as published.
	dynamic  map[string]bool
	literals map[string]map[string]bool // domain -> topics built as literals
}

func build(set *decl.Set, pkgs []*packages.Package) *Graph {
	x := &extractor{set: set, g: &Graph{Domains: set.Names()}, topics: map[*types.TypeName]string{},
		pub: map[string]map[string]bool{}, sub: map[string]map[string]bool{}, deps: map[string]map[string]bool{},
		dynamic: map[string]bool{}, literals: map[string]map[string]bool{}}
	for _, p := range pkgs {
		if p.Module != nil {
			x.mod = p.Module.Path
			break
		}
	}
	for _, p := range pkgs {
		if rel, _ := decl.Rel(x.mod, p.PkgPath); rel == "internal/events" {
			x.catalogue(p)
		}
	}
	for _, p := range pkgs {
		x.pkg(p)
	}
	for d := range x.dynamic {
		for t := range x.literals[d] {
			add(x.pub, t, d)
		}
	}
	x.g.Deps = flatten(x.deps)
	x.g.Publishers = flatten(x.pub)
	x.g.Subscribers = flatten(x.sub)
	return x.g
}

func add(m map[string]map[string]bool, k, v string) {
	if m[k] == nil {
		m[k] = map[string]bool{}
	}
	m[k][v] = true
}

func flatten(m map[string]map[string]bool) map[string][]string {
	out := map[string][]string{}
	for k, vs := range m {
		for v := range vs {
			out[k] = append(out[k], v)
		}
		sort.Strings(out[k])
	}
	return out
}

// catalogue maps each event type to its topic by reading the constant its
// Topic method returns.
func (x *extractor) catalogue(p *packages.Package) {
	for _, f := range p.Syntax {
		for _, d := range f.Decls {
			fd, ok := d.(*ast.FuncDecl)
			if !ok || fd.Recv == nil || fd.Name.Name != "Topic" || fd.Body == nil || len(fd.Body.List) != 1 {
				continue
			}
			ret, ok := fd.Body.List[0].(*ast.ReturnStmt)
			if !ok || len(ret.Results) != 1 {
				continue
			}
			tv := p.TypesInfo.Types[ret.Results[0]]
			if tv.Value == nil || tv.Value.Kind() != constant.String {
				continue
			}
			recv := p.TypesInfo.TypeOf(fd.Recv.List[0].Type)
			if ptr, ok := recv.(*types.Pointer); ok {
				recv = ptr.Elem()
			}
			if n, ok := recv.(*types.Named); ok {
				x.topics[n.Obj()] = constant.StringVal(tv.Value)
			}
		}
	}
}

func (x *extractor) topicOf(t types.Type) (string, bool) {
	if ptr, ok := t.(*types.Pointer); ok {
		t = ptr.Elem()
	}
	n, ok := t.(*types.Named)
	if !ok {
		return "", false
	}
	topic, ok := x.topics[n.Obj()]
	return topic, ok
}

func (x *extractor) pkg(p *packages.Package) {
	rel, ok := decl.Rel(x.mod, p.PkgPath)
	if !ok {
		return
	}
	role := x.set.Classify(rel)
	domain := ""
	if role.Kind == decl.DomainPkg {
		domain = role.Name
		for path := range p.Imports {
			if trel, ok := decl.Rel(x.mod, path); ok {
				if t := x.set.Classify(trel); t.Kind == decl.DomainPkg && t.Name != domain {
					add(x.deps, domain, t.Name)
				}
			}
		}
	}
	isEvents := domain == "events"
	for _, f := range p.Syntax {
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.CompositeLit:
				if domain != "" && !isEvents {
					if topic, ok := x.topicOf(p.TypesInfo.TypeOf(n)); ok {
						add(x.literals, domain, topic)
					}
				}
			case *ast.CallExpr:
				x.call(p, n, domain)
			}
			return true
		})
	}
}

func (x *extractor) call(p *packages.Package, call *ast.CallExpr, domain string) {
	fn, _ := typeutil.Callee(p.TypesInfo, call).(*types.Func)
	if fn == nil || fn.Pkg() == nil {
		return
	}
	if rel, _ := decl.Rel(x.mod, fn.Pkg().Path()); rel != "internal/events" {
		return
	}
	sig := fn.Type().(*types.Signature)
	switch {
	case (fn.Name() == "Publish" || fn.Name() == "QueuePublish") && sig.Recv() != nil && domain != "" && domain != "events":
		for i, arg := range call.Args {
			if i < 2 {
				continue
			}
			if topic, ok := x.topicOf(p.TypesInfo.TypeOf(arg)); ok && !call.Ellipsis.IsValid() {
				add(x.pub, topic, domain)
			} else {
				x.dynamic[domain] = true
			}
		}
	case (fn.Name() == "Subscribe" || fn.Name() == "SubscribeQueued") && sig.Recv() == nil:
		inst := p.TypesInfo.Instances[callee.Ident(call.Fun)]
		if inst.TypeArgs == nil || inst.TypeArgs.Len() != 1 {
			return
		}
		topic, ok := x.topicOf(inst.TypeArgs.At(0))
		if !ok {
			return
		}
		sub := domain
		if sub == "" || sub == "events" {
			sub = x.subscriberDomain(call)
		}
		if sub != "" {
			add(x.sub, topic, sub)
		}
	}
}

// subscriberDomain reads the domain from a Subscriber{Domain: domains.X}
// literal among the call's arguments, for subscriptions wired outside the
// consuming domain.
func (x *extractor) subscriberDomain(call *ast.CallExpr) string {
	for _, arg := range call.Args {
		lit, ok := ast.Unparen(arg).(*ast.CompositeLit)
		if !ok {
			continue
		}
		for _, elt := range lit.Elts {
			kv, ok := elt.(*ast.KeyValueExpr)
			if !ok {
				continue
			}
			if k, ok := kv.Key.(*ast.Ident); ok && k.Name == "Domain" {
				if sel, ok := kv.Value.(*ast.SelectorExpr); ok {
					if name := strings.ToLower(sel.Sel.Name); x.set.Domains[name] != nil {
						return name
					}
				}
			}
		}
	}
	return ""
}

// Mermaid renders the graph: solid arrows are Go imports between domains,
// dotted arrows go publisher → topic → subscriber.
func (g *Graph) Mermaid() string {
	var b strings.Builder
	b.WriteString("```mermaid\nflowchart LR\n")
	b.WriteString("  %% solid: Go imports between domains; dotted: publisher -.-> topic -.-> subscriber\n")
	for _, d := range g.Domains {
		fmt.Fprintf(&b, "  %s[%s]\n", d, d)
	}
	for _, d := range g.Domains {
		for _, dep := range g.Deps[d] {
			fmt.Fprintf(&b, "  %s --> %s\n", d, dep)
		}
	}
	topics := map[string]bool{}
	for t := range g.Publishers {
		topics[t] = true
	}
	for t := range g.Subscribers {
		topics[t] = true
	}
	sorted := make([]string, 0, len(topics))
	for t := range topics {
		sorted = append(sorted, t)
	}
	sort.Strings(sorted)
	for _, t := range sorted {
		id := "t_" + strings.NewReplacer(".", "_", "-", "_").Replace(t)
		fmt.Fprintf(&b, "  %s{{%s}}\n", id, t)
		for _, p := range g.Publishers[t] {
			fmt.Fprintf(&b, "  %s -.-> %s\n", p, id)
		}
		for _, s := range g.Subscribers[t] {
			fmt.Fprintf(&b, "  %s -.-> %s\n", id, s)
		}
	}
	b.WriteString("```\n")
	return b.String()
}

// The README markers around the embedded diagram.
const (
	BeginMarker = "<!-- boundarylint:graph:begin -->"
	EndMarker   = "<!-- boundarylint:graph:end -->"
)

// Embedded returns the diagram currently between the markers of readme.
func Embedded(readme string) (string, error) {
	_, after, ok := strings.Cut(readme, BeginMarker+"\n")
	if !ok {
		return "", fmt.Errorf("README has no %s line", BeginMarker)
	}
	inner, _, ok := strings.Cut(after, EndMarker)
	if !ok {
		return "", fmt.Errorf("README has no %s after %s", EndMarker, BeginMarker)
	}
	return inner, nil
}

// Splice replaces the diagram between the markers of readme.
func Splice(readme, diagram string) (string, error) {
	before, after, ok := strings.Cut(readme, BeginMarker+"\n")
	if !ok {
		return "", fmt.Errorf("README has no %s line", BeginMarker)
	}
	_, rest, ok := strings.Cut(after, EndMarker)
	if !ok {
		return "", fmt.Errorf("README has no %s after %s", EndMarker, BeginMarker)
	}
	return before + BeginMarker + "\n" + diagram + EndMarker + rest, nil
}
