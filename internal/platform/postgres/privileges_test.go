package postgres_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgerrcode"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/nova-social/nova/internal/platform/domains"
	"github.com/nova-social/nova/internal/platform/pgtest"
)

// The privilege matrix: each domain role owns its schema and may do nothing
// in any other, except call events.publish. Every probe asserts an exact
// outcome ("ok" or a SQLSTATE), and every operation denied across schemas is
// also run by the owner and must succeed there, so a probe cannot pass
// because its SQL is wrong or because the wrong role ran it.

const (
	allowed = "ok"
	denied  = pgerrcode.InsufficientPrivilege
)

// outcome describes err for a failure message: "ok" for nil, the SQLSTATE
// and message of a Postgres error, the text of any other error.
func outcome(err error) string {
	var pgErr *pgconn.PgError
	switch {
	case err == nil:
		return allowed
	case errors.As(err, &pgErr):
		return pgErr.Code + " " + pgErr.Message
	default:
		return err.Error()
	}
}

// code is what the probes compare: "ok" or the SQLSTATE (any other error
// matches no expectation).
func code(err error) string {
	o, _, _ := strings.Cut(outcome(err), " ")
	return o
}

// attempt runs sql in a transaction it rolls back, so probes neither see
// nor leave each other's effects.
func attempt(ctx context.Context, pool *pgxpool.Pool, sql string, args ...any) error {
	tx, err := pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback(ctx) }()
	_, err = tx.Exec(ctx, sql, args...)
	return err
}

// A probeTable is a table with what the operations need to address it: an
// INSERT that succeeds for its owner and a unique key to reference.
type probeTable struct {
	schema  string
	name    string
	insert  string // column list and VALUES (or a SELECT)
	key     string // columns of a unique key; empty when no FOREIGN KEY may point at it
	keyDecl string // the key's columns declared for a referencing table
	column  string // a column to UPDATE
	seq     string // a sequence of the schema, empty for none
}

// probeTables holds one table per domain schema (each has its inbox and
// goose's version table) and every table of the events schema, River's
// included.
func probeTables() []probeTable {
	var ts []probeTable
	for _, d := range domains.All {
		if d == domains.Events {
			continue
		}
		ts = append(ts, probeTable{
			schema: d.Schema, name: "event_inbox",
			insert:  `(consumer, event_id) VALUES ('probe', gen_random_uuid())`,
			key:     "consumer, event_id",
			keyDecl: "consumer text, event_id uuid",
			column:  "consumer",
			seq:     d.Schema + ".goose_db_version_id_seq",
		})
	}
	ev := func(name, insert, key, keyDecl, column, seq string) probeTable {
		return probeTable{schema: "events", name: name, insert: insert, key: key, keyDecl: keyDecl, column: column, seq: seq}
	}
	return append(ts,
		ev("domain_events", `(id, topic, payload, producer) VALUES (gen_random_uuid(), 'user.probe', '{}', 'user')`,
			"id", "id uuid", "topic", ""),
		ev("event_subscriptions", `(consumer, topic) VALUES ('user.probe', 'user.probe')`,
			"consumer, topic", "consumer text, topic text", "consumer", ""),
		ev("dead_letter_queue", `(event_id, consumer, topic, attempts, error) SELECT id, 'user.probe', topic, 1, '' FROM events.domain_events`,
			"id", "id bigint", "consumer", "events.dead_letter_queue_id_seq"),
		ev("river_job", `(args, kind, max_attempts) VALUES ('{}', 'probe', 1)`,
			"id", "id bigint", "kind", "events.river_job_id_seq"),
		// Unlogged: no permanent table may reference it.
		ev("river_leader", `(elected_at, expires_at, leader_id) VALUES (now(), now(), 'probe')`,
			"", "", "leader_id", ""),
		ev("river_queue", `(name) VALUES ('probe')`, "name", "name text", "metadata", ""),
		ev("river_migration", `(line, version) VALUES ('probe', 1)`,
			"line, version", "line text, version bigint", "line", ""),
		ev("river_notification", `(payload, topic) VALUES ('', 'probe')`,
			"id", "id bigint", "payload", "events.river_notification_id_seq"),
		ev("goose_db_version", `(id, version_id, is_applied) VALUES (-1, 0, false)`,
			"id", "id int", "is_applied", ""),
	)
}

