// Package callee names the function a call expression calls, for the
// linter's rules and its graph, which both follow calls by name.
package callee

import "go/ast"

// Ident is the identifier naming the function called through e, the Fun of
// a call: f, pkg.F, x.M, and generic instantiations of those. It is nil for
// anything else (a function literal, a call's result).
func Ident(e ast.Expr) *ast.Ident {
	switch e := ast.Unparen(e).(type) {
	case *ast.Ident:
		return e
	case *ast.SelectorExpr:
		return e.Sel
	case *ast.IndexExpr:
		return Ident(e.X)
	case *ast.IndexListExpr:
		return Ident(e.X)
	}
	return nil
}
