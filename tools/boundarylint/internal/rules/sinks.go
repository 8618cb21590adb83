package rules

import (
	"fmt"
	"go/ast"
	"go/types"

	"golang.org/x/tools/go/types/typeutil"
)

// SQLSink is the object fact of a function that sends one of its string
// parameters to Postgres as SQL (a helper such as
// `func count(ctx, db, sql string) …`). Its callers are checked as if they
// called the query method themselves, so the SQL they pass is parsed
// against the caller's schema and must be a constant.
type SQLSink struct {
	Param  int    // index of the SQL parameter
	Method string // the query method it finally reaches
}

// AFact marks SQLSink as an analysis fact.
func (*SQLSink) AFact() {}

func (s *SQLSink) String() string { return fmt.Sprintf("sqlSink(%d, %s)", s.Param, s.Method) }

// sinks finds the package's functions that pass a parameter, unchanged,
// as the SQL of a query method or of another sink, and exports them as
// facts. Functions used as values keep their own diagnostics: their
// callers cannot all be seen. It returns the SQL arguments that are such
// parameters, which the caller checks instead.
func (c *checker) sinks(vals *values) map[ast.Expr]bool {
	c.localSinks = map[*types.Func]SQLSink{}
	forwarded := map[ast.Expr]bool{}
	for changed := true; changed; {
		changed = false
		for _, f := range c.Files {
			if c.isTest(f) {
				continue
			}
			for _, d := range f.Decls {
				fd, ok := d.(*ast.FuncDecl)
				if !ok || fd.Body == nil {
					continue
				}
				fn, _ := c.TypesInfo.Defs[fd.Name].(*types.Func)
				if fn == nil || vals.escaped[fn] || foreignDispatch(fn) {
					continue
				}
				if _, done := c.localSinks[fn]; done {
					continue
				}
				params := paramIndexes(c.TypesInfo, fd)
				ast.Inspect(fd.Body, func(n ast.Node) bool {
					call, ok := n.(*ast.CallExpr)
					if !ok {
						return true
					}
					idx, method, ok := c.sqlArg(call)
					if !ok {
						return true
					}
					id, ok := ast.Unparen(call.Args[idx]).(*ast.Ident)
					if !ok {
						return true
					}
					pv, _ := c.TypesInfo.Uses[id].(*types.Var)
					i, isParam := params[pv]
					if !isParam || vals.unknown[pv] || len(vals.assigns[pv]) > 0 {
						return true
					}
					forwarded[call.Args[idx]] = true
					if _, done := c.localSinks[fn]; !done {
						s := SQLSink{Param: i, Method: method}
						c.localSinks[fn] = s
						if fn.Exported() {
							c.ExportObjectFact(fn, &s)
						}
						changed = true
					}
					return true
				})
			}
		}
	}
	return forwarded
}

// foreignDispatch reports whether calls can reach the method fn through an
// interface of another package, unseen: it is exported, and unless it has a
// query method's shape (whose calls through any interface are checked as
// queries), its callers cannot all be seen.
func foreignDispatch(fn *types.Func) bool {
	sig := fn.Type().(*types.Signature)
	if sig.Recv() == nil || !fn.Exported() {
		return false
	}
	_, _, shaped := queryShape(fn.Name(), sig)
	return !shaped
}

// paramIndexes maps the parameters of fd to their positions; the variadic
// one is left out (its argument is a slice).
func paramIndexes(info *types.Info, fd *ast.FuncDecl) map[*types.Var]int {
	out := map[*types.Var]int{}
	i := 0
	for _, field := range fd.Type.Params.List {
		_, variadic := field.Type.(*ast.Ellipsis)
		if len(field.Names) == 0 {
			i++
			continue
		}
		for _, name := range field.Names {
			if v, ok := info.Defs[name].(*types.Var); ok && !variadic {
				out[v] = i
			}
			i++
		}
	}
	return out
}

// sqlArg tells whether call sends SQL text, directly (a query method) or
// through a sink, and which argument holds it.
func (c *checker) sqlArg(call *ast.CallExpr) (idx int, method string, ok bool) {
	if idx, kind, method, ok := queryArg(c.TypesInfo, call); ok {
		return idx, method, kind == sqlText
	}
	return c.sinkArg(call)
}

// sinkArg tells whether call calls a sink of this package or of an
// imported one.
func (c *checker) sinkArg(call *ast.CallExpr) (idx int, method string, ok bool) {
	fn := typeutil.StaticCallee(c.TypesInfo, call)
	if fn == nil {
		return 0, "", false
	}
	s, ok := c.localSinks[fn]
	if !ok && fn.Pkg() != c.Pkg {
		var imported SQLSink
		if c.ImportObjectFact(fn, &imported) {
			s, ok = imported, true
		}
	}
	// The SQL parameter is never the variadic one, so a call spreading
	// its variadic arguments (f(ctx, tx, q, args...)) still passes it.
	if !ok || s.Param >= len(call.Args) {
		return 0, "", false
	}
	return s.Param, fn.Name() + " → " + s.Method, true
}
