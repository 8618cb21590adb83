package events

import (
	"context"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"

	"github.com/nova-social/nova/internal/platform/domains"
	"github.com/nova-social/nova/internal/platform/migrate"
	"github.com/nova-social/nova/internal/platform/pgtest"
	"github.com/nova-social/nova/migrations"
)

// River's own schema is copied into goose migrations of the events domain,
// one file per River upgrade, named NNNNN_river_<first>_<last>.sql after the
// River migration versions it holds. These tests check the copies against the
// River module in go.mod; after a River upgrade,
//
//	go test ./internal/events -run TestRiverMigrations -update-river
//
// writes a new migration with River's new versions.
var updateRiver = flag.Bool("update-river", false, "write a migration for River versions missing from migrations/events")

var riverFileName = regexp.MustCompile(`^(\d{5})_river_(\d{3})_(\d{3})\.sql$`)

// riverMigrationSQL renders River's migrations first..last, targeted at the
// events schema, as one goose migration that also records the versions in
// River's own table (which has its final shape from River's version 5 on) so River's tooling sees an up-to-date schema. Each
// River version is one statement group, which Postgres runs atomically; the
// file runs outside a transaction because River adds an enum value that a
// later version uses, which Postgres forbids within one transaction.
func riverMigrationSQL(t *testing.T, first, last int) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("-- Code generated from River's bundled migrations by the events package's\n")
	b.WriteString("-- tests (-update-river). DO NOT EDIT.\n")
	b.WriteString("-- River's tables live in the events schema, owned by the events role.\n\n")
	b.WriteString("-- +goose NO TRANSACTION\n-- +goose Up\n")
	if first == 1 {
		b.WriteString(riverStartOver)
	}
	vs := riverVersions(t, first, last)
	var recorded []string
	for _, v := range vs {
		fmt.Fprintf(&b, "-- River %03d %s\n-- +goose StatementBegin\n%s\n-- +goose StatementEnd\n\n", v.Version, v.Name, renderRiver(v.SQLUp))
		recorded = append(recorded, fmt.Sprintf("('main', %d)", v.Version))
	}
	fmt.Fprintf(&b, "INSERT INTO events.river_migration (line, version) VALUES %s ON CONFLICT DO NOTHING;\n\n", strings.Join(recorded, ", "))
	b.WriteString("-- +goose Down\n")
	for i := len(vs) - 1; i >= 0; i-- {
		v := vs[i]
		fmt.Fprintf(&b, "-- River %03d %s\n-- +goose StatementBegin\n", v.Version, v.Name)
		if down := renderRiver(v.SQLDown); down != "" {
			b.WriteString(down + "\n")
		}
		if v.Version == 1 {
			b.WriteString("DROP TABLE IF EXISTS events.river_migration;\n")
		} else {
			fmt.Fprintf(&b, "DELETE FROM events.river_migration WHERE version = %d;\n", v.Version)
		}
		b.WriteString("-- +goose StatementEnd\n\n")
	}
	return strings.TrimRight(b.String(), "\n") + "\n"
}

// riverStartOver opens the file of River's first versions. Each version is
// atomic, the file is not: a run cut short (a crash, a kill) leaves the
// versions it finished, and the next run would fail on their tables. Until
// the file completes, the bus's own migrations have not run and nothing has
// used River's tables, so the next run drops what is there and starts over.
const riverStartOver = `-- A run cut short left River's first versions behind: start over.
-- +goose StatementBegin
DROP TABLE IF EXISTS events.river_migration_old, events.river_migration, events.river_notification,
  events.river_client_queue, events.river_client, events.river_queue, events.river_leader, events.river_job;
DROP FUNCTION IF EXISTS events.river_job_notify();
DROP TYPE IF EXISTS events.river_job_state CASCADE;
-- +goose StatementEnd

`

func renderRiver(sql string) string {
	return strings.TrimSpace(strings.ReplaceAll(sql, "/* TEMPLATE: schema */", riverSchema+"."))
}

func riverVersions(t *testing.T, first, last int) []rivermigrate.Migration {
	t.Helper()
	m, err := rivermigrate.New(riverpgxv5.New(nil), &rivermigrate.Config{Schema: riverSchema})
	if err != nil {
		t.Fatalf("river migrator: %v", err)
	}
	var out []rivermigrate.Migration
	for _, v := range m.AllVersions() {
		if v.Version >= first && v.Version <= last {
			out = append(out, v)
		}
	}
	return out
}

