package rules

import (
	"fmt"
	"go/ast"
	"go/constant"
	"go/token"
	"go/types"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/types/typeutil"

	"github.com/nova-social/nova/tools/boundarylint/internal/callee"
	"github.com/nova-social/nova/tools/boundarylint/internal/decl"
	"github.com/nova-social/nova/tools/boundarylint/internal/sqlcheck"
)

// AllowDirective marks a call whose SQL is built at run time on purpose; the
// rest of the comment must say why.
const AllowDirective = "//boundarylint:allow"

// argKind is what a query method's checked argument holds.
type argKind int

const (
	sqlText    argKind = iota // a SQL statement
	identifier                // a pgx.Identifier naming a table (CopyFrom)
)

const (
	pgxPath     = "github.com/jackc/pgx/v5"
	pgxpoolPath = "github.com/jackc/pgx/v5/pgxpool"
	pgconnPath  = "github.com/jackc/pgx/v5/pgconn"
	stdlibPath  = "github.com/jackc/pgx/v5/stdlib" // pgx as a database/sql driver
)

// queryArg tells whether call sends SQL to Postgres and, if so, which
// argument carries it.
func queryArg(info *types.Info, call *ast.CallExpr) (idx int, kind argKind, method string, ok bool) {
	fn, _ := typeutil.Callee(info, call).(*types.Func)
	idx, kind, ok = queryParam(fn)
	if !ok {
		return 0, 0, "", false
	}
	if sel, isSel := ast.Unparen(call.Fun).(*ast.SelectorExpr); isSel {
		if s := info.Selections[sel]; s != nil && s.Kind() == types.MethodExpr {
			idx++ // (*pgxpool.Pool).Exec(p, ctx, sql): the receiver comes first
		}
	}
	if idx >= len(call.Args) {
		return 0, 0, "", false
	}
	return idx, kind, fn.Name(), true
}

// queryParam tells whether the method fn sends SQL to Postgres and, if so,
// which of its parameters carries it.
func queryParam(fn *types.Func) (idx int, kind argKind, ok bool) {
	if fn == nil || fn.Pkg() == nil {
		return 0, 0, false
	}
	sig := fn.Type().(*types.Signature)
	if sig.Recv() == nil {
		return 0, 0, false
	}
	name := fn.Name()
	switch fn.Pkg().Path() {
	case pgxPath, pgxpoolPath, pgconnPath:
		if !pgxMethods[name] {
			return 0, 0, false
		}
		// The SQL's position differs between pgx's layers (pgconn's
		// CopyFrom takes a reader first, its Batch no context): pgx names
		// it sql or query throughout.
		var found bool
		if idx, kind, found = pgxSQLParam(sig); !found {
			return 0, 0, false
		}
	case "database/sql", "database/sql/driver", stdlibPath:
		switch name {
		case "Exec", "Query", "QueryRow", "Prepare":
			idx = 0
		case "ExecContext", "QueryContext", "QueryRowContext", "PrepareContext":
			idx = 1
		default:
			return 0, 0, false
		}
	default:
		// An interface of the repository's own with pgx's method shapes
		// (a "DBTX" abstraction over pools and transactions).
		if !types.IsInterface(sig.Recv().Type()) {
			return 0, 0, false
		}
		var shaped bool
		if idx, kind, shaped = queryShape(name, sig); !shaped {
			return 0, 0, false
		}
	}
	params := sig.Params()
	if params.Len() <= idx || (sig.Variadic() && idx >= params.Len()-1) {
		return 0, 0, false
	}
	t := params.At(idx).Type()
	switch kind {
	case sqlText:
		if !isString(t) {
			return 0, 0, false
		}
	case identifier:
		if !isIdentifier(t) {
			return 0, 0, false
		}
	}
	return idx, kind, true
}

// queryShape tells whether a method named name with signature sig has the
// shape of a query method (pgx's, or database/sql's with a context), which
// an interface of the repository's own may give it, and which parameter
// would carry the SQL.
func queryShape(name string, sig *types.Signature) (idx int, kind argKind, ok bool) {
	switch name {
	case "Exec", "Query", "QueryRow", "ExecContext", "QueryContext", "QueryRowContext", "PrepareContext":
		idx = 1
	case "CopyFrom":
		idx, kind = 1, identifier
	default:
		return 0, 0, false
	}
	if sig.Params().Len() <= idx || !isContext(sig.Params().At(0).Type()) {
		return 0, 0, false
	}
	return idx, kind, true
}

