// Package sqlcheck decides whether a SQL text stays inside one domain's
// schema. It parses the text with the real Postgres parser (pg_query), so
// every table, function and type reference is found wherever the grammar
// allows it (joins, subqueries, CTEs, RETURNING, DDL), not guessed by a
// regular expression.
package sqlcheck

import (
	"fmt"
	"maps"
	"strings"

	pg "github.com/pganalyze/pg_query_go/v6"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// Scope is who runs the SQL.
type Scope struct {
	Domain string            // the acting domain
	Schema string            // the schema it owns
	Owners map[string]string // every declared schema -> its domain
	// Migration relaxes the rules for migration files: GRANTs on the
	// domain's own objects to other domains' roles are allowed there.
	Migration bool
}

// Problem is one violation; Offset is its byte offset in the SQL text
// (the start of the statement when no finer location is known, -1 when
// the text does not parse).
type Problem struct {
	Msg    string
	Offset int
}

// systemSchemas may be named by any domain.
// pg_temp holds the session's own temporary tables.
var systemSchemas = map[string]bool{"pg_catalog": true, "information_schema": true, "pg_temp": true}

// forbiddenSettings are the session settings that would let SQL escape the
// role and schema boundaries.
var forbiddenSettings = map[string]string{
	"role":                  "SET ROLE",
	"session_authorization": "SET SESSION AUTHORIZATION",
	"search_path":           "SET search_path",
}

// Check parses sql and returns every boundary violation in it.
func Check(sql string, sc Scope) []Problem {
	tree, err := pg.Parse(sql)
	if err != nil {
		return []Problem{{Offset: -1, Msg: fmt.Sprintf("SQL does not parse (%v): fix the statement; boundarylint checks every statement with the Postgres parser", err)}}
	}
	var out []Problem
	for _, raw := range tree.GetStmts() {
		c := &checker{sc: sc, cteRefs: map[*pg.RangeVar]bool{}, writes: map[*pg.RangeVar]bool{}, aliases: map[*pg.RangeVar]bool{},
			scoped: map[*pg.VariableSetStmt]bool{}, base: int(raw.GetStmtLocation())}
		end := len(sql)
		if l := int(raw.GetStmtLen()); l > 0 && c.base+l <= len(sql) {
			end = c.base + l
		}
		c.text = sql[c.base:end]
		c.prepare(raw.GetStmt())
		c.walk(raw.GetStmt().ProtoReflect())
		out = append(out, c.problems...)
	}
	return out
}

type checker struct {
	sc       Scope
	cteRefs  map[*pg.RangeVar]bool // unqualified names that refer to a CTE in scope
	writes   map[*pg.RangeVar]bool
	aliases  map[*pg.RangeVar]bool
	scoped   map[*pg.VariableSetStmt]bool // SET attributes of a function
	text     string                       // the statement's text
	problems []Problem
	base     int
}

func (c *checker) add(loc int32, format string, args ...any) {
	off := c.base
	if loc >= 0 {
		off = int(loc)
	}
	c.problems = append(c.problems, Problem{Offset: off, Msg: fmt.Sprintf(format, args...)})
}

// prepare records the references to CTEs (an unqualified name that refers
// to one is fine) and the relations the statement writes.
func (c *checker) prepare(n *pg.Node) {
	c.cteScopes(n.ProtoReflect(), nil)
	visit(n.ProtoReflect(), func(m protoreflect.Message) {
		switch v := m.Interface().(type) {
		case *pg.InsertStmt:
			c.target(v.GetRelation())
		case *pg.UpdateStmt:
			c.target(v.GetRelation())
		case *pg.DeleteStmt:
			c.target(v.GetRelation())
		case *pg.MergeStmt:
			c.target(v.GetRelation())
		case *pg.IntoClause:
			c.target(v.GetRel()) // SELECT … INTO t creates t
		case *pg.TruncateStmt:
			for _, r := range v.GetRelations() {
				c.writes[r.GetRangeVar()] = true
			}
		case *pg.CopyStmt:
			c.writes[v.GetRelation()] = v.GetIsFrom() // COPY … TO reads
		case *pg.CreateFunctionStmt:
			c.scopeSettings(v.GetOptions())
		case *pg.AlterFunctionStmt:
			c.scopeSettings(v.GetActions())
		case *pg.LockingClause:
			// FOR UPDATE OF p names aliases of the FROM clause, not tables.
			for _, r := range v.GetLockedRels() {
				c.aliases[r.GetRangeVar()] = true
			}
		}
	})
}

// target records a relation the statement writes or creates. Postgres looks
// such a name up among tables only, never among the CTEs in scope, so an
// unqualified one named like a CTE is still an unqualified table.
func (c *checker) target(r *pg.RangeVar) {
	c.writes[r] = true
	delete(c.cteRefs, r)
}

// cteScopes marks the unqualified relations of m that name a CTE visible
// where they stand: a WITH clause's names hold inside its own statement
// only (not in an enclosing query), and a CTE sees only the CTEs before it
// unless the clause is RECURSIVE. Any other unqualified name resolves
// through the search_path.
func (c *checker) cteScopes(m protoreflect.Message, scope map[string]bool) {
	switch v := m.Interface().(type) {
	case *pg.RangeVar:
		if v.GetSchemaname() == "" && scope[v.GetRelname()] {
			c.cteRefs[v] = true
		}
		return
	case *pg.WithClause:
		inner := maps.Clone(scope)
		if inner == nil {
			inner = map[string]bool{}
		}
		if v.GetRecursive() {
			for _, n := range v.GetCtes() {
				inner[n.GetCommonTableExpr().GetCtename()] = true
			}
		}
		for _, n := range v.GetCtes() {
			c.cteScopes(n.ProtoReflect(), inner)
			inner[n.GetCommonTableExpr().GetCtename()] = true
		}
		return
	}
	var with *pg.WithClause
	switch v := m.Interface().(type) {
	case *pg.SelectStmt:
		with = v.GetWithClause()
	case *pg.InsertStmt:
		with = v.GetWithClause()
	case *pg.UpdateStmt:
		with = v.GetWithClause()
	case *pg.DeleteStmt:
		with = v.GetWithClause()
	case *pg.MergeStmt:
		with = v.GetWithClause()
	}
	body := scope
	if with != nil {
		body = maps.Clone(scope)
		if body == nil {
			body = map[string]bool{}
		}
		for _, n := range with.GetCtes() {
			body[n.GetCommonTableExpr().GetCtename()] = true
		}
	}
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		if fd.Kind() != protoreflect.MessageKind || fd.IsMap() {
			return true
		}
		children := []protoreflect.Message{}
		if fd.IsList() {
			for i := 0; i < v.List().Len(); i++ {
				children = append(children, v.List().Get(i).Message())
			}
		} else {
			children = append(children, v.Message())
		}
		for _, child := range children {
			if with != nil && child.Interface() == with {
				c.cteScopes(child, scope)
			} else {
				c.cteScopes(child, body)
			}
		}
		return true
	})
}

