package sqlcheck

import (
	pg "github.com/pganalyze/pg_query_go/v6"
)

// qualified checks an object name given as a list of identifiers (types,
// collations, the objects of COMMENT and ALTER … RENAME): only a qualified
// one can name another schema.
func (c *checker) qualified(parts []string, verb, kind string) {
	if len(parts) >= 2 {
		c.objectRef(parts[len(parts)-2], parts[len(parts)-1], verb, kind, -1)
	}
}

// objectNode checks the object of a statement that names any kind of
// object (COMMENT, ALTER … RENAME, OWNER TO, SET SCHEMA): a schema by its
// name or another object by its qualified name. Functions and types are
// nodes of their own, checked wherever they appear.
func (c *checker) objectNode(kind pg.ObjectType, n *pg.Node) {
	switch {
	case n.GetString_() != nil && kind == pg.ObjectType_OBJECT_SCHEMA:
		c.schemaRef(n.GetString_().GetSval(), "alter")
	case n.GetList() != nil:
		parts := names(n.GetList().GetItems())
		if tableParts[kind] && len(parts) > 0 {
			parts = parts[:len(parts)-1] // column, trigger, …: the rest names the table
		}
		c.qualified(parts, "alter", "object")
	}
}

// tableParts are the kinds of object named by their table's name followed
// by their own (COMMENT ON COLUMN content.posts.body).
var tableParts = map[pg.ObjectType]bool{
	pg.ObjectType_OBJECT_COLUMN: true, pg.ObjectType_OBJECT_TRIGGER: true, pg.ObjectType_OBJECT_POLICY: true,
	pg.ObjectType_OBJECT_RULE: true, pg.ObjectType_OBJECT_TABCONSTRAINT: true,
}

// ownerChange reports OWNER TO: the owner has every privilege, so handing
// an object to another role gives a second domain its data.
func (c *checker) ownerChange() {
	c.add(-1, "changing ownership is forbidden: %s's objects stay owned by the role that created them, its own; grant EXECUTE or USAGE if another domain must call something", c.sc.Domain)
}

// extensionSchema checks where CREATE EXTENSION puts the extension's
// objects.
func (c *checker) extensionSchema(e *pg.CreateExtensionStmt) {
	for _, o := range e.GetOptions() {
		if de := o.GetDefElem(); de.GetDefname() == "schema" {
			c.schemaRef(de.GetArg().GetString_().GetSval(), "create extensions in")
		}
	}
}

// tableGrant reports, in a migration, a GRANT of privileges on the
// domain's tables or sequences: they would give another role the domain's
// rows, which only the domain reads and writes (the bus grants EXECUTE on a
// function instead). A grant on another schema's tables is reported as such.
func (c *checker) tableGrant(g *pg.GrantStmt) {
	switch g.GetObjtype() {
	case pg.ObjectType_OBJECT_TABLE, pg.ObjectType_OBJECT_SEQUENCE:
	default:
		return
	}
	if !g.GetIsGrant() {
		return
	}
	for _, o := range g.GetObjects() {
		if s := o.GetString_(); s != nil && s.GetSval() != c.sc.Schema {
			return
		}
		if r := o.GetRangeVar(); r != nil && r.GetSchemaname() != c.sc.Schema {
			return
		}
	}
	c.add(-1, "%s may not grant privileges on its tables or sequences: each table has one writer, and other domains read through %s's API or a projection fed by its events", c.sc.Domain, c.sc.Domain)
}

// relationFuncs are the functions that take a table or sequence by name
// in a string, and what they do with it. Except for the look-ups
// (lookupFuncs), the name must be a constant.
var relationFuncs = map[string]string{"nextval": "write", "setval": "write", "currval": "read", "pg_sequence_last_value": "read",
	"to_regclass": "read", "regclass": "read",
	"table_to_xml": "read", "table_to_xmlschema": "read", "table_to_xml_and_xmlschema": "read"}

