package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgerrcode"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/nova-social/nova/internal/platform/domains"
	"github.com/nova-social/nova/internal/platform/pgtest"
	"github.com/nova-social/nova/internal/platform/postgres"
)

// A domain's pool can use its own schema and nothing else: the isolation the
// whole architecture rests on is enforced by Postgres, not by convention.
func TestRoleIsolation(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	ctx := context.Background()

	identity := db.Pools.For(domains.Identity)
	if _, err := identity.Exec(ctx, `CREATE TABLE identity.isolation_probe (id int PRIMARY KEY)`); err != nil {
		t.Fatalf("identity creating a table in its own schema: %v", err)
	}
	if _, err := identity.Exec(ctx, `INSERT INTO identity.isolation_probe VALUES (1)`); err != nil {
		t.Fatalf("identity writing its own table: %v", err)
	}
	var n int
	if err := identity.QueryRow(ctx, `SELECT count(*) FROM identity.isolation_probe`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("identity reading its own table: n=%d err=%v", n, err)
	}
	var role string
	if err := identity.QueryRow(ctx, `SELECT current_user`).Scan(&role); err != nil || role != "nova_identity" {
		t.Fatalf("identity pool acts as %q (err %v), want nova_identity", role, err)
	}

	content := db.Pools.For(domains.Content)
	for _, q := range []string{
		`SELECT * FROM identity.isolation_probe`,
		`INSERT INTO identity.isolation_probe VALUES (2)`,
		`DELETE FROM identity.isolation_probe`,
		`CREATE TABLE identity.intruder (id int)`,
	} {
		_, err := content.Exec(ctx, q)
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) || pgErr.Code != pgerrcode.InsufficientPrivilege {
			t.Errorf("content running %q: got %v, want permission denied", q, err)
		}
	}
}

func TestCollectByID(t *testing.T) {
	t.Parallel()
	pool := pgtest.New(t).Pools.For(domains.Content)
	ctx := context.Background()
	a, b := uuid.New(), uuid.New()
	scan := func(r pgx.Row) (id uuid.UUID, n int, err error) { return id, n, r.Scan(&id, &n) }

	rows, err := pool.Query(ctx, `SELECT * FROM unnest($1::uuid[], $2::int[])`, []uuid.UUID{a, b}, []int32{1, 2})
	got, err := postgres.CollectByID(rows, err, "pairs", scan)
	if err != nil || len(got) != 2 || got[a] != 1 || got[b] != 2 {
		t.Fatalf("CollectByID = %v, %v", got, err)
	}
	rows, err = pool.Query(ctx, `SELECT nosuchcolumn`)
	if _, err := postgres.CollectByID(rows, err, "broken read", scan); err == nil || !strings.Contains(err.Error(), "broken read") {
		t.Fatalf("failed query: err = %v, want it named", err)
	}
	rows, err = pool.Query(ctx, `SELECT $1::uuid, 'x'`, a)
	if _, err := postgres.CollectByID(rows, err, "bad scan", scan); err == nil || !strings.Contains(err.Error(), "bad scan") {
		t.Fatalf("failed scan: err = %v, want it named", err)
	}
}

// TestInTxRetries: a transaction aborted as a deadlock victim or for a
// serialization failure runs again, at most three times in all; any other
// error ends it at once. The errors are Postgres's own: a real deadlock,
// and the others raised by the server with their SQLSTATE.
func TestInTxRetries(t *testing.T) {
	t.Parallel()
	pool := pgtest.New(t).Pools.For(domains.Content)
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if _, err := pool.Exec(ctx, `CREATE TABLE content.t_tx (id int PRIMARY KEY); INSERT INTO content.t_tx VALUES (1), (2)`); err != nil {
		t.Fatal(err)
	}

	// Two transactions lock the rows in opposite orders: Postgres aborts
	// one (rarely both), which runs again and succeeds.
	var runs atomic.Int32
	locked := make(chan struct{}, 2)
	crossing := func(first, second int) func(pgx.Tx) error {
		return func(tx pgx.Tx) error {
			runs.Add(1)
			if _, err := tx.Exec(ctx, `UPDATE content.t_tx SET id = id WHERE id = $1`, first); err != nil {
				return err
			}
			select {
			case locked <- struct{}{}: // a first run: wait until both hold a row
				for len(locked) < 2 {
					time.Sleep(time.Millisecond)
				}
			default: // the rerun
			}
			_, err := tx.Exec(ctx, `UPDATE content.t_tx SET id = id WHERE id = $1`, second)
			return err
		}
	}
	errs := make(chan error, 2)
	go func() { errs <- postgres.InTx(ctx, pool, log, crossing(1, 2)) }()
	go func() { errs <- postgres.InTx(ctx, pool, log, crossing(2, 1)) }()
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatalf("crossing transactions: %v", err)
		}
	}
	// Usually one is the victim; both are when their deadlock checks run
	// at the same moment, each finding the other still waiting.
	if n := runs.Load(); n < 3 {
		t.Fatalf("crossing transactions ran %d times, want a deadlock victim run again", n)
	}

	raising := func(code string, failures int) (func(pgx.Tx) error, *int) {
		n := 0
		return func(tx pgx.Tx) error {
			if n++; n > failures {
				return nil
			}
			_, err := tx.Exec(ctx, fmt.Sprintf(`DO $$ BEGIN RAISE EXCEPTION 'raised' USING ERRCODE = '%s'; END $$`, code))
			return err
		}, &n
	}
	for _, c := range []struct {
		code      string
		failures  int
		wantRuns  int
		wantError bool
	}{
		{pgerrcode.SerializationFailure, 1, 2, false},
		{pgerrcode.DeadlockDetected, 3, 3, true},
		{pgerrcode.UniqueViolation, 1, 1, true},
	} {
		f, n := raising(c.code, c.failures)
		err := postgres.InTx(ctx, pool, log, f)
		var pgErr *pgconn.PgError
		if c.wantError != (err != nil) || err != nil && (!errors.As(err, &pgErr) || pgErr.Code != c.code) || *n != c.wantRuns {
			t.Errorf("%s %d times: InTx = %v after %d runs, want error %v after %d", c.code, c.failures, err, *n, c.wantError, c.wantRuns)
		}
	}
}

// TestPerDomainURLMustActAsTheDomainRole: a per-domain connection string
// replaces the role startup parameter, so one that logs in as another role
// (the login role, a member of every domain role, or another domain's)
// would quietly run the domain's SQL, and create its migrations' objects,
// as that role. Each new connection checks whom it acts as.
func TestPerDomainURLMustActAsTheDomainRole(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	ctx := context.Background()
	pools := db.Open(t, postgres.Options{MaxConns: 2, PerDomain: map[string]string{
		"content": db.URL,                             // the login role itself
		"social":  db.WithParam("role", "nova_media"), // another domain's role
		"search":  db.WithParam("role", "nova_search"),
	}})
	for _, d := range []domains.Domain{domains.Content, domains.Social} {
		var role string
		err := pools.For(d).QueryRow(ctx, `SELECT current_user`).Scan(&role)
		if err == nil || !strings.Contains(err.Error(), d.Role()) {
			t.Errorf("%s pool on a connection string of another role: acts as %q, err %v; want it refused", d.Name, role, err)
		}
	}
	var role string
	if err := pools.For(domains.Search).QueryRow(ctx, `SELECT current_user`).Scan(&role); err != nil || role != "nova_search" {
		t.Fatalf("search pool acting as its role: %q, %v", role, err)
	}
}
