package gateway_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// TestComplexityOfStringFirst: a variable of type Int may arrive as a JSON
// string, which the executor converts; the cost must use the same number.
func TestComplexityOfStringFirst(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(o *envOptions) { o.complexityLimit = 60 })
	q := `query($f: Int) { user(username: "nobody") { followers(first: $f) { edges { node { id username } } } } }`
	for _, f := range []any{json.Number("100"), "100", "+100"} {
		wantError(t, e.gql("", q, map[string]any{"f": f}), http.StatusUnprocessableEntity, "QUERY_TOO_COMPLEX", "")
	}
	ok(t, e.gql("", q, map[string]any{"f": "5"}))
}

// TestNoSuggestionsOutsideDev: besides field names, validation suggests
// argument names, types, enum values and input fields, which would reveal
// the schema that introspection hides.
func TestNoSuggestionsOutsideDev(t *testing.T) {
	t.Parallel()
	prod, dev := newEnv(t), newEnv(t, func(o *envOptions) { o.dev = true })
	for name, q := range map[string]string{
		"argument":    `{ user(usernam: "x") { id } }`,
		"type":        `{ viewer { ...F } } fragment F on Usr { id }`,
		"enum value":  `mutation { assignRole(userId: "x", role: ADMI) { id } }`,
		"input field": `mutation { register(input: {emai: "x", username: "y", password: "z", displayName: "w"}) { userId } }`,
		"field":       `{ viewer { usernam } }`,
	} {
		t.Run(name, func(t *testing.T) {
			r := prod.gql("", q, nil)
			wantError(t, r, http.StatusUnprocessableEntity, "BAD_USER_INPUT", "query")
			if strings.Contains(string(r.Raw), "Did you mean") {
				t.Fatalf("suggestion outside dev: %s", r.Raw)
			}
			if r := dev.gql("", q, nil); !strings.Contains(string(r.Raw), "Did you mean") {
				t.Fatalf("no suggestion in dev: %s", r.Raw)
			}
		})
	}
}

// TestEnumVariableCase: the validator compares an enum variable's value to
// the schema's regardless of case, the executor exactly. A value that differs
// in case only is the client's mistake, not an internal error.
func TestEnumVariableCase(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.register("enumcase")
	r := e.gql(a.Access, `mutation($r: Role!) { assignRole(userId: "x", role: $r) { id } }`, map[string]any{"r": "admin"})
	wantError(t, r, http.StatusUnprocessableEntity, "BAD_USER_INPUT", "r")
	r = e.gql(a.Access, `mutation($in: CreatePostInput!) { createPost(input: $in) { id } }`, map[string]any{"in": map[string]any{"body": "hi", "visibility": "public"}})
	wantError(t, r, http.StatusUnprocessableEntity, "BAD_USER_INPUT", "visibility")
	ok(t, e.gql(a.Access, `mutation($in: CreatePostInput!) { createPost(input: $in) { id } }`, map[string]any{"in": map[string]any{"body": "hi", "visibility": "PUBLIC"}}))
}

// TestLongDocumentsAreNotKept sends long documents, each different: the
// caches of validated and persisted documents count entries, so without a
// bound on an entry's size 1,000 requests of the body limit would hold a
// gigabyte each. Not parallel: it measures the heap.
func TestLongDocumentsAreNotKept(t *testing.T) {
	e := newEnv(t, func(o *envOptions) { o.maxBody = 1 << 20 })
	const n, size = 40, 512 << 10
	send := func(query string, persisted bool) *response {
		body := map[string]any{"query": query}
		if persisted {
			sum := sha256.Sum256([]byte(query))
			body["extensions"] = map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": hex.EncodeToString(sum[:])}}
		}
		b, _ := json.Marshal(body)
		return e.raw(http.MethodPost, "/graphql", "application/json", strings.NewReader(string(b)))
	}
	for name, c := range map[string]struct {
		query     string
		persisted bool
	}{
		// A valid document is kept once validated.
		"validated": {"{ __typename }", false},
		// A persisted query is kept before it is parsed.
		"persisted": {"{ nope }", true},
	} {
		before := heap()
		for i := range n {
			r := send(c.query+strings.Repeat(" ", size+i), c.persisted)
			if r.Status != http.StatusOK && r.Status != http.StatusUnprocessableEntity {
				t.Fatalf("%s: status %d %s", name, r.Status, r.Raw)
			}
		}
		if grown := int64(heap()) - int64(before); grown > n*size/4 {
			t.Fatalf("%s: %d documents of %d KiB left the heap %d KiB larger", name, n, size>>10, grown>>10)
		}
	}
	// A short document is kept as before.
	const query = "{ __typename }"
	ok(t, send(query, true))
	sum := sha256.Sum256([]byte(query))
	r := ok(t, e.raw(http.MethodPost, "/graphql", "application/json", strings.NewReader(`{"extensions":{"persistedQuery":{"version":1,"sha256Hash":"`+hex.EncodeToString(sum[:])+`"}}}`)))
	if r.str("__typename") != "Query" {
		t.Fatalf("persisted query = %s", r.Raw)
	}
}

// TestMultipartPathNamedTwice: a map path named for two files, or one inside
// another's, would leave a file out of the variables without a word, or not,
// depending on the order of the files.
func TestMultipartPathNamedTwice(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	query := formField("operations", `{"query":"{ __typename }"}`)
	for name, c := range map[string]struct {
		fileMap string
		files   []string
	}{
		"same path":           {`{"0":["variables.f"],"1":["variables.f"]}`, []string{"0", "1"}},
		"same path, one file": {`{"0":["variables.f","variables.f"]}`, []string{"0"}},
		"inside another":      {`{"0":["variables.f"],"1":["variables.f.g"]}`, []string{"1", "0"}},
		"inside, other order": {`{"0":["variables.f"],"1":["variables.f.g"]}`, []string{"0", "1"}},
	} {
		t.Run(name, func(t *testing.T) {
			parts := []formPart{query, formField("map", c.fileMap)}
			for _, f := range c.files {
				parts = append(parts, formFile(f, 10))
			}
			body, ct := multipartForm(parts...)
			wantError(t, e.raw(http.MethodPost, "/graphql", ct, body), http.StatusBadRequest, "BAD_USER_INPUT", "query")
		})
	}
	// Paths that share a beginning are fine.
	body, ct := multipartForm(query, formField("map", `{"0":["variables.f.a"],"1":["variables.f.ab","variables.g"]}`), formFile("0", 10), formFile("1", 10))
	ok(t, e.raw(http.MethodPost, "/graphql", ct, body))
}