// pgxMethods are the methods of pgx, pgxpool and pgconn that send SQL, as
// text or as the table of a COPY.
var pgxMethods = map[string]bool{
	"Exec": true, "Query": true, "QueryRow": true, "ExecParams": true, "Prepare": true,
	"Queue": true, "CopyFrom": true, "CopyTo": true, "SendPrepare": true, "SendQueryParams": true,
}

// pgxSQLParam finds the parameter of a pgx method that carries the SQL: a
// string named sql or query, or else a pgx.Identifier naming a table.
func pgxSQLParam(sig *types.Signature) (idx int, kind argKind, ok bool) {
	params := sig.Params()
	for i := 0; i < params.Len(); i++ {
		if p := params.At(i); (p.Name() == "sql" || p.Name() == "query") && isString(p.Type()) {
			return i, sqlText, true
		}
	}
	for i := 0; i < params.Len(); i++ {
		if isIdentifier(params.At(i).Type()) {
			return i, identifier, true
		}
	}
	return 0, 0, false
}

func isContext(t types.Type) bool {
	n, ok := t.(*types.Named)
	return ok && n.Obj().Pkg() != nil && n.Obj().Pkg().Path() == "context" && n.Obj().Name() == "Context"
}

func isIdentifier(t types.Type) bool {
	n, ok := t.(*types.Named)
	return ok && n.Obj().Pkg() != nil && n.Obj().Pkg().Path() == pgxPath && n.Obj().Name() == "Identifier"
}

// directives returns the lines of f that an allow directive covers (its
// own line and, for a directive alone on its line, the next one; a
// directive after code on its line covers only that line), and reports the
// directives that give no reason.
func (c *checker) directives(f *ast.File) map[int]bool {
	out := map[int]bool{}
	tf := c.Fset.File(f.Pos())
	var src []byte // read on the first directive: most files have none
	read := false
	for _, g := range f.Comments {
		for _, cm := range g.List {
			rest, ok := strings.CutPrefix(cm.Text, AllowDirective)
			if !ok || (rest != "" && rest[0] != ' ' && rest[0] != '\t') {
				continue
			}
			reason, _, _ := strings.Cut(rest, "//") // a trailing comment is no reason
			reason = strings.TrimSpace(reason)
			line := tf.Line(cm.Pos())
			out[line] = true
			if !read {
				src, _ = c.source(tf.Name())
				read = true
			}
			start, at := tf.Offset(tf.LineStart(line)), tf.Offset(cm.Pos())
			if src == nil || at > len(src) || strings.TrimSpace(string(src[start:at])) == "" {
				out[line+1] = true
			}
			if reason == "" && c.role.Kind != decl.Other {
				c.Reportf(cm.Pos(), "%s needs a reason: write %s <why this SQL must be built at run time>", AllowDirective, AllowDirective)
			}
		}
	}
	return out
}

// allowed reports whether an allow directive covers the line of the call
// (or assignment) or of its SQL argument: it sits on that line, or alone
// on the line directly above.
func (c *checker) allowed(dirs map[int]bool, call ast.Node, arg ast.Expr) bool {
	for _, l := range []int{c.Fset.Position(call.Pos()).Line, c.Fset.Position(arg.Pos()).Line} {
		if dirs[l] {
			return true
		}
	}
	return dirs[c.Fset.Position(arg.End()).Line]
}

// source is the text of one of the package's files.
func (c *checker) source(name string) ([]byte, error) {
	if c.ReadFile != nil {
		return c.ReadFile(name)
	}
	return os.ReadFile(name)
}