// tableOps are what one role might do to another's table. {own} is the
// acting role's schema: a view, a foreign key or a copied definition there
// must not reach into the table either.
var tableOps = []struct{ name, sql string }{
	{"select", `SELECT * FROM {t}`},
	{"insert", `INSERT INTO {t} {insert}`},
	{"update", `UPDATE {t} SET {column} = {column}`},
	{"delete", `DELETE FROM {t}`},
	{"truncate", `TRUNCATE {t} CASCADE`},
	{"lock", `LOCK TABLE {t} IN ACCESS SHARE MODE`},
	{"alter", `ALTER TABLE {t} ADD COLUMN probe int`},
	{"drop", `DROP TABLE {t} CASCADE`},
	{"index", `CREATE INDEX ON {t} ({column})`},
	{"trigger", `CREATE TRIGGER probe BEFORE INSERT ON {t} FOR EACH ROW EXECUTE FUNCTION suppress_redundant_updates_trigger()`},
	{"comment", `COMMENT ON TABLE {t} IS 'probe'`},
	{"read through a view", `CREATE VIEW {own}.probe_view AS SELECT * FROM {t}; SELECT * FROM {own}.probe_view`},
	{"copy its definition", `CREATE TABLE {own}.probe_like (LIKE {t})`},
	{"reference", `CREATE TABLE {own}.probe_ref ({keyDecl}, FOREIGN KEY ({key}) REFERENCES {t} ({key}))`},
	{"create a table beside it", `CREATE TABLE {schema}.probe_table (id int)`},
	{"create a function beside it", `CREATE FUNCTION {schema}.probe_fn() RETURNS int LANGUAGE sql RETURN 1`},
	{"nextval", `SELECT nextval('{seq}')`},
	{"setval", `SELECT setval('{seq}', 1, false)`},
}

// TestPrivilegeMatrix runs every table operation of every domain role on a
// table of every schema: denied outside its own schema, allowed inside.
func TestPrivilegeMatrix(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	tables := probeTables()
	for _, actor := range domains.All {
		t.Run(actor.Name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			pool := db.Pools.For(actor)
			for _, tb := range tables {
				want := denied
				if tb.schema == actor.Schema {
					want = allowed
				}
				r := strings.NewReplacer("{t}", tb.schema+"."+tb.name, "{schema}", tb.schema, "{own}", actor.Schema,
					"{insert}", tb.insert, "{key}", tb.key, "{keyDecl}", tb.keyDecl, "{column}", tb.column, "{seq}", tb.seq)
				for _, op := range tableOps {
					if tb.seq == "" && strings.Contains(op.sql, "{seq}") || tb.key == "" && strings.Contains(op.sql, "{key}") {
						continue
					}
					if err := attempt(ctx, pool, r.Replace(op.sql)); code(err) != want {
						t.Errorf("%s: %s on %s.%s: %s, want %s", actor.Role(), op.name, tb.schema, tb.name, outcome(err), want)
					}
				}
			}
		})
	}
}

// eventsFunctions are the events schema's functions other than publish:
// the bus's own plumbing and River's, none of them for the domains.
var eventsFunctions = []string{
	`SELECT events.enqueue('{}', '{}', false, 1)`,
	`SELECT events.insert_jobs('{}', '{}', false, 1)`,
	`SELECT events.delivery_args(NULL::events.domain_events, 'user.probe', false)`,
	`SELECT events.river_job_state_in_bitmask(B'11111111', 'available')`,
}

