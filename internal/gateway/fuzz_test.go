package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/gorilla/websocket"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/parser"
	"github.com/vektah/gqlparser/v2/validator"

	"github.com/nova-social/nova/internal/gateway/graph"
)

// idleExec runs every operation until it is completed or its connection
// closes, producing nothing.
type idleExec struct{}

func (idleExec) CreateOperationContext(_ context.Context, p *graphql.RawParams) (*graphql.OperationContext, gqlerror.List) {
	return &graphql.OperationContext{RawQuery: p.Query}, nil
}

func (idleExec) DispatchOperation(ctx context.Context, _ *graphql.OperationContext) (graphql.ResponseHandler, context.Context) {
	return func(ctx context.Context) *graphql.Response { <-ctx.Done(); return nil }, ctx
}

func (idleExec) DispatchError(_ context.Context, errs gqlerror.List) *graphql.Response {
	return &graphql.Response{Errors: errs}
}

// TestWebsocketBadMessagesClose sends message sequences over a live socket:
// each breaks the protocol and must close the connection with its code.
func TestWebsocketBadMessagesClose(t *testing.T) {
	tr := newWSTransport(slog.New(slog.NewTextHandler(io.Discard, nil)), time.Second, 0, 1<<10, nil,
		func(ctx context.Context, _ string) (context.Context, error) { return ctx, nil })
	tr.perOperation = func(ctx context.Context) context.Context { return ctx }
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { tr.Do(w, r, idleExec{}) }))
	defer srv.Close()

	const init = `{"type":"connection_init"}`
	longID := strings.Repeat("é", 200)
	sub := `{"type":"subscribe","id":"` + longID + `","payload":{"query":"subscription { a }"}}`
	for name, c := range map[string]struct {
		messages []string
		code     int
	}{
		"empty message":          {[]string{init, ``}, closeBadMessage},
		"truncated JSON":         {[]string{init, `{"type":`}, closeBadMessage},
		"two values":             {[]string{init, `{"type":"ping"} {"type":"ping"}`}, closeBadMessage},
		"type not a string":      {[]string{`{"type":5}`}, closeBadMessage},
		"unknown type":           {[]string{init, `{"type":"next","id":"1"}`}, closeBadMessage},
		"query not a string":     {[]string{init, `{"type":"subscribe","id":"1","payload":{"query":5}}`}, closeBadMessage},
		"subscribe before init":  {[]string{sub}, closeUnauthorized},
		"second init":            {[]string{init, init}, closeTooManyRequests},
		"long id reused":         {[]string{init, sub, sub}, closeDuplicateID},
		"message over the limit": {[]string{init, `{"type":"ping","payload":"` + strings.Repeat("x", 1<<10) + `"}`}, websocket.CloseMessageTooBig},
	} {
		t.Run(name, func(t *testing.T) {
			d := websocket.Dialer{Subprotocols: []string{wsSubprotocol}}
			conn, _, err := d.Dial("ws"+strings.TrimPrefix(srv.URL, "http"), nil)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			for _, m := range c.messages {
				if err := conn.WriteMessage(websocket.TextMessage, []byte(m)); err != nil {
					break // closed already
				}
			}
			_ = conn.SetReadDeadline(time.Now().Add(2 * time.Second))
			for {
				_, data, err := conn.ReadMessage()
				if err == nil {
					continue // connection_ack, pong
				}
				if !websocket.IsCloseError(err, c.code) {
					t.Fatalf("%v (last message %q), want close %d", err, data, c.code)
				}
				return
			}
		})
	}
}