func (c *checker) sql() {
	var sc sqlcheck.Scope
	switch c.role.Kind {
	case decl.DomainPkg:
		d := c.repo.set.Domains[c.role.Name]
		sc = sqlcheck.Scope{Domain: d.Name, Schema: d.Schema, Owners: c.repo.set.Owners}
	case decl.Gateway, decl.Root, decl.Migrations:
	default:
		for _, f := range c.Files {
			c.directives(f) // still insist on reasons
		}
		c.sinks(newValues(c.Pass)) // platform helpers that run SQL
		return
	}
	vals := newValues(c.Pass)
	forwarded := c.sinks(vals)
	c.fileDirs = map[string]map[int]bool{}
	for _, f := range c.Files {
		c.fileDirs[c.Fset.File(f.Pos()).Name()] = c.directives(f)
	}
	rewriter := c.queryRewriter()
	for _, f := range c.Files {
		dirs := c.fileDirs[c.Fset.File(f.Pos()).Name()]
		if c.isTest(f) {
			// Tests play other domains (a bus test subscribes "as" user and
			// writes users.*) and check what landed where; the SQL rules are
			// about production code.
			continue
		}
		called := map[ast.Expr]bool{}
		calledIDs := map[*ast.Ident]bool{}
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.SelectorExpr:
				if !called[n] {
					c.methodValue(n)
				}
				return true
			case *ast.Ident:
				if !calledIDs[n] {
					c.sinkValue(n)
				}
				return true
			case *ast.CompositeLit:
				for _, elt := range n.Elts {
					if kv, ok := elt.(*ast.KeyValueExpr); ok && isQueuedSQL(c.TypesInfo.Uses[identOf(kv.Key)]) {
						c.checkSQL(vals, sc, dirs, kv, kv.Value, sqlText, queuedSQL)
					}
				}
				return true
			case *ast.AssignStmt:
				for i, lhs := range n.Lhs {
					if !c.isQueuedSQLExpr(lhs) {
						continue
					}
					rhs := n.Rhs[0] // q.SQL, err = build(): the call's results
					if len(n.Lhs) == len(n.Rhs) {
						rhs = n.Rhs[i]
					}
					c.checkSQL(vals, sc, dirs, n, rhs, sqlText, queuedSQL)
				}
				return true
			case *ast.RangeStmt:
				if c.isQueuedSQLExpr(n.Key) || c.isQueuedSQLExpr(n.Value) {
					c.checkSQL(vals, sc, dirs, n, n.X, sqlText, queuedSQL)
				}
				return true
			case *ast.UnaryExpr:
				if n.Op == token.AND && c.isQueuedSQLExpr(n.X) {
					c.Reportf(n.Pos(), "%s is used by address, so the SQL stored through it cannot be checked: assign the field a constant", queuedSQL)
				}
				return true
			}
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			called[ast.Unparen(call.Fun)] = true
			if id := callee.Ident(call.Fun); id != nil {
				calledIDs[id] = true
			}
			idx, kind, method, ok := queryArg(c.TypesInfo, call)
			if !ok {
				if idx, method, ok = c.sinkArg(call); !ok {
					return true
				}
				kind = sqlText
			}
			if forwarded[call.Args[idx]] {
				return true // a parameter of a sink: checked at its callers
			}
			c.checkSQL(vals, sc, dirs, call, call.Args[idx], kind, method)
			return true
		})
		if c.role.Kind == decl.DomainPkg {
			c.startupParams(f)
			c.rewriters(f, dirs, rewriter)
		}
	}
}

// checkSQL checks arg, the SQL (or COPY table) that the call or statement
// at sends to Postgres through method.
func (c *checker) checkSQL(vals *values, sc sqlcheck.Scope, dirs map[int]bool, at ast.Node, arg ast.Expr, kind argKind, method string) {
	switch c.role.Kind {
	case decl.Gateway:
		c.Reportf(at.Pos(), "gateway may not run SQL (%s): it owns no data; call the owning domain's service", method)
		return
	case decl.Root:
		c.Reportf(at.Pos(), "%s is a composition root and runs no SQL (%s): move the query into the domain that owns the data", c.rel, method)
		return
	case decl.Migrations:
		c.Reportf(at.Pos(), "package migrations only embeds SQL files and runs no SQL (%s)", method)
		return
	}
	if kind == identifier {
		c.copyTable(arg, sc, dirs, at)
		return
	}
	texts, constant := vals.resolve(arg, 0)
	if !constant {
		var built bool
		texts, built = c.allowedWhereBuilt(vals, arg)
		if !built && !c.allowed(dirs, at, arg) {
			if v := heldIn(c.TypesInfo, arg); v != nil && shared(v) {
				c.Reportf(arg.Pos(), "SQL passed to %s is held in %s, which other packages may assign (it is exported), out of sight: use a constant, or an unexported variable or field", method, v.Name())
				return
			}
			c.Reportf(arg.Pos(), "SQL passed to %s is built at run time, not a compile-time constant: use a constant with $n parameters, or put %s <reason> on this line if it must be dynamic", method, AllowDirective)
		}
	}
	seen := map[string]bool{}
	for _, text := range texts {
		for _, p := range sqlcheck.Check(text, sc) {
			if !seen[p.Msg] {
				seen[p.Msg] = true
				c.Reportf(sqlPos(arg, p.Offset), "%s", p.Msg)
			}
		}
	}
}

