package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
)

// fieldKey names a field of an object type.
type fieldKey struct{ object, field string }

// marshalList marshals the n elements of a list of objects; the generated
// code calls it where gqlgen calls graphql.MarshalSliceConcurrently (see
// listgen). gqlgen gives every element a goroutine of its own, so that the
// resolvers of different elements batch their loads. When the selection has
// no resolver, each element's fields are values already loaded, and those
// goroutines and the growth of their stacks were a tenth of a feed page's
// CPU: the elements are then marshalled in turn.
func marshalList(ctx context.Context, sel ast.SelectionSet, n int, element func(context.Context, int) graphql.Marshaler) graphql.Array {
	if resolves(sel) {
		return graphql.MarshalSliceConcurrently(ctx, n, 0, false, element)
	}
	ret := make(graphql.Array, n)
	failed := false
	for i := range n {
		ctx := graphql.WithFieldContext(ctx, &graphql.FieldContext{Index: &i})
		func() {
			// As in gqlgen: a panic is the element's error, and nulls the list.
			defer func() {
				if r := recover(); r != nil {
					graphql.AddError(ctx, graphql.Recover(ctx, r))
					failed = true
				}
			}()
			ret[i] = element(ctx, i)
		}()
	}
	if failed {
		return nil
	}
	return ret
}

// resolves reports whether sel selects, at any depth, a field a resolver
// answers (resolverFields), or one whose object it cannot tell (a field of
// an interface, a fragment it cannot see).
func resolves(sel ast.SelectionSet) bool {
	for _, s := range sel {
		switch s := s.(type) {
		case *ast.Field:
			obj := s.ObjectDefinition
			if obj == nil || obj.Kind != ast.Object || resolverFields[fieldKey{obj.Name, s.Name}] || resolves(s.SelectionSet) {
				return true
			}
		case *ast.InlineFragment:
			if resolves(s.SelectionSet) {
				return true
			}
		case *ast.FragmentSpread:
			if s.Definition == nil || resolves(s.Definition.SelectionSet) {
				return true
			}
		default:
			return true
		}
	}
	return false
}
