package migrate_test

import (
	"context"
	"fmt"
	"io/fs"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/database"

	"github.com/nova-social/nova/internal/platform/domains"
	"github.com/nova-social/nova/migrations"
)

// schemaSnapshot describes every object of the domain schemas that a
// migration may create or change, with its definition and privileges, one
// line each, sorted: two snapshots are equal when the schemas are. An object
// without explicit privileges shows its defaults, which is what a REVOKE
// undone by a GRANT leaves spelled out. goose's own version tables are left
// out.
func schemaSnapshot(ctx context.Context, t *testing.T, login *pgxpool.Pool) []string {
	t.Helper()
	var schemas []string
	for _, d := range domains.All {
		schemas = append(schemas, d.Schema)
	}
	rows, err := login.Query(ctx, `
		WITH rel AS (
			SELECT c.oid, c.relname, c.relkind, c.relpersistence, n.nspname,
				coalesce(c.relacl, acldefault(CASE c.relkind WHEN 'S' THEN 's'::"char" ELSE 'r'::"char" END, c.relowner)) AS relacl
			FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
			WHERE n.nspname = ANY($1) AND c.relname NOT LIKE 'goose\_db\_version%')
		SELECT 'schema ' || n.nspname || ' acl ' || `+sortedACL("coalesce(n.nspacl, acldefault('n', n.nspowner))")+`
		FROM pg_namespace n WHERE n.nspname = ANY($1)
		UNION ALL
		SELECT 'relation ' || nspname || '.' || relname || ' ' || relkind::text || relpersistence::text || ' acl ' || `+sortedACL("relacl")+` FROM rel
		UNION ALL
		SELECT 'column ' || r.nspname || '.' || r.relname || '.' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
			|| CASE WHEN a.attnotnull THEN ' not null' ELSE '' END
			|| coalesce(' default ' || pg_get_expr(d.adbin, d.adrelid), '')
			|| coalesce(' acl ' || `+sortedACL("a.attacl")+`, '')
		FROM rel r JOIN pg_attribute a ON a.attrelid = r.oid AND a.attnum > 0 AND NOT a.attisdropped
		LEFT JOIN pg_attrdef d ON d.adrelid = r.oid AND d.adnum = a.attnum
		WHERE r.relkind IN ('r', 'p', 'v', 'm', 'f')
		UNION ALL
		SELECT 'index ' || pg_get_indexdef(i.indexrelid)
			|| CASE WHEN i.indisvalid THEN '' ELSE ' INVALID' END
		FROM pg_index i JOIN rel r ON r.oid = i.indexrelid
		UNION ALL
		SELECT 'constraint ' || r.nspname || '.' || r.relname || ' ' || c.conname || ' ' || pg_get_constraintdef(c.oid)
			|| CASE WHEN c.convalidated THEN '' ELSE ' not validated' END
		FROM pg_constraint c JOIN rel r ON r.oid = c.conrelid
		UNION ALL
		SELECT 'trigger ' || pg_get_triggerdef(tg.oid) FROM pg_trigger tg JOIN rel r ON r.oid = tg.tgrelid WHERE NOT tg.tgisinternal
		UNION ALL
		SELECT 'function ' || p.oid::regprocedure::text || ' acl ' || `+sortedACL("coalesce(p.proacl, acldefault('f', p.proowner))")+` || E'\n' || pg_get_functiondef(p.oid)
		FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = ANY($1)
		UNION ALL
		SELECT 'type ' || ty.oid::regtype::text || ' acl ' || `+sortedACL("coalesce(ty.typacl, acldefault('T', ty.typowner))")+`
			|| coalesce(' enum ' || (SELECT string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder) FROM pg_enum e WHERE e.enumtypid = ty.oid), '')
		FROM pg_type ty JOIN pg_namespace n ON n.oid = ty.typnamespace
		WHERE n.nspname = ANY($1) AND ty.typtype IN ('e', 'c', 'd', 'r') AND NOT EXISTS (SELECT FROM pg_class c WHERE c.oid = ty.typrelid AND c.relkind <> 'c')
		UNION ALL
		SELECT 'default acl ' || pg_get_userbyid(a.defaclrole) || ' ' || coalesce(n.nspname, '*') || ' ' || a.defaclobjtype::text || ' ' || a.defaclacl::text
		FROM pg_default_acl a LEFT JOIN pg_namespace n ON n.oid = a.defaclnamespace
		UNION ALL
		SELECT 'comment ' || d.classoid::regclass::text || ' ' || d.objoid || ' ' || d.description
		FROM pg_description d JOIN rel r ON r.oid = d.objoid
		ORDER BY 1`, schemas)
	if err != nil {
		t.Fatalf("snapshot: %v", err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatalf("snapshot: %v", err)
	}
	return out
}

// sortedACL is SQL spelling the privileges of an aclitem[] in a fixed order.
func sortedACL(acl string) string {
	return `(SELECT string_agg(i::text, ',' ORDER BY i::text) FROM unnest(` + acl + `) i)`
}

// diffSnapshots names the lines only one of two snapshots has.
func diffSnapshots(want, got []string) string {
	in := func(s []string) map[string]bool {
		m := make(map[string]bool, len(s))
		for _, l := range s {
			m[l] = true
		}
		return m
	}
	w, g := in(want), in(got)
	var b strings.Builder
	for _, l := range want {
		if !g[l] {
			fmt.Fprintf(&b, "\n  missing: %s", l)
		}
	}
	for _, l := range got {
		if !w[l] {
			fmt.Fprintf(&b, "\n  extra:   %s", l)
		}
	}
	return b.String()
}

// domainProvider is a goose provider over one domain's migrations, acting as
// that domain's role with its version table in its schema, as the migrator
// builds them; the tests step it one version at a time.
func domainProvider(t *testing.T, pool *pgxpool.Pool, d domains.Domain) *goose.Provider {
	t.Helper()
	sub, err := fs.Sub(migrations.FS, d.Name)
	if err != nil {
		t.Fatal(err)
	}
	store, err := database.NewStore(database.DialectPostgres, d.Schema+".goose_db_version")
	if err != nil {
		t.Fatal(err)
	}
	db := stdlib.OpenDBFromPool(pool)
	t.Cleanup(func() { _ = db.Close() })
	p, err := goose.NewProvider("", db, sub, goose.WithStore(store), goose.WithDisableGlobalRegistry(true))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestEveryMigrationDownRestoresTheSchema steps every domain down one
// migration at a time to nothing and up again: the schemas after each Down
// must be exactly those its migration found (objects, definitions,
// privileges, default privileges), and after going up again exactly those of
// a first run.
func TestEveryMigrationDownRestoresTheSchema(t *testing.T) {
	t.Parallel()
	db, m := newMigrator(t)
	ctx := context.Background()
	if err := m.Up(ctx); err != nil {
		t.Fatal(err)
	}
	login := db.Pools.Login()
	full := schemaSnapshot(ctx, t, login)
	// Reverse dependency order, as migrate down --all goes.
	for i := len(domains.All) - 1; i >= 0; i-- {
		d := domains.All[i]
		p := domainProvider(t, db.Pools.For(d), d)
		src := p.ListSources()
		// What each version leaves, recorded on the way down: snaps[k] is
		// the schema at version k of this domain.
		snaps := map[int64][]string{src[len(src)-1].Version: schemaSnapshot(ctx, t, login)}
		for j := len(src) - 1; j >= 0; j-- {
			if _, err := p.Down(ctx); err != nil {
				t.Fatalf("%s: down from %d: %v", d.Name, src[j].Version, err)
			}
			var below int64
			if j > 0 {
				below = src[j-1].Version
			}
			snaps[below] = schemaSnapshot(ctx, t, login)
		}
		for _, s := range src {
			if _, err := p.UpByOne(ctx); err != nil {
				t.Fatalf("%s: up to %d again: %v", d.Name, s.Version, err)
			}
			if got := schemaSnapshot(ctx, t, login); strings.Join(got, "\n") != strings.Join(snaps[s.Version], "\n") {
				t.Errorf("%s: the schema at version %d differs between going down to it and going up to it:%s",
					d.Name, s.Version, diffSnapshots(snaps[s.Version], got))
			}
		}
	}
	if got := schemaSnapshot(ctx, t, login); strings.Join(got, "\n") != strings.Join(full, "\n") {
		t.Errorf("after every domain went down and up again:%s", diffSnapshots(full, got))
	}
	// All the way down, every domain, as `migrate down --all` does: nothing
	// is left but the schemas as the bootstrap made them.
	if err := m.Down(ctx, "", true); err != nil {
		t.Fatal(err)
	}
	var left []string
	for _, l := range schemaSnapshot(ctx, t, login) {
		if !strings.HasPrefix(l, "schema ") {
			left = append(left, l)
		}
	}
	if len(left) > 0 {
		t.Errorf("left after migrate down --all:\n  %s", strings.Join(left, "\n  "))
	}
}
