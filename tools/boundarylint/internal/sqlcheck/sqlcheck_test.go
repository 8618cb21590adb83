package sqlcheck

import (
	"strings"
	"testing"
)

var content = Scope{Domain: "content", Schema: "content", Owners: map[string]string{
	"content": "content", "identity": "identity", "users": "user", "events": "events", "social": "social",
}}

func TestCheck(t *testing.T) {
	cases := []checkCase{
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
		{`SELECT pg_catalog.pg_notify('content.posts_changed', $1)`, nil},
		{`NOTIFY "content.posts_changed", 'x'`, nil},
		{`LISTEN "content.posts_changed"`, nil},
		{`UNLISTEN *`, nil},
		{`LISTEN "identity.session_ended"`, []string{"content may not listen on channel identity.session_ended: it belongs to identity"}},
		{`NOTIFY "identity.session_ended", 'x'`, []string{"content may not notify on channel identity.session_ended"}},
		{`SELECT pg_notify('identity.session_ended', $1::text)`, []string{"content may not notify on channel identity.session_ended"}},
		{`SELECT pg_notify($1, 'x')`, []string{"pg_notify's channel must be a string constant"}},
		{`LISTEN "social"`, []string{"content may not listen on channel social: it belongs to social"}},
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
		{`COPY social.likes FROM STDIN`, []string{"content may not write social.likes"}},
		{`COPY social.likes TO STDOUT`, []string{"content may not read social.likes"}},
		{`SELECT 1 OPERATOR(social.===) 2`, []string{"content may not use operator social.==="}},
		{`SELECT id FROM content.posts ORDER BY id USING OPERATOR(social.<)`, []string{"content may not use operator social.<"}},
		{`SELECT 1 OPERATOR(pg_catalog.+) 2, 3 OPERATOR(content.~~~) 4`, nil},
		{`SELECT * FROM (WITH likes AS (SELECT 1) SELECT * FROM likes) a, likes`, []string{"unqualified table likes"}},
		{`WITH a AS (SELECT * FROM b), b AS (SELECT 1) SELECT * FROM a`, []string{"unqualified table b"}},
		{`WITH RECURSIVE t AS (SELECT 1 UNION ALL SELECT * FROM t) SELECT * FROM t`, nil},
		{`WITH likes AS (SELECT 1) DELETE FROM likes`, []string{"unqualified table likes"}},
		{`WITH likes AS (SELECT 1) UPDATE likes SET n = 1`, []string{"unqualified table likes"}},
		{`WITH likes AS (SELECT 1) INSERT INTO likes SELECT * FROM likes`, []string{"unqualified table likes"}},
		{`WITH likes AS (SELECT 1) MERGE INTO likes USING content.posts p ON true WHEN MATCHED THEN DELETE`, []string{"unqualified table likes"}},
		{`WITH likes AS (SELECT 1) SELECT * INTO likes FROM likes`, []string{"unqualified table likes"}},
		{`WITH a AS (SELECT 1), b AS (DELETE FROM a) SELECT * FROM a`, []string{"unqualified table a"}},
		{`UPDATE pg_catalog.pg_settings SET setting = 'identity' WHERE name = 'search_path'`, []string{"pg_settings"}},
		{`SELECT name, setting FROM pg_settings`, nil},
		{`DISCARD ALL`, nil}, // the role startup parameter is the default it restores
		{"DO $x$ BEGIN DELETE FROM social.likes; -- $boundarylint_do$\nEND $x$", []string{"in a function body: content may not write social.likes"}},
	}
	checkCases(t, content, cases)
}

