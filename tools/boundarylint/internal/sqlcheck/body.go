package sqlcheck

import (
	"encoding/json"
	"fmt"
	"strings"

	pg "github.com/pganalyze/pg_query_go/v6"
)

// functionBody checks the statements inside a SQL or PL/pgSQL function:
// a function is as much the domain's SQL as a query in Go.
func (c *checker) functionBody(f *pg.CreateFunctionStmt) {
	lang, body := "sql", ""
	for _, o := range f.GetOptions() {
		de := o.GetDefElem()
		switch de.GetDefname() {
		case "language":
			lang = strings.ToLower(de.GetArg().GetString_().GetSval())
		case "as":
			if items := de.GetArg().GetList().GetItems(); len(items) > 0 {
				body = items[0].GetString_().GetSval()
			}
		}
	}
	switch {
	case f.GetSqlBody() != nil:
		// BEGIN ATOMIC … END: already part of the tree walked by the caller.
	case lang == "sql" && body != "":
		c.nested(body, "")
	case lang == "plpgsql":
		c.plpgsql(c.text)
	}
}

// doBlock checks the PL/pgSQL of a DO statement.
func (c *checker) doBlock(d *pg.DoStmt) {
	lang, body := "plpgsql", ""
	for _, a := range d.GetArgs() {
		de := a.GetDefElem()
		switch de.GetDefname() {
		case "language":
			lang = strings.ToLower(de.GetArg().GetString_().GetSval())
		case "as":
			body = de.GetArg().GetString_().GetSval()
		}
	}
	if lang != "plpgsql" || body == "" {
		return
	}
	tag := "$boundarylint_do$"
	for i := 0; strings.Contains(body, tag); i++ { // a tag inside the body would end it early
		tag = fmt.Sprintf("$boundarylint_do%d$", i)
	}
	c.plpgsql("CREATE FUNCTION pg_temp.boundarylint_do() RETURNS void LANGUAGE plpgsql AS " + tag + body + tag)
}

// plpgsql checks every SQL statement and expression of a PL/pgSQL function.
func (c *checker) plpgsql(create string) {
	out, err := pg.ParsePlPgSqlToJSON(create)
	if err != nil {
		c.add(-1, "PL/pgSQL does not parse (%v): fix the function body", err)
		return
	}
	var tree any
	if err := json.Unmarshal([]byte(out), &tree); err != nil {
		return
	}
	var walk func(any)
	walk = func(n any) {
		switch v := n.(type) {
		case map[string]any:
			for stmt, field := range dynamicStmts {
				if st, ok := v[stmt].(map[string]any); ok {
					c.executed(st[field])
				}
			}
			if expr, ok := v["PLpgSQL_expr"].(map[string]any); ok {
				if q, ok := expr["query"].(string); ok {
					mode, _ := expr["parseMode"].(float64)
					prefix := ""
					if mode != 0 {
						prefix = "SELECT "
					}
					if mode >= assignMode {
						q = assigned(q)
					}
					c.nested(q, prefix)
				}
			}
			if t, ok := v["PLpgSQL_type"].(map[string]any); ok {
				if name, ok := t["typname"].(string); ok {
					c.declaredType(name)
				}
			}
			for _, child := range v {
				walk(child)
			}
		case []any:
			for _, child := range v {
				walk(child)
			}
		}
	}
	walk(tree)
}

// assignMode is the first of the parse modes (RAW_PARSE_PLPGSQL_ASSIGN1..3)
// of an assignment, whose text is `target := expression`.
const assignMode = 3

// assigned returns the expression of a PL/pgSQL assignment.
func assigned(q string) string {
	if _, expr, ok := strings.Cut(q, ":="); ok {
		return expr
	}
	_, expr, _ := strings.Cut(q, "=")
	return expr
}

// declaredType checks the type of a PL/pgSQL variable: a table's row type
// (identity.sessions, identity.sessions%ROWTYPE) or a column's type
// (identity.sessions.id%TYPE) names that table.
func (c *checker) declaredType(name string) {
	if base, attr, ok := strings.Cut(name, "%"); ok {
		name = base
		if strings.EqualFold(attr, "type") {
			i := strings.LastIndexByte(name, '.')
			if i < 0 {
				return // another variable's type
			}
			name = name[:i]
		}
	}
	c.nested("NULL::"+name, "SELECT ")
}

// dynamicStmts are the PL/pgSQL statements that run a string as SQL
// (EXECUTE, FOR … IN EXECUTE, RETURN QUERY EXECUTE, OPEN … FOR EXECUTE),
// with the field holding that string.
var dynamicStmts = map[string]string{
	"PLpgSQL_stmt_dynexecute":   "query",
	"PLpgSQL_stmt_dynfors":      "query",
	"PLpgSQL_stmt_return_query": "dynquery",
	"PLpgSQL_stmt_open":         "dynquery",
}

// executed checks the string a dynamic statement runs: a constant is SQL
// like any other; anything built at run time cannot be checked, as in Go.
func (c *checker) executed(expr any) {
	m, _ := expr.(map[string]any)
	e, _ := m["PLpgSQL_expr"].(map[string]any)
	q, ok := e["query"].(string)
	if !ok {
		return // RETURN QUERY without EXECUTE, OPEN of a bound cursor
	}
	tree, err := pg.Parse("SELECT " + q)
	if err == nil && len(tree.GetStmts()) == 1 {
		if t := tree.GetStmts()[0].GetStmt().GetSelectStmt().GetTargetList(); len(t) == 1 {
			if s, ok := constString(t[0].GetResTarget().GetVal()); ok {
				c.nested(s, "")
				return
			}
		}
	}
	c.add(-1, "in a function body: EXECUTE of SQL built at run time cannot be checked: execute a constant statement and pass values with USING")
}

// nested checks SQL found inside a function body; text that is not SQL on
// its own (a PL/pgSQL expression fragment) is left alone.
func (c *checker) nested(sql, prefix string) {
	tree, err := pg.Parse(prefix + sql)
	if err != nil || len(tree.GetStmts()) == 0 {
		return
	}
	for _, p := range Check(prefix+sql, c.sc) {
		c.add(-1, "in a function body: %s", p.Msg)
	}
}
