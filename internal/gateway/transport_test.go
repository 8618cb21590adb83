package gateway_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net"
	"net/http"
	"net/textproto"
	"net/url"
	"os"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/nova-social/nova/internal/gateway"
	"github.com/nova-social/nova/internal/platform/httpserver"
)

func (e *env) raw(method, path, contentType string, body io.Reader, hdr ...string) *response {
	e.t.Helper()
	req, _ := http.NewRequest(method, e.url+path, body)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	return e.request(req)
}

func TestHTTPTransport(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.register("http")

	t.Run("GET query", func(t *testing.T) {
		r := ok(t, e.raw(http.MethodGet, "/graphql?query="+url.QueryEscape(`query($u: String) { user(username: $u) { id } }`)+"&variables="+url.QueryEscape(`{"u":"`+a.Username+`"}`), "", nil))
		if r.str("user.id") != a.ID {
			t.Fatalf("GET = %s", r.Raw)
		}
	})
	t.Run("GET mutation is 405", func(t *testing.T) {
		r := e.raw(http.MethodGet, "/graphql?query="+url.QueryEscape(`mutation { logout }`), "", nil)
		if r.Status != http.StatusMethodNotAllowed || r.Header.Get("Allow") != "POST" || len(r.Errors) != 1 {
			t.Fatalf("status %d allow %q body %s", r.Status, r.Header.Get("Allow"), r.Raw)
		}
	})
	t.Run("content negotiation", func(t *testing.T) {
		q := `{"query":"{ viewer { id } }"}`
		if r := e.raw(http.MethodPost, "/graphql", "application/json", strings.NewReader(q)); !strings.HasPrefix(r.ContentType, "application/json") {
			t.Fatalf("no Accept: content type %q", r.ContentType)
		}
		r := e.raw(http.MethodPost, "/graphql", "application/json; charset=utf-8", strings.NewReader(q), "Accept", "application/graphql-response+json, application/json;q=0.9")
		if !strings.HasPrefix(r.ContentType, "application/graphql-response+json") || r.Status != 200 {
			t.Fatalf("Accept graphql-response+json: %d %q", r.Status, r.ContentType)
		}
		if r := e.raw(http.MethodPost, "/graphql", "application/json", strings.NewReader(q), "Accept", "application/graphql-response+json;q=0, application/json"); !strings.HasPrefix(r.ContentType, "application/json") {
			t.Fatalf("q=0: content type %q", r.ContentType)
		}
	})
	cases := []struct {
		name, method, contentType, body string
		status                          int
		code                            string
	}{
		{"unsupported content type", http.MethodPost, "text/plain", `{"query":"{ viewer { id } }"}`, 415, "BAD_USER_INPUT"},
		{"no content type", http.MethodPost, "", `{"query":"{ viewer { id } }"}`, 415, "BAD_USER_INPUT"},
		{"PUT", http.MethodPut, "application/json", `{"query":"{ viewer { id } }"}`, 405, "BAD_USER_INPUT"},
		{"unparsable JSON", http.MethodPost, "application/json", `{"query":`, 400, "BAD_USER_INPUT"},
		{"trailing JSON", http.MethodPost, "application/json", `{"query":"{ viewer { id } }"} {}`, 400, "BAD_USER_INPUT"},
		{"no query", http.MethodPost, "application/json", `{"variables":{}}`, 400, "BAD_USER_INPUT"},
		{"query not a string", http.MethodPost, "application/json", `{"query":5}`, 400, "BAD_USER_INPUT"},
		{"unparsable document", http.MethodPost, "application/json", `{"query":"{ viewer { id "}`, 400, "BAD_USER_INPUT"},
		{"unknown field", http.MethodPost, "application/json", `{"query":"{ viewer { nope } }"}`, 422, "BAD_USER_INPUT"},
		{"bad variable", http.MethodPost, "application/json", `{"query":"query($id: ID!) { user(id: $id) { id } }","variables":{}}`, 422, "BAD_USER_INPUT"},
		{"unknown operation name", http.MethodPost, "application/json", `{"query":"query A { viewer { id } }","operationName":"B"}`, 422, "BAD_USER_INPUT"},
		{"subscription over HTTP", http.MethodPost, "application/json", `{"query":"subscription { __typename }"}`, 422, "BAD_USER_INPUT"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := e.raw(c.method, "/graphql", c.contentType, strings.NewReader(c.body))
			wantError(t, r, c.status, c.code, "")
			if r.Data != nil {
				t.Fatalf("refused request carries data: %s", r.Raw)
			}
		})
	}
	t.Run("suggestions off outside dev", func(t *testing.T) {
		r := e.gql("", `{ viewer { usernam } }`, nil)
		wantError(t, r, 422, "BAD_USER_INPUT", "query")
		if strings.Contains(r.Errors[0].Message, "Did you mean") {
			t.Fatalf("suggestion leaked: %s", r.Raw)
		}
	})
	t.Run("introspection off outside dev", func(t *testing.T) {
		wantError(t, e.gql("", `{ __schema { types { name } } }`, nil), 422, "BAD_USER_INPUT", "query")
		r := ok(t, e.gql("", `{ __typename }`, nil))
		if r.str("__typename") != "Query" {
			t.Fatalf("__typename = %s", r.Raw)
		}
	})
	t.Run("graphiql off outside dev", func(t *testing.T) {
		if r := e.raw(http.MethodGet, "/graphiql", "", nil); r.Status != http.StatusNotFound {
			t.Fatalf("GET /graphiql = %d", r.Status)
		}
	})
}

