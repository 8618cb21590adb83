package decl

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	d, msg := Parse("//nova:domain social schema=social deps=user,content,events // trailing note")
	if msg != "" {
		t.Fatal(msg)
	}
	if want := (&Domain{Name: "social", Schema: "social", Deps: []string{"content", "events", "user"}}); !reflect.DeepEqual(d, want) {
		t.Errorf("got %+v, want %+v", d, want)
	}
	if d, msg := Parse("//nova:domain events schema=events deps="); msg != "" || len(d.Deps) != 0 {
		t.Errorf("empty deps: %+v %q", d, msg)
	}
	for _, bad := range []string{"//nova:domain x", "//nova:domain x schema= deps=", "//nova:domain x deps=a schema=x", "//nova:domain x schema=x deps=a extra"} {
		if _, msg := Parse(bad); !strings.Contains(msg, "malformed") {
			t.Errorf("%q: got %q", bad, msg)
		}
	}
}

func TestParseTable(t *testing.T) {
	rows, err := ParseTable("intro\n\n| domain | may call (Go API) | owns schema |\n|---|---|---|\n" +
		"| user | identity, events | `users` |\n| events | — | `events` |\n| gateway | every domain | none |\n\nafter | a | b | c |\n")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]Row{"user": {Schema: "users", Deps: []string{"events", "identity"}}, "events": {Schema: "events"}}
	if !reflect.DeepEqual(rows, want) {
		t.Errorf("got %+v, want %+v", rows, want)
	}
	if _, err := ParseTable("no table"); err == nil {
		t.Error("no table: want an error")
	}
}

func TestCycles(t *testing.T) {
	g := map[string][]string{"a": {"b"}, "b": {"c"}, "c": {"a", "d"}, "d": {"e"}, "e": {"d"}, "f": {"a"}}
	got := Cycles([]string{"a", "b", "c", "d", "e", "f"}, g)
	want := [][]string{{"a", "b", "c", "a"}, {"d", "e", "d"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	if got := Cycles([]string{"a", "b"}, map[string][]string{"a": {"b"}}); got != nil {
		t.Errorf("acyclic: got %v", got)
	}
}

func TestLoadAndClassify(t *testing.T) {
	root := t.TempDir()
	write := func(path, text string) {
		p := filepath.Join(root, path)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("internal/user/doc.go", "// Package user.\n//\n//nova:domain user schema=users deps=events\npackage user\n")
	write("internal/events/doc.go", "//nova:domain events schema=events deps=\npackage events\n")
	write("internal/stray/stray.go", "package stray\n")
	write("internal/platform/x/x.go", "package x\n")
	s, err := Load(root)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Problems) != 0 || !reflect.DeepEqual(s.Names(), []string{"events", "user"}) || !reflect.DeepEqual(s.Undeclared, []string{"stray"}) {
		t.Fatalf("got names %v, undeclared %v, problems %v", s.Names(), s.Undeclared, s.Problems)
	}
	if s.Owners["users"] != "user" || s.Domains["user"].Line != 3 {
		t.Errorf("owners %v, line %d", s.Owners, s.Domains["user"].Line)
	}
	for rel, want := range map[string]Role{
		"internal/user/internal/store": {Kind: DomainPkg, Name: "user"},
		"internal/platform/pgtest":     {Kind: Platform},
		"internal/gateway/graph":       {Kind: Gateway},
		"internal/app":                 {Kind: Root},
		"cmd/nova":                     {Kind: Root},
		"migrations":                   {Kind: Migrations},
		"tools/boundarylint":           {Kind: Tools},
		"internal/stray":               {Kind: Undeclared, Name: "stray"},
		"scripts":                      {Kind: Other},
	} {
		if got := s.Classify(rel); got != want {
			t.Errorf("Classify(%s) = %+v, want %+v", rel, got, want)
		}
	}
	if rel, ok := Rel("example.com/m", "example.com/m/internal/user_test"); !ok || rel != "internal/user" {
		t.Errorf("Rel: %q %v", rel, ok)
	}
	if _, ok := Rel("example.com/m", "example.com/mother/x"); ok {
		t.Error("Rel: a sibling module is not inside")
	}
}
