package graph

import (
	"context"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
)

// edgesSelection is what a feed query selects under feed.edges.
func edgesSelection(t *testing.T, query string) ast.SelectionSet {
	t.Helper()
	doc, errs := gqlparser.LoadQuery(NewSchema(&Resolver{}).Schema(), query)
	if errs != nil {
		t.Fatalf("%s: %v", query, errs)
	}
	feed := doc.Operations[0].SelectionSet[0].(*ast.Field)
	for _, s := range feed.SelectionSet {
		if f, ok := s.(*ast.Field); ok && f.Name == "edges" {
			return f.SelectionSet
		}
	}
	t.Fatalf("%s selects no edges", query)
	return nil
}

func TestResolvesFindsResolverFieldsAtAnyDepth(t *testing.T) {
	for _, c := range []struct {
		query string
		want  bool
	}{
		{`{ feed { edges { cursor node { id body createdAt author { id username } likeCount commentCount viewerHasLiked } } } }`, false},
		{`{ feed { edges { node { ...P } } } } fragment P on Post { id author { displayName } }`, false},
		{`{ feed { edges { node { id versions { body } } } } }`, true},
		{`{ feed { edges { node { author { followerCount } } } } }`, true},
		{`{ feed { edges { node { ... on Post { comments(first: 1) { edges { cursor } } } } } } }`, true},
		{`{ feed { edges { node { ...P } } } } fragment P on Post { author { posts(first: 1) { edges { cursor } } } }`, true},
	} {
		if got := resolves(edgesSelection(t, c.query)); got != c.want {
			t.Errorf("resolves(%s) = %v, want %v", c.query, got, c.want)
		}
	}
}

// Marshalled in turn, the elements keep their order and their index in the
// field context, and a panicking element nulls the list with an error on
// its path, as gqlgen's own marshalling does.
func TestMarshalListInTurn(t *testing.T) {
	ctx := graphql.WithResponseContext(context.Background(), graphql.DefaultErrorPresenter, graphql.DefaultRecover)
	ctx = graphql.WithFieldContext(ctx, &graphql.FieldContext{Field: graphql.CollectedField{Field: &ast.Field{Alias: "edges"}}})
	element := func(ctx context.Context, i int) graphql.Marshaler {
		if got := *graphql.GetFieldContext(ctx).Index; got != i {
			t.Errorf("element %d has index %d", i, got)
		}
		return graphql.MarshalInt(i)
	}
	got := marshalList(ctx, nil, 3, element)
	var b strings.Builder
	got.MarshalGQL(&b)
	if b.String() != "[0,1,2]" {
		t.Errorf("list = %s, want [0,1,2]", b.String())
	}
	if graphql.HasFieldError(ctx, graphql.GetFieldContext(ctx)) {
		t.Fatal("error recorded without a panic")
	}

	panicking := func(ctx context.Context, i int) graphql.Marshaler {
		if i == 1 {
			panic("broken element")
		}
		return graphql.MarshalInt(i)
	}
	if got := marshalList(ctx, nil, 3, panicking); got != nil {
		t.Errorf("list with a panicking element = %v, want nil", got)
	}
	errs := graphql.GetErrors(ctx)
	if len(errs) != 1 || errs[0].Path.String() != "edges[1]" {
		t.Errorf("errors = %v, want one at edges[1]", errs)
	}
}