func TestBodyLimits(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(o *envOptions) { o.maxBody = 4096 })
	big := `{"query":"{ viewer { id } }","variables":{"pad":"` + strings.Repeat("x", 5000) + `"}}`
	// Declared length and streamed (chunked, no length) bodies get one answer.
	declared := e.raw(http.MethodPost, "/graphql", "application/json", strings.NewReader(big))
	wantError(t, declared, 413, "BAD_USER_INPUT", "query")
	chunked := e.raw(http.MethodPost, "/graphql", "application/json", io.MultiReader(strings.NewReader(big)))
	if chunked.Status != declared.Status || !bytes.Equal(chunked.Raw, declared.Raw) {
		t.Fatalf("chunked: %d %s; declared: %d %s", chunked.Status, chunked.Raw, declared.Status, declared.Raw)
	}
	ok(t, e.raw(http.MethodPost, "/graphql", "application/json", strings.NewReader(`{"query":"{ viewer { id } }"}`)))
}

func TestDocumentLimits(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(o *envOptions) { o.complexityLimit = 60 })
	// Inline fragments nest selections without nesting fields: no depth.
	deep := "{ node(id: \"x\") { id " + strings.Repeat("... on User { ", 20) + "id" + strings.Repeat(" }", 20) + " } }"
	ok2 := e.gql("", deep, nil) // inline fragments do not add depth
	if ok2.Status == 422 {
		t.Fatalf("fragments counted as depth: %s", ok2.Raw)
	}

	var b strings.Builder
	b.WriteString("{ ")
	for i := range 31 {
		fmt.Fprintf(&b, "a%d: __typename ", i)
	}
	b.WriteString("}")
	wantError(t, e.gql("", b.String(), nil), 422, "QUERY_TOO_COMPLEX", "")

	var c strings.Builder
	c.WriteString("{ ")
	for i := range 30 {
		fmt.Fprintf(&c, "a%d: __typename ", i)
	}
	c.WriteString("}")
	ok(t, e.gql("", c.String(), nil))

	// Complexity: 70 fields through a repeated fragment (no aliases).
	frag := "fragment F on User { id username displayName bio verified role createdAt }"
	q := "{ viewer { " + strings.Repeat("...F ", 10) + "} } " + frag
	wantError(t, e.gql("", q, nil), 422, "QUERY_TOO_COMPLEX", "")
	ok(t, e.gql("", "{ viewer { ...F } } "+frag, nil))
}