// queuedSQL names pgx.QueuedQuery's SQL field in diagnostics: pgx.Batch
// exports its queue, so SQL can be queued without calling Queue.
const queuedSQL = "QueuedQuery.SQL"

// isQueuedSQL reports whether obj is the SQL field of pgx.QueuedQuery.
func isQueuedSQL(obj types.Object) bool {
	v, ok := obj.(*types.Var)
	if !ok || !v.IsField() || v.Name() != "SQL" || v.Pkg() == nil || v.Pkg().Path() != pgxPath {
		return false
	}
	return true
}

// isQueuedSQLExpr reports whether e selects pgx.QueuedQuery's SQL field.
func (c *checker) isQueuedSQLExpr(e ast.Expr) bool {
	sel, ok := ast.Unparen(e).(*ast.SelectorExpr)
	return ok && isQueuedSQL(c.TypesInfo.Uses[sel.Sel])
}

// identOf is the identifier of a composite literal's key, if it is one.
func identOf(e ast.Expr) *ast.Ident {
	id, _ := e.(*ast.Ident)
	return id
}

// sinkValue reports a helper of another package that runs its parameter as
// SQL (a sink) used as a value: the calls made through the value, and the
// SQL they pass, are out of sight. The package's own such helpers are not
// sinks and check their own query instead.
func (c *checker) sinkValue(id *ast.Ident) {
	fn, ok := c.TypesInfo.Uses[id].(*types.Func)
	if !ok || fn.Pkg() == nil || fn.Pkg() == c.Pkg {
		return
	}
	var s SQLSink
	if c.ImportObjectFact(fn.Origin(), &s) {
		c.Reportf(id.Pos(), "%s is used as a value, so the SQL it runs cannot be checked: call it directly with the query", fn.Name())
	}
}

// methodValue reports a query method taken as a value (tx.Exec passed
// around or stored): the SQL it will be called with is out of sight.
func (c *checker) methodValue(sel *ast.SelectorExpr) {
	s := c.TypesInfo.Selections[sel]
	if s == nil || (s.Kind() != types.MethodVal && s.Kind() != types.MethodExpr) {
		return
	}
	fn, _ := s.Obj().(*types.Func)
	if _, _, ok := queryParam(fn); ok {
		c.Reportf(sel.Pos(), "%s is used as a value, so the SQL it runs cannot be checked: call it directly with the query", fn.Name())
	}
}

// copyTable checks the pgx.Identifier given to CopyFrom.
func (c *checker) copyTable(arg ast.Expr, sc sqlcheck.Scope, dirs map[int]bool, call ast.Node) {
	lit, ok := ast.Unparen(arg).(*ast.CompositeLit)
	var parts []string
	if ok {
		for _, e := range lit.Elts {
			tv := c.TypesInfo.Types[e]
			if tv.Value == nil || tv.Value.Kind() != constant.String {
				ok = false
				break
			}
			parts = append(parts, constant.StringVal(tv.Value))
		}
	}
	if !ok || len(parts) == 0 {
		if !c.allowed(dirs, call, arg) {
			c.Reportf(arg.Pos(), "CopyFrom's table is not a constant pgx.Identifier{\"%s\", \"<table>\"}: name the table literally, or put %s <reason> on this line", sc.Schema, AllowDirective)
		}
		return
	}
	quoted := make([]string, len(parts))
	for i, p := range parts {
		quoted[i] = `"` + strings.ReplaceAll(p, `"`, `""`) + `"`
	}
	for _, p := range sqlcheck.Check(fmt.Sprintf("COPY %s FROM STDIN", strings.Join(quoted, ".")), sc) {
		c.Reportf(arg.Pos(), "%s", p.Msg)
	}
}

