// Package migrate applies Nova's embedded migrations: a bootstrap step that
// creates each domain's role and schema, then one goose provider per domain,
// acting as that domain's role, with its version table inside its own schema.
package migrate

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"time"

	"github.com/jackc/pgerrcode"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/database"

	"github.com/nova-social/nova/internal/platform/domains"
	"github.com/nova-social/nova/internal/platform/postgres"
)

// lockKey serialises concurrent `migrate up` runs (replicas starting together).
const lockKey = 7_406_310_571

// Migrator runs the migrations of every domain.
type Migrator struct {
	pools     *postgres.Pools
	fsys      fs.FS
	providers []domainProvider
	dbs       []*sql.DB
}

type domainProvider struct {
	domain   domains.Domain
	provider *goose.Provider
}

// Status is one domain's migration state.
type Status struct {
	Domain  string
	Current int64
	Latest  int64
}

// Pending is the number of migrations not yet applied.
func (s Status) Pending() bool { return s.Current < s.Latest }

// New prepares a migrator over fsys, which holds one folder per domain.
func New(pools *postgres.Pools, fsys fs.FS) (*Migrator, error) {
	m := &Migrator{pools: pools, fsys: fsys}
	for _, d := range domains.All {
		sub, err := fs.Sub(fsys, d.Name)
		if err != nil {
			return nil, fmt.Errorf("migrations of %s: %w", d.Name, err)
		}
		store, err := database.NewStore(database.DialectPostgres, d.Schema+".goose_db_version")
		if err != nil {
			return nil, fmt.Errorf("version store of %s: %w", d.Name, err)
		}
		db := stdlib.OpenDBFromPool(pools.For(d))
		m.dbs = append(m.dbs, db)
		p, err := goose.NewProvider("", db, sub, goose.WithStore(store), goose.WithDisableGlobalRegistry(true))
		if err != nil {
			m.Close()
			return nil, fmt.Errorf("migrations of %s: %w", d.Name, err)
		}
		m.providers = append(m.providers, domainProvider{domain: d, provider: p})
	}
	return m, nil
}

// Close releases the database handles (the pools stay open).
func (m *Migrator) Close() {
	for _, db := range m.dbs {
		_ = db.Close()
	}
}

// bootstrap creates the domain roles and schemas if they are missing. Each
// schema is owned by its domain's role, which therefore has every privilege
// on its own schema and none on any other. It runs on login, the connection
// holding the migration lock (the login pool may have no other), as the
// login role, which needs CREATEROLE and CREATE on the database.
func bootstrap(ctx context.Context, login *pgxpool.Conn) error {
	for _, d := range domains.All {
		role, schema := quote(d.Role()), quote(d.Schema)
		// Roles are cluster-wide: two databases bootstrapping at once may race
		// to create the same role or grant the same membership, so a
		// duplicate is not an error.
		stmts := []string{
			`DO $$ BEGIN
			   IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = '` + d.Role() + `') THEN
			     CREATE ROLE ` + role + ` NOLOGIN;
			   END IF;
			 EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
			 END $$`,
			`DO $$ BEGIN
			   IF NOT pg_catalog.pg_has_role(current_user, '` + d.Role() + `', 'MEMBER') THEN
			     EXECUTE 'GRANT ` + role + ` TO ' || pg_catalog.quote_ident(current_user);
			   END IF;
			 EXCEPTION WHEN unique_violation THEN NULL;
			 END $$`,
			`CREATE SCHEMA IF NOT EXISTS ` + schema + ` AUTHORIZATION ` + role,
			`REVOKE ALL ON SCHEMA ` + schema + ` FROM PUBLIC`,
		}
		for _, s := range stmts {
			if _, err := login.Exec(ctx, s); err != nil {
				return fmt.Errorf("bootstrap %s: %w", d.Name, err)
			}
		}
	}
	return nil
}

// Up bootstraps and applies every pending migration, domain by domain in
// dependency order. It holds an advisory lock so replicas can run it at once.
func (m *Migrator) Up(ctx context.Context) error {
	return m.locked(ctx, func(conn *pgxpool.Conn) error {
		if err := bootstrap(ctx, conn); err != nil {
			return err
		}
		for _, dp := range m.providers {
			if _, err := dp.provider.Up(ctx); err != nil {
				return fmt.Errorf("migrate %s up: %w", dp.domain.Name, err)
			}
		}
		return nil
	})
}

