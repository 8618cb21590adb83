package gateway

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/parser"

	"github.com/nova-social/nova/internal/platform/apperr"
	"github.com/nova-social/nova/internal/platform/page"
)

// Limits of one operation; a document over any of them is refused before
// anything executes.
type Limits struct {
	// MaxDepth is the deepest nesting of fields.
	MaxDepth int
	// MaxAliases is the largest number of aliased fields.
	MaxAliases int
	// MaxComplexity bounds the cost: each field costs 1 plus its children's
	// cost, multiplied by `first` (or its default) on paginated fields.
	MaxComplexity int
	// Introspection allows __schema and __type.
	Introspection bool
}

// maxVisits bounds the work of measuring a document whose fragments fan
// out: past it the document is refused as too complex.
const maxVisits = 100_000

// maxSelections bounds a document's selections (fields and fragment
// spreads, each spread counted with its fragment's selections), checked
// before gqlgen validates it. Validation compares fields of one response
// name pairwise (OverlappingFieldsCanBeMerged): a document repeating a field
// a few thousand times costs seconds of CPU before the limits measured after
// validation could refuse it. 200 selections validate within about 10 ms in
// the worst shapes measured; the pages of the API select far fewer.
const maxSelections = 200

// maxSchemaSelections bounds, where introspection is allowed, the
// selections under __schema and __type, which maxSelections leaves out:
// GraphiQL's schema query has some 200 there, and a field repeated as often
// as this validates within about 100 ms.
const maxSchemaSelections = 500

// limitsExtension measures each operation against Limits. validated is
// gqlgen's cache of parsed and validated documents: a document found there
// passed the selection count before. schema types the variables.
type limitsExtension struct {
	l         Limits
	validated graphql.Cache[*ast.QueryDocument]
	schema    *ast.Schema
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationParameterMutator
	graphql.OperationContextMutator
} = limitsExtension{}

func (limitsExtension) ExtensionName() string                   { return "NovaLimits" }
func (limitsExtension) Validate(graphql.ExecutableSchema) error { return nil }

// MutateOperationParameters refuses a document over maxSelections before
// gqlgen validates it. It runs after the persisted-query extension has put
// the document in place.
func (e limitsExtension) MutateOperationParameters(ctx context.Context, p *graphql.RawParams) *gqlerror.Error {
	if _, ok := e.validated.Get(ctx, p.Query); ok {
		return nil
	}
	doc, err := parser.ParseQueryWithTokenLimit(&ast.Source{Input: p.Query}, parserTokenLimit)
	if err != nil {
		return nil // gqlgen parses it again and reports the error
	}
	switch n, schema := selectionCount(doc, e.l.Introspection); {
	case n > maxSelections:
		return tooComplex("query has more than %d selections", maxSelections)
	case schema > maxSchemaSelections:
		return tooComplex("query has more than %d selections under __schema and __type", maxSchemaSelections)
	}
	return nil
}

// selectionCount counts doc's selections, with fragment spreads expanded
// and each fragment counted once more on its own (validation checks it on
// its own too). Where introspection is allowed (dev), what lies under
// __schema and __type, and fragments on introspection types, are counted
// apart, in schema: GraphiQL's schema query alone has some 200 selections.
// Each count stops past its limit: fragments may spread each other in a
// cycle, which only validation rejects.
func selectionCount(doc *ast.QueryDocument, introspection bool) (n, schema int) {
	var walk func(set ast.SelectionSet, inSchema bool)
	walk = func(set ast.SelectionSet, inSchema bool) {
		count, limit := &n, maxSelections
		if inSchema {
			count, limit = &schema, maxSchemaSelections
		}
		for _, sel := range set {
			if *count++; *count > limit {
				return
			}
			switch s := sel.(type) {
			case *ast.Field:
				walk(s.SelectionSet, inSchema || introspection && (s.Name == "__schema" || s.Name == "__type"))
			case *ast.InlineFragment:
				walk(s.SelectionSet, inSchema)
			case *ast.FragmentSpread:
				if f := doc.Fragments.ForName(s.Name); f != nil {
					walk(f.SelectionSet, inSchema)
				}
			}
		}
	}
	for _, op := range doc.Operations {
		walk(op.SelectionSet, false)
	}
	for _, f := range doc.Fragments {
		// A fragment on an introspection type (GraphiQL's FullType,
		// InputValue, TypeRef) is checked on its own as part of the schema
		// query, not of the application's.
		walk(f.SelectionSet, introspection && strings.HasPrefix(f.TypeCondition, "__"))
	}
	return n, schema
}

