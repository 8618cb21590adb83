package gateway

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/nova-social/nova/internal/platform/apperr"
)

// Media types of GraphQL responses.
const (
	mediaGraphQLResponse = "application/graphql-response+json"
	mediaJSON            = "application/json"
)

// httpTransport serves GraphQL over HTTP per the GraphQL-over-HTTP
// specification: POST with a JSON body for every operation, GET for
// queries only, with the status codes of the public API.
type httpTransport struct {
	log *slog.Logger
}

var _ graphql.Transport = httpTransport{}

func (httpTransport) Supports(r *http.Request) bool {
	if r.Header.Get("Upgrade") != "" {
		return false
	}
	if r.Method == http.MethodGet {
		return true
	}
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return r.Method == http.MethodPost && err == nil && mt == mediaJSON
}

func (t httpTransport) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	start := graphql.Now()
	params, status, err := decodeRequest(r)
	if err != nil {
		writeRefusal(w, r, t.log, status, err)
		return
	}
	execute(w, r, exec, params, start)
}

// execute runs params, read from r since start, and writes the response.
// Every HTTP transport ends here, so an operation gets the same status codes
// whatever carried it.
func execute(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor, params *graphql.RawParams, start time.Time) {
	ctx := r.Context()
	params.Headers = r.Header
	params.ReadTime = graphql.TraceTiming{Start: start, End: graphql.Now()}
	opCtx, errs := exec.CreateOperationContext(ctx, params)
	if errs != nil {
		status := statusForErrors(errs)
		writeResponse(w, r, status, exec.DispatchError(graphql.WithOperationContext(ctx, opCtx), errs))
		return
	}
	switch op := opCtx.Operation.Operation; {
	case r.Method == http.MethodGet && op != ast.Query:
		w.Header().Set("Allow", http.MethodPost)
		writeResponse(w, r, http.StatusMethodNotAllowed, requestError(fmt.Sprintf("a %s must be sent with POST", op)))
		return
	case op == ast.Subscription:
		writeResponse(w, r, http.StatusBadRequest, requestError("subscriptions are served over a websocket"))
		return
	}
	responses, ctx := exec.DispatchOperation(ctx, opCtx)
	resp := responses(ctx)
	if resp.Data == nil {
		// Executed: data is present even when errors nulled all of it.
		resp.Data = json.RawMessage("null")
	}
	writeResponse(w, r, http.StatusOK, resp)
}

// errBodyTooLarge distinguishes a body over the limit (413) from other
// unreadable requests.
var errBodyTooLarge = errors.New("request body too large")

// bodyError is a request body that could not be read whole for a reason
// other than its size. Its detail is network or OS text naming addresses
// and paths: it goes to the log, and the client gets a fixed message.
type bodyError struct{ err error }

func (e bodyError) Error() string { return "read request body: " + e.err.Error() }
func (e bodyError) Unwrap() error { return e.err }

// readFailed refuses a request whose body could not be read whole: 413
// past the limit; 408 when it did not arrive within the server's read
// timeout; 500 when a file of it could not be stored (only the gateway's
// own files have paths); 400 when it was cut short or is malformed.
func readFailed(err error) (*graphql.RawParams, int, error) {
	var tooLarge *http.MaxBytesError
	var netErr net.Error
	var pathErr *fs.PathError
	switch {
	case errors.As(err, &tooLarge):
		return nil, http.StatusRequestEntityTooLarge, fmt.Errorf("%w: the limit is %d bytes", errBodyTooLarge, tooLarge.Limit)
	case errors.As(err, &netErr) && netErr.Timeout():
		return nil, http.StatusRequestTimeout, bodyError{err}
	case errors.As(err, &pathErr):
		return nil, http.StatusInternalServerError, bodyError{err}
	default:
		return nil, http.StatusBadRequest, bodyError{err}
	}
}