// values resolves the SQL argument of a query call to the constant strings
// it can hold: constants (of any package) and variables assigned only
// constants within the package.
type values struct {
	info    *types.Info
	assigns map[*types.Var][]ast.Expr
	unknown map[*types.Var]bool // assigned something untraceable
	// escaped marks the package's functions used other than by a call
	// (as a value), whose callers therefore cannot all be seen.
	escaped map[*types.Func]bool
}

func newValues(pass *analysis.Pass) *values {
	info := pass.TypesInfo
	v := &values{info: info, assigns: map[*types.Var][]ast.Expr{}, unknown: map[*types.Var]bool{}, escaped: map[*types.Func]bool{}}
	callees := map[*ast.Ident]bool{}
	varOf := func(id *ast.Ident) *types.Var {
		if obj, ok := info.Defs[id].(*types.Var); ok {
			return obj
		}
		obj, _ := info.Uses[id].(*types.Var)
		return obj
	}
	given := map[*types.Var]bool{} // parameters and range variables: given a value unseen
	defined := func(fields ...*ast.FieldList) {
		for _, fl := range fields {
			for _, field := range fl.List {
				for _, id := range field.Names {
					if obj := varOf(id); obj != nil {
						given[obj] = true
					}
				}
			}
		}
	}
	for _, f := range pass.Files {
		embeds := map[*ast.ValueSpec][]string{} // //go:embed patterns
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.FuncDecl:
				if n.Recv != nil {
					defined(n.Recv)
				}
				defined(n.Type.Params)
			case *ast.FuncLit:
				defined(n.Type.Params)
			case *ast.GenDecl:
				for _, spec := range n.Specs {
					if vs, ok := spec.(*ast.ValueSpec); ok {
						docs := []*ast.CommentGroup{vs.Doc}
						if !n.Lparen.IsValid() {
							docs = append(docs, n.Doc)
						}
						if p, ok := embedPatterns(docs); ok {
							embeds[vs] = p
						}
					}
				}
			case *ast.CallExpr:
				if id := callee.Ident(n.Fun); id != nil {
					callees[id] = true
				}
			case *ast.ValueSpec:
				for i, id := range n.Names {
					obj := varOf(id)
					if obj == nil {
						continue
					}
					if patterns, ok := embeds[n]; ok {
						// The text of the embedded file is the variable's
						// constant; a file the check cannot read, one that
						// is not text, or a pattern naming several, is not.
						if text, ok := embeddedText(pass, id, patterns, obj.Type()); ok {
							v.assigns[obj] = append(v.assigns[obj], &ast.BasicLit{ValuePos: id.Pos(), Kind: token.STRING, Value: strconv.Quote(text)})
						} else {
							v.unknown[obj] = true
						}
						continue
					}
					switch {
					case len(n.Values) == len(n.Names):
						v.assigns[obj] = append(v.assigns[obj], n.Values[i])
					case len(n.Values) == 0 && isString(obj.Type()):
						// `var q string`, assigned in the branches of a switch.
						v.assigns[obj] = append(v.assigns[obj], &ast.BasicLit{ValuePos: id.Pos(), Kind: token.STRING, Value: `""`})
					default:
						v.unknown[obj] = true
					}
				}
			case *ast.CompositeLit:
				var st *types.Struct
				if t := info.TypeOf(n); t != nil {
					st, _ = t.Underlying().(*types.Struct)
				}
				for i, elt := range n.Elts {
					if kv, ok := elt.(*ast.KeyValueExpr); ok {
						if key, ok := kv.Key.(*ast.Ident); ok {
							if field, ok := info.Uses[key].(*types.Var); ok && field.IsField() {
								v.assigns[field] = append(v.assigns[field], kv.Value)
							}
						}
					} else if st != nil && i < st.NumFields() { // pair{a, b}: by position
						v.assigns[st.Field(i)] = append(v.assigns[st.Field(i)], elt)
					}
				}
			case *ast.AssignStmt:
				for i, lhs := range n.Lhs {
					obj := heldIn(info, lhs)
					if obj == nil {
						continue
					}
					if (n.Tok == token.DEFINE || n.Tok == token.ASSIGN) && len(n.Lhs) == len(n.Rhs) {
						v.assigns[obj] = append(v.assigns[obj], n.Rhs[i])
					} else {
						v.unknown[obj] = true
					}
				}
			case *ast.RangeStmt:
				// for _, q = range …: assigned each element; for _, q := range
				// …: given it.
				for _, e := range []ast.Expr{n.Key, n.Value} {
					if obj := heldIn(info, e); obj != nil {
						if n.Tok == token.ASSIGN {
							v.unknown[obj] = true
						} else {
							given[obj] = true
						}
					}
				}
			case *ast.UnaryExpr:
				if n.Op == token.AND { // &q, &s.q: assigned out of sight
					if obj := heldIn(info, n.X); obj != nil {
						v.unknown[obj] = true
					}
				}
			}
			return true
		})
	}
	// A parameter or range variable assigned constants in its body still
	// holds, on the paths that skip them, the value it was given. One never
	// assigned has no assignments, and so no constant value, already (and
	// a parameter may then be a sink's).
	for obj := range given {
		if len(v.assigns[obj]) > 0 {
			v.unknown[obj] = true
		}
	}
	for id, obj := range info.Uses {
		if fn, ok := obj.(*types.Func); ok && !callees[id] {
			v.escaped[fn] = true
		}
	}
	for fn := range dispatched(info) {
		v.escaped[fn] = true
	}
	return v
}