// FuzzMultipart builds multipart requests from operations, map and the
// form names of files (comma-separated), laid out by the bits of layout, and
// reads them: a refusal is a client error of the API, an accepted request
// places each file, read whole, at no more paths than the limit, builds no
// more variables than its paths need, and leaves no file behind.
func FuzzMultipart(f *testing.F) {
	const upload = `{"query":"mutation($f: Upload!) { uploadMedia(file: $f) { id } }","variables":{"f":null}}`
	const several = `{"query":"mutation($f: [Upload!]!) { a(f: $f) }","variables":{"f":[null,null]}}`
	for _, s := range []struct {
		operations, fileMap, names string
		layout                     uint8
	}{
		{upload, `{"0":["variables.f"]}`, "0", 0},
		{upload, `{"0":["variables.f"]}`, "0", 1},
		{upload, `{"0":["variables.f"]}`, "0", 16},
		{several, `{"0":["variables.f.0"],"1":["variables.f.1"]}`, "1,0", 16},
		{several, `{"0":["variables.f.0","variables.f.1"]}`, "0", 0},
		{several, `{"0":["variables.f.2"]}`, "0", 0},
		{several, `{"0":["variables.f.-1"]}`, "0", 0},
		{several, `{"0":["variables.f.x"]}`, "0", 0},
		{several, `{"0":["variables.f.0.deeper"]}`, "0", 0},
		{upload, `{"0":["variables.f.a.b.c.d"]}`, "0", 0},
		{upload, `{"0":["query"]}`, "0", 0},
		{upload, `{"0":["variables"]}`, "0", 0},
		{upload, `{"0":["variables."]}`, "0", 0},
		{upload, `{"0":[]}`, "0", 0},
		{upload, `{"0":null}`, "0", 0},
		{upload, `[]`, "0", 0},
		{upload, `{"0":["variables.f"]}`, "0,0", 0},
		{upload, `{"0":["variables.f"]}`, "", 0},
		{upload, `{"0":["variables.f"]}`, "0,1", 0},
		{upload, `{"0":["variables.f"],"1":["variables.g"]}`, "0", 0},
		{upload, `{"0":["variables.f"]}`, "0", 2},
		{upload, `{"0":["variables.f"]}`, "0", 4},
		{upload, `{"0":["variables.f"]}`, "0", 8},
		{upload, `{"0":["variables.f"]}`, "0", 64},
		{upload, `{"0":["variables.f"]}`, "0", 128},
		{`{"query":""}`, `{}`, "", 0},
		{`{"query":"q","variables":[]}`, `{}`, "", 0},
		{`{"extensions":{"persistedQuery":{"version":1}}}`, `{}`, "", 0},
		{upload, `{"0":["variables.` + strings.Repeat("a.", 400) + `a"]}`, "0", 0},
		{upload, `{"0":[` + strings.Repeat(`"variables.f",`, 100) + `"variables.f"]}`, "0", 0},
		{"--X\r\nContent-Disposition: form-data; name=\"operations\"\r\n\r\n" + upload + "\r\n--X--\r\n", "", "", 32},
		{"--X\r\nContent-Disposition: form-data; name=\"0\"; filename=\"a\"\r\n\r\nx\r\n--X--\r\n", "", "", 32},
		{"--X\r\n\r\n\r\n--X", "", "", 32},
	} {
		f.Add(s.operations, s.fileMap, s.names, s.layout)
	}
	tr := multipartTransport{log: slog.New(slog.NewTextHandler(io.Discard, nil)), maxFields: 1 << 10}
	f.Fuzz(func(t *testing.T, operations, fileMap, names string, layout uint8) {
		tmp := t.TempDir()
		t.Setenv("TMPDIR", tmp)
		body, contentType := multipartBody(operations, fileMap, names, layout)
		limit := int64(1 << 14)
		if layout&128 != 0 {
			limit = int64(len(body) / 2)
		}
		r := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(body))
		r.Header.Set("Content-Type", contentType)
		r.Body = http.MaxBytesReader(httptest.NewRecorder(), r.Body, limit)
		tr.maxMemory = 1 << 10
		if layout&16 != 0 {
			tr.maxMemory = 4
		}
		files := uploads{memoryLeft: tr.maxMemory}
		p, status, err := tr.read(r, &files)
		if spilled, _ := os.ReadDir(tmp); len(spilled) != len(files.temp) {
			t.Fatalf("%d files spilled, %d kept for release", len(spilled), len(files.temp))
		}
		if err != nil {
			wantClientError(t, tr.log, status, err)
		} else {
			checkUploads(t, p, operations, fileMap, layout&32 == 0)
		}
		files.release()
		if left, _ := os.ReadDir(tmp); len(left) != 0 {
			t.Fatalf("release left %d files", len(left))
		}
	})
}

