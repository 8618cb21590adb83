package migrate_test

import (
	"context"
	"io/fs"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/nova-social/nova/internal/platform/domains"
	"github.com/nova-social/nova/internal/platform/migrate"
	"github.com/nova-social/nova/internal/platform/pgtest"
	"github.com/nova-social/nova/internal/platform/postgres"
	"github.com/nova-social/nova/migrations"
)

// TestReplicasMigrateAtOnce: replicas starting together each run migrate up
// on a new database; one applies everything, the others wait for the
// migration lock and then find nothing to do.
func TestReplicasMigrateAtOnce(t *testing.T) {
	t.Parallel()
	db := pgtest.Empty(t)
	upAtOnce(t, db, migrations.FS, 3)
	behind, err := migratorOn(t, db.Pools).Behind(context.Background())
	if err != nil || len(behind) > 0 {
		t.Fatalf("behind after the replicas migrated: %v, %v", behind, err)
	}
}

// TestReplicasMigrateAtOnceOverAConcurrentIndex: replicas migrate at once
// while a migration builds an index CONCURRENTLY, which waits for every
// older snapshot to end. The replica waiting for the migration lock must
// hold none: the build would wait for it while it waits for the build, a
// cycle through two connections that Postgres cannot see.
func TestReplicasMigrateAtOnceOverAConcurrentIndex(t *testing.T) {
	t.Parallel()
	fsys := fstest.MapFS{}
	for _, d := range domains.All {
		fsys[d.Name+"/00001_t.sql"] = &fstest.MapFile{Data: []byte("-- +goose Up\nCREATE TABLE " + d.Schema + ".t (id int);\n-- +goose Down\nDROP TABLE " + d.Schema + ".t;\n")}
	}
	fsys["search/00002_i.sql"] = &fstest.MapFile{Data: []byte("-- +goose NO TRANSACTION\n-- +goose Up\nCREATE INDEX CONCURRENTLY t_id ON search.t (id);\n-- +goose Down\nDROP INDEX CONCURRENTLY search.t_id;\n")}
	upAtOnce(t, pgtest.Empty(t), fsys, 2)
}

// upAtOnce runs n replicas' migrate up of fsys on db at once, each with its
// own pools, and fails t unless all succeed within a minute.
func upAtOnce(t *testing.T, db *pgtest.DB, fsys fs.FS, n int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range errs {
		m, err := migrate.New(db.Open(t, postgres.Options{MaxConns: 2}), fsys)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(m.Close)
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = m.Up(ctx) }()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("replica %d: %v", i, err)
		}
	}
}
