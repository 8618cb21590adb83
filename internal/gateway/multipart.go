package gateway

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"mime"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/99designs/gqlgen/graphql"
)

// maxUploadPaths is how many variable paths map may name in all: each is an
// Upload value the operation receives.
const maxUploadPaths = 100

// maxUploadPathDepth is how many objects and lists a map path may cross. A
// path creates the objects it names that the variables lack: without a
// bound, a megabyte of "variables.a.a.a…" would build half a million of
// them, over a hundred megabytes.
const maxUploadPathDepth = 32

// multipartTransport serves the GraphQL multipart request specification:
// the fields "operations" and "map", then the files, which become Upload
// values. Only the files may use the server's upload limit: operations and
// map together, with the files' names and media types, are held to
// maxFields, the body limit of every other request.
type multipartTransport struct {
	log *slog.Logger
	// maxFields is how many bytes operations and map, and the names and
	// media types of the files, may hold together.
	maxFields int64
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
	files := uploads{memoryLeft: t.maxMemory}
	defer files.release()
	params, status, err := t.read(r, &files)
	if err != nil {
		writeRefusal(w, r, t.log, status, err)
		return
	}
	execute(w, r, exec, params, start)
}

// read decodes operations and map, then stores each file once into files
// and places it at its variable paths. The status is the one to answer
// with when err is not nil.
func (t multipartTransport) read(r *http.Request, files *uploads) (*graphql.RawParams, int, error) {
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, http.StatusBadRequest, errors.New("malformed multipart request")
	}
	fields := map[string]string{}
	left := t.maxFields
	part, partErr := mr.NextPart()
	for ; partErr == nil && part.FileName() == ""; part, partErr = mr.NextPart() {
		name := part.FormName()
		if name != "operations" && name != "map" {
			return nil, http.StatusBadRequest, fmt.Errorf("unexpected field %q: a multipart request holds operations, map and files", name)
		}
		if _, dup := fields[name]; dup {
			// Refused at once: the files' limit would let a body repeat it
			// millions of times.
			return nil, http.StatusBadRequest, fmt.Errorf("multipart request needs one %q field", name)
		}
		value, err := io.ReadAll(io.LimitReader(part, left+1))
		if err != nil {
			return readFailed(err)
		}
		if left -= int64(len(value)); left < 0 {
			return nil, http.StatusRequestEntityTooLarge, fmt.Errorf("%w: operations and map may hold %d bytes together", errBodyTooLarge, t.maxFields)
		}
		fields[name] = string(value)
	}
	if partErr != nil && !errors.Is(partErr, io.EOF) {
		return readFailed(partErr)
	}
	p, fileMap, err := decodeFields(fields)
	if err != nil {
		return nil, http.StatusBadRequest, err
	}
	for ; partErr == nil; part, partErr = mr.NextPart() {
		key := part.FormName()
		if part.FileName() == "" {
			return nil, http.StatusBadRequest, fmt.Errorf("field %q after the files: operations and map come first", key)
		}
		paths, ok := fileMap[key]
		if !ok {
			return nil, http.StatusBadRequest, fmt.Errorf("file %q is not in map, or sent twice", key)
		}
		delete(fileMap, key)
		// A file's name and media type live as long as the request, in
		// memory: they count with operations and map, not with the upload
		// limit, or a hundred files with megabyte names would hold the whole
		// upload limit in memory. Copied, since a name shares the memory of
		// its whole Content-Disposition header, which may be far longer.
		name, contentType := strings.Clone(part.FileName()), strings.Clone(part.Header.Get("Content-Type"))
		if left -= int64(len(name) + len(contentType)); left < 0 {
			return nil, http.StatusRequestEntityTooLarge, fmt.Errorf("%w: operations, map and the files' names and media types may hold %d bytes together", errBodyTooLarge, t.maxFields)
		}
		content, size, err := files.store(part)
		if err != nil {
			return readFailed(err)
		}
		for _, path := range paths {
			// Each path reads the one stored copy from its own offset.
			up := graphql.Upload{File: io.NewSectionReader(content, 0, size), Filename: name, Size: size, ContentType: contentType}
			if err := setPath(p.Variables, path, up); err != nil {
				return nil, http.StatusBadRequest, err
			}
		}
	}
	if !errors.Is(partErr, io.EOF) {
		return readFailed(partErr)
	}
	if len(fileMap) > 0 {
		return nil, http.StatusBadRequest, fmt.Errorf("files missing: %s", strings.Join(slices.Sorted(maps.Keys(fileMap)), ", "))
	}
	return p, 0, nil
}