// TestDomainsCallNoEventsFunctionButPublish: the events role runs its
// functions, no domain role does.
func TestDomainsCallNoEventsFunctionButPublish(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	ctx := context.Background()
	for _, actor := range domains.All {
		want := denied
		if actor == domains.Events {
			want = allowed
		}
		for _, sql := range eventsFunctions {
			if err := attempt(ctx, db.Pools.For(actor), sql); code(err) != want {
				t.Errorf("%s: %s: %s, want %s", actor.Role(), sql, outcome(err), want)
			}
		}
	}
}

// TestNoPrivilegeReachesAnotherSchema reads, from the catalogue, every
// privilege a domain role holds on whatever lies in the other domains'
// schemas, so an object a later migration adds is checked without a probe
// written for it. A privilege counts only if the role may also use the
// schema, since without USAGE nothing in it can be named. Row types of
// tables are left out: Postgres gives them to PUBLIC and no default
// privilege takes them back.
func TestNoPrivilegeReachesAnotherSchema(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	ctx := context.Background()
	var schemas []string
	for _, d := range domains.All {
		schemas = append(schemas, d.Schema)
	}
	const reachable = `
		WITH objects (kind, name, schema, privilege, held) AS (
			SELECT 'schema', n.nspname::text, n.nspname, p, has_schema_privilege($1, n.oid, p)
			FROM pg_namespace n, unnest('{USAGE,CREATE}'::text[]) p
			UNION ALL
			SELECT 'relation', c.oid::regclass::text, n.nspname, p,
				CASE WHEN p IN ('SELECT', 'INSERT', 'UPDATE', 'REFERENCES') THEN has_any_column_privilege($1, c.oid, p)
				     ELSE has_table_privilege($1, c.oid, p) END
			FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace,
				unnest('{SELECT,INSERT,UPDATE,DELETE,TRUNCATE,REFERENCES,TRIGGER}'::text[]) p
			WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f')
			UNION ALL
			SELECT 'sequence', c.oid::regclass::text, n.nspname, p, has_sequence_privilege($1, c.oid, p)
			FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace, unnest('{USAGE,SELECT,UPDATE}'::text[]) p
			WHERE c.relkind = 'S'
			UNION ALL
			SELECT 'function', f.oid::regprocedure::text, n.nspname, 'EXECUTE', has_function_privilege($1, f.oid, 'EXECUTE')
			FROM pg_proc f JOIN pg_namespace n ON n.oid = f.pronamespace
			UNION ALL
			SELECT 'type', ty.oid::regtype::text, n.nspname, 'USAGE', has_type_privilege($1, ty.oid, 'USAGE')
			FROM pg_type ty JOIN pg_namespace n ON n.oid = ty.typnamespace
			WHERE ty.typcategory <> 'A'
			  AND NOT EXISTS (SELECT FROM pg_class c WHERE c.oid = ty.typrelid AND c.relkind <> 'c'))
		SELECT kind || ' ' || name || ': ' || privilege FROM objects
		WHERE held AND schema = ANY($2) AND schema <> $3
		  AND (kind = 'schema' OR has_schema_privilege($1, schema, 'USAGE'))
		ORDER BY 1`
	publishOnly := []string{
		"function events.publish(uuid[],text[],integer[],jsonb[],text,integer): EXECUTE",
		"schema events: USAGE",
	}
	for _, actor := range domains.All {
		rows, err := db.Pools.Login().Query(ctx, reachable, actor.Role(), schemas, actor.Schema)
		if err != nil {
			t.Fatal(err)
		}
		got, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		want := publishOnly
		if actor == domains.Events {
			want = nil
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s holds outside its schema:\n  %s\nwant:\n  %s", actor.Role(), strings.Join(got, "\n  "), strings.Join(want, "\n  "))
		}
	}
	// The query sees privileges at all: each role holds its own schema.
	var own bool
	if err := db.Pools.Login().QueryRow(ctx, `SELECT has_schema_privilege('nova_content', 'content', 'CREATE')`).Scan(&own); err != nil || !own {
		t.Fatalf("nova_content creating in its own schema: %v, %v", own, err)
	}
}