func (e limitsExtension) MutateOperationContext(_ context.Context, opCtx *graphql.OperationContext) *gqlerror.Error {
	for name, v := range opCtx.Variables {
		if hasNUL(v) {
			return nulRefused(name)
		}
	}
	for _, d := range opCtx.Operation.VariableDefinitions {
		if field := enumMisspelt(e.schema, d.Type, opCtx.Variables[d.Variable], d.Variable); field != "" {
			return &gqlerror.Error{Message: field + " is not a value of its enum (enum values are case-sensitive)", Extensions: map[string]any{"code": string(apperr.BadInput), "field": field}}
		}
	}
	m := measurer{l: e.l, vars: opCtx.Variables}
	m.cost = m.selections(opCtx.Operation.SelectionSet, 0)
	switch {
	case m.nulArgument != "":
		return nulRefused(m.nulArgument)
	case m.introspection:
		return &gqlerror.Error{Message: "introspection is disabled", Extensions: map[string]any{"code": string(apperr.BadInput), "field": "query"}}
	case m.depthExceeded:
		return tooComplex("query is nested deeper than %d levels", e.l.MaxDepth)
	case m.aliases > e.l.MaxAliases:
		return tooComplex("query uses %d aliases, more than %d", m.aliases, e.l.MaxAliases)
	case m.visits > maxVisits || m.cost > e.l.MaxComplexity:
		return tooComplex("query complexity exceeds the limit of %d", e.l.MaxComplexity)
	}
	return nil
}

// nulRefused refuses text holding U+0000: Postgres cannot store it, so any
// argument carrying one would fail deep inside a domain as an internal error.
func nulRefused(field string) *gqlerror.Error {
	return &gqlerror.Error{Message: "text must not contain the NUL character", Extensions: map[string]any{"code": string(apperr.BadInput), "field": field}}
}

// hasNUL reports whether a variable's value (decoded JSON) holds U+0000 in
// any string.
func hasNUL(v any) bool {
	switch x := v.(type) {
	case string:
		return strings.IndexByte(x, 0) >= 0
	case []any:
		return slices.ContainsFunc(x, hasNUL)
	case map[string]any:
		for k, e := range x {
			if strings.IndexByte(k, 0) >= 0 || hasNUL(e) {
				return true
			}
		}
	}
	return false
}

// enumMisspelt returns the variable, or the input field within it, whose
// value names an enum value in another case ("admin" for ADMIN). The
// validator compares enum values regardless of case, the executor exactly:
// it would fail the field with an internal error.
func enumMisspelt(schema *ast.Schema, t *ast.Type, v any, name string) string {
	if v == nil {
		return ""
	}
	if t.Elem != nil {
		items, ok := v.([]any)
		if !ok {
			// A single value stands for a list of one.
			return enumMisspelt(schema, t.Elem, v, name)
		}
		for _, item := range items {
			if field := enumMisspelt(schema, t.Elem, item, name); field != "" {
				return field
			}
		}
		return ""
	}
	def := schema.Types[t.NamedType]
	if def == nil {
		return "" // an unknown type, which validation refused
	}
	switch def.Kind {
	case ast.Enum:
		if s, ok := v.(string); ok && def.EnumValues.ForName(s) == nil {
			return name
		}
	case ast.InputObject:
		fields, _ := v.(map[string]any)
		for _, f := range def.Fields {
			if field := enumMisspelt(schema, f.Type, fields[f.Name], f.Name); field != "" {
				return field
			}
		}
	}
	return ""
}

