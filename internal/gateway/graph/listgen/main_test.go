package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The generated code in the repository went through listgen after gqlgen:
// no list is marshalled by gqlgen's own call, and lists_gen.go names the
// resolver fields of the generated field contexts. A regeneration that
// skipped listgen fails here.
func TestGeneratedCodeWentThroughListgen(t *testing.T) {
	src, err := os.ReadFile(filepath.Join("..", generated))
	if err != nil {
		t.Fatal(err)
	}
	if _, n := rewrite(src); n != 0 {
		t.Errorf("%s marshals %d lists with gqlgen's own call: run go generate ./internal/gateway/...", generated, n)
	}
	if !bytes.Contains(src, []byte(listCall)) {
		t.Errorf("%s never calls marshalList", generated)
	}
	want, err := resolverFields(src)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join("..", lists))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s is stale: run go generate ./internal/gateway/...", lists)
	}
}

func TestResolverFieldsReadsFieldContexts(t *testing.T) {
	src := []byte(`package graph

func (ec *executionContext) fieldContext_Post_comments(ctx context.Context, field graphql.CollectedField) (fc *graphql.FieldContext, err error) {
	fc = &graphql.FieldContext{
		Object:     "Post",
		Field:      field,
		IsMethod:   true,
		IsResolver: true,
	}
	return fc, nil
}

func (ec *executionContext) fieldContext_Post_body(_ context.Context, field graphql.CollectedField) (fc *graphql.FieldContext, err error) {
	return graphql.NewScalarFieldContext("Post", field, false, false, errors.New("field of type String does not have child fields"))
}

func (ec *executionContext) fieldContext_Post_likeCount(_ context.Context, field graphql.CollectedField) (fc *graphql.FieldContext, err error) {
	return graphql.NewScalarFieldContext("Post", field, true, true, errors.New("field of type Int does not have child fields"))
}

func (ec *executionContext) fieldContext_User_followerCount(ctx context.Context, field graphql.CollectedField) (fc *graphql.FieldContext, err error) {
	fc = &graphql.FieldContext{Object: "User", Field: field, IsResolver: true}
	return fc, nil
}
`)
	got, err := resolverFields(src)
	if err != nil {
		t.Fatal(err)
	}
	// gofmt aligns the values: compare without blanks.
	compact := strings.NewReplacer(" ", "", "\t", "").Replace(string(got))
	for _, want := range []string{`{"Post","comments"}:true,`, `{"User","followerCount"}:true,`, `{"Post","likeCount"}:true,`} {
		if !strings.Contains(compact, want) {
			t.Errorf("resolver fields lack %s:\n%s", want, got)
		}
	}
	if bytes.Contains(got, []byte(`"body"`)) {
		t.Errorf("resolver fields name a plain field:\n%s", got)
	}
}

// A field context whose IsResolver is not written true or false (left out,
// or computed) fails the generation: read as false, it would marshal a
// resolver field's lists in turn and unbatch its loads.
func TestResolverFieldsRefusesUnreadableIsResolver(t *testing.T) {
	for name, body := range map[string]string{
		"left out": `fc = &graphql.FieldContext{Object: "User", Field: field, IsMethod: true}
	return fc, nil`,
		"computed": `fc = &graphql.FieldContext{Object: "User", Field: field, IsResolver: ec.isResolver("followerCount")}
	return fc, nil`,
		"scalar computed": `return graphql.NewScalarFieldContext("User", field, true, resolver, errors.New("field of type Int does not have child fields"))`,
	} {
		src := []byte(`package graph

func (ec *executionContext) fieldContext_Post_comments(ctx context.Context, field graphql.CollectedField) (fc *graphql.FieldContext, err error) {
	fc = &graphql.FieldContext{Object: "Post", Field: field, IsMethod: true, IsResolver: true}
	return fc, nil
}

func (ec *executionContext) fieldContext_User_followerCount(ctx context.Context, field graphql.CollectedField) (fc *graphql.FieldContext, err error) {
	` + body + `
}
`)
		if got, err := resolverFields(src); err == nil {
			t.Errorf("%s: resolverFields succeeded:\n%s", name, got)
		}
	}
}