// TestLaterObjectsGetNoGrants plays a later migration of the events domain
// (whose schema the domain roles may use, to call publish) and of another
// domain: what they create must be closed to the other roles by default,
// not because each migration remembered to revoke.
func TestLaterObjectsGetNoGrants(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	ctx := context.Background()
	for _, owner := range []domains.Domain{domains.Events, domains.Identity} {
		s := owner.Schema
		if _, err := db.Pools.For(owner).Exec(ctx, `
			CREATE TABLE `+s+`.later (id bigserial PRIMARY KEY);
			CREATE TYPE `+s+`.later_kind AS ENUM ('a');
			CREATE TYPE `+s+`.later_pair AS (a int, b int);
			CREATE FUNCTION `+s+`.later_fn() RETURNS int LANGUAGE sql RETURN 1;
			CREATE PROCEDURE `+s+`.later_proc() LANGUAGE sql BEGIN ATOMIC SELECT 1; END`); err != nil {
			t.Fatalf("%s creating its objects: %v", owner.Role(), err)
		}
		for _, actor := range domains.All {
			want := denied
			if actor == owner {
				want = allowed
			}
			for _, sql := range []string{
				`SELECT * FROM ` + s + `.later`,
				`SELECT nextval('` + s + `.later_id_seq')`,
				`SELECT ` + s + `.later_fn()`,
				`CALL ` + s + `.later_proc()`,
				`CREATE TABLE ` + actor.Schema + `.uses_kind (k ` + s + `.later_kind)`,
				`CREATE TABLE ` + actor.Schema + `.uses_pair (p ` + s + `.later_pair)`,
			} {
				if err := attempt(ctx, db.Pools.For(actor), sql); code(err) != want {
					t.Errorf("%s after a later %s migration: %s: %s, want %s", actor.Role(), owner.Name, sql, outcome(err), want)
				}
			}
		}
	}
}

// TestNoRoleCreatesOutsideItsSchema: an object a role could create in public
// or in another schema could shadow a name on someone else's search_path
// (a function with a closer argument type wins over the built-in), so only
// the owner creates in a schema, and nobody in public.
func TestNoRoleCreatesOutsideItsSchema(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	ctx := context.Background()
	for _, actor := range domains.All {
		pool := db.Pools.For(actor)
		for _, sql := range []string{
			`CREATE TABLE public.probe (id int)`,
			`CREATE FUNCTION public.lower(varchar) RETURNS text LANGUAGE sql RETURN 'hijacked'`,
			`CREATE TYPE public.probe AS ENUM ('a')`,
			`CREATE SCHEMA probe`,
			`CREATE SCHEMA nova_probe AUTHORIZATION ` + actor.Role(),
		} {
			if err := attempt(ctx, pool, sql); code(err) != denied {
				t.Errorf("%s: %s: %s, want %s", actor.Role(), sql, outcome(err), denied)
			}
		}
		own := `CREATE FUNCTION ` + actor.Schema + `.lower(varchar) RETURNS text LANGUAGE sql RETURN 'own'`
		if err := attempt(ctx, pool, own); err != nil {
			t.Errorf("%s: %s: %v", actor.Role(), own, err)
		}
	}
}

