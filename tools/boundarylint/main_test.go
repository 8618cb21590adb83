package main

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/nova-social/nova/tools/boundarylint/internal/decl"
	"github.com/nova-social/nova/tools/boundarylint/internal/graph"
	"github.com/nova-social/nova/tools/boundarylint/internal/migcheck"
)

// root is the repository root, relative to this package's directory.
const root = "../.."

// binary is the boundarylint executable the end-to-end test runs: the one
// `make lint` built, when it is newer than every source file of the tool,
// or else one built once for this test run.
var binary string

func TestMain(m *testing.M) {
	code := m.Run()
	if strings.HasPrefix(binary, os.TempDir()) {
		_ = os.RemoveAll(filepath.Dir(binary))
	}
	os.Exit(code)
}

func linterBinary(t *testing.T) string {
	t.Helper()
	if binary != "" {
		return binary
	}
	built := filepath.Join(root, "bin", "boundarylint")
	if fresh(built) {
		abs, err := filepath.Abs(built)
		if err != nil {
			t.Fatal(err)
		}
		binary = abs
		return binary
	}
	dir, err := os.MkdirTemp("", "boundarylint-bin")
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "boundarylint")
	cmd := exec.Command("go", "build", "-o", out, ".")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build boundarylint: %v\n%s", err, b)
	}
	binary = out
	return binary
}

// fresh reports whether the executable at path is newer than the tool's
// sources and the module files.
func fresh(path string) bool {
	st, err := os.Stat(path)
	if err != nil {
		return false
	}
	stale := false
	check := func(p string) {
		if s, err := os.Stat(p); err == nil && s.ModTime().After(st.ModTime()) {
			stale = true
		}
	}
	check(filepath.Join(root, "go.mod"))
	check(filepath.Join(root, "go.sum"))
	_ = filepath.WalkDir(".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".go") && !strings.Contains(p, "testdata") {
			check(p)
		}
		return nil
	})
	return !stale
}

