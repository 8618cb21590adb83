package sqlcheck

import (
	"strings"
	"testing"
)

var content = Scope{Domain: "content", Schema: "content", Owners: map[string]string{
	"content": "content", "identity": "identity", "users": "user", "events": "events", "social": "social",
}}

func TestCheck(t *testing.T) {
	cases := []struct {
		sql  string
		want []string // substrings, one per expected problem; none means clean
	}{
		{`SELECT id FROM content.posts WHERE author_id = $1`, nil},
		{`WITH recent AS (SELECT id FROM content.posts) SELECT count(*) FROM recent`, nil},
		{`INSERT INTO content.posts (id, body) VALUES ($1, $2) RETURNING gen_random_uuid(), now()`, nil},
		{`SELECT pg_catalog.pg_advisory_xact_lock($1)`, nil},
		{`SELECT p.id FROM content.posts p WHERE p.tsv @@ websearch_to_tsquery('simple', $1)`, nil},
		{`SELECT $1::content.visibility, $2::int4`, nil},
		{`CREATE TEMP TABLE ids (id uuid) ON COMMIT DROP`, nil},
		{`INSERT INTO content.posts (id, n) VALUES ($1, 1) ON CONFLICT (id) DO UPDATE SET n = content.posts.n + EXCLUDED.n`, nil},
		{`UPDATE content.posts AS p SET n = v.n FROM (VALUES ($1::uuid, $2::int)) AS v(id, n) WHERE p.id = v.id`, nil},
		{`MERGE INTO content.posts t USING content.comments s ON t.id = s.post_id WHEN MATCHED THEN UPDATE SET n = 1`, nil},
		{`WITH RECURSIVE thread AS (SELECT id, parent_id FROM content.comments WHERE id = $1
			UNION ALL SELECT c.id, c.parent_id FROM content.comments c JOIN thread t ON c.parent_id = t.id) SELECT id FROM thread`, nil},
		{`SELECT p.id, m FROM content.posts p, LATERAL jsonb_array_elements(p.media) m WHERE p.id = ANY($1::uuid[]) FOR UPDATE SKIP LOCKED`, nil},
		{`SELECT count(*) FILTER (WHERE p.deleted_at IS NULL) OVER (PARTITION BY p.author_id), p.created_at AT TIME ZONE 'UTC', p.body COLLATE "C" FROM content.posts p`, nil},
		{`SELECT id FROM content.posts WHERE tsv @@ plainto_tsquery('english'::regconfig, $1) AND created_at > now() - interval '1 day'`, nil},
		{`LOCK TABLE content.posts IN SHARE MODE`, nil},
		{`CALL content.recount($1)`, nil},
		{`SELECT pg_notify('content', $1)`, nil},
		{`INSERT INTO content.posts SELECT * FROM pg_temp.ids`, nil},
		{`SELECT p.id FROM content.posts p JOIN content.comments c ON c.post_id = p.id FOR UPDATE OF p, c`, nil},
		{`SELECT s.user_id FROM identity.sessions s`, []string{"content may not read identity.sessions: ask identity through its API"}},
		{`UPDATE users.users SET bio = $1`, []string{"content may not write users.users: only user writes its tables"}},
		{`SELECT * FROM content.posts p JOIN (SELECT 1 FROM users.user_profiles) x ON true`, []string{"read users.user_profiles"}},
		{`SELECT id FROM posts`, []string{"unqualified table posts: write content.posts"}},
		{`SELECT identity.current_session()`, []string{"call function identity.current_session()"}},
		{`SELECT public.f()`, []string{"schema public belongs to no domain"}},
		{`SET ROLE nova_identity`, []string{"SET ROLE is forbidden"}},
		{`RESET ROLE`, []string{"RESET ROLE is forbidden"}},
		{`SET SESSION AUTHORIZATION nova`, []string{"SET SESSION AUTHORIZATION is forbidden"}},
		{`SET search_path TO identity`, []string{"SET search_path is forbidden"}},
		{`SELECT set_config('search_path', 'identity', true)`, []string{"set_config('search_path')"}},
		{`SELEC id FROM content.posts`, []string{"SQL does not parse"}},
		{`SELECT 1; DELETE FROM social.likes`, []string{"content may not write social.likes"}},
		{`GRANT nova_identity TO nova_content`, []string{"granting role membership is forbidden"}},
	}
	for _, tc := range cases {
		got := Check(tc.sql, content)
		if len(got) != len(tc.want) {
			t.Errorf("%s: got %d problems %v, want %d", tc.sql, len(got), got, len(tc.want))
			continue
		}
		for i, w := range tc.want {
			if !strings.Contains(got[i].Msg, w) {
				t.Errorf("%s: problem %q does not contain %q", tc.sql, got[i].Msg, w)
			}
		}
	}
}

func TestCheckFunctionBodies(t *testing.T) {
	events := Scope{Domain: "events", Schema: "events", Owners: content.Owners, Migration: true}
	cases := []struct {
		sql  string
		want []string
	}{
		{`CREATE FUNCTION events.f() RETURNS bigint LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$ SELECT count(*) FROM events.domain_events $$`, nil},
		{`CREATE FUNCTION events.f() RETURNS bigint LANGUAGE sql AS $$ SELECT count(*) FROM identity.sessions $$`, []string{"in a function body: events may not read identity.sessions"}},
		{`CREATE FUNCTION events.g(p int) RETURNS void LANGUAGE plpgsql AS $$ BEGIN IF p > 0 THEN INSERT INTO users.users VALUES (p); END IF; END $$`, []string{"in a function body: events may not write users.users"}},
		{`CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$`, []string{"unqualified function f"}},
		{`DO $$ BEGIN PERFORM 1 FROM content.posts; END $$`, []string{"in a function body: events may not read content.posts"}},
		{`GRANT EXECUTE ON FUNCTION events.publish(uuid) TO nova_content, nova_user`, nil},
		{`GRANT USAGE ON SCHEMA events TO nova_content`, nil},
		{`GRANT USAGE ON SCHEMA identity TO nova_content`, []string{"events may not grant on schema identity"}},
		{`DROP TABLE events.x; DROP TABLE identity.sessions`, []string{"events may not drop object identity.sessions"}},
	}
	for _, tc := range cases {
		got := Check(tc.sql, events)
		if len(got) != len(tc.want) {
			t.Errorf("%s: got %d problems %v, want %d", tc.sql, len(got), got, len(tc.want))
			continue
		}
		for i, w := range tc.want {
			if !strings.Contains(got[i].Msg, w) {
				t.Errorf("%s: problem %q does not contain %q", tc.sql, got[i].Msg, w)
			}
		}
	}
}