// scopeSettings marks the SET clauses of a function definition: they apply
// only while the function runs (SET search_path = pg_catalog is how a
// SECURITY DEFINER function protects itself) and are not session changes.
func (c *checker) scopeSettings(opts []*pg.Node) {
	for _, o := range opts {
		if de := o.GetDefElem(); de != nil && de.GetDefname() == "set" {
			if vs := de.GetArg().GetVariableSetStmt(); vs != nil {
				c.scoped[vs] = true
			}
		}
	}
}

// visit calls fn on m and every message below it.
func visit(m protoreflect.Message, fn func(protoreflect.Message)) {
	fn(m)
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		if fd.Kind() != protoreflect.MessageKind {
			return true
		}
		if fd.IsList() {
			l := v.List()
			for i := 0; i < l.Len(); i++ {
				visit(l.Get(i).Message(), fn)
			}
		} else if !fd.IsMap() {
			visit(v.Message(), fn)
		}
		return true
	})
}

func (c *checker) walk(root protoreflect.Message) {
	visit(root, func(m protoreflect.Message) {
		c.otherRoutes(m.Interface())
		switch v := m.Interface().(type) {
		case *pg.RangeVar:
			c.relation(v)
		case *pg.FuncCall:
			c.function(names(v.GetFuncname()), v.GetLocation(), "call")
			c.setConfig(v)
			c.notifyCall(v)
			c.relationCall(v)
			c.stringCall(v)
		case *pg.NotifyStmt:
			c.channel(v.GetConditionname(), "notify on", -1)
		case *pg.ListenStmt:
			c.channel(v.GetConditionname(), "listen on", -1)
		case *pg.TypeCast:
			c.regclassCast(v)
		case *pg.CollateClause:
			c.qualified(names(v.GetCollname()), "use", "collation")
		case *pg.CreateEnumStmt:
			c.qualified(names(v.GetTypeName()), "define", "type")
		case *pg.CreateRangeStmt:
			c.qualified(names(v.GetTypeName()), "define", "type")
		case *pg.CreateDomainStmt:
			c.qualified(names(v.GetDomainname()), "define", "type")
		case *pg.AlterEnumStmt:
			c.qualified(names(v.GetTypeName()), "alter", "type")
		case *pg.AlterDomainStmt:
			c.qualified(names(v.GetTypeName()), "alter", "type")
		case *pg.DefineStmt:
			c.qualified(names(v.GetDefnames()), "define", "object")
		case *pg.CommentStmt:
			c.objectNode(v.GetObjtype(), v.GetObject())
		case *pg.RenameStmt:
			if v.GetRenameType() == pg.ObjectType_OBJECT_SCHEMA {
				c.schemaRef(v.GetSubname(), "alter")
			}
			c.objectNode(v.GetRenameType(), v.GetObject())
		case *pg.AlterObjectSchemaStmt:
			c.objectNode(v.GetObjectType(), v.GetObject())
			c.schemaRef(v.GetNewschema(), "move objects into")
		case *pg.AlterOwnerStmt:
			c.objectNode(v.GetObjectType(), v.GetObject())
			c.ownerChange()
		case *pg.AlterTableCmd:
			if v.GetSubtype() == pg.AlterTableType_AT_ChangeOwner {
				c.ownerChange()
			}
		case *pg.CreateExtensionStmt:
			c.extensionSchema(v)
		case *pg.TypeName:
			c.typeName(v)
		case *pg.ObjectWithArgs:
			c.function(names(v.GetObjname()), -1, "use")
		case *pg.CreateFunctionStmt:
			c.function(names(v.GetFuncname()), -1, "define")
			c.functionBody(v)
		case *pg.DoStmt:
			c.doBlock(v)
		case *pg.CreateTrigStmt:
			c.function(names(v.GetFuncname()), -1, "call")
		case *pg.VariableSetStmt:
			if c.scoped[v] && (c.pinned(v) || v.GetKind() == pg.VariableSetKind_VAR_RESET || v.GetKind() == pg.VariableSetKind_VAR_RESET_ALL) {
				return // removing a function's setting leaves it the caller's
			}
			if c.scoped[v] && strings.ToLower(v.GetName()) == "search_path" {
				c.add(-1, "a function's SET search_path may list only %s's schema %s, pg_catalog and pg_temp: unqualified names in its body would resolve into the schemas listed", c.sc.Domain, c.sc.Schema)
				return
			}
			if what, bad := forbiddenSettings[strings.ToLower(v.GetName())]; bad {
				if v.GetKind() == pg.VariableSetKind_VAR_RESET && v.GetName() == "role" {
					what = "RESET ROLE"
				}
				c.add(-1, "%s is forbidden: each domain's pool already acts as its own role with its own schema; write schema-qualified SQL instead of switching role or search_path", what)
			}
		case *pg.CreateSchemaStmt:
			if s := v.GetSchemaname(); s != "" && s != c.sc.Schema {
				c.add(-1, "%s may not create schema %s: a domain owns exactly its schema %s", c.sc.Domain, s, c.sc.Schema)
			}
			if v.GetAuthrole() != nil {
				c.ownerChange() // AUTHORIZATION names the owner
			}
		case *pg.ReassignOwnedStmt:
			c.ownerChange()
		case *pg.CreateRoleStmt:
			c.roleMembers(v.GetOptions())
		case *pg.AlterRoleStmt:
			c.roleMembers(v.GetOptions())
		case *pg.A_Expr:
			c.operator(names(v.GetName()), v.GetLocation())
		case *pg.SortBy:
			c.operator(names(v.GetUseOp()), v.GetLocation())
		case *pg.DropStmt:
			c.drop(v)
		case *pg.GrantStmt:
			c.grant(v)
		case *pg.GrantRoleStmt:
			c.membership()
		case *pg.AlterDefaultPrivilegesStmt:
			for _, o := range v.GetOptions() {
				if de := o.GetDefElem(); de != nil && de.GetDefname() == "schemas" {
					for _, s := range names(de.GetArg().GetList().GetItems()) {
						c.schemaRef(s, "alter default privileges in")
					}
				}
			}
		}
	})
}