func TestCheckFunctionBodies(t *testing.T) {
	events := Scope{Domain: "events", Schema: "events", Owners: content.Owners, Migration: true}
	cases := []checkCase{
		{`CREATE FUNCTION events.f() RETURNS bigint LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$ SELECT count(*) FROM events.domain_events $$`, nil},
		{`CREATE FUNCTION events.f() RETURNS bigint LANGUAGE sql AS $$ SELECT count(*) FROM identity.sessions $$`, []string{"in a function body: events may not read identity.sessions"}},
		{`CREATE FUNCTION events.g(p int) RETURNS void LANGUAGE plpgsql AS $$ BEGIN IF p > 0 THEN INSERT INTO users.users VALUES (p); END IF; END $$`, []string{"in a function body: events may not write users.users"}},
		{`CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$`, []string{"unqualified function f"}},
		{`DO $$ BEGIN PERFORM 1 FROM content.posts; END $$`, []string{"in a function body: events may not read content.posts"}},
		{`GRANT EXECUTE ON FUNCTION events.publish(uuid) TO nova_content, nova_user`, nil},
		{`GRANT USAGE ON SCHEMA events TO nova_content`, nil},
		{`GRANT USAGE ON SCHEMA identity TO nova_content`, []string{"events may not grant on schema identity"}},
		{`DROP TABLE events.x; DROP TABLE identity.sessions`, []string{"events may not drop object identity.sessions"}},
		{`CREATE FUNCTION events.f() RETURNS int LANGUAGE sql SET search_path = events, pg_temp AS $$ SELECT 1 $$`, nil},
		{`CREATE FUNCTION events.f() RETURNS int LANGUAGE sql SET search_path = identity AS $$ SELECT current_session() $$`, []string{"SET search_path"}},
		{`CREATE FUNCTION events.f() RETURNS int LANGUAGE sql SET role = nova_identity AS $$ SELECT 1 $$`, []string{"SET ROLE"}},
		{`ALTER FUNCTION events.f() SET search_path = identity`, []string{"SET search_path"}},
		{`DO $$ DECLARE n int; BEGIN n := identity.session_count(); END $$`, []string{"in a function body: events may not call function identity.session_count()"}},
		{`DO $$ DECLARE s identity.sessions; BEGIN END $$`, []string{"in a function body: events may not use type identity.sessions"}},
		{`DO $$ DECLARE s identity.sessions%ROWTYPE; i identity.sessions.id%TYPE; BEGIN END $$`, []string{"in a function body: events may not use type identity.sessions", "in a function body: events may not use type identity.sessions"}},
		{`DO $$ DECLARE n int; e events.domain_events%ROWTYPE; BEGIN n := pg_catalog.abs(-1); END $$`, nil},
	}
	checkCases(t, events, cases)
}