// multipartBody lays out a multipart request. The bits of layout: 1 map
// before operations, 2 a file first, 4 operations twice, 8 an unknown
// field, 32 operations is the whole body (boundary X), 64 map again after
// the files. File i is named fi.bin and holds "content of fi.bin".
func multipartBody(operations, fileMap, names string, layout uint8) (body, contentType string) {
	if layout&32 != 0 {
		return operations, "multipart/form-data; boundary=X"
	}
	var b strings.Builder
	w := multipart.NewWriter(&b)
	var fileNames []string
	if names != "" {
		fileNames = strings.Split(names, ",")
	}
	file := func(i int) {
		name := fmt.Sprintf("f%d.bin", i)
		fw, _ := w.CreateFormFile(fileNames[i], name)
		_, _ = io.WriteString(fw, "content of "+name)
	}
	if layout&2 != 0 && len(fileNames) > 0 {
		file(0)
	}
	fields := []string{"operations", operations, "map", fileMap}
	if layout&1 != 0 {
		fields = []string{"map", fileMap, "operations", operations}
	}
	if layout&4 != 0 {
		fields = append(fields, "operations", operations)
	}
	if layout&8 != 0 {
		fields = append(fields, "extra", "{}")
	}
	for i := 0; i < len(fields); i += 2 {
		_ = w.WriteField(fields[i], fields[i+1])
	}
	for i := range fileNames {
		file(i)
	}
	if layout&64 != 0 {
		_ = w.WriteField("map", fileMap)
	}
	_ = w.Close()
	return b.String(), w.FormDataContentType()
}

// wantClientError checks the response to a refused request: 400 or 413
// with one BAD_USER_INPUT error, whose message speaks of the request.
func wantClientError(t *testing.T, log *slog.Logger, status int, err error) {
	t.Helper()
	rec := httptest.NewRecorder()
	writeRefusal(rec, httptest.NewRequest(http.MethodPost, "/graphql", nil), log, status, err)
	var resp struct {
		Errors []struct {
			Message    string         `json:"message"`
			Extensions map[string]any `json:"extensions"`
		} `json:"errors"`
	}
	if jsonErr := json.Unmarshal(rec.Body.Bytes(), &resp); jsonErr != nil || len(resp.Errors) != 1 {
		t.Fatalf("refusal %d %q: %v", status, rec.Body, jsonErr)
	}
	if (rec.Code != http.StatusBadRequest && rec.Code != http.StatusRequestEntityTooLarge) || resp.Errors[0].Extensions["code"] != "BAD_USER_INPUT" {
		t.Fatalf("bad input answered %d %s (%v)", rec.Code, rec.Body, err)
	}
	if strings.Contains(resp.Errors[0].Message, "Go ") {
		t.Fatalf("the message names the server's own types: %s", resp.Errors[0].Message)
	}
}

// checkUploads checks an accepted request: it has a query, each Upload
// reads its file whole, there are at most maxUploadPaths of them, and the
// paths added at most maxUploadPathDepth objects each to the variables.
func checkUploads(t *testing.T, p *graphql.RawParams, operations, fileMap string, contents bool) {
	t.Helper()
	if p == nil || p.Query == "" && p.Extensions["persistedQuery"] == nil {
		t.Fatalf("accepted %q without a query", operations)
	}
	var sent graphql.RawParams
	_ = decodeJSON(strings.NewReader(operations), &sent)
	var paths map[string][]string
	_ = decodeJSON(strings.NewReader(fileMap), &paths)
	nPaths := 0
	for _, ps := range paths {
		nPaths += len(ps)
	}
	before, _ := countValues(t, sent.Variables, false)
	after, found := countValues(t, p.Variables, contents)
	if found > maxUploadPaths || found > nPaths {
		t.Fatalf("%d uploads placed for %d paths", found, nPaths)
	}
	if after > before+nPaths*maxUploadPathDepth {
		t.Fatalf("%d paths grew the variables from %d to %d values", nPaths, before, after)
	}
}

// countValues counts the values within v and the Uploads among them,
// checking that each Upload reads its file whole.
func countValues(t *testing.T, v any, contents bool) (values, found int) {
	switch x := v.(type) {
	case graphql.Upload:
		all, err := io.ReadAll(x.File)
		if err != nil || int64(len(all)) != x.Size || contents && string(all) != "content of "+x.Filename {
			t.Fatalf("upload %q read %q (%v), size %d", x.Filename, all, err, x.Size)
		}
		return 1, 1
	case map[string]any:
		values = 1
		for _, e := range x {
			n, u := countValues(t, e, contents)
			values, found = values+n, found+u
		}
	case []any:
		values = 1
		for _, e := range x {
			n, u := countValues(t, e, contents)
			values, found = values+n, found+u
		}
	default:
		values = 1
	}
	return values, found
}

