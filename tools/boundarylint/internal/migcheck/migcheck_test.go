package migcheck

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nova-social/nova/tools/boundarylint/internal/decl"
	"github.com/nova-social/nova/tools/boundarylint/internal/sqlcheck"
)

var owners = map[string]string{"content": "content", "identity": "identity", "users": "user", "events": "events"}

func TestCheckFile(t *testing.T) {
	content := sqlcheck.Scope{Domain: "content", Schema: "content", Owners: owners, Migration: true}
	events := sqlcheck.Scope{Domain: "events", Schema: "events", Owners: owners, Migration: true}
	cases := []struct {
		name string
		sc   sqlcheck.Scope
		text string
		want []string // "line: substring"
	}{
		{"clean", content, `-- +goose Up
CREATE TABLE content.posts (
    id uuid PRIMARY KEY,
    author_id uuid NOT NULL
);
CREATE INDEX posts_author ON content.posts (author_id);

-- +goose Down
DROP TABLE content.posts;
`, nil},
		{"statement blocks and grants to other roles", events, `-- +goose Up
-- +goose StatementBegin
CREATE FUNCTION events.publish(p uuid) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  INSERT INTO events.domain_events (id) VALUES (p);
END $$;
-- +goose StatementEnd
GRANT USAGE ON SCHEMA events TO nova_content, nova_user;
GRANT EXECUTE ON FUNCTION events.publish(uuid) TO nova_content;

-- +goose Down
DROP FUNCTION events.publish(uuid);
`, nil},
		{"foreign key into another schema", content, `-- +goose Up
CREATE TABLE content.posts (
    id uuid PRIMARY KEY,
    author_id uuid NOT NULL REFERENCES users.users (id)
);
-- +goose Down
DROP TABLE content.posts;
`, []string{"4: content may not read users.users"}},
		{"unqualified table", content, `-- +goose Up
CREATE TABLE posts (id uuid);
-- +goose Down
DROP TABLE posts;
`, []string{"2: unqualified table posts", "4: unqualified name posts in DROP"}},
		{"down section touches another schema", content, `-- +goose Up
SELECT 1;

-- +goose Down
DROP TABLE content.x;
DROP TABLE identity.sessions;
`, []string{"6: content may not drop object identity.sessions"}},
		{"function body reads another schema", content, `-- +goose Up
-- +goose StatementBegin
CREATE FUNCTION content.author_name(p uuid) RETURNS text LANGUAGE sql AS $$
  SELECT username FROM users.users WHERE id = p
$$;
-- +goose StatementEnd
-- +goose Down
DROP FUNCTION content.author_name(uuid);
`, []string{"3: in a function body: content may not read users.users"}},
		{"search path and roles", content, `-- +goose Up
SET search_path TO content;
GRANT nova_identity TO nova_content;
GRANT SELECT ON ALL TABLES IN SCHEMA identity TO nova_content;
CREATE SCHEMA extra;
`, []string{"2: SET search_path is forbidden", "3: granting role membership", "4: content may not grant on schema identity", "5: content may not create schema extra"}},
		{"no goose annotation", content, "CREATE TABLE content.x (id int);\n", []string{"1: no `-- +goose Up` annotation"}},
		{"does not parse", content, "-- +goose Up\nCREATE TABLE content.x (id int;\n", []string{"does not parse"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := CheckFile(tc.text, tc.sc)
			if len(got) != len(tc.want) {
				t.Fatalf("got %d findings %v, want %d", len(got), got, len(tc.want))
			}
			for i, w := range tc.want {
				line, msg, ok := strings.Cut(w, ": ")
				if !ok {
					msg = w
				}
				if ok && line != "" && strings.Contains(w, ": ") && got[i].Line != atoi(line) {
					t.Errorf("finding %d at line %d, want %s", i, got[i].Line, line)
				}
				if !strings.Contains(got[i].Msg, msg) {
					t.Errorf("finding %d %q does not contain %q", i, got[i].Msg, msg)
				}
			}
		})
	}
}

func atoi(s string) int {
	n := 0
	for _, c := range s {
		if c < '0' || c > '9' {
			return -1
		}
		n = n*10 + int(c-'0')
	}
	return n
}

func TestCheckFolders(t *testing.T) {
	dir := t.TempDir()
	write := func(path, text string) {
		p := filepath.Join(dir, path)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("migrations/user/00001_users.sql", "-- +goose Up\nCREATE TABLE users.users (id uuid);\n")
	write("migrations/user/00002_bad.sql", "-- +goose Up\nCREATE TABLE content.users (id uuid);\n")
	write("migrations/nosuch/00001_x.sql", "-- +goose Up\nSELECT 1;\n")
	set := &decl.Set{Domains: map[string]*decl.Domain{"user": {Name: "user", Schema: "users"}}, Owners: map[string]string{"users": "user", "content": "content"}}
	got, err := Check(filepath.Join(dir, "migrations"), set)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"migrations/nosuch:1: migrations/nosuch is not a declared domain",
		"migrations/user/00002_bad.sql:2: user may not read content.users",
	}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range want {
		if !strings.HasPrefix(got[i].String(), want[i]) {
			t.Errorf("got %q, want prefix %q", got[i], want[i])
		}
	}
}