// TestCheckOtherSchemaObjects: statements that name another schema's
// objects or hand the domain's own to another role, outside the places
// (tables, functions, types) every statement has.
func TestCheckOtherSchemaObjects(t *testing.T) {
	mig := Scope{Domain: "content", Schema: "content", Owners: content.Owners, Migration: true}
	cases := []checkCase{
		{`ALTER TABLE content.posts SET SCHEMA social`, []string{"content may not move objects into schema social"}},
		{`ALTER FUNCTION content.f() SET SCHEMA social`, []string{"content may not move objects into schema social"}},
		{`ALTER TABLE content.posts SET SCHEMA content`, nil},
		{`CREATE TYPE social.state AS ENUM ('a')`, []string{"content may not define type social.state"}},
		{`CREATE TYPE content.state AS ENUM ('a')`, nil},
		{`ALTER TYPE social.state ADD VALUE 'b'`, []string{"content may not alter type social.state"}},
		{`CREATE DOMAIN social.handle AS text`, []string{"content may not define type social.handle"}},
		{`CREATE COLLATION social.c (locale = 'C')`, []string{"content may not define object social.c"}},
		{`SELECT body COLLATE social.c FROM content.posts`, []string{"content may not use collation social.c"}},
		{`SELECT body COLLATE "C" FROM content.posts`, nil},
		{`COMMENT ON TABLE social.likes IS 'x'`, []string{"content may not alter object social.likes"}},
		{`COMMENT ON SCHEMA social IS 'x'`, []string{"content may not alter schema social"}},
		{`COMMENT ON TABLE content.posts IS 'x'`, nil},
		{`ALTER SCHEMA social RENAME TO x`, []string{"content may not alter schema social"}},
		{`ALTER SCHEMA social OWNER TO nova_content`, []string{"content may not alter schema social", "ownership"}},
		{`CREATE EXTENSION IF NOT EXISTS pgcrypto SCHEMA social`, []string{"content may not create extensions in schema social"}},
		{`CREATE EXTENSION IF NOT EXISTS pgcrypto SCHEMA content`, nil},
		{`ALTER TABLE content.posts OWNER TO nova_social`, []string{"ownership"}},
		{`GRANT SELECT ON content.posts TO nova_social`, []string{"content may not grant privileges on its tables"}},
		{`GRANT SELECT ON ALL TABLES IN SCHEMA content TO nova_social`, []string{"content may not grant privileges on its tables"}},
		{`ALTER DEFAULT PRIVILEGES IN SCHEMA content GRANT INSERT ON TABLES TO nova_social`, []string{"content may not grant privileges on its tables"}},
		{`GRANT USAGE ON SEQUENCE content.posts_id_seq TO nova_social`, []string{"content may not grant privileges on its tables"}},
		{`REVOKE ALL ON content.posts FROM PUBLIC`, nil},
		{`GRANT EXECUTE ON FUNCTION content.count(uuid) TO nova_social`, nil},
		{`DO $$ BEGIN EXECUTE 'DELETE FROM social.likes'; END $$`, []string{"in a function body: content may not write social.likes"}},
		{`DO $$ BEGIN EXECUTE 'DELETE FROM content.' || 'posts'; END $$`, []string{"EXECUTE of SQL built at run time"}},
		{`CREATE FUNCTION content.f(t text) RETURNS SETOF int LANGUAGE plpgsql AS $$ BEGIN RETURN QUERY EXECUTE format('SELECT n FROM %I.x', t); END $$`, []string{"EXECUTE of SQL built at run time"}},
		{`CREATE FUNCTION content.f() RETURNS void LANGUAGE plpgsql AS $$ DECLARE r record; BEGIN FOR r IN EXECUTE 'SELECT id FROM users.users' LOOP END LOOP; END $$`, []string{"in a function body: content may not read users.users"}},
		{`DO $$ BEGIN EXECUTE 'DELETE FROM content.posts WHERE id = $1' USING 1; END $$`, nil},
		{`DO $$ BEGIN EXECUTE 'DELETE FROM social.likes'::text; END $$`, []string{"in a function body: content may not write social.likes"}},
		{`CREATE FUNCTION content.f() RETURNS SETOF int LANGUAGE plpgsql AS $$ BEGIN RETURN QUERY SELECT n FROM content.posts; END $$`, nil},
		{`SELECT nextval('social.likes_id_seq')`, []string{"content may not write social.likes_id_seq"}},
		{`SELECT 'users.users'::regclass`, []string{"content may not read users.users"}},
		{`SELECT regclass('users.users'), pg_catalog.regclass('social.likes'::text)`, []string{"content may not read users.users", "content may not read social.likes"}},
		{`SELECT pg_sequence_last_value('social.likes_id_seq')`, []string{"content may not read social.likes_id_seq"}},
		{`SELECT pg_sequence_last_value($1)`, []string{"pg_sequence_last_value's relation must be a string constant"}},
		{`SELECT nextval('content.posts_id_seq'), 'content.posts'::regclass, to_regclass('content.x'), regclass($1), regclass('content.posts')`, nil},
		{`CREATE SCHEMA IF NOT EXISTS content AUTHORIZATION nova_social`, []string{"ownership"}},
		{`CREATE SCHEMA IF NOT EXISTS content`, nil},
		{`REASSIGN OWNED BY nova_content TO nova_social`, []string{"ownership"}},
		{`CREATE ROLE helper IN ROLE nova_social`, []string{"granting role membership is forbidden"}},
		{`ALTER GROUP nova_social ADD USER nova_content`, []string{"granting role membership is forbidden"}},
	}
	checkCases(t, mig, cases)
}