// writeRefusal answers a request refused before execution with status.
// err's message is written for the client, unless it is a bodyError: then
// the client gets a fixed message and the log the detail. A body that did
// not arrive in time is no bad input of the client's: INTERNAL, as is a
// failure to store it.
func writeRefusal(w http.ResponseWriter, r *http.Request, log *slog.Logger, status int, err error) {
	var be bodyError
	if !errors.As(err, &be) {
		writeResponse(w, r, status, requestError(err.Error()))
		return
	}
	switch status {
	case http.StatusInternalServerError:
		log.ErrorContext(r.Context(), "store request body", "error", be.err.Error())
		writeResponse(w, r, status, codeError(internalMessage, codeInternal))
	case http.StatusRequestTimeout:
		log.InfoContext(r.Context(), "request body not received in time", "error", be.err.Error())
		writeResponse(w, r, status, codeError("request body not received within the server's read timeout", codeInternal))
	default:
		log.InfoContext(r.Context(), "request body unreadable", "error", be.err.Error())
		writeResponse(w, r, status, requestError("malformed or truncated request body"))
	}
}

// decodeRequest reads the GraphQL request parameters from the query string
// (GET) or the JSON body (POST). The status is the one to answer with when
// err is not nil.
func decodeRequest(r *http.Request) (*graphql.RawParams, int, error) {
	p := &graphql.RawParams{}
	if r.Method == http.MethodGet {
		q := r.URL.Query()
		p.Query = q.Get("query")
		p.OperationName = q.Get("operationName")
		if v := q.Get("variables"); v != "" {
			if err := decodeJSON(strings.NewReader(v), &p.Variables); err != nil {
				return nil, http.StatusBadRequest, fmt.Errorf("variables is not a JSON object: %w", err)
			}
		}
		if v := q.Get("extensions"); v != "" {
			if err := decodeJSON(strings.NewReader(v), &p.Extensions); err != nil {
				return nil, http.StatusBadRequest, fmt.Errorf("extensions is not a JSON object: %w", err)
			}
		}
	} else {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			return readFailed(err)
		}
		if err := decodeJSON(bytes.NewReader(body), p); err != nil {
			return nil, http.StatusBadRequest, fmt.Errorf("request body is not a GraphQL request in JSON: %w", err)
		}
	}
	if p.Query == "" && p.Extensions["persistedQuery"] == nil {
		return nil, http.StatusBadRequest, errors.New("query is required")
	}
	return p, 0, nil
}

// decodeJSON decodes exactly one JSON value, keeping numbers exact.
func decodeJSON(r io.Reader, v any) error {
	dec := json.NewDecoder(r)
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) {
			return wrongType(typeErr)
		}
		return err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errors.New("unexpected data after the JSON value")
	}
	return nil
}

// wrongType describes a JSON value of the wrong type by its field and the
// kind of value expected: encoding/json's own text names the server's Go
// types.
func wrongType(e *json.UnmarshalTypeError) error {
	field := e.Field
	if field == "" {
		field = "the value"
	}
	want := "another type"
	switch e.Type.Kind() {
	case reflect.Map, reflect.Struct:
		want = "an object"
	case reflect.Slice, reflect.Array:
		want = "a list"
	case reflect.String:
		want = "a string"
	case reflect.Bool:
		want = "a boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Float32, reflect.Float64:
		want = "a number"
	}
	return fmt.Errorf("%s must be %s, not a JSON %s", field, want, e.Value)
}

// statusForErrors picks the status of a request refused before execution:
// 400 when the document does not parse, 200 for an unknown persisted query
// (clients then send the full query), 422 for every other refusal.
func statusForErrors(errs gqlerror.List) int {
	for _, e := range errs {
		switch e.Extensions["code"] {
		case errcode.ParseFailed:
			return http.StatusBadRequest
		case "PERSISTED_QUERY_NOT_FOUND":
			return http.StatusOK
		}
	}
	return http.StatusUnprocessableEntity
}

