// Package pgtest gives each test its own freshly migrated Postgres database,
// cloned in milliseconds from a template that is migrated once per set of
// migrations and shared by every test package of a run.
package pgtest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgerrcode"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/nova-social/nova/internal/platform/migrate"
	"github.com/nova-social/nova/internal/platform/postgres"
	"github.com/nova-social/nova/internal/platform/requestid"
	"github.com/nova-social/nova/migrations"
)

// EnvURL names the variable holding the login role's connection string; the
// role needs CREATEDB and CREATEROLE. `make test` sets it.
const EnvURL = "NOVA_TEST_DATABASE_URL"

const defaultURL = "postgres://nova:nova@localhost:5432/nova?sslmode=disable"

// templateLock serialises template creation across test processes.
const templateLock = 7_406_310_572

// DB is a test database.
type DB struct {
	// URL connects as the login role to the test database.
	URL   string
	Pools *postgres.Pools
}

// BaseURL is the login role's connection string for tests.
func BaseURL() string {
	if u := os.Getenv(EnvURL); u != "" {
		return u
	}
	return defaultURL
}

// New creates a fresh, fully migrated database for t and drops it when t
// ends. Its pools act as the domain roles, exactly as in production.
func New(t testing.TB) *DB {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	tpl, err := template(ctx, BaseURL())
	if err != nil {
		t.Fatalf("pgtest: prepare template database: %v", err)
	}
	return create(ctx, t, tpl, 8)
}

// Empty creates a database for t with nothing in it, not even the schemas,
// for tests of the migrations themselves.
func Empty(t testing.TB) *DB {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	return create(ctx, t, "", 4)
}

// create creates a database for t, a copy of the template database from if
// one is named, with pools of maxConns connections per domain, and drops it
// when t ends.
func create(ctx context.Context, t testing.TB, from string, maxConns int32) *DB {
	t.Helper()
	base := BaseURL()
	name := "nova_test_" + requestid.New()
	admin, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("pgtest: connect to %s (set %s): %v", redact(base), EnvURL, err)
	}
	defer admin.Close(ctx)
	sql := "CREATE DATABASE " + pgx.Identifier{name}.Sanitize()
	if from != "" {
		sql += " TEMPLATE " + pgx.Identifier{from}.Sanitize()
	}
	if _, err := admin.Exec(ctx, sql); err != nil {
		t.Fatalf("pgtest: create database: %v", err)
	}
	db := &DB{URL: withDatabase(base, name)}
	db.Pools, err = postgres.Open(ctx, postgres.Options{URL: db.URL, MaxConns: maxConns})
	if err != nil {
		t.Fatalf("pgtest: open pools: %v", err)
	}
	t.Cleanup(func() {
		db.Pools.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, base)
		if err != nil {
			t.Logf("pgtest: drop %s: %v", name, err)
			return
		}
		defer c.Close(ctx)
		if err := dropDatabase(ctx, c, name); err != nil {
			t.Logf("pgtest: %v", err)
		}
	})
	return db
}

// template returns the name of a migrated template database for the current
// migrations, creating it under an advisory lock if no process has yet.
func template(ctx context.Context, base string) (string, error) {
	sum, err := migrationsHash()
	if err != nil {
		return "", err
	}
	name := "nova_tpl_" + sum
	admin, err := pgx.Connect(ctx, base)
	if err != nil {
		return "", fmt.Errorf("connect to %s (set %s): %w", redact(base), EnvURL, err)
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, "SELECT pg_advisory_lock($1)", int64(templateLock)); err != nil {
		return "", fmt.Errorf("lock: %w", err)
	}
	defer func() { _, _ = admin.Exec(context.Background(), "SELECT pg_advisory_unlock($1)", int64(templateLock)) }()

	var ready bool
	err = admin.QueryRow(ctx, `SELECT coalesce(shobj_description(oid, 'pg_database') LIKE 'ready %', false)
		FROM pg_database WHERE datname = $1`, name).Scan(&ready)
	if err == nil && ready {
		return name, nil
	}
	if err != nil && err != pgx.ErrNoRows {
		return "", fmt.Errorf("look up template: %w", err)
	}
	// Drop half-built templates (no one builds while we hold the lock) and
	// those of other migration sets unused for a day. A newer template may
	// belong to another checkout whose tests are running now.
	rows, err := admin.Query(ctx, `SELECT datname FROM pg_database, coalesce(shobj_description(oid, 'pg_database'), '') AS note
		WHERE datname LIKE 'nova\_tpl\_%' AND datname <> $1
		  AND (note NOT LIKE 'ready %' OR substr(note, 7)::timestamptz < now() - interval '1 day')`, name)
	if err != nil {
		return "", fmt.Errorf("list templates: %w", err)
	}
	stale, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return "", fmt.Errorf("list templates: %w", err)
	}
	for _, s := range stale {
		if err := dropDatabase(ctx, admin, s); err != nil {
			return "", fmt.Errorf("stale template: %w", err)
		}
	}
	if err := dropDatabase(ctx, admin, name); err != nil {
		return "", fmt.Errorf("half-built template: %w", err)
	}
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		return "", fmt.Errorf("create template: %w", err)
	}
	if err := migrateDatabase(ctx, withDatabase(base, name)); err != nil {
		return "", err
	}
	if _, err := admin.Exec(ctx, "COMMENT ON DATABASE "+pgx.Identifier{name}.Sanitize()+" IS 'ready "+time.Now().UTC().Format(time.RFC3339)+"'"); err != nil {
		return "", fmt.Errorf("mark template ready: %w", err)
	}
	return name, nil
}

