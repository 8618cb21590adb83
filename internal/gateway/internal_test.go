package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/nova-social/nova/internal/platform/apperr"
	"github.com/nova-social/nova/internal/platform/logging"
	"github.com/nova-social/nova/internal/platform/page"
	"github.com/nova-social/nova/internal/platform/requestid"
)

func TestPresenter(t *testing.T) {
	var logs bytes.Buffer
	log := logging.New(&logs, false, slog.LevelInfo)
	present := presenter(log)
	ctx := requestid.With(context.Background(), "req-42")

	e := present(ctx, fmt.Errorf("wrapped: %w", apperr.NewRateLimited(1500*time.Millisecond)))
	if e.Extensions["code"] != "RATE_LIMITED" || e.Extensions["retryAfterSeconds"] != 2 {
		t.Fatalf("rate limited = %+v", e.Extensions)
	}
	e = present(ctx, apperr.Invalid("password", "too short"))
	if e.Extensions["code"] != "BAD_USER_INPUT" || e.Extensions["field"] != "password" || e.Message != "too short" {
		t.Fatalf("invalid = %+v %q", e.Extensions, e.Message)
	}

	tooMany := 101
	_, pageErr := page.Parse(&tooMany, nil)
	e = present(ctx, pageErr)
	if e.Extensions["code"] != "BAD_USER_INPUT" || e.Extensions["field"] != "first" {
		t.Fatalf("first over 100 = %+v", e.Extensions)
	}

	secret := errors.New(`pq: relation "identity.sessions" does not exist`)
	e = present(ctx, secret)
	if e.Extensions["code"] != "INTERNAL" || e.Message != internalMessage || strings.Contains(e.Error(), "identity") {
		t.Fatalf("internal = %+v %q", e.Extensions, e.Message)
	}
	if !strings.Contains(logs.String(), "req-42") || !strings.Contains(logs.String(), "identity.sessions") {
		t.Fatalf("the detail and request id were not logged: %s", logs.String())
	}

	logs.Reset()
	hungUp, cancel := context.WithCancel(ctx)
	cancel()
	e = present(hungUp, fmt.Errorf("feed: %w", context.Canceled))
	if e.Extensions["code"] != "INTERNAL" || !strings.Contains(logs.String(), "level=INFO") || !strings.Contains(logs.String(), "canceled by the client") {
		t.Fatalf("client hang-up = %+v; log %s", e.Extensions, logs.String())
	}

	logs.Reset()
	err := recoverer(log)(ctx, "nil map write")
	e = present(ctx, err)
	if e.Extensions["code"] != "INTERNAL" || e.Message != internalMessage || !strings.Contains(logs.String(), "nil map write") || !strings.Contains(logs.String(), "req-42") {
		t.Fatalf("panic = %+v %q; log %s", e.Extensions, e.Message, logs.String())
	}

	unknown := &gqlerror.Error{Message: "x", Extensions: map[string]any{"code": "SOMETHING_ELSE"}}
	if e := present(ctx, unknown); e.Extensions["code"] != "INTERNAL" {
		t.Fatalf("unknown code = %+v", e.Extensions)
	}
	if unknown.Extensions["code"] != "SOMETHING_ELSE" {
		t.Fatal("presenter modified the original error")
	}
}

const limitsSchema = `
type Query { me: User  users(first: Int, after: String): UserConnection!  search(text: String, in: [String!]): [User!]! }
type User { id: ID!  name: String!  friends(first: Int): UserConnection!  history: [Version!]! }
type Version { body: String! }
type UserConnection { edges: [UserEdge!]! }
type UserEdge { node: User! }
`

func measure(t *testing.T, l Limits, query string, vars map[string]any) *gqlerror.Error {
	t.Helper()
	schema := gqlparser.MustLoadSchema(&ast.Source{Input: limitsSchema})
	doc, errs := gqlparser.LoadQuery(schema, query)
	if errs != nil {
		t.Fatalf("load %q: %v", query, errs)
	}
	opCtx := &graphql.OperationContext{Doc: doc, Operation: doc.Operations[0], Variables: vars}
	return limitsExtension{l: l, schema: schema}.MutateOperationContext(context.Background(), opCtx)
}