// FuzzWebsocketMessage decodes arbitrary client messages and decides on
// them before and after connection_init: a message is acted on only when
// the protocol allows it, and every refusal closes with a code of the
// protocol and a reason a close frame can hold.
func FuzzWebsocketMessage(f *testing.F) {
	for _, s := range []string{
		`{"type":"connection_init"}`, `{"type":"connection_init","payload":null}`,
		`{"type":"connection_init","payload":{"authorization":"Bearer t"}}`,
		`{"type":"connection_init","payload":{"authorization":5}}`, `{"type":"connection_init","payload":[]}`,
		`{"type":"connection_init","payload":"x"}`,
		`{"type":"ping"}`, `{"type":"ping","payload":{"a":1}}`, `{"type":"pong"}`,
		`{"type":"subscribe","id":"1","payload":{"query":"subscription { messageReceived { id } }"}}`,
		`{"type":"subscribe","id":"1","payload":{"query":"{ a }","variables":{"a":[1,{"b":null}]},"operationName":"x","extensions":{}}}`,
		`{"type":"subscribe","id":"","payload":{"query":"{ a }"}}`, `{"type":"subscribe","payload":{"query":"{ a }"}}`,
		`{"type":"subscribe","id":1,"payload":{"query":"{ a }"}}`, `{"type":"subscribe","id":"1","payload":{"query":5}}`,
		`{"type":"subscribe","id":"1","payload":{"query":"{ a }","variables":[]}}`, `{"type":"subscribe","id":"1","payload":"{}"}`,
		`{"type":"subscribe","id":"1"}`, `{"type":"subscribe","id":"1","payload":null}`,
		`{"type":"subscribe","id":"` + strings.Repeat("€", 100) + `","payload":{"query":"{ a }"}}`,
		`{"type":"complete","id":"1"}`, `{"type":"complete"}`, `{"type":"next","id":"1","payload":{}}`,
		`{"type":5}`, `{"type":null}`, `{}`, `null`, `[]`, `"ping"`, ``, `{"type":`, `{"type":"ping"} {"type":"ping"}`,
		`{"type":"ping","type":"subscribe"}`, "{\"type\":\"ping\xff\"}",
	} {
		f.Add([]byte(s), false)
		f.Add([]byte(s), true)
	}
	f.Fuzz(func(t *testing.T, data []byte, acked bool) {
		m, ok := decodeWSMessage(data)
		if !ok {
			return
		}
		if trimmed := bytes.TrimSpace(data); len(trimmed) == 0 || trimmed[0] != '{' && string(trimmed) != "null" {
			t.Fatalf("%q decoded as a message", data)
		}
		step := wsDecide(m, acked)
		if len(closeReason("subscriber for "+m.ID+" already exists")) > maxCloseReason {
			t.Fatalf("duplicate id %q: close reason too long", m.ID)
		}
		if step.code != 0 {
			switch step.code {
			case closeBadMessage, closeUnauthorized, closeTooManyRequests:
			default:
				t.Fatalf("%q closed with %d", data, step.code)
			}
			if step.reason == "" || len(websocket.FormatCloseMessage(step.code, closeReason(step.reason))) > 125 {
				t.Fatalf("%q closed with reason %q", data, step.reason)
			}
			return
		}
		switch m.Type {
		case "connection_init":
			if acked {
				t.Fatalf("%q: second connection_init accepted", data)
			}
		case "subscribe":
			if !acked || m.ID == "" || step.params == nil {
				t.Fatalf("%q: subscribe accepted (acked %v, params %v)", data, acked, step.params)
			}
		case "ping", "pong", "complete":
		default:
			t.Fatalf("%q: type %q accepted", data, m.Type)
		}
	})
}

// FuzzHasNUL compares hasNUL with the JSON encoding of the same value,
// where U+0000 is written \u0000 in keys and strings alike.
func FuzzHasNUL(f *testing.F) {
	for _, s := range []string{
		`"a"`, `"a\u0000b"`, `{"a\u0000":1}`, `{"a":[1,{"b":"\u0000"}]}`, `[[[[["x"]]]]]`, `"\\u0000"`,
		`{"a":"\\\u0000"}`, `null`, `1e400`, `true`, `{"a":{"b":{"c":[null,"\u0000"]}}}`, `"\u0001"`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		var v any
		if decodeJSON(strings.NewReader(raw), &v) != nil {
			return
		}
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		want := strings.Contains(strings.ReplaceAll(string(b), `\\`, ""), `\u0000`)
		if got := hasNUL(v); got != want {
			t.Fatalf("hasNUL(%s) = %v, want %v", raw, got, want)
		}
	})
}