// TestDomainRolesAreInert: a domain role is a plain role that is a member of
// no other role, so logging in as one (production credentials, once an
// operator gives it LOGIN) gives no way to SET ROLE to another domain or to
// the login role, and no attribute reaches past the privileges. (The login role, a member of
// every domain role, can switch freely: it is for migrations and
// development only.)
func TestDomainRolesAreInert(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	ctx := context.Background()
	for _, actor := range domains.All {
		var super, createRole, createDB, replication, bypassRLS bool
		var memberOf []string
		err := db.Pools.Login().QueryRow(ctx, `
			SELECT rolsuper, rolcreaterole, rolcreatedb, rolreplication, rolbypassrls,
				array(SELECT m.roleid::regrole::text FROM pg_auth_members m WHERE m.member = r.oid ORDER BY 1)
			FROM pg_roles r WHERE rolname = $1`, actor.Role()).
			Scan(&super, &createRole, &createDB, &replication, &bypassRLS, &memberOf)
		if err != nil {
			t.Fatalf("%s: %v", actor.Role(), err)
		}
		if super || createRole || createDB || replication || bypassRLS || len(memberOf) > 0 {
			t.Errorf("%s: superuser %v, createrole %v, createdb %v, replication %v, bypassrls %v, member of %v; want none",
				actor.Role(), super, createRole, createDB, replication, bypassRLS, memberOf)
		}
		for _, other := range domains.All {
			var member bool
			if err := db.Pools.Login().QueryRow(ctx, `SELECT pg_has_role($1, $2, 'MEMBER')`, actor.Role(), other.Role()).Scan(&member); err != nil {
				t.Fatal(err)
			}
			if member != (actor == other) {
				t.Errorf("%s member of %s: %v", actor.Role(), other.Role(), member)
			}
		}
	}
}

// TestSecurityDefinerFunctionsArePinned: a SECURITY DEFINER function runs
// with its owner's rights, so it must not resolve names through the caller's
// search_path, and PUBLIC must not execute it.
func TestSecurityDefinerFunctionsArePinned(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	ctx := context.Background()
	var schemas []string
	for _, d := range domains.All {
		schemas = append(schemas, d.Schema)
	}
	rows, err := db.Pools.Login().Query(ctx, `
		SELECT f.oid::regprocedure::text, coalesce(f.proconfig, '{}'), has_function_privilege('public', f.oid, 'EXECUTE')
		FROM pg_proc f JOIN pg_namespace n ON n.oid = f.pronamespace
		WHERE f.prosecdef AND n.nspname = ANY($1) ORDER BY 1`, schemas)
	if err != nil {
		t.Fatal(err)
	}
	var n int
	for rows.Next() {
		var name string
		var config []string
		var public bool
		if err := rows.Scan(&name, &config, &public); err != nil {
			t.Fatal(err)
		}
		n++
		if !slices.Contains(config, "search_path=pg_catalog, pg_temp") || public {
			t.Errorf("%s: settings %v, executable by PUBLIC %v; want search_path pinned to pg_catalog, pg_temp and no PUBLIC", name, config, public)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		t.Fatal("no SECURITY DEFINER function found: events.publish should be one")
	}
}

// publishSQL is how the bus calls publish.
const publishSQL = `SELECT producer FROM events.publish($1::uuid[], $2::text[], $3::int[], $4::jsonb[], '', 1)`

// TestPublishCannotBeTurned: publish, running as the events role, records the
// caller's domain and writes the real log whatever the caller does to its own
// session. Its search_path is pg_catalog then pg_temp, and the caller owns
// pg_temp: a table there named as one of the log's would take in the events
// (with the caller's grant to the events role) if publish ever named a table
// without its schema. Malformed arguments write nothing.
func TestPublishCannotBeTurned(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	for _, actor := range domains.All {
		if actor == domains.Events {
			continue
		}
		t.Run(actor.Name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			conn, err := db.Pools.For(actor).Acquire(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Release()
			if _, err := conn.Exec(ctx, `
				CREATE TEMP TABLE domain_events (id uuid, topic text, version int, payload jsonb, producer text, request_id text, occurred_at timestamptz);
				CREATE TEMP TABLE event_subscriptions (consumer text, topic text);
				CREATE TEMP TABLE river_job (LIKE pg_temp.domain_events);
				GRANT ALL ON pg_temp.domain_events, pg_temp.event_subscriptions, pg_temp.river_job TO nova_events;
				SET search_path = pg_temp, events`); err != nil {
				t.Fatalf("look-alike tables: %v", err)
			}
			foreign := "user.banned"
			if actor == domains.User {
				foreign = "identity.user.registered"
			}
			publish := func(ids []uuid.UUID, topics []string) (string, error) {
				versions, payloads := make([]int32, len(ids)), make([]string, len(ids))
				for i := range ids {
					versions[i], payloads[i] = 1, `{}`
				}
				var producer string
				err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
					return tx.QueryRow(ctx, publishSQL, ids, topics, versions, payloads).Scan(&producer)
				})
				return producer, err
			}
			logged := func(ids []uuid.UUID) []string {
				rows, err := db.Pools.Login().Query(ctx, `SELECT producer || ' ' || topic FROM events.domain_events WHERE id = ANY($1) ORDER BY id`, ids)
				if err != nil {
					t.Fatal(err)
				}
				got, err := pgx.CollectRows(rows, pgx.RowTo[string])
				if err != nil {
					t.Fatal(err)
				}
				return got
			}

			ids := []uuid.UUID{uuid.Must(uuid.NewV7()), uuid.Must(uuid.NewV7())}
			for name, c := range map[string]struct {
				ids    []uuid.UUID
				topics []string
				want   string
			}{
				"another domain's topic":       {ids[:1], []string{foreign}, denied},
				"a topic with no domain":       {ids[:1], []string{""}, denied},
				"more ids than topics":         {ids, []string{actor.Name + ".probe"}, pgerrcode.NotNullViolation},
				"more topics than ids":         {ids[:1], []string{actor.Name + ".probe", actor.Name + ".probe"}, pgerrcode.NotNullViolation},
				"the same id twice":            {[]uuid.UUID{ids[0], ids[0]}, []string{actor.Name + ".a", actor.Name + ".b"}, pgerrcode.UniqueViolation},
				"an empty topic among its own": {ids, []string{actor.Name + ".probe", ""}, denied},
			} {
				if _, err := publish(c.ids, c.topics); code(err) != c.want {
					t.Errorf("%s: %s, want %s", name, outcome(err), c.want)
				}
			}
			if got := logged(ids); len(got) != 0 {
				t.Fatalf("refused publishes logged %v", got)
			}

			producer, err := publish(ids[:1], []string{actor.Name + ".probe"})
			if err != nil || producer != actor.Name {
				t.Fatalf("own topic: producer %q, %v; want %q", producer, err, actor.Name)
			}
			if got, want := logged(ids), []string{actor.Name + " " + actor.Name + ".probe"}; !slices.Equal(got, want) {
				t.Fatalf("log holds %v, want %v", got, want)
			}
			var captured int
			if err := conn.QueryRow(ctx, `SELECT count(*) FROM pg_temp.domain_events`).Scan(&captured); err != nil || captured != 0 {
				t.Fatalf("the look-alike log holds %d events (%v), want none", captured, err)
			}
		})
	}
}