// TestDeclarationsMatchArchitecture: the declarations in the domains' doc.go
// files are the dependency table of the architecture document.
func TestDeclarationsMatchArchitecture(t *testing.T) {
	set, err := decl.Load(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range set.Problems {
		t.Errorf("%s:%d: %s", p.File, p.Line, p.Msg)
	}
	copyRows := readTable(t, filepath.Join("testdata", "architecture-table.md"))
	want := copyRows
	if doc, err := os.ReadFile(filepath.Join(root, "..", "shared", "ARCHITECTURE.md")); err == nil {
		want, err = decl.ParseTable(string(doc))
		if err != nil {
			t.Fatalf("architecture document: %v", err)
		}
		if !reflect.DeepEqual(want, copyRows) {
			t.Errorf("testdata/architecture-table.md is stale: copy the table of the architecture document\ndocument: %v\ncopy:     %v", want, copyRows)
		}
	} else {
		t.Logf("architecture document not beside the repository; using testdata/architecture-table.md")
	}
	got := map[string]decl.Row{}
	for name, d := range set.Domains {
		got[name] = decl.Row{Schema: d.Schema, Deps: d.Deps}
	}
	if !reflect.DeepEqual(got, want) {
		for _, name := range union(got, want) {
			if !reflect.DeepEqual(got[name], want[name]) {
				t.Errorf("domain %s: declared %+v, architecture table says %+v", name, got[name], want[name])
			}
		}
	}
}

func readTable(t *testing.T, path string) map[string]decl.Row {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := decl.ParseTable(string(data))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return rows
}

func union(a, b map[string]decl.Row) []string {
	seen := map[string]bool{}
	for k := range a {
		seen[k] = true
	}
	for k := range b {
		seen[k] = true
	}
	out := make([]string, 0, len(seen))
	for k := range seen {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// TestMigrations: the repository's migrations touch only their domain's schema.
func TestMigrations(t *testing.T) {
	set, err := decl.Load(root)
	if err != nil {
		t.Fatal(err)
	}
	findings, err := migcheck.Check(filepath.Join(root, "migrations"), set)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range findings {
		t.Error(f)
	}
}

// TestGraphInReadme fails when the README's diagram is not what the code
// says; `make graph` refreshes it.
func TestGraphInReadme(t *testing.T) {
	g, err := graph.Load(root)
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	embedded, err := graph.Embedded(string(readme))
	if err != nil {
		t.Fatal(err)
	}
	if want := g.Mermaid(); embedded != want {
		t.Errorf("the README's boundary graph is stale: run `make graph`\n%s", lineDiff(embedded, want))
	}
}

// lineDiff lists the lines only in the README (-) and only in the code (+).
func lineDiff(readme, code string) string {
	count := func(s string) map[string]int {
		m := map[string]int{}
		for _, l := range strings.Split(s, "\n") {
			m[l]++
		}
		return m
	}
	inReadme, inCode := count(readme), count(code)
	var b strings.Builder
	for _, l := range strings.Split(readme, "\n") {
		if inCode[l] == 0 {
			fmt.Fprintf(&b, "- %s\n", l)
		}
	}
	for _, l := range strings.Split(code, "\n") {
		if inReadme[l] == 0 {
			fmt.Fprintf(&b, "+ %s\n", l)
		}
	}
	return b.String()
}

// injected are the violations the end-to-end test adds to a copy of the
// repository, each with the diagnostic go vet must print.
var injected = []struct {
	file, code string
	want       []string
}{
	{
		file: "internal/content/e2eimport/e2eimport.go",
		code: `package e2eimport

import _ "github.com/nova-social/nova/internal/social"
`,
		want: []string{`e2eimport.go:3:8: content may not import social \(internal/social\): content's declared dependencies are \{events, media, user\}`},
	},
	{
		file: "internal/content/e2esql/e2esql.go",
		code: `package e2esql

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"
)

func Owner(ctx context.Context, p *pgxpool.Pool, id string) (string, error) {
	var owner string
	err := p.QueryRow(ctx, "SELECT user_id FROM identity.sessions WHERE id = $1", id).Scan(&owner)
	return owner, err
}

func Delete(ctx context.Context, p *pgxpool.Pool, id string) error {
	_, err := p.Exec(ctx, fmt.Sprintf("DELETE FROM content.posts WHERE id = '%s'", id))
	return err
}
`,
		want: []string{
			`e2esql.go:12:25: content may not read identity.sessions: ask identity through its API or keep a projection fed by events`,
			`e2esql.go:17:24: SQL passed to Exec is built at run time, not a compile-time constant`,
		},
	},
	{
		file: "internal/social/e2ecycle/e2ecycle.go",
		code: `package e2ecycle

import _ "github.com/nova-social/nova/internal/content"
`,
	},
	{
		file: "internal/content/e2ecycle/e2ecycle.go",
		code: `package e2ecycle

import _ "github.com/nova-social/nova/internal/social/e2ecycle"
`,
		want: []string{`e2ecycle.go:3:8: domain cycle content → social → content \(internal/content/e2ecycle imports internal/social/e2ecycle; internal/social/e2ecycle imports internal/content\)`},
	},
}

var diagnosticLine = regexp.MustCompile(`^(\S+\.go):\d+:\d+: `)

// TestEndToEnd copies the repository, injects a forbidden import, a query
// on another domain's table, a domain cycle and fmt.Sprintf-built SQL, and
// checks that go vet with boundarylint fails with each diagnostic, and with
// nothing else: the repository itself passes.
func TestEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("copies and vets the whole repository")
	}
	bin := linterBinary(t)
	dir := t.TempDir()
	if err := copyRepo(root, dir); err != nil {
		t.Fatal(err)
	}
	for _, inj := range injected {
		path := filepath.Join(dir, filepath.FromSlash(inj.file))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(inj.code), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	start := time.Now()
	cmd := exec.Command("go", "vet", "-vettool="+bin, "./...")
	cmd.Dir = dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	t.Logf("go vet -vettool=boundarylint on the copy: %v", time.Since(start).Round(time.Millisecond))
	if err == nil {
		t.Fatalf("go vet succeeded on a repository with four violations:\n%s", out.String())
	}
	text := out.String()
	for _, inj := range injected {
		for _, w := range inj.want {
			if !regexp.MustCompile(regexp.QuoteMeta(filepath.Dir(inj.file)) + "/" + w).MatchString(text) {
				t.Errorf("missing diagnostic %s/%s", filepath.Dir(inj.file), w)
			}
		}
	}
	var others []string
	for _, line := range strings.Split(text, "\n") {
		m := diagnosticLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		if strings.Contains(m[1], "/e2e") {
			t.Log(line)
			continue
		}
		others = append(others, line)
	}
	if len(others) > 0 {
		t.Errorf("the repository itself does not pass (boundary violations or build errors):\n%s", strings.Join(others, "\n"))
	}
	if t.Failed() {
		t.Logf("go vet output:\n%s", text)
	}
}

// copyRepo copies the source tree (no VCS data, binaries or local data).
func copyRepo(src, dst string) error {
	return filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		if d.IsDir() {
			switch rel {
			case ".git", "bin", "data", "node_modules":
				return filepath.SkipDir
			}
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return fmt.Errorf("copy %s: %w", rel, err)
		}
		return os.WriteFile(filepath.Join(dst, rel), data, 0o644)
	})
}

// TestDeclarationsInToolID: a changed declaration changes the tool's
// -V=full answer, hence the cache key of every vet result, so packages
// that do not import their domain's root package are checked again.
func TestDeclarationsInToolID(t *testing.T) {
	dir := t.TempDir()
	doc := filepath.Join(dir, "internal", "social", "doc.go")
	if err := os.MkdirAll(filepath.Dir(doc), 0o755); err != nil {
		t.Fatal(err)
	}
	write := func(deps string) string {
		text := "//nova:domain social schema=social deps=" + deps + "\npackage social\n"
		if err := os.WriteFile(doc, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return declarations(dir)
	}
	a, b := write("content,user,events"), write("content,events")
	if a == b || !strings.Contains(a, "[content events user]") {
		t.Errorf("declarations do not reflect deps=: %q then %q", a, b)
	}
	if c := write("content,events"); c != b {
		t.Errorf("not deterministic: %q then %q", b, c)
	}
}
