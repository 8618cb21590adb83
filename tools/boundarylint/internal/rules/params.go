package rules

import (
	"go/ast"
	"go/constant"
	"go/types"
	"strings"
)

// startupSettings are the connection startup parameters that would let a
// domain's pool escape its role or schema. The platform gives each pool its
// role as the startup parameter role, and a domain may derive a pool from
// its own pool's config (pool.Config()), so these are SET in disguise.
var startupSettings = map[string]string{
	"role":                  "SET ROLE",
	"session_authorization": "SET SESSION AUTHORIZATION",
	"search_path":           "SET search_path",
	"options":               "SET ROLE or SET search_path (-c role=…)",
}

// startupParams reports, in a domain's file, writes to pgconn.Config's
// RuntimeParams that change the role or search_path a pool connects with:
// setting or removing one of startupSettings (removing role leaves the
// pool acting as the login role, a member of every domain role), a
// parameter named at run time, and any other use of the map, through which
// it could be changed out of sight.
func (c *checker) startupParams(f *ast.File) {
	indexed := map[ast.Expr]bool{} // RuntimeParams[k] and delete(RuntimeParams, k)
	ast.Inspect(f, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.AssignStmt:
			for _, lhs := range n.Lhs {
				if ix, ok := ast.Unparen(lhs).(*ast.IndexExpr); ok && c.isRuntimeParams(ix.X) {
					indexed[ast.Unparen(ix.X)] = true
					c.startupKey(ix.Index, "setting")
				}
			}
		case *ast.IndexExpr:
			if c.isRuntimeParams(n.X) {
				indexed[ast.Unparen(n.X)] = true // a read
			}
		case *ast.CallExpr:
			if id, ok := ast.Unparen(n.Fun).(*ast.Ident); ok && len(n.Args) == 2 && c.isRuntimeParams(n.Args[0]) {
				if b, ok := c.TypesInfo.Uses[id].(*types.Builtin); ok && b.Name() == "delete" {
					indexed[ast.Unparen(n.Args[0])] = true
					c.startupKey(n.Args[1], "removing")
				}
			}
		case *ast.SelectorExpr:
			if c.isRuntimeParams(n) && !indexed[n] {
				c.Reportf(n.Pos(), "replacing the startup parameters or using RuntimeParams as a value cannot be checked: set or read single parameters by a constant name")
			}
		}
		return true
	})
}

// startupKey reports a RuntimeParams key, set or removed (verb), that is
// one of startupSettings or is not a constant.
func (c *checker) startupKey(key ast.Expr, verb string) {
	tv := c.TypesInfo.Types[key]
	if tv.Value == nil || tv.Value.Kind() != constant.String {
		c.Reportf(key.Pos(), "a startup parameter named at run time cannot be checked: it could be role or search_path; name it with a constant")
		return
	}
	name := strings.ToLower(constant.StringVal(tv.Value))
	what, bad := startupSettings[name]
	switch {
	case !bad:
	case verb == "removing":
		c.Reportf(key.Pos(), "removing the startup parameter %s is forbidden: the pool would connect with the login role's defaults, and the login role is a member of every domain role", name)
	default:
		c.Reportf(key.Pos(), "setting the startup parameter %s is %s in disguise, which is forbidden: each domain's pool connects as its own role, given by the platform", name, what)
	}
}

// isRuntimeParams reports whether e selects pgconn.Config's RuntimeParams.
func (c *checker) isRuntimeParams(e ast.Expr) bool {
	sel, ok := ast.Unparen(e).(*ast.SelectorExpr)
	if !ok {
		return false
	}
	s := c.TypesInfo.Selections[sel]
	if s == nil {
		return false
	}
	v, ok := s.Obj().(*types.Var)
	return ok && v.IsField() && v.Name() == "RuntimeParams" && v.Pkg() != nil && v.Pkg().Path() == pgconnPath
}