func names(nodes []*pg.Node) []string {
	out := make([]string, 0, len(nodes))
	for _, n := range nodes {
		if s := n.GetString_(); s != nil {
			out = append(out, s.GetSval())
		}
	}
	return out
}

func (c *checker) relation(r *pg.RangeVar) {
	if r == nil || r.GetRelname() == "" || c.aliases[r] {
		return
	}
	schema, name := r.GetSchemaname(), r.GetRelname()
	verb := "read"
	if c.writes[r] {
		verb = "write"
	}
	if name == "pg_settings" && c.writes[r] && (schema == "" || schema == "pg_catalog") {
		c.add(r.GetLocation(), "writing pg_settings is SET in disguise, which is forbidden: write schema-qualified SQL on the domain's own pool")
		return
	}
	if schema == "" {
		if c.cteRefs[r] || strings.HasPrefix(name, "pg_") || r.GetRelpersistence() == "t" {
			return // a CTE, a catalog relation, or a new temporary table
		}
		c.add(r.GetLocation(), "unqualified table %s: write %s.%s, or pg_temp.%s for a temporary table (domain roles have no search_path; every table is schema-qualified)", name, c.sc.Schema, name, name)
		return
	}
	c.objectRef(schema, name, verb, "table", r.GetLocation())
}