// dropDatabase drops name, ending the sessions still connected to it. The
// login role may not end an autovacuum worker (busy after a test that wrote
// a lot): DROP ... WITH (FORCE) refuses while one runs, whereas a plain DROP
// cancels it and waits for it. So a refused forced drop is followed by a
// plain one, and both are tried again until the sessions have gone.
func dropDatabase(ctx context.Context, c *pgx.Conn, name string) error {
	ident := pgx.Identifier{name}.Sanitize()
	for {
		_, err := c.Exec(ctx, "DROP DATABASE IF EXISTS "+ident+" WITH (FORCE)")
		if err == nil {
			return nil
		}
		if pgErr := (*pgconn.PgError)(nil); !errors.As(err, &pgErr) || pgErr.Code != pgerrcode.InsufficientPrivilege {
			return fmt.Errorf("drop %s: %w", name, err)
		}
		if _, err := c.Exec(ctx, "DROP DATABASE IF EXISTS "+ident); err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("drop %s: %w", name, err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func migrateDatabase(ctx context.Context, url string) error {
	pools, err := postgres.Open(ctx, postgres.Options{URL: url, MaxConns: 2})
	if err != nil {
		return fmt.Errorf("open template pools: %w", err)
	}
	defer pools.Close()
	m, err := migrate.New(pools, migrations.FS)
	if err != nil {
		return err
	}
	defer m.Close()
	if err := m.Up(ctx); err != nil {
		return fmt.Errorf("migrate template: %w", err)
	}
	return nil
}

// migrationsHash fingerprints every migration file, so a changed migration
// yields a new template.
func migrationsHash() (string, error) {
	h := sha256.New()
	var paths []string
	err := fs.WalkDir(migrations.FS, ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			paths = append(paths, p)
		}
		return err
	})
	if err != nil {
		return "", fmt.Errorf("hash migrations: %w", err)
	}
	sort.Strings(paths)
	for _, p := range paths {
		b, err := fs.ReadFile(migrations.FS, p)
		if err != nil {
			return "", fmt.Errorf("hash migrations: %w", err)
		}
		fmt.Fprintf(h, "%s\x00%d\x00", p, len(b))
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil))[:16], nil
}

func withDatabase(base, name string) string {
	u, err := url.Parse(base)
	if err != nil {
		return base
	}
	u.Path = "/" + name
	return u.String()
}

func redact(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(unparsable connection string)"
	}
	return strings.Replace(u.Redacted(), "xxxxx", "***", 1)
}

// Traced opens a second set of pools on db, acting as the same roles, whose
// statements tracer sees; they close when t ends.
func (db *DB) Traced(t testing.TB, tracer pgx.QueryTracer) *postgres.Pools {
	t.Helper()
	return db.Open(t, postgres.Options{MaxConns: 8, Tracer: tracer})
}

// Open opens another set of pools on db with o, whose URL it fills in when
// empty; they close when t ends.
func (db *DB) Open(t testing.TB, o postgres.Options) *postgres.Pools {
	t.Helper()
	if o.URL == "" {
		o.URL = db.URL
	}
	pools, err := postgres.Open(context.Background(), o)
	if err != nil {
		t.Fatalf("pgtest: open pools: %v", err)
	}
	t.Cleanup(pools.Close)
	return pools
}

// WithParam is db's connection string with one more parameter (such as
// role, to connect as a domain's role).
func (db *DB) WithParam(key, value string) string {
	u, err := url.Parse(db.URL)
	if err != nil {
		return db.URL
	}
	q := u.Query()
	q.Set(key, value)
	u.RawQuery = q.Encode()
	return u.String()
}

// StatementCounter is a pgx tracer counting the statements it sees: those
// whose SQL contains Match, or all of them when Match is empty.
type StatementCounter struct {
	Match string
	n     atomic.Int64
}

func (c *StatementCounter) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	if strings.Contains(d.SQL, c.Match) {
		c.n.Add(1)
	}
	return ctx
}

func (*StatementCounter) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// Count is how many statements were seen so far.
func (c *StatementCounter) Count() int64 { return c.n.Load() }

// Reset starts counting again from zero.
func (c *StatementCounter) Reset() { c.n.Store(0) }

// Topics returns, oldest first, the topics of the logged events whose JSON
// payload has key equal to value. Tests read the log through the login role,
// which may read every schema.
func (db *DB) Topics(t testing.TB, key, value string) []string {
	t.Helper()
	rows, err := db.Pools.Login().Query(context.Background(),
		`SELECT topic FROM events.domain_events WHERE payload->>$1 = $2 ORDER BY occurred_at, id`, key, value)
	if err != nil {
		t.Fatalf("pgtest: read the event log: %v", err)
	}
	topics, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatalf("pgtest: read the event log: %v", err)
	}
	return topics
}
