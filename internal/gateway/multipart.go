package gateway

import (
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/99designs/gqlgen/graphql"
)

// multipartTransport serves the GraphQL multipart request specification:
// an "operations" field, a "map" from file fields to variable paths, then
// the files, which become Upload values. The server's body limit for
// multipart requests bounds the whole request.
type multipartTransport struct {
	// maxMemory is how much of the files is kept in memory; the rest spills
	// to temporary files removed after the request.
	maxMemory int64
}

func (multipartTransport) Supports(r *http.Request) bool {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return r.Header.Get("Upgrade") == "" && r.Method == http.MethodPost && err == nil && mt == "multipart/form-data"
}

func (t multipartTransport) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	start := graphql.Now()
	if err := r.ParseMultipartForm(t.maxMemory); err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			writeResponse(w, r, http.StatusRequestEntityTooLarge, requestError(fmt.Sprintf("request body too large: the limit is %d bytes", tooLarge.Limit)))
			return
		}
		writeResponse(w, r, http.StatusBadRequest, requestError("malformed multipart request"))
		return
	}
	defer func() { _ = r.MultipartForm.RemoveAll() }()
	params, err := multipartParams(r)
	if err != nil {
		writeResponse(w, r, http.StatusBadRequest, requestError(err.Error()))
		return
	}
	execute(w, r, exec, params, start)
}

// multipartParams decodes "operations" and places each mapped file at its
// variable paths.
func multipartParams(r *http.Request) (*graphql.RawParams, error) {
	form := r.MultipartForm
	ops := form.Value["operations"]
	if len(ops) != 1 {
		return nil, errors.New(`multipart request needs one "operations" field`)
	}
	p := &graphql.RawParams{}
	if err := decodeJSON(strings.NewReader(ops[0]), p); err != nil {
		return nil, fmt.Errorf("operations is not a GraphQL request in JSON: %w", err)
	}
	if p.Query == "" && p.Extensions["persistedQuery"] == nil {
		return nil, errors.New("query is required")
	}
	var fileMap map[string][]string
	if m := form.Value["map"]; len(m) != 1 {
		return nil, errors.New(`multipart request needs one "map" field`)
	} else if err := decodeJSON(strings.NewReader(m[0]), &fileMap); err != nil {
		return nil, fmt.Errorf("map is not a JSON object of paths: %w", err)
	}
	if p.Variables == nil {
		p.Variables = map[string]any{}
	}
	for key, paths := range fileMap {
		files := form.File[key]
		if len(files) != 1 || len(paths) == 0 {
			return nil, fmt.Errorf("file %q is missing or mapped to no path", key)
		}
		fh := files[0]
		for _, path := range paths {
			f, err := fh.Open()
			if err != nil {
				return nil, fmt.Errorf("open file %q: %w", key, err)
			}
			up := graphql.Upload{File: f, Filename: fh.Filename, Size: fh.Size, ContentType: fh.Header.Get("Content-Type")}
			if err := setPath(p.Variables, path, up); err != nil {
				_ = f.Close()
				return nil, err
			}
		}
	}
	return p, nil
}

// setPath stores v at a path such as "variables.input.files.1".
func setPath(vars map[string]any, path string, v any) error {
	parts := strings.Split(path, ".")
	if len(parts) < 2 || parts[0] != "variables" {
		return fmt.Errorf("map path %q must start with variables.", path)
	}
	var cur any = vars
	for i, part := range parts[1:] {
		last := i == len(parts)-2
		switch c := cur.(type) {
		case map[string]any:
			if last {
				c[part] = v
				return nil
			}
			next, ok := c[part]
			if !ok || next == nil {
				next = map[string]any{}
				c[part] = next
			}
			cur = next
		case []any:
			n, err := strconv.Atoi(part)
			if err != nil || n < 0 || n >= len(c) {
				return fmt.Errorf("map path %q names no list item", path)
			}
			if last {
				c[n] = v
				return nil
			}
			cur = c[n]
		default:
			return fmt.Errorf("map path %q goes through a value that is not an object or list", path)
		}
	}
	return nil
}