// TestDomainRoleCannotReachOtherSessions: another domain's connections can
// be neither ended nor watched (the text of their queries).
func TestDomainRoleCannotReachOtherSessions(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	ctx := context.Background()
	victim, err := db.Pools.For(domains.Identity).Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer victim.Release()
	var pid int32
	if err := victim.QueryRow(ctx, `SELECT pg_backend_pid() /* credentials probe */`).Scan(&pid); err != nil {
		t.Fatal(err)
	}
	queryAs := func(pool *pgxpool.Pool) string {
		var q string
		if err := pool.QueryRow(ctx, `SELECT query FROM pg_stat_activity WHERE pid = $1`, pid).Scan(&q); err != nil {
			t.Fatalf("pg_stat_activity: %v", err)
		}
		return q
	}
	if q := queryAs(db.Pools.Login()); !strings.Contains(q, "credentials probe") {
		t.Fatalf("the login role sees %q, want the victim's query", q)
	}
	content := db.Pools.For(domains.Content)
	if q := queryAs(content); strings.Contains(q, "credentials probe") {
		t.Errorf("nova_content sees another session's query %q", q)
	}
	for _, f := range []string{"pg_cancel_backend", "pg_terminate_backend"} {
		if err := attempt(ctx, content, `SELECT `+f+`($1)`, pid); code(err) != denied {
			t.Errorf("nova_content: %s of an identity session: %s, want %s", f, outcome(err), denied)
		}
	}
}