// lookupFuncs only turn a relation's name into its oid: to_regclass, and
// regclass('x.t'), the function form of the cast 'x.t'::regclass, which
// leaves a name given as a parameter alone as the cast does.
var lookupFuncs = map[string]bool{"to_regclass": true, "regclass": true}

// relationCall checks nextval('schema.seq') and its kin.
func (c *checker) relationCall(f *pg.FuncCall) {
	parts := names(f.GetFuncname())
	if len(parts) == 0 || len(f.GetArgs()) == 0 {
		return
	}
	name := parts[len(parts)-1]
	verb, ok := relationFuncs[name]
	if !ok || isRegclass(f.GetArgs()[0]) { // 'x.t'::regclass is checked as a cast
		return
	}
	if _, constant := constString(f.GetArgs()[0]); !constant && !lookupFuncs[name] {
		c.add(f.GetLocation(), "%s's relation must be a string constant naming one of %s's own: named at run time, it could be another domain's", name, c.sc.Domain)
		return
	}
	c.namedRelation(f.GetArgs()[0], verb, f.GetLocation())
}

// regclassCast checks 'schema.table'::regclass.
func (c *checker) regclassCast(t *pg.TypeCast) {
	parts := names(t.GetTypeName().GetNames())
	if len(parts) > 0 && parts[len(parts)-1] == "regclass" {
		c.namedRelation(t.GetArg(), "read", t.GetLocation())
	}
}

func isRegclass(n *pg.Node) bool {
	parts := names(n.GetTypeCast().GetTypeName().GetNames())
	return len(parts) > 0 && parts[len(parts)-1] == "regclass"
}

// namedRelation checks a relation named by a string constant, parsed the
// way Postgres reads such a name; anything else (a parameter) is left
// alone.
func (c *checker) namedRelation(arg *pg.Node, verb string, loc int32) {
	s, ok := constString(arg)
	if !ok {
		return
	}
	tree, err := pg.Parse("SELECT FROM " + s)
	if err != nil || len(tree.GetStmts()) != 1 {
		return
	}
	from := tree.GetStmts()[0].GetStmt().GetSelectStmt().GetFromClause()
	if len(from) != 1 || from[0].GetRangeVar() == nil {
		return
	}
	r := from[0].GetRangeVar()
	if r.GetSchemaname() != "" {
		c.objectRef(r.GetSchemaname(), r.GetRelname(), verb, "relation", loc)
	}
}

// constString is the value of a string constant, seen through casts
// ('x'::text).
func constString(n *pg.Node) (string, bool) {
	for n.GetTypeCast() != nil {
		n = n.GetTypeCast().GetArg()
	}
	s := n.GetAConst().GetSval()
	if s == nil {
		return "", false
	}
	return s.GetSval(), true
}

// funcArg is the argument of f at position pos or, given by name, named
// name; nil when there is none.
func funcArg(f *pg.FuncCall, pos int, name string) *pg.Node {
	for _, a := range f.GetArgs() {
		if na := a.GetNamedArgExpr(); na != nil && na.GetName() == name {
			return na.GetArg()
		}
	}
	if args := f.GetArgs(); pos < len(args) && args[pos].GetNamedArgExpr() == nil {
		return args[pos]
	}
	return nil
}

// sqlFuncs are the built-in functions that run SQL given as a string: the
// argument holding it (by position and name), and, for ts_rewrite, the
// number of arguments of the form that does.
var sqlFuncs = map[string]struct {
	pos   int
	name  string
	nargs int
}{
	"query_to_xml": {0, "query", 0}, "query_to_xmlschema": {0, "query", 0}, "query_to_xml_and_xmlschema": {0, "query", 0},
	"ts_stat": {0, "sqlquery", 0}, "ts_rewrite": {1, "select", 2},
}

// schemaFuncs are the built-in functions that read a whole schema named
// by a string.
var schemaFuncs = map[string]bool{"schema_to_xml": true, "schema_to_xmlschema": true, "schema_to_xml_and_xmlschema": true}