// literalHasNUL reports whether an argument's literal value holds U+0000
// (written \u0000 in the document).
func literalHasNUL(v *ast.Value) bool {
	if v == nil {
		return false
	}
	if (v.Kind == ast.StringValue || v.Kind == ast.BlockValue) && strings.IndexByte(v.Raw, 0) >= 0 {
		return true
	}
	for _, c := range v.Children {
		if literalHasNUL(c.Value) {
			return true
		}
	}
	return false
}

func tooComplex(format string, args ...any) *gqlerror.Error {
	return &gqlerror.Error{Message: fmt.Sprintf(format, args...), Extensions: map[string]any{"code": codeTooComplex}}
}

type measurer struct {
	l    Limits
	vars map[string]any

	cost, aliases, visits        int
	depthExceeded, introspection bool
	nulArgument                  string // an argument whose literal holds U+0000
}

// selections returns the cost of set at the given depth, recording the
// other limits as it goes. It stops descending once any limit is broken.
func (m *measurer) selections(set ast.SelectionSet, depth int) int {
	cost := 0
	for _, sel := range set {
		m.visits++
		if m.visits > maxVisits || m.depthExceeded || m.introspection {
			return cost
		}
		switch s := sel.(type) {
		case *ast.Field:
			if depth+1 > m.l.MaxDepth {
				m.depthExceeded = true
				return cost
			}
			if s.Alias != "" && s.Alias != s.Name {
				m.aliases++
			}
			if !m.l.Introspection && (s.Name == "__schema" || s.Name == "__type") {
				m.introspection = true
				return cost
			}
			for _, arg := range s.Arguments {
				if m.nulArgument == "" && literalHasNUL(arg.Value) {
					m.nulArgument = arg.Name
				}
			}
			cost = saturate(cost + 1 + saturate(m.multiplier(s)*m.selections(s.SelectionSet, depth+1)))
		case *ast.InlineFragment:
			cost = saturate(cost + m.selections(s.SelectionSet, depth))
		case *ast.FragmentSpread:
			if s.Definition != nil {
				cost = saturate(cost + m.selections(s.Definition.SelectionSet, depth))
			}
		}
	}
	return cost
}

// multiplier is how many items a paginated field may return: its `first`
// argument, or the default page size. A list without `first` (a post's
// versions, the viewer's sessions) is costed at the default page size too,
// since nothing bounds it per request; a connection's edges are bounded by
// the connection's `first`, already counted.
func (m *measurer) multiplier(f *ast.Field) int {
	// The schema's own description is small and fixed: its lists are not
	// pages of data.
	if f.Definition == nil || f.ObjectDefinition != nil && strings.HasPrefix(f.ObjectDefinition.Name, "__") {
		return 1
	}
	if f.Definition.Arguments.ForName("first") == nil {
		if f.Definition.Type.Elem != nil && f.Name != "edges" {
			return page.DefaultSize
		}
		return 1
	}
	arg := f.Arguments.ForName("first")
	if arg == nil {
		return page.DefaultSize
	}
	v, err := arg.Value.Value(m.vars)
	if err != nil || v == nil {
		return page.DefaultSize
	}
	// The executor's own conversion: a variable may hold the number as a
	// JSON string ("100"), which the resolver receives as 100.
	n, err := graphql.UnmarshalInt(v)
	if err != nil || n < 1 {
		return 1
	}
	// Larger pages are refused by the resolver; cost them at the maximum.
	return min(n, page.MaxSize)
}

// saturate keeps costs from overflowing on adversarial documents.
func saturate(n int) int {
	const ceiling = 1 << 40
	if n < 0 || n > ceiling {
		return ceiling
	}
	return n
}