func TestSelectionLimitBeforeValidation(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	refused := func(q string) {
		t.Helper()
		r := e.gql("", q, nil)
		wantError(t, r, 422, "QUERY_TOO_COMPLEX", "")
		if !strings.Contains(string(r.Raw), "more than 200 selections") {
			t.Fatalf("refused after validation, not before: %s", r.Raw)
		}
	}
	// One field repeated: validating it compares every pair of copies.
	refused("{ viewer { " + strings.Repeat("id ", 10_000) + "} }")
	refused("{ viewer { " + strings.Repeat("id ", 200) + "} }")
	ok(t, e.gql("", "{ viewer { "+strings.Repeat("id ", 199)+"} }", nil))
	// Spreads count with their fragment's selections, and each fragment once
	// more on its own: 1 + 8 × 21 + 20 is within the limit, 1 + 10 × 21 + 20
	// is not.
	frag := " fragment F on User { " + strings.Repeat("id ", 20) + "}"
	refused("{ viewer { " + strings.Repeat("...F ", 10) + "} }" + frag)
	ok(t, e.gql("", "{ viewer { "+strings.Repeat("...F ", 8)+"} }"+frag, nil))
	// A fragment cycle is counted up to the limit, not forever.
	refused("{ viewer { ...A } } fragment A on User { id ...A }")
}

// GraphiQL (dev) loads the schema with this query: about 400 selections
// once its fragments are expanded, and nested lists without first.
const introspectionQuery = `query IntrospectionQuery { __schema { queryType { name } mutationType { name } subscriptionType { name }
  types { ...FullType } directives { name description locations args { ...InputValue } } } }
fragment FullType on __Type { kind name description
  fields(includeDeprecated: true) { name description args { ...InputValue } type { ...TypeRef } isDeprecated deprecationReason }
  inputFields { ...InputValue } interfaces { ...TypeRef }
  enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason } possibleTypes { ...TypeRef } }
fragment InputValue on __InputValue { name description type { ...TypeRef } defaultValue }
fragment TypeRef on __Type { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name
  ofType { kind name ofType { kind name ofType { kind name } } } } } } } }`

func TestSchemaIntrospectionInDev(t *testing.T) {
	t.Parallel()
	dev := newEnv(t, func(o *envOptions) { o.dev = true })
	if r := ok(t, dev.gql("", introspectionQuery, nil)); !strings.Contains(string(r.Raw), `"name":"Post"`) {
		t.Fatalf("no schema in %s", r.Raw)
	}
	// Outside dev it is refused, by the selection count before validation.
	wantError(t, newEnv(t).gql("", introspectionQuery, nil), 422, "QUERY_TOO_COMPLEX", "")
	// A newer GraphiQL asks for a few fields more in its fragments on
	// introspection types, which count with the schema query, not against
	// the application's 200 selections.
	newer := strings.NewReplacer(
		"fragment FullType on __Type { kind name description", "fragment FullType on __Type { kind name description specifiedByURL",
		"inputFields { ...InputValue }", "inputFields(includeDeprecated: true) { ...InputValue }",
		"type { ...TypeRef } defaultValue }", "type { ...TypeRef } defaultValue isDeprecated deprecationReason }",
	).Replace(introspectionQuery)
	if newer == introspectionQuery {
		t.Fatal("the newer query is the same")
	}
	if r := ok(t, dev.gql("", newer, nil)); !strings.Contains(string(r.Raw), `"specifiedByURL"`) {
		t.Fatalf("no schema in %s", r.Raw)
	}
}

func TestDepthLimit(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(o *envOptions) { o.dev = true })
	// Introspection types nest: __type { fields { type { ofType { ... } } } }.
	level := func(n int) string {
		q := "name"
		for range n {
			q = "ofType { " + q + " }"
		}
		return `{ __type(name: "User") { fields { type { ` + q + ` } } } }`
	}
	ok(t, e.gql("", level(11), nil))                                      // depth 15
	wantError(t, e.gql("", level(12), nil), 422, "QUERY_TOO_COMPLEX", "") // depth 16
}

