package migrate_test

import (
	"context"
	"strings"
	"testing"

	"github.com/nova-social/nova/internal/platform/domains"
	"github.com/nova-social/nova/internal/platform/migrate"
	"github.com/nova-social/nova/internal/platform/pgtest"
	"github.com/nova-social/nova/internal/platform/postgres"
	"github.com/nova-social/nova/migrations"
)

func TestUpDownUp(t *testing.T) {
	t.Parallel()
	db := pgtest.Empty(t)
	ctx := context.Background()
	m, err := migrate.New(db.Pools, migrations.FS)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()

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
	sep := "?"
	if strings.Contains(db.URL, "?") {
		sep = "&"
	}
	pools, err := postgres.Open(ctx, postgres.Options{URL: db.URL, MaxConns: 2,
		PerDomain: map[string]string{"search": db.URL + sep + "role=nova_no_such_role"}})
	if err != nil {
		t.Fatal(err)
	}
	defer pools.Close()
	m, err := migrate.New(pools, migrations.FS)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
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