// fileFuncs are the built-in functions that read or write the database
// server's files.
var fileFuncs = map[string]bool{"pg_read_file": true, "pg_read_binary_file": true, "pg_stat_file": true, "pg_ls_dir": true,
	"lo_import": true, "lo_export": true}

// stringCall checks the functions that take SQL or a schema in a string,
// and those that reach the server's files.
func (c *checker) stringCall(f *pg.FuncCall) {
	parts := names(f.GetFuncname())
	if len(parts) == 0 {
		return
	}
	name := parts[len(parts)-1]
	if fileFuncs[name] {
		c.add(f.GetLocation(), "%s() is forbidden: the database server's files lie outside every schema (another domain's data files among them); keep %s's data in its schema", name, c.sc.Domain)
		return
	}
	if schemaFuncs[name] {
		if s, ok := constString(funcArg(f, 0, "schema")); ok {
			c.schemaRef(s, "read")
		} else if len(f.GetArgs()) > 0 {
			c.add(f.GetLocation(), "%s's schema must be a string constant: named at run time, it could be another domain's", name)
		}
		return
	}
	fn, ok := sqlFuncs[name]
	if !ok || (fn.nargs > 0 && len(f.GetArgs()) != fn.nargs) {
		return
	}
	arg := funcArg(f, fn.pos, fn.name)
	if arg == nil {
		return
	}
	sql, ok := constString(arg)
	if !ok {
		c.add(f.GetLocation(), "%s() runs SQL built at run time, which cannot be checked: pass it a constant statement", name)
		return
	}
	for _, p := range Check(sql, c.sc) {
		c.add(f.GetLocation(), "in the SQL %s() runs: %s", name, p.Msg)
	}
}

// defElem checks the options that name another object: a function's
// SUPPORT function, the column a sequence is OWNED BY, an identity
// column's SEQUENCE NAME and an operator's COMMUTATOR and NEGATOR.
func (c *checker) defElem(d *pg.DefElem) {
	parts := names(d.GetArg().GetList().GetItems())
	switch d.GetDefname() {
	case "support":
		c.qualified(parts, "use", "function")
	case "owned_by":
		if len(parts) > 1 {
			c.qualified(parts[:len(parts)-1], "tie a sequence to", "table")
		}
	case "sequence_name":
		c.qualified(parts, "define", "sequence")
	case "commutator", "negator":
		c.operator(parts, d.GetLocation())
	}
}

// foreignSchema checks the remote schema of a foreign table or of IMPORT
// FOREIGN SCHEMA: a domain's schema keeps its name wherever it lives, so
// reaching it through a foreign server is reaching into that domain.
func (c *checker) foreignSchema(schema string) {
	if owner, ok := c.sc.Owners[schema]; ok && schema != c.sc.Schema {
		c.add(-1, "%s may not reach schema %s through a foreign server: it belongs to %s; ask %s through its API or keep a projection fed by events", c.sc.Domain, schema, owner, owner)
	}
}

// schemaGrant reports, in a migration, a GRANT on the domain's schema of
// anything beyond USAGE: CREATE would let another domain's role put objects
// into it.
func (c *checker) schemaGrant(g *pg.GrantStmt) {
	if g.GetObjtype() != pg.ObjectType_OBJECT_SCHEMA || g.GetTargtype() != pg.GrantTargetType_ACL_TARGET_OBJECT || !g.GetIsGrant() {
		return
	}
	privs := g.GetPrivileges()
	other := len(privs) == 0 // ALL
	for _, p := range privs {
		if p.GetAccessPriv().GetPrivName() != "usage" {
			other = true
		}
	}
	if other {
		c.add(-1, "%s may grant only USAGE on its schema: CREATE would let another domain's role put objects into it", c.sc.Domain)
	}
}