// dispatched are the package's methods that implement a method of an
// interface the package names: a call through the interface reaches them
// unseen, so they are not checked at their callers. Interface methods
// with the shape of a query method (a DBTX's Exec) are left out: their
// calls are checked as queries.
func dispatched(info *types.Info) map[*types.Func]bool {
	var ifaces []*types.Interface
	seen := map[types.Type]bool{}
	for _, tv := range info.Types {
		if it, ok := tv.Type.Underlying().(*types.Interface); ok && it.NumMethods() > 0 && !seen[tv.Type] {
			seen[tv.Type] = true
			ifaces = append(ifaces, it)
		}
	}
	out := map[*types.Func]bool{}
	for _, obj := range info.Defs {
		fn, ok := obj.(*types.Func)
		if !ok || fn.Type().(*types.Signature).Recv() == nil {
			continue
		}
		for _, it := range ifaces {
			if implementsOther(fn, it) {
				out[fn] = true
				break
			}
		}
	}
	return out
}

// implementsOther reports whether the method fn implements a method of it
// that is not a query method.
func implementsOther(fn *types.Func, it *types.Interface) bool {
	m, _, _ := types.LookupFieldOrMethod(it, false, fn.Pkg(), fn.Name())
	im, ok := m.(*types.Func)
	if !ok {
		return false
	}
	if _, _, query := queryParam(im); query {
		return false
	}
	recv := fn.Type().(*types.Signature).Recv().Type()
	if p, ok := recv.(*types.Pointer); ok {
		recv = p.Elem()
	}
	return types.Implements(types.NewPointer(recv), it)
}

func (v *values) resolve(e ast.Expr, depth int) ([]string, bool) {
	e = ast.Unparen(e)
	if tv, ok := v.info.Types[e]; ok && tv.Value != nil {
		if tv.Value.Kind() != constant.String {
			return nil, false
		}
		return []string{constant.StringVal(tv.Value)}, true
	}
	if lit, ok := e.(*ast.BasicLit); ok && lit.Kind == token.STRING {
		// A string variable's zero value, or an embedded file's text.
		if text, err := strconv.Unquote(lit.Value); err == nil {
			return []string{text}, true
		}
	}
	id, ok := e.(*ast.Ident)
	if !ok || depth > 8 {
		return nil, false
	}
	obj, ok := v.info.Uses[id].(*types.Var)
	if !ok || obj.IsField() || v.unknown[obj] || shared(obj) {
		return nil, false
	}
	rhs, ok := v.assigns[obj]
	if !ok {
		return nil, false // a parameter, a range variable, …
	}
	var out []string
	for _, r := range rhs {
		texts, ok := v.resolve(r, depth+1)
		if !ok {
			return nil, false
		}
		out = append(out, texts...)
	}
	return out, true
}