// objectRef checks a schema-qualified reference to another schema's object.
func (c *checker) objectRef(schema, name, verb, kind string, loc int32) {
	if schema == c.sc.Schema || systemSchemas[schema] {
		return
	}
	if owner, ok := c.sc.Owners[schema]; ok {
		switch verb {
		case "write":
			c.add(loc, "%s may not write %s.%s: only %s writes its tables; call %s's API or publish an event %s consumes", c.sc.Domain, schema, name, owner, owner, owner)
		case "read":
			c.add(loc, "%s may not read %s.%s: ask %s through its API or keep a projection fed by events", c.sc.Domain, schema, name, owner)
		default:
			c.add(loc, "%s may not %s %s %s.%s: it belongs to %s; ask %s through its API or keep a projection fed by events", c.sc.Domain, verb, kind, schema, name, owner, owner)
		}
		return
	}
	c.add(loc, "%s may not %s %s %s.%s: schema %s belongs to no domain; %s's SQL names only its own schema %s", c.sc.Domain, verb, kind, schema, name, schema, c.sc.Domain, c.sc.Schema)
}

func (c *checker) schemaRef(schema, verb string) {
	if schema != c.sc.Schema {
		c.add(-1, "%s may not %s schema %s: a domain touches only its own schema %s", c.sc.Domain, verb, schema, c.sc.Schema)
	}
}

// function checks a function name: unqualified calls are built-ins
// (pg_catalog is always searched first); qualified ones must be the
// domain's own schema or pg_catalog. Functions the domain defines or
// refers to by signature must be qualified.
func (c *checker) function(parts []string, loc int32, verb string) {
	switch len(parts) {
	case 0:
		return
	case 1:
		if verb != "call" {
			c.add(loc, "unqualified function %s: write %s.%s so it lands in (and resolves from) %s's schema", parts[0], c.sc.Schema, parts[0], c.sc.Domain)
		}
		return
	}
	schema, name := parts[len(parts)-2], parts[len(parts)-1]
	c.objectRef(schema, name+"()", verb, "function", loc)
}

// setConfig catches set_config('search_path' | 'role', …), the function
// form of SET.
func (c *checker) setConfig(f *pg.FuncCall) {
	parts := names(f.GetFuncname())
	arg := funcArg(f, 0, "setting_name")
	if len(parts) == 0 || parts[len(parts)-1] != "set_config" || arg == nil {
		return
	}
	name, ok := constString(arg)
	if !ok {
		c.add(f.GetLocation(), "set_config's setting must be a string constant: named at run time, it could be role or search_path")
		return
	}
	name = strings.ToLower(name)
	if what, bad := forbiddenSettings[name]; bad {
		c.add(f.GetLocation(), "set_config('%s') is %s in disguise, which is forbidden: write schema-qualified SQL on the domain's own pool", name, what)
	}
}

// notifyCall checks pg_notify's channel, which must be a constant for the
// check to see it.
func (c *checker) notifyCall(f *pg.FuncCall) {
	parts := names(f.GetFuncname())
	if len(parts) == 0 || parts[len(parts)-1] != "pg_notify" || len(f.GetArgs()) == 0 {
		return
	}
	name, ok := constString(f.GetArgs()[0])
	if !ok {
		c.add(f.GetLocation(), "pg_notify's channel must be a string constant naming one of %s's channels (%s or %s.…)", c.sc.Domain, c.sc.Schema, c.sc.Schema)
		return
	}
	c.channel(name, "notify on", f.GetLocation())
}