// TestCheckOtherRoutes: statements that reach another domain's schema, or
// leave the database, through clauses other than a table, function or type
// reference; and the domain's own objects named by their table (no
// problem).
func TestCheckOtherRoutes(t *testing.T) {
	mig := Scope{Domain: "content", Schema: "content", Owners: content.Owners, Migration: true}
	cases := []checkCase{
		{`COMMENT ON COLUMN content.posts.body IS 'x'`, nil},
		{`COMMENT ON TRIGGER t ON content.posts IS 'x'`, nil},
		{`COMMENT ON CONSTRAINT c ON content.posts IS 'x'`, nil},
		{`COMMENT ON POLICY p ON content.posts IS 'x'`, nil},
		{`COMMENT ON COLUMN social.likes.id IS 'x'`, []string{"content may not alter object social.likes"}},
		{`SECURITY LABEL FOR selinux ON TABLE social.likes IS 'x'`, []string{"content may not alter object social.likes"}},
		{`ALTER EXTENSION x ADD TABLE social.likes`, []string{"content may not alter object social.likes"}},
		{`CREATE INDEX i ON content.posts (body COLLATE social.c social.ops)`, []string{"content may not use collation social.c", "content may not use operator class social.ops"}},
		{`CREATE TABLE content.x (a int) PARTITION BY RANGE (a social.ops)`, []string{"content may not use operator class social.ops"}},
		{`ALTER TABLE content.posts ADD CONSTRAINT x EXCLUDE USING gist (r WITH social.&&, s WITH =)`, []string{"content may not use operator social.&&"}},
		{`CREATE STATISTICS social.st ON a, b FROM content.posts`, []string{"content may not define object social.st"}},
		{`CREATE EVENT TRIGGER et ON ddl_command_start EXECUTE FUNCTION social.f()`, []string{"content may not call function social.f()"}},
		{`CREATE CONVERSION content.c FOR 'UTF8' TO 'LATIN1' FROM social.f`, []string{"content may not use function social.f"}},
		{`CREATE OPERATOR FAMILY social.of USING btree`, []string{"content may not define operator family social.of"}},
		{`ALTER TEXT SEARCH CONFIGURATION content.c ALTER MAPPING FOR word WITH social.d`, []string{"content may not use object social.d"}},
		{`CREATE ACCESS METHOD am TYPE TABLE HANDLER heap_tableam_handler`, nil},
		{`SELECT id FROM content.posts TABLESAMPLE social.sampler(1)`, []string{"content may not call function social.sampler()"}},
		{`SELECT id FROM content.posts TABLESAMPLE bernoulli(1)`, nil},
		{`CREATE FUNCTION content.f(int) RETURNS int LANGUAGE sql SUPPORT social.s AS $$ SELECT 1 $$`, []string{"content may not use function social.s"}},
		{`CREATE SEQUENCE content.s OWNED BY social.likes.id`, []string{"content may not tie a sequence to table social.likes"}},
		{`ALTER SEQUENCE content.s OWNED BY content.posts.n`, nil},
		{`CREATE TABLE content.x (id int GENERATED ALWAYS AS IDENTITY (SEQUENCE NAME social.s))`, []string{"content may not define sequence social.s"}},
		{`CREATE OPERATOR content.=== (FUNCTION = content.f, LEFTARG = int, RIGHTARG = int, COMMUTATOR = OPERATOR(social.===))`, []string{"content may not use operator social.==="}},
		{`CREATE FUNCTION content.f(p content.posts.id%TYPE) RETURNS int LANGUAGE sql AS $$ SELECT 1 $$`, nil},
		{`CREATE FUNCTION content.f(p social.likes.id%TYPE) RETURNS int LANGUAGE sql AS $$ SELECT 1 $$`, []string{"content may not use type social.likes"}},
		{`REINDEX SCHEMA social`, []string{"content may not reindex schema social"}},
		{`CREATE PUBLICATION p FOR TABLES IN SCHEMA social`, []string{"content may not publish schema social"}},
		{`IMPORT FOREIGN SCHEMA social FROM SERVER s INTO content`, []string{"content may not reach schema social through a foreign server"}},
		{`IMPORT FOREIGN SCHEMA remote FROM SERVER s INTO social`, []string{"content may not import foreign tables into schema social"}},
		{`CREATE FOREIGN TABLE content.ft (id int) SERVER s OPTIONS (schema_name 'social', table_name 'likes')`, []string{"content may not reach schema social through a foreign server"}},
		{`DROP OWNED BY nova_social`, []string{"DROP OWNED is forbidden"}},
		{`GRANT USAGE ON TYPE social.state TO nova_content`, []string{"content may not grant on object social.state"}},
		{`GRANT USAGE ON TYPE content.state TO nova_social`, nil},
		{`GRANT CREATE ON SCHEMA content TO nova_social`, []string{"content may grant only USAGE on its schema"}},
		{`GRANT ALL ON SCHEMA content TO nova_social`, []string{"content may grant only USAGE on its schema"}},
		{`ALTER FUNCTION content.f() RESET search_path`, nil},
		{`SELECT set_config('role'::text, 'nova_social', false)`, []string{"set_config('role') is SET ROLE in disguise"}},
		{`SELECT set_config(is_local => false, setting_name => 'search_path', new_value => 'social')`, []string{"set_config('search_path')"}},
		{`SELECT set_config($1, $2, true)`, []string{"set_config's setting must be a string constant"}},
		{`SELECT set_config('lock_timeout', $1, true)`, nil},
		{`SELECT pg_notify('content'::text, $1)`, nil},
		{`SELECT nextval('social.likes_id_seq'::text)`, []string{"content may not write social.likes_id_seq"}},
		{`SELECT nextval($1)`, []string{"nextval's relation must be a string constant"}},
		{`SELECT nextval('content.posts_id_seq'::regclass), to_regclass($1)`, nil},
		{`SELECT table_to_xml('social.likes', true, false, '')`, []string{"content may not read social.likes"}},
		{`SELECT schema_to_xml('social', true, false, '')`, []string{"content may not read schema social"}},
		{`SELECT query_to_xml('SELECT * FROM social.likes', true, false, '')`, []string{"in the SQL query_to_xml() runs: content may not read social.likes"}},
		{`SELECT query_to_xml($1, true, false, '')`, []string{"query_to_xml() runs SQL built at run time"}},
		{`SELECT ts_stat('SELECT tsv FROM social.docs')`, []string{"in the SQL ts_stat() runs: content may not read social.docs"}},
		{`SELECT ts_rewrite('a'::tsquery, 'SELECT t, s FROM social.aliases')`, []string{"in the SQL ts_rewrite() runs"}},
		{`SELECT ts_rewrite('a'::tsquery, 'a'::tsquery, 'b'::tsquery), query_to_xml('SELECT id FROM content.posts', true, false, '')`, nil},
		{`COPY content.posts TO PROGRAM 'psql -c "DELETE FROM social.likes"'`, []string{"COPY to or from a server file or program is forbidden"}},
		{`COPY content.posts FROM '/tmp/posts.csv'`, []string{"COPY to or from a server file or program is forbidden"}},
		{`SELECT pg_read_binary_file('base/1/2'), lo_import('/tmp/x')`, []string{"pg_read_binary_file() is forbidden", "lo_import() is forbidden"}},
	}
	checkCases(t, mig, cases)
}

// checkCase is a statement and a substring of each problem Check must
// report, in order; none means clean.
type checkCase struct {
	sql  string
	want []string
}

// checkCases runs Check on each case in scope sc.
func checkCases(t *testing.T, sc Scope, cases []checkCase) {
	t.Helper()
	for _, tc := range cases {
		got := Check(tc.sql, sc)
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
