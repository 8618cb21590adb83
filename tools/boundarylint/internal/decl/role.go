package decl

import "strings"

// Kind is what a package is, as far as the boundaries are concerned.
type Kind int

// The kinds of packages.
const (
	Other      Kind = iota // outside internal/ and cmd/: no boundary rules
	DomainPkg              // internal/<declared domain>/...
	Platform               // internal/platform/...: imports no domain
	Gateway                // internal/gateway/...: every domain, no driver, no SQL
	Root                   // internal/app/..., cmd/...: composition roots, no SQL
	Migrations             // migrations: only embeds files
	Tools                  // tools/...: outside the rules
	Undeclared             // internal/<dir> without a declaration
)

// Role is the kind of a package plus, for domains (and undeclared
// directories), the directory name.
type Role struct {
	Kind Kind
	Name string
}

// Classify tells what the package at rel (its import path relative to the
// module, e.g. "internal/content/internal/store") is.
func (s *Set) Classify(rel string) Role {
	parts := strings.Split(rel, "/")
	switch parts[0] {
	case "cmd":
		return Role{Kind: Root}
	case "tools":
		return Role{Kind: Tools}
	case "migrations":
		return Role{Kind: Migrations}
	case "internal":
		if len(parts) < 2 {
			return Role{Kind: Other}
		}
		switch parts[1] {
		case "platform":
			return Role{Kind: Platform}
		case "gateway":
			return Role{Kind: Gateway}
		case "app":
			return Role{Kind: Root}
		}
		if d := s.ByDir[parts[1]]; d != nil {
			return Role{Kind: DomainPkg, Name: d.Name}
		}
		return Role{Kind: Undeclared, Name: parts[1]}
	}
	return Role{Kind: Other}
}

// Rel returns path relative to the module path mod, and whether path lies
// inside the module. A "_test" suffix (external test package) is dropped.
func Rel(mod, path string) (string, bool) {
	path = strings.TrimSuffix(path, "_test")
	if path == mod {
		return "", true
	}
	rel, ok := strings.CutPrefix(path, mod+"/")
	return rel, ok
}
