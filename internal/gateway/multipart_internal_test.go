package gateway

import (
	"bytes"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"

	"github.com/99designs/gqlgen/graphql"
)

// TestMultipartPathsShareOneCopy stores a file in memory and one spilled
// to disk, each mapped to two paths: every path reads the whole file from
// its own offset, and release removes the spilled copy.
func TestMultipartPathsShareOneCopy(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	small, big := []byte("small file"), bytes.Repeat([]byte("0123456789abcdef"), 256)
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	_ = w.WriteField("map", `{"big":["variables.a","variables.list.1"],"small":["variables.b","variables.c"]}`)
	_ = w.WriteField("operations", `{"query":"{ __typename }","variables":{"list":[null,null]}}`)
	for name, content := range map[string][]byte{"big": big, "small": small} {
		fw, _ := w.CreateFormFile(name, name+".bin")
		_, _ = fw.Write(content)
	}
	_ = w.Close()
	r := httptest.NewRequest(http.MethodPost, "/graphql", &b)
	r.Header.Set("Content-Type", w.FormDataContentType())

	tr := multipartTransport{log: slog.New(slog.NewTextHandler(io.Discard, nil)), maxFields: 1 << 10, maxMemory: 1 << 10}
	files := uploads{memoryLeft: tr.maxMemory}
	p, status, err := tr.read(r, &files)
	if err != nil {
		t.Fatalf("read: %d %v", status, err)
	}
	upload := func(v any) io.Reader { return v.(graphql.Upload).File }
	// Half of one path, then the other path whole, then the rest of the first.
	a := upload(p.Variables["a"])
	first := make([]byte, len(big)/2)
	if _, err := io.ReadFull(a, first); err != nil {
		t.Fatal(err)
	}
	for name, got := range map[string]io.Reader{"list.1": upload(p.Variables["list"].([]any)[1]), "b": upload(p.Variables["b"]), "c": upload(p.Variables["c"])} {
		want := big
		if name != "list.1" {
			want = small
		}
		if all, _ := io.ReadAll(got); !bytes.Equal(all, want) {
			t.Fatalf("%s: read %d bytes, want %d", name, len(all), len(want))
		}
	}
	if rest, _ := io.ReadAll(a); !bytes.Equal(append(first, rest...), big) {
		t.Fatal("a: the other path's reads moved its offset")
	}
	if spilled, _ := os.ReadDir(tmp); len(spilled) != 1 {
		t.Fatalf("%d files spilled, want 1", len(spilled))
	}
	files.release()
	if left, _ := os.ReadDir(tmp); len(left) != 0 {
		t.Fatalf("release left %d files", len(left))
	}
}