// allowedWhereBuilt accepts dynamic SQL held in a variable or struct field
// when every assignment to it is a constant or carries the allow directive
// (on its line, or alone on the line above): the directive sits where the
// SQL is built, e.g. once in a constructor rather than at each query. It returns
// the constant assignments, which are still checked: a directive excuses
// the dynamic text it marks, not the constants beside it.
func (c *checker) allowedWhereBuilt(vals *values, arg ast.Expr) ([]string, bool) {
	obj := heldIn(c.TypesInfo, arg)
	rhs := vals.assigns[obj]
	if obj == nil || vals.unknown[obj] || shared(obj) || len(rhs) == 0 {
		return nil, false
	}
	var texts []string
	for _, r := range rhs {
		if t, ok := vals.resolve(r, 0); ok {
			texts = append(texts, t...)
			continue
		}
		pos, end := c.Fset.Position(r.Pos()), c.Fset.Position(r.End())
		if dirs := c.fileDirs[pos.Filename]; !dirs[pos.Line] && !dirs[end.Line] {
			return nil, false
		}
	}
	return texts, true
}

// heldIn is the variable or struct field that arg names (defines or reads),
// if it names one.
func heldIn(info *types.Info, arg ast.Expr) *types.Var {
	var obj *types.Var
	switch e := ast.Unparen(arg).(type) {
	case *ast.Ident:
		if def, ok := info.Defs[e].(*types.Var); ok {
			return def
		}
		obj, _ = info.Uses[e].(*types.Var)
	case *ast.SelectorExpr:
		if sel := info.Selections[e]; sel != nil {
			obj, _ = sel.Obj().(*types.Var)
		} else {
			obj, _ = info.Uses[e.Sel].(*types.Var)
		}
	}
	return obj
}

// shared reports whether other packages may assign v, an exported package
// variable or struct field: the assignments seen in this package are then
// not all it can hold.
func shared(v *types.Var) bool {
	return v.Exported() && (v.IsField() || (v.Pkg() != nil && v.Parent() == v.Pkg().Scope()))
}

func (c *checker) isTest(f *ast.File) bool {
	return strings.HasSuffix(c.Fset.File(f.Pos()).Name(), "_test.go")
}

// sqlPos points into a raw string literal written at the call, so that a
// problem in a long query is reported on its own line; otherwise it is the
// argument's position.
func sqlPos(arg ast.Expr, offset int) token.Pos {
	lit, ok := ast.Unparen(arg).(*ast.BasicLit)
	if !ok || lit.Kind != token.STRING || !strings.HasPrefix(lit.Value, "`") || offset < 0 || offset >= len(lit.Value)-2 {
		return arg.Pos()
	}
	return lit.Pos() + token.Pos(1+offset)
}

func isString(t types.Type) bool {
	b, ok := t.Underlying().(*types.Basic)
	return ok && b.Kind() == types.String
}

// embedPatterns returns the patterns of the //go:embed directives among
// the comments of a variable's declaration.
func embedPatterns(docs []*ast.CommentGroup) ([]string, bool) {
	var out []string
	found := false
	for _, g := range docs {
		if g == nil {
			continue
		}
		for _, cm := range g.List {
			rest, ok := strings.CutPrefix(cm.Text, "//go:embed")
			if !ok || (rest != "" && rest[0] != ' ' && rest[0] != '\t') {
				continue
			}
			found = true
			for rest = strings.TrimSpace(rest); rest != ""; rest = strings.TrimSpace(rest) {
				var p string
				if q := rest[0]; q == '"' || q == '`' {
					end := strings.IndexByte(rest[1:], q)
					if end < 0 {
						return nil, true // malformed: nothing can be read
					}
					p, rest = rest[:end+2], rest[end+2:]
					if u, err := strconv.Unquote(p); err == nil {
						p = u
					}
				} else if i := strings.IndexAny(rest, " \t"); i >= 0 {
					p, rest = rest[:i], rest[i:]
				} else {
					p, rest = rest, ""
				}
				out = append(out, p)
			}
		}
	}
	return out, found
}

// embeddedText reads the one file that a string variable embeds: what the
// compiler will put in it. The build's action, and so vet's cached result,
// depends on the embedded files' contents.
func embeddedText(pass *analysis.Pass, id *ast.Ident, patterns []string, t types.Type) (string, bool) {
	if !isString(t) || len(patterns) != 1 || strings.ContainsAny(patterns[0], "*?[\\") {
		return "", false
	}
	dir := filepath.Dir(pass.Fset.File(id.Pos()).Name())
	data, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(strings.TrimPrefix(patterns[0], "all:"))))
	if err != nil || !utf8.Valid(data) {
		return "", false
	}
	return string(data), true
}