func TestComplexityUsesFirst(t *testing.T) {
	l := Limits{MaxDepth: 15, MaxAliases: 30, MaxComplexity: 5000}
	// users(first: 100) { edges { node { friends(first: 100) { edges { node { id } } } } } }
	// costs about 100 * 100 * 3: refused.
	nested := `query($n: Int) { users(first: 100) { edges { node { friends(first: $n) { edges { node { id } } } } } } }`
	if err := measure(t, l, nested, map[string]any{"n": int64(100)}); err == nil || err.Extensions["code"] != codeTooComplex {
		t.Fatalf("first 100 x 100: %v", err)
	}
	if err := measure(t, l, nested, map[string]any{"n": int64(2)}); err != nil {
		t.Fatalf("first 100 x 2: %v", err)
	}
	// No first: the default page size multiplies.
	if err := measure(t, Limits{MaxDepth: 15, MaxAliases: 30, MaxComplexity: 50}, `{ users { edges { node { id name } } } }`, nil); err == nil {
		t.Fatal("default page size was not counted")
	}
	if err := measure(t, l, `{ me { id } }`, nil); err != nil {
		t.Fatal(err)
	}
	// A list without first costs the default page size per item; a
	// connection's edges do not multiply again.
	small := Limits{MaxDepth: 15, MaxAliases: 30, MaxComplexity: 20}
	if err := measure(t, small, `{ me { history { body } } }`, nil); err == nil {
		t.Fatal("an unpaginated list was costed as one item")
	}
	if err := measure(t, small, `{ users(first: 5) { edges { node { id } } } }`, nil); err != nil {
		t.Fatalf("edges multiplied again: %v", err)
	}
}

func TestNULInArgumentsIsBadInput(t *testing.T) {
	l := Limits{MaxDepth: 15, MaxAliases: 30, MaxComplexity: 5000}
	for _, c := range []struct {
		query, field string
		vars         map[string]any
	}{
		{`{ search(text: "a\u0000b") { id } }`, "text", nil},
		{`{ search(in: ["ok", "\u0000"]) { id } }`, "in", nil},
		{`query($t: String) { search(text: $t) { id } }`, "t", map[string]any{"t": "a\x00b"}},
		{`query($in: [String!]) { search(in: $in) { id } }`, "in", map[string]any{"in": []any{"ok", "\x00"}}},
	} {
		err := measure(t, l, c.query, c.vars)
		if err == nil || err.Extensions["code"] != "BAD_USER_INPUT" || err.Extensions["field"] != c.field {
			t.Errorf("%s %v: %v", c.query, c.vars, err)
		}
	}
	if err := measure(t, l, `query($t: String) { search(text: $t, in: ["\\u0000"]) { id } }`, map[string]any{"t": "plain"}); err != nil {
		t.Fatalf("an escaped backslash refused: %v", err)
	}
}

// FuzzDecodeRequest feeds arbitrary bodies and query strings to the request
// decoder: it must never panic, and must refuse with 400 or 413 or accept.
func FuzzDecodeRequest(f *testing.F) {
	for _, s := range []string{
		`{"query":"{ viewer { id } }"}`, `{"query":"q","variables":{"a":1.5e300},"operationName":"x"}`,
		`{"query":`, `[]`, `null`, `{"query":"x"} trailing`, `{"extensions":{"persistedQuery":{"version":1}}}`,
		`{"query":"x","variables":[1,2]}`, "\x00\xff",
	} {
		f.Add(s, "POST")
		f.Add(s, "GET")
	}
	f.Fuzz(func(t *testing.T, body, method string) {
		var r *http.Request
		if method == "GET" {
			r = httptest.NewRequest(http.MethodGet, "/graphql", nil)
			q := r.URL.Query()
			q.Set("query", body)
			q.Set("variables", body)
			r.URL.RawQuery = q.Encode()
		} else {
			r = httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(body))
			r.Body = http.MaxBytesReader(httptest.NewRecorder(), r.Body, 256)
		}
		p, status, err := decodeRequest(r)
		switch {
		case err == nil && (p == nil || (p.Query == "" && p.Extensions["persistedQuery"] == nil)):
			t.Fatalf("accepted %q without a query", body)
		case err != nil && status != http.StatusBadRequest && status != http.StatusRequestEntityTooLarge:
			t.Fatalf("status %d for %q", status, body)
		case err != nil && len(body) > 256 && method != "GET" && status != http.StatusRequestEntityTooLarge && !errors.Is(err, errBodyTooLarge):
			// Past the limit the body cannot be read whole.
			t.Fatalf("body of %d bytes: status %d", len(body), status)
		}
	})
}

