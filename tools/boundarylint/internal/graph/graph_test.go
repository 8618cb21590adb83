package graph

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestMermaid(t *testing.T) {
	g, err := Load(filepath.Join("testdata", "mini"))
	if err != nil {
		t.Fatal(err)
	}
	want := "```mermaid\nflowchart LR\n" +
		"  %% solid: Go imports between domains; dotted: publisher -.-> topic -.-> subscriber\n" +
		"  content[content]\n  events[events]\n  search[search]\n  social[social]\n" +
		"  content --> events\n  social --> content\n  social --> events\n" +
		"  t_content_post_created{{content.post.created}}\n" +
		"  content -.-> t_content_post_created\n" +
		"  t_content_post_created -.-> search\n" +
		"  t_content_post_created -.-> social\n" +
		"  t_social_follow_created{{social.follow.created}}\n" +
		"  social -.-> t_social_follow_created\n" +
		"  t_social_follow_created -.-> search\n" +
		"```\n"
	if got := g.Mermaid(); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

func TestSplice(t *testing.T) {
	readme := "# x\n\n" + BeginMarker + "\nold\n" + EndMarker + "\n\nrest\n"
	out, err := Splice(readme, "new\n")
	if err != nil {
		t.Fatal(err)
	}
	if want := "# x\n\n" + BeginMarker + "\nnew\n" + EndMarker + "\n\nrest\n"; out != want {
		t.Errorf("got %q, want %q", out, want)
	}
	if got, _ := Embedded(out); got != "new\n" {
		t.Errorf("embedded %q", got)
	}
	if _, err := Splice("no markers", "x"); err == nil || !strings.Contains(err.Error(), "no "+BeginMarker) {
		t.Errorf("missing markers: err %v", err)
	}
}

func TestAllowances(t *testing.T) {
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
	write("internal/events/inbox.go", "package events\n\nvar q = \"x\" + s //boundarylint:allow inbox schema\n\nvar s = \"//boundarylint:allow not a comment\"\n")
	write("internal/a/a.go", "package a\n\n//boundarylint:allowed is another word\n//boundarylint:allow\nvar q string\n")
	write("tools/x/x.go", "package x\n\n//boundarylint:allow tools are not counted\n")
	got, err := Allowances(root, "//boundarylint:allow")
	if err != nil {
		t.Fatal(err)
	}
	want := []Allowance{{File: "internal/a/a.go", Line: 4, Reason: ""}, {File: "internal/events/inbox.go", Line: 3, Reason: "inbox schema"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}