// TestRiverMigrationsCurrent fails when River's bundled migrations changed
// (a River upgrade) and no migration in the repository carries the new ones,
// or when a copy differs from what River ships.
func TestRiverMigrationsCurrent(t *testing.T) {
	entries, err := fs.ReadDir(migrations.FS, "events")
	if err != nil {
		t.Fatal(err)
	}
	covered, lastGoose := 0, 0
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	for _, name := range names {
		n, _ := strconv.Atoi(name[:min(5, len(name))])
		lastGoose = max(lastGoose, n)
		m := riverFileName.FindStringSubmatch(name)
		if m == nil {
			continue
		}
		first, _ := strconv.Atoi(m[2])
		last, _ := strconv.Atoi(m[3])
		if first != covered+1 {
			t.Fatalf("%s starts at River version %d, want %d", name, first, covered+1)
		}
		got, err := fs.ReadFile(migrations.FS, path.Join("events", name))
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != riverMigrationSQL(t, first, last) {
			t.Errorf("%s differs from River's migrations %d..%d of the River version in go.mod", name, first, last)
		}
		covered = last
	}
	all := riverVersions(t, 1, 1<<30)
	latest := all[len(all)-1].Version
	if covered == latest {
		return
	}
	name := fmt.Sprintf("%05d_river_%03d_%03d.sql", lastGoose+1, covered+1, latest)
	if !*updateRiver {
		t.Fatalf("River ships migrations up to %d but migrations/events stops at %d: run go test ./internal/events -run TestRiverMigrationsCurrent -update-river to add %s", latest, covered, name)
	}
	if err := os.WriteFile(path.Join("..", "..", "migrations", "events", name), []byte(riverMigrationSQL(t, covered+1, latest)), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote migrations/events/%s", name)
}

// eventsDown returns a database whose events domain is migrated all the way
// down, the other domains up, and a migrator over it.
func eventsDown(t *testing.T) (*pgtest.DB, *migrate.Migrator) {
	t.Helper()
	db := pgtest.New(t)
	m, err := migrate.New(db.Pools, migrations.FS)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Close)
	if err := m.Down(context.Background(), domains.Events.Name, true); err != nil {
		t.Fatalf("down: %v", err)
	}
	return db, m
}

// TestEventsMigrationsDownAndUp rolls the events domain's migrations, River's
// included, all the way down and up again.
func TestEventsMigrationsDownAndUp(t *testing.T) {
	t.Parallel()
	db, m := eventsDown(t)
	ctx := context.Background()
	var tables int
	if err := db.Pools.For(domains.Events).QueryRow(ctx, `SELECT count(*) FROM pg_catalog.pg_tables WHERE schemaname = 'events' AND tablename <> 'goose_db_version'`).Scan(&tables); err != nil || tables != 0 {
		t.Fatalf("tables left in events after down: %d, %v", tables, err)
	}
	if err := m.Up(ctx); err != nil {
		t.Fatalf("up again: %v", err)
	}
	var versions []int
	rows, err := db.Pools.For(domains.Events).Query(ctx, `SELECT version FROM events.river_migration ORDER BY version`)
	if err != nil {
		t.Fatal(err)
	}
	versions, err = pgx.CollectRows(rows, pgx.RowTo[int])
	if err != nil {
		t.Fatal(err)
	}
	all := riverVersions(t, 1, 1<<30)
	if len(versions) != len(all) || versions[len(versions)-1] != all[len(all)-1].Version {
		t.Fatalf("river_migration versions = %v, River ships %d", versions, len(all))
	}
}

// TestRiverMigrationStartsOverAfterACutRun: River's first migration file runs
// outside a transaction, one River version at a time. A run cut short after
// some versions (a crash, a kill) must not leave the database unmigratable.
func TestRiverMigrationStartsOverAfterACutRun(t *testing.T) {
	t.Parallel()
	db, m := eventsDown(t)
	ctx := context.Background()
	// What a run cut after River's second version leaves.
	file, err := fs.ReadFile(migrations.FS, "events/00002_river_001_008.sql")
	if err != nil {
		t.Fatal(err)
	}
	up, _, _ := strings.Cut(string(file), "-- +goose Down")
	groups := strings.Split(up, "-- +goose StatementBegin")
	for _, g := range groups[2:4] { // River 001 and 002, after the start-over group
		sql, _, _ := strings.Cut(g, "-- +goose StatementEnd")
		if _, err := db.Pools.For(domains.Events).Exec(ctx, sql); err != nil {
			t.Fatalf("apply part of River's migration: %v", err)
		}
	}
	if err := db.Pools.For(domains.Events).QueryRow(ctx, `SELECT 1 FROM events.river_job LIMIT 1`).Scan(new(int)); err != pgx.ErrNoRows {
		t.Fatalf("river_job after the cut run: %v", err)
	}
	if err := m.Up(ctx); err != nil {
		t.Fatalf("up after a cut run: %v", err)
	}
	var n int
	if err := db.Pools.For(domains.Events).QueryRow(ctx, `SELECT count(*) FROM events.river_migration`).Scan(&n); err != nil || n != len(riverVersions(t, 1, 8)) {
		t.Fatalf("river_migration rows after up: %d, %v", n, err)
	}
}
