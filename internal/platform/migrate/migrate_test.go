package migrate_test

import (
	"context"
	"testing"
	"time"

	"github.com/nova-social/nova/internal/platform/domains"
	"github.com/nova-social/nova/internal/platform/migrate"
	"github.com/nova-social/nova/internal/platform/pgtest"
	"github.com/nova-social/nova/internal/platform/postgres"
	"github.com/nova-social/nova/migrations"
)

func TestUpDownUp(t *testing.T) {
	t.Parallel()
	_, m := newMigrator(t)
	ctx := context.Background()

	assertState := func(stage string, wantCurrent bool) {
		t.Helper()
		st, err := m.Status(ctx)
		if err != nil {
			t.Fatalf("%s: status: %v", stage, err)
		}
		if len(st) != len(domains.All) {
			t.Fatalf("%s: %d domains in status, want %d", stage, len(st), len(domains.All))
		}
		for i, s := range st {
			if s.Domain != domains.All[i].Name {
				t.Errorf("%s: status[%d] is %s, want %s (dependency order)", stage, i, s.Domain, domains.All[i].Name)
			}
			if s.Latest < 1 {
				t.Errorf("%s: %s has no migrations", stage, s.Domain)
			}
			if s.Pending() == wantCurrent {
				t.Errorf("%s: %s at %d of %d", stage, s.Domain, s.Current, s.Latest)
			}
		}
	}

	assertState("fresh", false)
	if err := m.Up(ctx); err != nil {
		t.Fatalf("up: %v", err)
	}
	assertState("after up", true)
	if err := m.Up(ctx); err != nil {
		t.Fatalf("second up (idempotent): %v", err)
	}
	if err := m.Down(ctx, "", true); err != nil {
		t.Fatalf("down --all: %v", err)
	}
	st, err := m.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range st {
		if s.Current != 0 {
			t.Errorf("after down --all: %s at %d", s.Domain, s.Current)
		}
	}
	if err := m.Up(ctx); err != nil {
		t.Fatalf("up again: %v", err)
	}
	assertState("after up again", true)

	// One step down on one domain leaves the others alone.
	if err := m.Down(ctx, "search", false); err != nil {
		t.Fatalf("down --domain search: %v", err)
	}
	behind, err := m.Behind(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(behind) != 1 {
		t.Fatalf("behind after one domain down = %v, want only search", behind)
	}
	if err := m.Down(ctx, "nosuchdomain", false); err == nil {
		t.Fatal("down of an unknown domain succeeded")
	}
}

// Before the first `migrate up` the domain roles may not exist, so a
// domain's pool cannot connect: status still answers, with nothing applied.
func TestStatusBeforeTheRolesExist(t *testing.T) {
	t.Parallel()
	db := pgtest.Empty(t)
	ctx := context.Background()
	m := migratorOn(t, db.Open(t, postgres.Options{MaxConns: 2,
		PerDomain: map[string]string{"search": db.WithParam("role", "nova_no_such_role")}}))
	st, err := m.Status(ctx)
	if err != nil {
		t.Fatalf("status: %v", err)
	}
	for _, s := range st {
		if s.Current != 0 || !s.Pending() {
			t.Errorf("%s at %d of %d, want nothing applied", s.Domain, s.Current, s.Latest)
		}
	}
}

// TestEmailKeysBecomeComposed: identity's migration brings existing email
// keys to NFC, the form the code now looks them up in; of two keys that
// differ only in normalization, the composed (else the older) one wins and
// the other is left as it was rather than failing the unique key.
func TestEmailKeysBecomeComposed(t *testing.T) {
	t.Parallel()
	// Each key is lower-cased; the comments say what the migration does.
	checkEmailKeyMigration(t, 5, []emailKeyRow{
		// alone: composed
		{"00000000-0000-0000-0000-000000000001", "jose\u0301@a.example", "jose\u0301@a.example", "2026-01-01", "jos\u00e9@a.example"},
		// two orders of the same marks: the older is composed, the newer left
		{"00000000-0000-0000-0000-000000000002", "e\u0323\u0302@b.example", "e\u0323\u0302@b.example", "2026-01-02", "\u1ec7@b.example"},
		{"00000000-0000-0000-0000-000000000003", "e\u0302\u0323@b.example", "e\u0302\u0323@b.example", "2026-01-03", "e\u0302\u0323@b.example"},
		// the composed key wins over an older decomposed twin
		{"00000000-0000-0000-0000-000000000004", "zo\u00eb@c.example", "zo\u00eb@c.example", "2026-01-05", "zo\u00eb@c.example"},
		{"00000000-0000-0000-0000-000000000005", "zoe\u0308@c.example", "zoe\u0308@c.example", "2026-01-04", "zoe\u0308@c.example"},
	})
}

// TestEmailKeysOfDottedCapitalI: identity's migration re-keys the accounts
// whose address has a capital I with the combining dot U+0307, whose keys
// the code now composes before lower-casing; a lower-case i keeps its dot,
// and where two accounts would end with one key, the one that has it, else
// the older, takes it and the other is left as it was.
func TestEmailKeysOfDottedCapitalI(t *testing.T) {
	t.Parallel()
	// Each key is the one the old rule (lower-case, then compose) made from
	// the address; the comments say what the migration does.
	checkEmailKeyMigration(t, 9, []emailKeyRow{
		// I with U+0307 loses the dot, as U+0130 always did
		{"00000000-0000-0000-0000-000000000001", "I\u0307nfo@a.example", "i\u0307nfo@a.example", "2026-01-01", "info@a.example"},
		// a lower-case i keeps its dot
		{"00000000-0000-0000-0000-000000000002", "i\u0307nfo@b.example", "i\u0307nfo@b.example", "2026-01-02", "i\u0307nfo@b.example"},
		// only the dot of the capital I goes
		{"00000000-0000-0000-0000-000000000003", "i\u0307I\u0307@b.example", "i\u0307i\u0307@b.example", "2026-01-03", "i\u0307i@b.example"},
		// another mark between the I and its dot
		{"00000000-0000-0000-0000-000000000004", "I\u0327\u0307nfo@b.example", "i\u0327\u0307nfo@b.example", "2026-01-04", "i\u0327nfo@b.example"},
		// U+0130 before an ogonek, which composes with the I first, keeps its dot
		{"00000000-0000-0000-0000-000000000005", "\u0130\u0328nfo@b.example", "\u012fnfo@b.example", "2026-01-05", "\u012f\u0307nfo@b.example"},
		// the account that already has the key keeps it, though newer
		{"00000000-0000-0000-0000-000000000006", "I\u0307nfo@c.example", "i\u0307nfo@c.example", "2026-01-06", "i\u0307nfo@c.example"},
		{"00000000-0000-0000-0000-000000000007", "Info@c.example", "info@c.example", "2026-01-07", "info@c.example"},
		// two re-keyed to one key: the older takes it
		{"00000000-0000-0000-0000-000000000008", "I\u0307nfo\u0130\u0323@d.example", "i\u0307nfo\u1ecb@d.example", "2026-01-09", "i\u0307nfo\u1ecb@d.example"},
		{"00000000-0000-0000-0000-000000000009", "Info\u0130\u0323@d.example", "info\u1ecb@d.example", "2026-01-08", "info\u1ecb\u0307@d.example"},
		// a key the old rule did not make (left by identity/00005) stays
		{"00000000-0000-0000-0000-00000000000a", "I\u0307\u0327@e.example", "i\u0307\u0327@e.example", "2026-01-10", "i\u0307\u0327@e.example"},
	})
}

// emailKeyRow is an account as it stood before a migration that re-keys
// emails, and the key it must have after.
type emailKeyRow struct{ id, email, key, created, want string }

// checkEmailKeyMigration migrates a fresh database up, then identity down to
// just before version, inserts rows, migrates up again and checks each
// account's key.
func checkEmailKeyMigration(t *testing.T, version int64, rows []emailKeyRow) {
	t.Helper()
	db, m := newMigrator(t)
	ctx := context.Background()
	if err := m.Up(ctx); err != nil {
		t.Fatal(err)
	}
	for identityVersion(t, m) >= version {
		if err := m.Down(ctx, "identity", false); err != nil {
			t.Fatal(err)
		}
	}
	for _, r := range rows {
		if _, err := db.Pools.For(domains.Identity).Exec(ctx, `INSERT INTO identity.credentials
			(user_id, email, email_key, username, username_key, password_hash, created_at)
			VALUES ($1::uuid, $2, $3, $1::text, $1::text, 'x', $4::timestamptz)`, r.id, r.email, r.key, r.created); err != nil {
			t.Fatal(err)
		}
	}
	if err := m.Up(ctx); err != nil {
		t.Fatalf("up over the keys to change: %v", err)
	}
	for _, r := range rows {
		var got string
		if err := db.Pools.For(domains.Identity).QueryRow(ctx, `SELECT email_key FROM identity.credentials WHERE user_id = $1`, r.id).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != r.want {
			t.Errorf("%s: email_key %+q, want %+q", r.id, got, r.want)
		}
	}
}

// identityVersion is the identity domain's current migration version.
func identityVersion(t *testing.T, m *migrate.Migrator) int64 {
	t.Helper()
	st, err := m.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range st {
		if s.Domain == "identity" {
			return s.Current
		}
	}
	t.Fatal("no identity domain in the status")
	return 0
}

// newMigrator returns a fresh, unmigrated database and a migrator over it,
// closed when the test ends.
func newMigrator(t *testing.T) (*pgtest.DB, *migrate.Migrator) {
	t.Helper()
	db := pgtest.Empty(t)
	return db, migratorOn(t, db.Pools)
}

// migratorOn returns a migrator over pools, closed when the test ends.
func migratorOn(t *testing.T, pools *postgres.Pools) *migrate.Migrator {
	t.Helper()
	m, err := migrate.New(pools, migrations.FS)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Close)
	return m
}

// TestUpWithOneConnection: NOVA_DB_MAX_CONNS may be 1, so the login pool
// may have a single connection; the migration lock holds it while the
// bootstrap runs, which must therefore not wait for a second one.
func TestUpWithOneConnection(t *testing.T) {
	t.Parallel()
	db := pgtest.Empty(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	m := migratorOn(t, db.Open(t, postgres.Options{MaxConns: 1}))
	if err := m.Up(ctx); err != nil {
		t.Fatalf("up with one connection per pool: %v", err)
	}
}