// channel checks a notification channel: like a table, it belongs to the
// domain whose schema names it (the schema itself, or "schema.name"), and a
// domain neither announces on nor listens to another's. A name no schema
// starts is nobody's (River's first versions notified on river_insert).
func (c *checker) channel(name, verb string, loc int32) {
	schema, _, _ := strings.Cut(name, ".")
	if owner, ok := c.sc.Owners[schema]; ok && schema != c.sc.Schema {
		c.add(loc, "%s may not %s channel %s: it belongs to %s; ask %s through its API or consume its events", c.sc.Domain, verb, name, owner, owner)
	}
}

// pinned reports whether a function's SET clause is a search_path that
// names only the domain's schema and the system schemas: how a SECURITY
// DEFINER function protects itself.
func (c *checker) pinned(v *pg.VariableSetStmt) bool {
	if strings.ToLower(v.GetName()) != "search_path" || v.GetKind() != pg.VariableSetKind_VAR_SET_VALUE {
		return forbiddenSettings[strings.ToLower(v.GetName())] == ""
	}
	for _, a := range v.GetArgs() {
		s := a.GetAConst().GetSval()
		if s == nil || (s.GetSval() != c.sc.Schema && !systemSchemas[s.GetSval()]) {
			return false
		}
	}
	return true
}

// operator checks a schema-qualified operator (OPERATOR(x.+)): like a
// function, it runs code of the schema that holds it.
func (c *checker) operator(parts []string, loc int32) {
	if len(parts) >= 2 {
		c.objectRef(parts[len(parts)-2], parts[len(parts)-1], "use", "operator", loc)
	}
}

// roleMembers reports the options of CREATE ROLE and ALTER ROLE/GROUP that
// grant role membership (IN ROLE, ROLE, ADMIN, ADD USER).
func (c *checker) roleMembers(opts []*pg.Node) {
	for _, o := range opts {
		switch o.GetDefElem().GetDefname() {
		case "addroleto", "rolemembers", "adminmembers":
			c.membership()
			return
		}
	}
}

func (c *checker) membership() {
	c.add(-1, "granting role membership is forbidden: it would let one domain act as another; grant privileges on %s's own objects instead", c.sc.Domain)
}

func (c *checker) typeName(t *pg.TypeName) {
	parts := names(t.GetNames())
	if t.GetPctType() && len(parts) > 0 {
		parts = parts[:len(parts)-1] // content.posts.id%TYPE: the column's table
	}
	if len(parts) < 2 {
		return
	}
	c.objectRef(parts[len(parts)-2], parts[len(parts)-1], "use", "type", t.GetLocation())
}

func (c *checker) drop(d *pg.DropStmt) {
	for _, o := range d.GetObjects() {
		switch {
		case o.GetString_() != nil: // DROP SCHEMA x
			if d.GetRemoveType() == pg.ObjectType_OBJECT_SCHEMA {
				c.schemaRef(o.GetString_().GetSval(), "drop")
			}
		case o.GetList() != nil:
			parts := names(o.GetList().GetItems())
			switch d.GetRemoveType() {
			case pg.ObjectType_OBJECT_TRIGGER, pg.ObjectType_OBJECT_POLICY, pg.ObjectType_OBJECT_RULE:
				if len(parts) > 0 {
					parts = parts[:len(parts)-1] // the rest names the table
				}
			case pg.ObjectType_OBJECT_EXTENSION, pg.ObjectType_OBJECT_SCHEMA:
				continue
			}
			switch len(parts) {
			case 0:
			case 1:
				c.add(-1, "unqualified name %s in DROP: write %s.%s", parts[0], c.sc.Schema, parts[0])
			default:
				c.objectRef(parts[len(parts)-2], parts[len(parts)-1], "drop", "object", -1)
			}
		}
	}
}

func (c *checker) grant(g *pg.GrantStmt) {
	if g.GetTargtype() == pg.GrantTargetType_ACL_TARGET_ALL_IN_SCHEMA || g.GetObjtype() == pg.ObjectType_OBJECT_SCHEMA {
		for _, o := range g.GetObjects() {
			if s := o.GetString_(); s != nil {
				c.schemaRef(s.GetSval(), "grant on")
			}
		}
	}
	for _, o := range g.GetObjects() { // types and domains, by their qualified names
		c.qualified(names(o.GetList().GetItems()), "grant on", "object")
	}
	if !c.sc.Migration {
		c.add(-1, "GRANT/REVOKE belongs in %s's migrations, not in its Go code", c.sc.Domain)
		return
	}
	c.tableGrant(g)
	c.schemaGrant(g)
}