func TestPersistedQueries(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	query := `{ __typename }`
	sum := sha256.Sum256([]byte(query))
	ext := `{"persistedQuery":{"version":1,"sha256Hash":"` + hex.EncodeToString(sum[:]) + `"}}`
	r := e.raw(http.MethodGet, "/graphql?extensions="+url.QueryEscape(ext), "", nil)
	if r.Status != http.StatusOK || len(r.Errors) != 1 || r.Errors[0].Message != "PersistedQueryNotFound" {
		t.Fatalf("unknown hash: %d %s", r.Status, r.Raw)
	}
	ok(t, e.raw(http.MethodPost, "/graphql", "application/json", strings.NewReader(`{"query":"`+query+`","extensions":`+ext+`}`)))
	r = ok(t, e.raw(http.MethodGet, "/graphql?extensions="+url.QueryEscape(ext), "", nil))
	if r.str("__typename") != "Query" {
		t.Fatalf("persisted query = %s", r.Raw)
	}
	bad := `{"persistedQuery":{"version":1,"sha256Hash":"00"}}`
	wantError(t, e.raw(http.MethodPost, "/graphql", "application/json", strings.NewReader(`{"query":"`+query+`","extensions":`+bad+`}`)), 422, "BAD_USER_INPUT", "")
}

func TestDevMode(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(o *envOptions) { o.dev = true })
	r := ok(t, e.gql("", `{ __schema { queryType { name } } }`, nil))
	if r.str("__schema.queryType.name") != "Query" {
		t.Fatalf("introspection = %s", r.Raw)
	}
	s := e.gql("", `{ viewer { usernam } }`, nil)
	if !strings.Contains(s.Errors[0].Message, "Did you mean") {
		t.Fatalf("no suggestion in dev: %s", s.Raw)
	}
	g := e.raw(http.MethodGet, "/graphiql", "", nil)
	if g.Status != 200 || !bytes.Contains(g.Raw, []byte("graphiql")) {
		t.Fatalf("GET /graphiql = %d", g.Status)
	}
}

func TestMultipart(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	form := func(fileSize int) (*bytes.Buffer, string) {
		var b bytes.Buffer
		w := multipart.NewWriter(&b)
		_ = w.WriteField("operations", `{"query":"{ __typename }"}`)
		_ = w.WriteField("map", `{"0":["variables.f"]}`)
		fw, _ := w.CreateFormFile("0", "a.bin")
		_, _ = fw.Write(bytes.Repeat([]byte{1}, fileSize))
		_ = w.Close()
		return &b, w.FormDataContentType()
	}
	body, ct := form(1000)
	r := ok(t, e.raw(http.MethodPost, "/graphql", ct, body))
	if r.str("__typename") != "Query" {
		t.Fatalf("multipart = %s", r.Raw)
	}
	body, ct = form(2 << 20) // over the 1 MiB upload limit of the test server
	wantError(t, e.raw(http.MethodPost, "/graphql", ct, body), http.StatusRequestEntityTooLarge, "BAD_USER_INPUT", "query")
}

// formPart is a field of a multipart request, or a file of size bytes.
type formPart struct {
	name, value string
	size        int
}

func formField(name, value string) formPart   { return formPart{name: name, value: value} }
func formFile(name string, size int) formPart { return formPart{name: name, size: size} }

// multipartForm encodes parts in order.
func multipartForm(parts ...formPart) (*bytes.Buffer, string) {
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	for _, p := range parts {
		if p.size == 0 {
			_ = w.WriteField(p.name, p.value)
			continue
		}
		fw, _ := w.CreateFormFile(p.name, p.name+".bin")
		_, _ = fw.Write(bytes.Repeat([]byte{7}, p.size))
	}
	_ = w.Close()
	return &b, w.FormDataContentType()
}

// pathsMap maps file key to n variable paths.
func pathsMap(key string, n int) string {
	paths := make([]string, n)
	for i := range paths {
		paths[i] = fmt.Sprintf(`"variables.v%d"`, i)
	}
	return `{"` + key + `":[` + strings.Join(paths, ",") + `]}`
}