// requestError is the response to a request that is not a GraphQL request.
func requestError(msg string) *graphql.Response {
	return &graphql.Response{Errors: gqlerror.List{{
		Message:    msg,
		Extensions: map[string]any{"code": string(apperr.BadInput), "field": "query"},
	}}}
}

// codeError is a response of one error with code and no field.
func codeError(msg, code string) *graphql.Response {
	return &graphql.Response{Errors: gqlerror.List{{Message: msg, Extensions: map[string]any{"code": code}}}}
}

// responseType is application/graphql-response+json when the client
// accepts it, else application/json.
func responseType(r *http.Request) string {
	for _, part := range strings.Split(r.Header.Get("Accept"), ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil || mt != mediaGraphQLResponse {
			continue
		}
		if q, ok := params["q"]; ok {
			if f, err := strconv.ParseFloat(q, 64); err != nil || f <= 0 {
				continue
			}
		}
		return mediaGraphQLResponse
	}
	return mediaJSON
}

// appendResponse appends resp as sent to dst: data is absent, not null,
// when the operation did not execute. The data gqlgen produced is copied as
// it is: encoding/json would re-scan and compact all of it (a
// json.RawMessage is validated), which was a twentieth of the CPU of a feed
// page.
func appendResponse(dst []byte, resp *graphql.Response) ([]byte, error) {
	open := byte('{')
	member := func(name string, value []byte) {
		dst = append(append(append(append(dst, open, '"'), name...), '"', ':'), value...)
		open = ','
	}
	if len(resp.Errors) > 0 {
		errs, err := json.Marshal(resp.Errors)
		if err != nil {
			return dst, fmt.Errorf("encode errors: %w", err)
		}
		member("errors", errs)
	}
	if len(resp.Data) > 0 {
		member("data", resp.Data)
	}
	if len(resp.Extensions) > 0 {
		ext, err := json.Marshal(resp.Extensions)
		if err != nil {
			return dst, fmt.Errorf("encode extensions: %w", err)
		}
		member("extensions", ext)
	}
	if open == '{' {
		return append(dst, "{}"...), nil
	}
	return append(dst, '}'), nil
}

// writeResponse sends resp in one Write, from a reused buffer: written
// piece by piece, a feed page took three system calls, the last for its
// closing brace alone, where the server's 4 KiB connection buffer needs two.
func writeResponse(w http.ResponseWriter, r *http.Request, status int, resp *graphql.Response) {
	buf := bodies.Get().(*[]byte)
	body, err := appendResponse((*buf)[:0], resp)
	if err != nil {
		status = http.StatusInternalServerError
		body = append(body[:0], `{"errors":[{"message":"`+internalMessage+`","extensions":{"code":"`+codeInternal+`"}}]}`...)
	}
	w.Header().Set("Content-Type", responseType(r)+"; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
	if cap(body) <= maxPooledBody {
		*buf = body
		bodies.Put(buf)
	}
}

// bodies are the buffers responses are written from.
var bodies = sync.Pool{New: func() any { return new([]byte) }}

// maxPooledBody bounds the buffers kept for reuse: a rare large response
// should not pin its buffer.
const maxPooledBody = 64 << 10

// refuseTransport answers every request no other transport takes: 405 for
// methods other than GET and POST, 415 for POST bodies of another type.
type refuseTransport struct{}

func (refuseTransport) Supports(*http.Request) bool { return true }

func (refuseTransport) Do(w http.ResponseWriter, r *http.Request, _ graphql.GraphExecutor) {
	if r.Method != http.MethodPost && r.Method != http.MethodGet {
		w.Header().Set("Allow", "GET, POST")
		writeResponse(w, r, http.StatusMethodNotAllowed, requestError("GraphQL is served with GET and POST"))
		return
	}
	if r.Header.Get("Upgrade") != "" {
		writeResponse(w, r, http.StatusBadRequest, requestError("only websocket upgrades are supported"))
		return
	}
	writeResponse(w, r, http.StatusUnsupportedMediaType, requestError("send application/json or multipart/form-data"))
}