// decodeFields decodes operations and map, which names at most
// maxUploadPaths paths, each at most maxUploadPathDepth levels deep and
// none twice or inside another.
func decodeFields(fields map[string]string) (*graphql.RawParams, map[string][]string, error) {
	ops, ok := fields["operations"]
	if !ok {
		return nil, nil, errors.New(`multipart request needs one "operations" field`)
	}
	p := &graphql.RawParams{}
	if err := decodeJSON(strings.NewReader(ops), p); err != nil {
		return nil, nil, fmt.Errorf("operations is not a GraphQL request in JSON: %w", err)
	}
	if p.Query == "" && p.Extensions["persistedQuery"] == nil {
		return nil, nil, errors.New("query is required")
	}
	var fileMap map[string][]string
	if m, ok := fields["map"]; !ok {
		return nil, nil, errors.New(`multipart request needs one "map" field`)
	} else if err := decodeJSON(strings.NewReader(m), &fileMap); err != nil {
		return nil, nil, fmt.Errorf("map is not a JSON object of paths: %w", err)
	}
	n := 0
	for key, paths := range fileMap {
		if len(paths) == 0 {
			return nil, nil, fmt.Errorf("file %q is mapped to no path", key)
		}
		for _, path := range paths {
			if strings.Count(path, ".") > maxUploadPathDepth {
				return nil, nil, fmt.Errorf("map path %q is deeper than %d levels", path, maxUploadPathDepth)
			}
		}
		n += len(paths)
	}
	if n > maxUploadPaths {
		return nil, nil, fmt.Errorf("map names %d paths: at most %d are allowed", n, maxUploadPaths)
	}
	if path, ok := overlappingPath(fileMap); ok {
		return nil, nil, fmt.Errorf("map path %q is named twice, or lies inside another", path)
	}
	if p.Variables == nil {
		p.Variables = map[string]any{}
	}
	return p, fileMap, nil
}

// overlappingPath returns a path of fileMap named twice, or lying inside
// another path: the file placed last would replace the other, which the
// operation would then go without, unnoticed.
func overlappingPath(fileMap map[string][]string) (string, bool) {
	named := map[string]bool{}
	for _, paths := range fileMap {
		for _, path := range paths {
			if named[path] {
				return path, true
			}
			named[path] = true
		}
	}
	for path := range named {
		for i := strings.LastIndexByte(path, '.'); i > 0; i = strings.LastIndexByte(path[:i], '.') {
			if named[path[:i]] {
				return path, true
			}
		}
	}
	return "", false
}

// uploads are the files of one request: in memory while they fit in
// memoryLeft, else in temporary files, which release closes and removes.
type uploads struct {
	memoryLeft int64
	temp       []*os.File
}

// store reads part whole and returns its content and size.
func (u *uploads) store(part io.Reader) (io.ReaderAt, int64, error) {
	var head bytes.Buffer
	n, err := io.CopyN(&head, part, u.memoryLeft+1)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, 0, err
	}
	if n <= u.memoryLeft {
		u.memoryLeft -= n
		return bytes.NewReader(head.Bytes()), n, nil
	}
	f, err := os.CreateTemp("", "nova-upload-")
	if err != nil {
		return nil, 0, fmt.Errorf("spill upload: %w", err)
	}
	u.temp = append(u.temp, f)
	size, err := io.Copy(f, io.MultiReader(&head, part))
	if err != nil {
		return nil, 0, fmt.Errorf("spill upload: %w", err)
	}
	return f, size, nil
}

func (u *uploads) release() {
	for _, f := range u.temp {
		_ = f.Close()
		_ = os.Remove(f.Name())
	}
}

// setPath stores v at a path such as "variables.input.files.1", which
// decodeFields checked to be at most maxUploadPathDepth levels deep.
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