// otherRoutes checks the statements and clauses, outside the table,
// function and type references every statement has, that name another
// schema's objects (an index's operator class, a sequence's OWNED BY, a
// foreign table's remote schema, …) or leave the database (COPY … PROGRAM).
func (c *checker) otherRoutes(n any) {
	switch v := n.(type) {
	case *pg.SecLabelStmt:
		c.objectNode(v.GetObjtype(), v.GetObject())
	case *pg.AlterExtensionContentsStmt:
		c.objectNode(v.GetObjtype(), v.GetObject())
	case *pg.IndexElem:
		c.qualified(names(v.GetCollation()), "use", "collation")
		c.qualified(names(v.GetOpclass()), "use", "operator class")
	case *pg.PartitionElem:
		c.qualified(names(v.GetCollation()), "use", "collation")
		c.qualified(names(v.GetOpclass()), "use", "operator class")
	case *pg.Constraint:
		for _, e := range v.GetExclusions() { // EXCLUDE (col WITH operator)
			if items := e.GetList().GetItems(); len(items) == 2 {
				c.operator(names(items[1].GetList().GetItems()), v.GetLocation())
			}
		}
	case *pg.CreateStatsStmt:
		c.qualified(names(v.GetDefnames()), "define", "object")
	case *pg.CreateConversionStmt:
		c.qualified(names(v.GetConversionName()), "define", "object")
		c.qualified(names(v.GetFuncName()), "use", "function")
	case *pg.CreateOpClassStmt:
		c.qualified(names(v.GetOpclassname()), "define", "operator class")
		c.qualified(names(v.GetOpfamilyname()), "use", "operator family")
	case *pg.CreateOpFamilyStmt:
		c.qualified(names(v.GetOpfamilyname()), "define", "operator family")
	case *pg.AlterOpFamilyStmt:
		c.qualified(names(v.GetOpfamilyname()), "alter", "operator family")
	case *pg.AlterTSDictionaryStmt:
		c.qualified(names(v.GetDictname()), "alter", "object")
	case *pg.AlterTSConfigurationStmt:
		c.qualified(names(v.GetCfgname()), "alter", "object")
		for _, d := range v.GetDicts() {
			c.qualified(names(d.GetList().GetItems()), "use", "object")
		}
	case *pg.RangeTableSample:
		c.function(names(v.GetMethod()), v.GetLocation(), "call")
	case *pg.CreateAmStmt:
		c.qualified(names(v.GetHandlerName()), "use", "function")
	case *pg.CreatePLangStmt:
		for _, f := range [][]*pg.Node{v.GetPlhandler(), v.GetPlinline(), v.GetPlvalidator()} {
			c.qualified(names(f), "use", "function")
		}
	case *pg.PublicationObjSpec:
		if v.GetPubobjtype() == pg.PublicationObjSpecType_PUBLICATIONOBJ_TABLES_IN_SCHEMA {
			c.schemaRef(v.GetName(), "publish")
		}
	case *pg.DefElem:
		c.defElem(v)
	case *pg.CopyStmt:
		if v.GetFilename() != "" || v.GetIsProgram() {
			c.add(-1, "COPY to or from a server file or program is forbidden: it leaves the database and its roles behind; COPY FROM STDIN or TO STDOUT through the domain's pool")
		}
	case *pg.ImportForeignSchemaStmt:
		c.schemaRef(v.GetLocalSchema(), "import foreign tables into")
		c.foreignSchema(v.GetRemoteSchema())
	case *pg.CreateForeignTableStmt:
		for _, o := range v.GetOptions() {
			if de := o.GetDefElem(); de.GetDefname() == "schema_name" {
				c.foreignSchema(de.GetArg().GetString_().GetSval())
			}
		}
	case *pg.ReindexStmt:
		if v.GetKind() == pg.ReindexObjectType_REINDEX_OBJECT_SCHEMA {
			c.schemaRef(v.GetName(), "reindex")
		}
	case *pg.DropOwnedStmt:
		c.add(-1, "DROP OWNED is forbidden: it drops and revokes by role, in every schema, another domain's objects and grants included; drop %s's objects by name", c.sc.Domain)
	case *pg.CreateEventTrigStmt:
		c.function(names(v.GetFuncname()), -1, "call")
	}
}