// FuzzDocumentLimits runs the document checks on arbitrary documents, with
// introspection allowed (dev) and not. The selection count refuses exactly
// the documents an independent count puts over its limits; a document it
// lets through validates quickly; and the limits measured after validation
// hold on every operation they accept.
func FuzzDocumentLimits(f *testing.F) {
	for _, s := range []string{
		`{ viewer { id username } }`,
		`query Feed($n: Int) { feed(first: $n) { edges { node { id body author { username } } } pageInfo { hasNextPage } } }`,
		`{ ...F } fragment F on Query { viewer { id } }`,
		`{ ...A } fragment A on Query { ...B } fragment B on Query { ...A }`,
		`fragment A on Query { ...A } { ...A }`,
		`{ ...Missing }`,
		`{ ... on Query { viewer { id } } }`,
		`{ __schema { types { name fields { name } } } }`,
		`{ __type(name: "User") { name } viewer { id } }`,
		`{ __schema { types { ` + strings.Repeat("name ", 6000) + `} } }`,
		`{ __schema { types { ` + strings.Repeat("name ", maxSchemaSelections-2) + `} } }`,
		`fragment A on Query { __schema { types { name } } ...A } { ...A }`,
		`{ a: viewer { id } b: viewer { id } c: viewer { id } }`,
		`{ user(username: "a\u0000b") { id } }`,
		`{ user(username: """block""") { id } }`,
		`{ ` + strings.Repeat("viewer { id } ", 120) + `}`,
		`{ ` + strings.Repeat("viewer { ", 20) + "id" + strings.Repeat(" }", 20) + ` }`,
		`{ viewer { followers { edges { node { followers { edges { node { followers { edges { node { id } } } } } } } } } } }`,
		`{ ...F ...F ...F } fragment F on Query { ...G ...G ...G } fragment G on Query { viewer { id } }`,
		`query { viewer { id } } query { viewer { id } }`,
		`mutation { logout }`, `subscription { messageReceived { id body } }`,
		``, `{`, `{ viewer(`, `query ($a: Int = 1) { trendingPosts(first: $a) { id } }`,
	} {
		f.Add(s, false)
		f.Add(s, true)
	}
	schema := graph.NewSchema(&graph.Resolver{}).Schema()
	f.Fuzz(func(t *testing.T, query string, dev bool) {
		e := limitsExtension{l: Limits{MaxDepth: maxDepth, MaxAliases: maxAliases, MaxComplexity: 5000, Introspection: dev}, validated: lru.New[*ast.QueryDocument](1), schema: schema}
		start := time.Now()
		refused := e.MutateOperationParameters(context.Background(), &graphql.RawParams{Query: query})
		doc, err := parser.ParseQueryWithTokenLimit(&ast.Source{Input: query}, parserTokenLimit)
		if err != nil {
			if refused != nil {
				t.Fatalf("refused a document that does not parse: %v", refused)
			}
			return
		}
		if n, schema := expandedSelections(doc, dev); (refused != nil) != (n > maxSelections || schema > maxSchemaSelections) {
			t.Fatalf("%d selections, %d under introspection, refused: %v", n, schema, refused)
		}
		if refused != nil {
			if refused.Extensions["code"] != codeTooComplex {
				t.Fatalf("refused with %v", refused.Extensions)
			}
			return
		}
		if errs := validator.Validate(schema, doc); errs != nil {
			checkTime(t, start, "validate")
			return
		}
		checkTime(t, start, "validate")
		for _, op := range doc.Operations {
			opCtx := &graphql.OperationContext{Doc: doc, Operation: op, Variables: map[string]any{}}
			refused := e.MutateOperationContext(context.Background(), opCtx)
			checkTime(t, start, "measure")
			depth, aliases, nul, introspection := measureExpanded(op.SelectionSet)
			switch {
			case refused != nil && refused.Extensions["code"] != codeTooComplex && refused.Extensions["code"] != "BAD_USER_INPUT":
				t.Fatalf("refused with %v", refused.Extensions)
			case refused == nil && depth > maxDepth:
				t.Fatalf("accepted depth %d", depth)
			case refused == nil && aliases > maxAliases:
				t.Fatalf("accepted %d aliases", aliases)
			case refused == nil && nul:
				t.Fatal("accepted an argument holding U+0000")
			case refused == nil && introspection && !dev:
				t.Fatal("accepted introspection outside dev")
			}
		}
	})
}

// checkTime fails a document whose checks took longer than any document
// under the limits should.
func checkTime(t *testing.T, start time.Time, what string) {
	t.Helper()
	if d := time.Since(start); d > time.Second {
		t.Fatalf("%s took %v", what, d)
	}
}

