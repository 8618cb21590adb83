package rules

import (
	"go/ast"
	"go/types"
)

// pgx calls a query argument that implements pgx.QueryRewriter to replace
// the query's SQL and arguments before it sends them: the SQL checked at
// the call is then not the SQL that runs. pgx's named arguments (NamedArgs,
// StrictNamedArgs) only number the @placeholders of the SQL they are given.

// queryRewriter is pgx's QueryRewriter interface, if the package's imports
// reach pgx.
func (c *checker) queryRewriter() *types.Interface {
	seen := map[*types.Package]bool{}
	var find func(pkgs []*types.Package) *types.Interface
	find = func(pkgs []*types.Package) *types.Interface {
		for _, p := range pkgs {
			if seen[p] {
				continue
			}
			seen[p] = true
			if p.Path() == pgxPath {
				if obj, ok := p.Scope().Lookup("QueryRewriter").(*types.TypeName); ok {
					it, _ := obj.Type().Underlying().(*types.Interface)
					return it
				}
				return nil
			}
			if it := find(p.Imports()); it != nil {
				return it
			}
		}
		return nil
	}
	return find(c.Pkg.Imports())
}

// isRewriter reports whether t replaces a query's SQL: it implements
// pgx.QueryRewriter and is not one of pgx's named arguments.
func isRewriter(t types.Type, it *types.Interface) bool {
	if it == nil || t == nil {
		return false
	}
	if n, ok := types.Unalias(t).(*types.Named); ok && n.Obj().Pkg() != nil && n.Obj().Pkg().Path() == pgxPath {
		switch n.Obj().Name() {
		case "NamedArgs", "StrictNamedArgs":
			return false
		}
	}
	return types.Implements(t, it) || (!types.IsInterface(t) && types.Implements(types.NewPointer(t), it))
}

// rewriters reports, in a domain's file, the methods that make a type a
// pgx.QueryRewriter, and the query arguments (after the SQL) that are one.
func (c *checker) rewriters(f *ast.File, dirs map[int]bool, it *types.Interface) {
	if it == nil {
		return
	}
	for _, d := range f.Decls {
		fd, ok := d.(*ast.FuncDecl)
		if !ok || fd.Recv == nil || fd.Name.Name != "RewriteQuery" || len(fd.Recv.List) == 0 {
			continue
		}
		if isRewriter(c.TypesInfo.TypeOf(fd.Recv.List[0].Type), it) && !c.allowed(dirs, fd.Name, fd.Name) {
			c.Reportf(fd.Name.Pos(), "RewriteQuery makes a pgx.QueryRewriter, which replaces a query's SQL at run time, out of sight: write the SQL at the query (pgx.NamedArgs only numbers @placeholders), or put %s <reason> on this line", AllowDirective)
		}
	}
	ast.Inspect(f, func(n ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		if !ok {
			return true
		}
		idx, kind, method, ok := queryArg(c.TypesInfo, call)
		if !ok || kind != sqlText {
			return true
		}
		for _, a := range call.Args[idx+1:] {
			if isRewriter(c.TypesInfo.TypeOf(a), it) && !c.allowed(dirs, call, a) {
				c.Reportf(a.Pos(), "this argument of %s is a pgx.QueryRewriter, which replaces the query's SQL at run time, out of sight: write the SQL at the query (pgx.NamedArgs only numbers @placeholders), or put %s <reason> on this line", method, AllowDirective)
			}
		}
		return true
	})
}