// Down rolls back the newest migration of one domain, or of every domain (in
// reverse dependency order) when domain is empty. With all set it rolls back
// every migration.
func (m *Migrator) Down(ctx context.Context, domain string, all bool) error {
	if domain != "" {
		if _, ok := domains.ByName(domain); !ok {
			return fmt.Errorf("unknown domain %q", domain)
		}
	}
	return m.locked(ctx, func(*pgxpool.Conn) error {
		for i := len(m.providers) - 1; i >= 0; i-- {
			dp := m.providers[i]
			if domain != "" && dp.domain.Name != domain {
				continue
			}
			var err error
			if all {
				_, err = dp.provider.DownTo(ctx, 0)
			} else {
				_, err = dp.provider.Down(ctx)
			}
			if err != nil && !errors.Is(err, goose.ErrNoNextVersion) {
				return fmt.Errorf("migrate %s down: %w", dp.domain.Name, err)
			}
		}
		return nil
	})
}

// Status reports every domain's applied and latest version. It changes
// nothing: a domain never migrated reports version 0.
func (m *Migrator) Status(ctx context.Context) ([]Status, error) {
	out := make([]Status, 0, len(m.providers))
	for _, dp := range m.providers {
		s := Status{Domain: dp.domain.Name}
		if src := dp.provider.ListSources(); len(src) > 0 {
			s.Latest = src[len(src)-1].Version
		}
		// goose creates its version table on any call, so ask Postgres first
		// whether the table exists, to keep status and /readyz read-only.
		var exists bool
		err := m.pools.For(dp.domain).QueryRow(ctx, "SELECT to_regclass($1) IS NOT NULL", dp.domain.Schema+".goose_db_version").Scan(&exists)
		if roleMissing(err) {
			// Up creates the domain roles; before it, the domain's pool
			// cannot connect at all, and nothing of it is migrated.
			out = append(out, s)
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("status of %s: %w", dp.domain.Name, err)
		}
		if exists {
			cur, err := dp.provider.GetDBVersion(ctx)
			if err != nil {
				return nil, fmt.Errorf("status of %s: %w", dp.domain.Name, err)
			}
			s.Current = cur
		}
		out = append(out, s)
	}
	return out, nil
}

// roleMissing reports whether err is Postgres refusing a session of a role
// that does not exist.
func roleMissing(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == pgerrcode.InvalidParameterValue &&
		strings.HasPrefix(pe.Message, "role ") && strings.HasSuffix(pe.Message, " does not exist")
}

// Behind returns the domains whose migrations are not all applied, described
// for an operator ("content at 1 of 3").
func (m *Migrator) Behind(ctx context.Context) ([]string, error) {
	st, err := m.Status(ctx)
	if err != nil {
		return nil, err
	}
	var behind []string
	for _, s := range st {
		if s.Pending() {
			behind = append(behind, fmt.Sprintf("%s at %d of %d", s.Domain, s.Current, s.Latest))
		}
	}
	return behind, nil
}

// locked runs fn holding the migration lock, on the connection that holds it.
func (m *Migrator) locked(ctx context.Context, fn func(*pgxpool.Conn) error) error {
	conn, err := m.pools.Login().Acquire(ctx)
	if err != nil {
		return fmt.Errorf("acquire migration lock connection: %w", err)
	}
	defer conn.Release()
	if err := takeLock(ctx, conn); err != nil {
		return fmt.Errorf("take migration lock: %w", err)
	}
	defer func() {
		_, _ = conn.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", int64(lockKey))
	}()
	return fn(conn)
}

func quote(ident string) string { return `"` + strings.ReplaceAll(ident, `"`, `""`) + `"` }

// lockPoll is how often a replica waiting for another's migrations asks for
// the migration lock again.
const lockPoll = 100 * time.Millisecond

// takeLock takes the migration lock on conn, asking again every lockPoll
// rather than waiting in pg_advisory_lock: a statement that waits holds a
// snapshot, which an index built CONCURRENTLY by the migrating replica waits
// for, while the waiter waits for the build, a cycle through two
// connections that Postgres cannot detect.
func takeLock(ctx context.Context, conn *pgxpool.Conn) error {
	for {
		var got bool
		if err := conn.QueryRow(ctx, "SELECT pg_try_advisory_lock($1)", int64(lockKey)).Scan(&got); err != nil {
			return err
		}
		if got {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(lockPoll):
		}
	}
}