// TestMultipartLimits: only files may use the upload limit; operations
// and map keep the body limit, and map names at most 100 paths.
func TestMultipartLimits(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(o *envOptions) { o.maxBody = 4096 })
	query := formField("operations", `{"query":"{ __typename }"}`)
	send := func(parts ...formPart) *response {
		body, ct := multipartForm(parts...)
		return e.raw(http.MethodPost, "/graphql", ct, body)
	}
	t.Run("operations over the body limit", func(t *testing.T) {
		ops := `{"query":"query($pad: String) { user(username: $pad) { id } }","variables":{"pad":"` + strings.Repeat("x", 5000) + `"}}`
		wantError(t, send(formField("operations", ops), formField("map", `{}`)), http.StatusRequestEntityTooLarge, "BAD_USER_INPUT", "query")
	})
	t.Run("map over the body limit", func(t *testing.T) {
		r := send(query, formField("map", `{"0":["variables.`+strings.Repeat("x", 5000)+`"]}`), formFile("0", 10))
		wantError(t, r, http.StatusRequestEntityTooLarge, "BAD_USER_INPUT", "query")
	})
	t.Run("file over the body limit", func(t *testing.T) {
		ok(t, send(query, formField("map", `{"0":["variables.f"]}`), formFile("0", 100_000)))
	})
	t.Run("100 paths", func(t *testing.T) {
		ok(t, send(query, formField("map", pathsMap("0", 100)), formFile("0", 10)))
	})
	t.Run("101 paths", func(t *testing.T) {
		wantError(t, send(query, formField("map", pathsMap("0", 101)), formFile("0", 10)), http.StatusBadRequest, "BAD_USER_INPUT", "query")
	})
	t.Run("field after the files", func(t *testing.T) {
		r := send(query, formField("map", `{"0":["variables.f"]}`), formFile("0", 10), formField("extra", "x"))
		wantError(t, r, http.StatusBadRequest, "BAD_USER_INPUT", "query")
	})
	t.Run("file not in map", func(t *testing.T) {
		r := send(query, formField("map", `{"0":["variables.f"]}`), formFile("0", 10), formFile("1", 10))
		wantError(t, r, http.StatusBadRequest, "BAD_USER_INPUT", "query")
	})
}

// bareEnv serves the gateway without a database, for anonymous requests,
// through Serve, so that the server's read timeout applies.
func bareEnv(t *testing.T, readTimeout time.Duration, maxUpload int64) *env {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	srv := httpserver.New(httpserver.Options{
		ReadTimeout: readTimeout, WriteTimeout: 10 * time.Second, IdleTimeout: time.Minute, ShutdownTimeout: time.Second,
		MaxBodyBytes: 64 << 10, MaxUploadBytes: maxUpload, Logger: log, Registry: prometheus.NewRegistry(),
		Ready: func(context.Context) error { return nil },
	})
	gateway.New(gateway.Options{Log: log, ComplexityLimit: 5000, MaxMessageBytes: 64 << 10}).Mount(srv.Router())
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return &env{t: t, url: "http://" + ln.Addr().String()}
}

// TestSlowBody declares a body and stalls: the read timeout is no bad input
// of the client's (408, INTERNAL), and the answer is fixed text, not the
// network error, which named the server's address.
func TestSlowBody(t *testing.T) {
	t.Parallel()
	e := bareEnv(t, 300*time.Millisecond, 1<<20)
	for name, c := range map[string]struct{ contentType, start string }{
		"json":      {"application/json", `{"query":`},
		"multipart": {"multipart/form-data; boundary=x", "--x\r\nContent-Disposition: form-data; name=\"operations\"\r\n\r\n{"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			conn, err := net.Dial("tcp", strings.TrimPrefix(e.url, "http://"))
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			_, _ = fmt.Fprintf(conn, "POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: %s\r\nContent-Length: 1000\r\n\r\n%s", c.contentType, c.start)
			_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
			res, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			r := &response{Status: res.StatusCode}
			if r.Raw, err = io.ReadAll(res.Body); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(r.Raw, r); err != nil {
				t.Fatalf("decode %s: %v", r.Raw, err)
			}
			wantError(t, r, http.StatusRequestTimeout, "INTERNAL", "")
			if bytes.Contains(r.Raw, []byte("127.0.0.1")) || bytes.Contains(r.Raw, []byte("i/o timeout")) {
				t.Fatalf("network detail reached the client: %s", r.Raw)
			}
		})
	}
}