// TestEncodeResponseMatchesEncodingJSON compares the hand-built envelope
// with what encoding/json makes of the same members.
func TestAppendResponseMatchesEncodingJSON(t *testing.T) {
	type envelope struct {
		Errors     gqlerror.List   `json:"errors,omitempty"`
		Data       json.RawMessage `json:"data,omitempty"`
		Extensions map[string]any  `json:"extensions,omitempty"`
	}
	errs := gqlerror.List{{Message: `bad "input"`, Extensions: map[string]any{"code": "BAD_USER_INPUT"}}}
	for _, resp := range []graphql.Response{
		{},
		{Data: json.RawMessage(`{"viewer":{"id":"VXNlcjox","bio":"a\nb"}}`)},
		{Data: json.RawMessage(`null`), Errors: errs},
		{Errors: errs},
		{Errors: errs, Extensions: map[string]any{"persistedQuery": true}},
		{Data: json.RawMessage(`{"a":1}`), Extensions: map[string]any{"cost": 3}},
	} {
		got, err := appendResponse(nil, &resp)
		if err != nil {
			t.Fatal(err)
		}
		want, err := json.Marshal(envelope{Errors: resp.Errors, Data: resp.Data, Extensions: resp.Extensions})
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("appendResponse = %s, want %s", got, want)
		}
	}
}

// countingListener counts the writes to the connections it accepts.
type countingListener struct {
	net.Listener
	writes *atomic.Int64
}

func (l countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	return countingConn{c, l.writes}, err
}

type countingConn struct {
	net.Conn
	writes *atomic.Int64
}

func (c countingConn) Write(p []byte) (int, error) {
	c.writes.Add(1)
	return c.Conn.Write(p)
}

// A response larger than the server's 4 KiB connection buffer (a feed page
// is about 10 KiB) goes out in two writes: the buffer with the headers, then
// the rest. Written piece by piece, its closing brace took a third.
func TestResponseIsSentInTwoWrites(t *testing.T) {
	data := json.RawMessage(`{"posts":["` + strings.Repeat("x", 10<<10) + `"]}`)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeResponse(w, r, http.StatusOK, &graphql.Response{Data: data})
	}))
	var writes atomic.Int64
	srv.Listener = countingListener{srv.Listener, &writes}
	srv.Start()
	defer srv.Close()
	for range 3 {
		writes.Store(0)
		resp, err := srv.Client().Get(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if want := `{"data":` + string(data) + `}`; string(body) != want {
			t.Fatalf("body of %d bytes, want %d", len(body), len(want))
		}
		if n := writes.Load(); n != 2 {
			t.Errorf("response sent in %d writes, want 2", n)
		}
	}
}

func TestClientAddrBelievesOnlyTrustedProxies(t *testing.T) {
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("fd00::/8")}
	for _, c := range []struct {
		peer    string
		forward []string
		trusted []netip.Prefix
		want    string
	}{
		{"203.0.113.7:5000", []string{"198.51.100.1"}, nil, "203.0.113.7"},
		{"203.0.113.7:5000", []string{"198.51.100.1"}, trusted, "203.0.113.7"},
		{"10.0.0.2:5000", nil, trusted, "10.0.0.2"},
		{"10.0.0.2:5000", []string{"198.51.100.1"}, trusted, "198.51.100.1"},
		// A client's own X-Forwarded-For comes first; the proxies append.
		{"10.0.0.2:5000", []string{"1.1.1.1, 198.51.100.1, 10.0.0.9"}, trusted, "198.51.100.1"},
		{"10.0.0.2:5000", []string{"1.1.1.1", "198.51.100.1,10.0.0.9"}, trusted, "198.51.100.1"},
		{"10.0.0.2:5000", []string{"10.0.0.8, 10.0.0.9"}, trusted, "10.0.0.8"},
		{"10.0.0.2:5000", []string{"198.51.100.1, junk, 10.0.0.9"}, trusted, "10.0.0.9"},
		{"[fd00::1]:5000", []string{"2001:db8::5"}, trusted, "2001:db8::5"},
		{"[::ffff:10.0.0.2]:5000", []string{"::ffff:198.51.100.1"}, trusted, "198.51.100.1"},
	} {
		r := httptest.NewRequest(http.MethodPost, "/graphql", nil)
		r.RemoteAddr = c.peer
		for _, v := range c.forward {
			r.Header.Add("X-Forwarded-For", v)
		}
		if got := clientAddr(r, c.trusted); got != c.want {
			t.Errorf("peer %s, X-Forwarded-For %q, trusted %v: %s, want %s", c.peer, c.forward, c.trusted, got, c.want)
		}
	}
}