// expandedSelections counts doc's selections as selectionCount defines
// them, by memoized sizes of fragments instead of a walk: a fragment in a
// cycle is of unbounded size.
func expandedSelections(doc *ast.QueryDocument, introspection bool) (n, schema int) {
	const unbounded = 1 << 30
	type count struct{ n, schema int }
	type key struct {
		name     string
		inSchema bool
	}
	add := func(a, b count) count { return count{min(a.n+b.n, unbounded), min(a.schema+b.schema, unbounded)} }
	sizes := map[key]count{}
	var set func(s ast.SelectionSet, inSchema bool) count
	set = func(s ast.SelectionSet, inSchema bool) count {
		var c count
		for _, sel := range s {
			if inSchema {
				c.schema++
			} else {
				c.n++
			}
			switch s := sel.(type) {
			case *ast.Field:
				c = add(c, set(s.SelectionSet, inSchema || introspection && (s.Name == "__schema" || s.Name == "__type")))
			case *ast.InlineFragment:
				c = add(c, set(s.SelectionSet, inSchema))
			case *ast.FragmentSpread:
				f := doc.Fragments.ForName(s.Name)
				if f == nil {
					continue
				}
				k := key{s.Name, inSchema}
				size, ok := sizes[k]
				if !ok {
					// Until measured: a spread met again is in a cycle.
					sizes[k] = count{n: unbounded}
					if inSchema {
						sizes[k] = count{schema: unbounded}
					}
					size = set(f.SelectionSet, inSchema)
					sizes[k] = size
				}
				c = add(c, size)
			}
		}
		return c
	}
	var total count
	for _, op := range doc.Operations {
		total = add(total, set(op.SelectionSet, false))
	}
	for _, f := range doc.Fragments {
		total = add(total, set(f.SelectionSet, introspection && strings.HasPrefix(f.TypeCondition, "__")))
	}
	return total.n, total.schema
}

// measureExpanded measures a validated operation (whose fragments form no
// cycle) with its fragments expanded: its depth in fields, its aliases,
// whether an argument's literal holds U+0000 and whether it asks for
// introspection.
func measureExpanded(s ast.SelectionSet) (depth, aliases int, nul, introspection bool) {
	for _, sel := range s {
		var d, a int
		var n, i bool
		switch s := sel.(type) {
		case *ast.Field:
			d, a, n, i = measureExpanded(s.SelectionSet)
			d++
			if s.Alias != "" && s.Alias != s.Name {
				a++
			}
			i = i || s.Name == "__schema" || s.Name == "__type"
			for _, arg := range s.Arguments {
				n = n || valueHasNUL(arg.Value)
			}
		case *ast.InlineFragment:
			d, a, n, i = measureExpanded(s.SelectionSet)
		case *ast.FragmentSpread:
			d, a, n, i = measureExpanded(s.Definition.SelectionSet)
		}
		depth, aliases, nul, introspection = max(depth, d), min(aliases+a, 1<<30), nul || n, introspection || i
	}
	return depth, aliases, nul, introspection
}

// valueHasNUL reports whether a literal holds U+0000 in a string.
func valueHasNUL(v *ast.Value) bool {
	found := (v.Kind == ast.StringValue || v.Kind == ast.BlockValue) && strings.ContainsRune(v.Raw, 0)
	for _, c := range v.Children {
		found = found || valueHasNUL(c.Value)
	}
	return found
}

// countingReader counts the bytes read from it.
type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

// TestMultipartRepeatedFieldStopsEarly sends operations over and over: the
// body may be as large as the upload limit, so the request is refused at
// the second one, not after all of them are read and kept.
func TestMultipartRepeatedFieldStopsEarly(t *testing.T) {
	var b strings.Builder
	w := multipart.NewWriter(&b)
	for range 10_000 {
		_ = w.WriteField("operations", "")
	}
	_ = w.Close()
	body := &countingReader{r: strings.NewReader(b.String())}
	r := httptest.NewRequest(http.MethodPost, "/graphql", body)
	r.Header.Set("Content-Type", w.FormDataContentType())
	tr := multipartTransport{log: slog.New(slog.NewTextHandler(io.Discard, nil)), maxFields: 1 << 10}
	files := uploads{}
	defer files.release()
	_, status, err := tr.read(r, &files)
	if status != http.StatusBadRequest || err == nil {
		t.Fatalf("read: %d %v", status, err)
	}
	if body.n > 64<<10 {
		t.Fatalf("read %d of %d bytes before refusing", body.n, b.Len())
	}
}