// TestMultipartReleasesFiles maps one file, over the 8 MiB kept in memory,
// to 100 paths: it is stored once and its descriptor closed with the
// request. Not parallel: it counts the process's descriptors.
func TestMultipartReleasesFiles(t *testing.T) {
	// Finalizers would close leaked files behind the test's back.
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	e := bareEnv(t, 10*time.Second, 16<<20)
	query := formField("operations", `{"query":"{ __typename }"}`)
	// The first request opens the keep-alive connection the second reuses.
	body, ct := multipartForm(query, formField("map", `{}`))
	ok(t, e.raw(http.MethodPost, "/graphql", ct, body))
	body, ct = multipartForm(query, formField("map", pathsMap("0", 100)), formFile("0", 9<<20))
	before := openFiles(t)
	ok(t, e.raw(http.MethodPost, "/graphql", ct, body))
	if left := openFiles(t) - before; left > 5 {
		t.Fatalf("the request left %d descriptors open", left)
	}
}

func openFiles(t *testing.T) int {
	t.Helper()
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("cannot count descriptors: %v", err)
	}
	return len(fds)
}

// TestMultipartHeadersAreBounded sends 60 files of one byte, each with a
// megabyte in its part's headers: a long name, a long media type, or a
// short name beside a long parameter (a name shares the memory of its
// whole header). The request is held open after the last file, while the
// server keeps what it read: that must be no more than the body limit, not
// the 60 MB the upload limit let through. Not parallel: it measures the heap.
func TestMultipartHeadersAreBounded(t *testing.T) {
	e := bareEnv(t, 10*time.Second, 128<<20)
	const files, size = 60, 1 << 20
	big := strings.Repeat("a", size)
	for name, c := range map[string]struct {
		disposition, contentType string
		status                   int
	}{
		"long name":            {`form-data; name="%d"; filename="` + big + `"`, "image/png", http.StatusRequestEntityTooLarge},
		"long media type":      {`form-data; name="%d"; filename="a.png"`, "image/" + big, http.StatusRequestEntityTooLarge},
		"long other parameter": {`form-data; name="%d"; filename=a.png; pad="` + big + `"`, "image/png", http.StatusOK},
	} {
		t.Run(name, func(t *testing.T) {
			pr, pw := io.Pipe()
			w := multipart.NewWriter(pw)
			done := make(chan *response, 1)
			go func() {
				req, _ := http.NewRequest(http.MethodPost, e.url+"/graphql", pr)
				req.Header.Set("Content-Type", w.FormDataContentType())
				done <- e.request(req)
			}()
			before := heap()
			paths := make([]string, files)
			for i := range paths {
				paths[i] = fmt.Sprintf(`"%d":["variables.v%d"]`, i, i)
			}
			_ = w.WriteField("operations", `{"query":"{ __typename }"}`)
			_ = w.WriteField("map", "{"+strings.Join(paths, ",")+"}")
			for i := range files {
				fw, err := w.CreatePart(textproto.MIMEHeader{"Content-Disposition": {fmt.Sprintf(c.disposition, i)}, "Content-Type": {c.contentType}})
				if err != nil {
					break // refused: the server stopped reading
				}
				_, _ = fw.Write([]byte{1})
			}
			time.Sleep(200 * time.Millisecond)
			held := int64(heap()) - int64(before)
			_ = w.Close()
			_ = pw.Close()
			r := <-done
			if held > 16<<20 {
				t.Errorf("the server held %d MiB while reading the request", held>>20)
			}
			if r.Status != c.status {
				t.Errorf("status %d, want %d: %s", r.Status, c.status, r.Raw)
			}
		})
	}
}
