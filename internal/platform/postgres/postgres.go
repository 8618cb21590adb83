// Package postgres opens one pgx pool per domain, each acting as that
// domain's Postgres role, so a query that strays into another domain's schema
// fails with "permission denied" at run time.
package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/nova-social/nova/internal/platform/domains"
)

// Pools holds a pool per domain plus the login role's own pool, which only
// migrations and the test-database helper use.
type Pools struct {
	login  *pgxpool.Pool
	byName map[string]*pgxpool.Pool
}

// Options configures Open.
type Options struct {
	// URL is the login role's connection string. The login role must be a
	// member of every domain role (local development) unless PerDomain
	// supplies a connection string for that domain.
	URL string
	// PerDomain maps a domain name to a connection string that logs in as the
	// domain's role directly (production credentials per domain).
	PerDomain map[string]string
	MaxConns  int32
	// Tracer, when set, sees every statement of every pool (tests count
	// statements with it).
	Tracer pgx.QueryTracer
}

// Open connects every pool. It does not wait for the database: pools connect
// lazily, so Nova can start (and report not-ready) while Postgres is down.
func Open(ctx context.Context, o Options) (*Pools, error) {
	p := &Pools{byName: make(map[string]*pgxpool.Pool, len(domains.All))}
	login, err := newPool(ctx, o, o.URL, "", false)
	if err != nil {
		return nil, fmt.Errorf("login pool: %w", err)
	}
	p.login = login
	for _, d := range domains.All {
		url, own := o.URL, false
		if u, ok := o.PerDomain[d.Name]; ok {
			url, own = u, true
		}
		pool, err := newPool(ctx, o, url, d.Role(), own)
		if err != nil {
			p.Close()
			return nil, fmt.Errorf("%s pool: %w", d.Name, err)
		}
		p.byName[d.Name] = pool
	}
	return p, nil
}

// newPool builds a pool whose sessions act as role (none: the login role).
// On the login role's connection string the role travels as a startup
// parameter, so no SQL in the code base ever switches roles. A domain's own
// connection string (own) replaces that parameter, so each new connection
// checks that it acts as role: one naming the login role, a member of every
// domain role, or another domain's would otherwise run the domain's SQL,
// and create its migrations' objects, as that role.
func newPool(ctx context.Context, o Options, url, role string, own bool) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("parse connection string: %w", err)
	}
	if role != "" && !own {
		cfg.ConnConfig.RuntimeParams["role"] = role
	}
	if o.MaxConns > 0 {
		cfg.MaxConns = o.MaxConns
	}
	cfg.ConnConfig.Tracer = o.Tracer
	cfg.ConnConfig.RuntimeParams["application_name"] = "nova"
	cfg.AfterConnect = registerUUID
	if own {
		cfg.AfterConnect = func(ctx context.Context, conn *pgx.Conn) error {
			var user string
			if err := conn.QueryRow(ctx, "SELECT current_user").Scan(&user); err != nil {
				return fmt.Errorf("check the connection's role: %w", err)
			}
			if user != role {
				return fmt.Errorf("the connection string acts as role %q, not %s", user, role)
			}
			return registerUUID(ctx, conn)
		}
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("create pool: %w", err)
	}
	return pool, nil
}

// For returns the pool of the domain d. It panics on an unknown domain: that
// is a wiring bug, not a run-time condition.
func (p *Pools) For(d domains.Domain) *pgxpool.Pool {
	pool, ok := p.byName[d.Name]
	if !ok {
		panic("postgres: no pool for domain " + d.Name)
	}
	return pool
}

// Login returns the login role's pool, for migrations.
func (p *Pools) Login() *pgxpool.Pool { return p.login }

// Ping checks that every domain pool reaches the database.
func (p *Pools) Ping(ctx context.Context) error {
	var errs []error
	for _, d := range domains.All {
		if err := p.byName[d.Name].Ping(ctx); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", d.Name, err))
		}
	}
	return errors.Join(errs...)
}

// Close closes every pool.
func (p *Pools) Close() {
	for _, pool := range p.byName {
		pool.Close()
	}
	if p.login != nil {
		p.login.Close()
	}
}

// Collector exports pgxpool statistics per domain to Prometheus.
func (p *Pools) Collector() prometheus.Collector { return &collector{pools: p} }

type collector struct{ pools *Pools }

var (
	descAcquired = prometheus.NewDesc("nova_db_pool_acquired_conns", "Connections currently in use.", []string{"domain"}, nil)
	descIdle     = prometheus.NewDesc("nova_db_pool_idle_conns", "Idle connections.", []string{"domain"}, nil)
	descTotal    = prometheus.NewDesc("nova_db_pool_total_conns", "Open connections.", []string{"domain"}, nil)
	descMax      = prometheus.NewDesc("nova_db_pool_max_conns", "Pool size limit.", []string{"domain"}, nil)
	descAcquires = prometheus.NewDesc("nova_db_pool_acquires_total", "Successful acquires.", []string{"domain"}, nil)
	descEmpty    = prometheus.NewDesc("nova_db_pool_empty_acquires_total", "Acquires that had to wait for a connection.", []string{"domain"}, nil)
	descWait     = prometheus.NewDesc("nova_db_pool_acquire_wait_seconds_total", "Time spent waiting for a connection.", []string{"domain"}, nil)
)

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descAcquired, descIdle, descTotal, descMax, descAcquires, descEmpty, descWait} {
		ch <- d
	}
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	for name, pool := range c.pools.byName {
		s := pool.Stat()
		ch <- prometheus.MustNewConstMetric(descAcquired, prometheus.GaugeValue, float64(s.AcquiredConns()), name)
		ch <- prometheus.MustNewConstMetric(descIdle, prometheus.GaugeValue, float64(s.IdleConns()), name)
		ch <- prometheus.MustNewConstMetric(descTotal, prometheus.GaugeValue, float64(s.TotalConns()), name)
		ch <- prometheus.MustNewConstMetric(descMax, prometheus.GaugeValue, float64(s.MaxConns()), name)
		ch <- prometheus.MustNewConstMetric(descAcquires, prometheus.CounterValue, float64(s.AcquireCount()), name)
		ch <- prometheus.MustNewConstMetric(descEmpty, prometheus.CounterValue, float64(s.EmptyAcquireCount()), name)
		ch <- prometheus.MustNewConstMetric(descWait, prometheus.CounterValue, s.AcquireDuration().Seconds(), name)
	}
}

// Querier is what a pool, a connection and a transaction all offer, so a
// domain's store functions run the same inside or outside a transaction.
type Querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// CollectByID reads rows, as db.Query returned them with err, into a map
// keyed by the id scan takes from each row: the shape of every batch read
// that answers a set of ids. what names the read in errors.
func CollectByID[T any](rows pgx.Rows, err error, what string, scan func(pgx.Row) (uuid.UUID, T, error)) (map[uuid.UUID]T, error) {
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	defer rows.Close()
	out := make(map[uuid.UUID]T)
	for rows.Next() {
		id, v, err := scan(rows)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		out[id] = v
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return out, nil
}
