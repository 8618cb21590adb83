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
		c.qualified(names(n.GetList().GetItems()), "alter", "object")
	}
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
// in a string, and what they do with it.
var relationFuncs = map[string]string{"nextval": "write", "setval": "write", "currval": "read", "to_regclass": "read"}

// relationCall checks nextval('schema.seq') and its kin.
func (c *checker) relationCall(f *pg.FuncCall) {
	parts := names(f.GetFuncname())
	if len(parts) == 0 || len(f.GetArgs()) == 0 {
		return
	}
	if verb, ok := relationFuncs[parts[len(parts)-1]]; ok {
		c.namedRelation(f.GetArgs()[0], verb, f.GetLocation())
	}
}

// regclassCast checks 'schema.table'::regclass.
func (c *checker) regclassCast(t *pg.TypeCast) {
	parts := names(t.GetTypeName().GetNames())
	if len(parts) > 0 && parts[len(parts)-1] == "regclass" {
		c.namedRelation(t.GetArg(), "read", t.GetLocation())
	}
}

// namedRelation checks a relation named by a string constant, parsed the
// way Postgres reads such a name; anything else (a parameter) is left
// alone.
func (c *checker) namedRelation(arg *pg.Node, verb string, loc int32) {
	s := arg.GetAConst().GetSval()
	if s == nil {
		return
	}
	tree, err := pg.Parse("SELECT FROM " + s.GetSval())
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
