// Package app is Nova's composition root: it opens the pools, runs the
// migrations check, wires every domain, the event bus and the GraphQL gateway
// onto the HTTP server, and runs them until the context ends.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/nova-social/nova/internal/content"
	"github.com/nova-social/nova/internal/events"
	"github.com/nova-social/nova/internal/gateway"
	"github.com/nova-social/nova/internal/identity"
	"github.com/nova-social/nova/internal/platform/config"
	"github.com/nova-social/nova/internal/platform/domains"
	"github.com/nova-social/nova/internal/platform/httpserver"
	"github.com/nova-social/nova/internal/platform/migrate"
	"github.com/nova-social/nova/internal/platform/postgres"
	"github.com/nova-social/nova/internal/social"
	"github.com/nova-social/nova/internal/user"
	"github.com/nova-social/nova/migrations"
)

// ErrMigrationsBehind is returned by New when the schema is older than the
// binary and auto-migration is off.
var ErrMigrationsBehind = errors.New("migrations are behind")

// App is a running Nova.
type App struct {
	cfg      *config.Config
	log      *slog.Logger
	pools    *postgres.Pools
	migrator *migrate.Migrator
	registry *prometheus.Registry
	http     *httpserver.Server
	// bus is the event bus: domains publish on it and subscribe to it while
	// being wired in init; Run starts it and stops it after the HTTP drain.
	bus *events.Bus
	// identity and users are the identity and user domains' services.
	identity *identity.Service
	users    *user.Service
	// content and social are the posts and relationships domains' services.
	content *content.Service
	social  *social.Service
}

// New connects to Postgres, checks (or applies) migrations and builds the
// HTTP server. Close releases what it opened.
func New(ctx context.Context, cfg *config.Config, log *slog.Logger) (*App, error) {
	pools, err := postgres.Open(ctx, postgres.Options{URL: cfg.DatabaseURL, PerDomain: cfg.DomainDBURLs, MaxConns: cfg.DBMaxConns})
	if err != nil {
		return nil, fmt.Errorf("open database pools: %w", err)
	}
	a := &App{cfg: cfg, log: log, pools: pools}
	if err := a.init(ctx); err != nil {
		a.Close()
		return nil, err
	}
	return a, nil
}

func (a *App) init(ctx context.Context) error {
	m, err := migrate.New(a.pools, migrations.FS)
	if err != nil {
		return fmt.Errorf("load migrations: %w", err)
	}
	a.migrator = m
	if a.cfg.AutoMigrate {
		// A signal must not cut the migrations short: one that runs outside
		// a transaction (River's) would be left half applied, failing every
		// later run. Shutdown waits for them; a second signal exits at once.
		stop := context.AfterFunc(ctx, func() { a.log.Info("shutdown requested during start-up: finishing the migrations first") })
		err := m.Up(context.WithoutCancel(ctx))
		stop()
		if err != nil {
			return fmt.Errorf("auto-migrate: %w", err)
		}
	} else {
		behind, err := m.Behind(ctx)
		if err != nil {
			return fmt.Errorf("check migrations: %w", err)
		}
		if len(behind) > 0 {
			return fmt.Errorf("%w (%s): run `nova migrate up` or set NOVA_AUTO_MIGRATE=true", ErrMigrationsBehind, strings.Join(behind, ", "))
		}
	}
	// A signal during start-up stops it here, before a signing key is
	// written or the bus starts.
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("start-up: %w", err)
	}

	a.registry = prometheus.NewRegistry()
	a.registry.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		a.pools.Collector(),
	)
	a.bus, err = events.NewBus(a.pools.For(domains.Events), a.log, a.registry, events.Options{
		MaxAttempts:  a.cfg.EventMaxAttempts,
		Workers:      a.cfg.EventWorkers,
		JobRetention: a.cfg.EventJobRetention,
	})
	if err != nil {
		return fmt.Errorf("event bus: %w", err)
	}
	if err := a.wireAccounts(ctx); err != nil {
		return err
	}
	a.wirePosts()
	// Domain wiring goes here: build each domain's service and let it
	// subscribe its consumers (svc.Subscribe(a.bus)) before Run starts the bus.

	a.http = httpserver.New(httpserver.Options{
		Addr:            a.cfg.HTTPAddr,
		ReadTimeout:     a.cfg.ReadTimeout,
		WriteTimeout:    a.cfg.WriteTimeout,
		IdleTimeout:     a.cfg.IdleTimeout,
		ShutdownTimeout: a.cfg.ShutdownTimeout,
		DrainDelay:      a.cfg.ShutdownDrainDelay,
		MaxBodyBytes:    a.cfg.MaxBodyBytes,
		MaxUploadBytes:  110 << 20,
		Logger:          a.log,
		Registry:        a.registry,
		Ready:           a.ready,
	})
	a.mountGateway()
	return nil
}

// wirePosts builds the content and social services and subscribes their
// consumers (follow/block/ban projections for content; fan-out, removals and
// bans for social).
func (a *App) wirePosts() {
	a.content = content.New(a.pools.For(domains.Content), a.bus, content.Options{Log: a.log, Users: content.UserDirectory(a.users)})
	a.social = social.New(a.pools.For(domains.Social), a.bus, a.content, social.UserAccounts(a.users), social.Config{
		FanoutMaxFollowers: a.cfg.FeedFanoutMaxFollowers,
		MaxEntriesPerUser:  a.cfg.FeedMaxEntriesPerUser,
		Log:                a.log,
	})
	a.content.Subscribe(a.bus)
	a.social.Subscribe(a.bus)
}

// mountGateway serves the GraphQL API on /graphql (and GraphiQL on
// /graphiql in dev); open websockets close when shutdown begins.
func (a *App) mountGateway() {
	gw := gateway.New(gateway.Options{
		Identity:        a.identity,
		Users:           a.users,
		Content:         a.content,
		Social:          a.social,
		Log:             a.log,
		Dev:             a.cfg.Env == config.Dev,
		ComplexityLimit: a.cfg.GraphQLComplexityLimit,
		MaxMessageBytes: a.cfg.MaxBodyBytes,
		TrustedProxies:  a.cfg.TrustedProxies,
		AllowedOrigins:  []string{publicOrigin(a.cfg.PublicURL)},
	})
	gw.Mount(a.http.Router())
	a.http.OnShutdown(gw.Shutdown)
}

// publicOrigin is the Origin that browsers send from pages of the public
// URL: its scheme and host, without its path or the scheme's default port,
// which an Origin never carries.
func publicOrigin(publicURL string) string {
	u, err := url.Parse(publicURL)
	if err != nil {
		return publicURL
	}
	host := u.Host
	if p := u.Port(); (u.Scheme == "http" && p == "80") || (u.Scheme == "https" && p == "443") {
		host = strings.TrimSuffix(host, ":"+p)
	}
	return u.Scheme + "://" + host
}

// wireAccounts builds the identity and user services and subscribes their
// consumers (user.banned for identity, identity.user.registered for user).
func (a *App) wireAccounts(ctx context.Context) error {
	ids, err := identity.New(ctx, a.pools.For(domains.Identity), a.bus, identity.Config{
		PrivateKeyFile:          a.cfg.JWTPrivateKeyFile,
		PreviousPublicKeyFile:   a.cfg.JWTPreviousPublicKeyFile,
		DataDir:                 a.cfg.DataDir,
		Dev:                     a.cfg.Env == config.Dev,
		RegisterPerAddrPerHour:  a.cfg.RegisterPerAddrPerHour,
		LoginPerAddrPerMinute:   a.cfg.LoginPerAddrPerMinute,
		LoginFailuresPerAccount: a.cfg.LoginFailuresPerAccount,
		LoginFailureWindow:      a.cfg.LoginFailureWindow,
		HashConcurrency:         a.cfg.HashConcurrency,
		Metrics:                 a.registry,
	}, a.log)
	if err != nil {
		return fmt.Errorf("identity: %w", err)
	}
	a.identity = ids
	a.users = user.New(a.pools.For(domains.User), a.bus, ids, a.log, a.registry)
	ids.Subscribe(a.bus)
	a.users.Subscribe(a.bus)
	return nil
}

// ready is /readyz: every domain pool answers and no migration is pending.
// The reasons are fixed text; the errors, which name hosts and roles, are
// only logged.
func (a *App) ready(ctx context.Context) error {
	if err := a.pools.Ping(ctx); err != nil {
		return &httpserver.NotReady{Reason: "database unreachable", Err: err}
	}
	behind, err := a.migrator.Behind(ctx)
	if err != nil {
		return &httpserver.NotReady{Reason: "migration status unknown", Err: err}
	}
	if len(behind) > 0 {
		return &httpserver.NotReady{Reason: "migrations behind", Err: errors.New(strings.Join(behind, ", "))}
	}
	return nil
}

// Run serves on ln until ctx ends, then shuts down gracefully within
// NOVA_SHUTDOWN_TIMEOUT of that moment, NOVA_SHUTDOWN_DRAIN_DELAY included.
func (a *App) Run(ctx context.Context, ln net.Listener) error {
	// Stopped before it served: there is nothing to drain.
	if ctx.Err() != nil {
		return nil
	}
	if err := a.bus.Start(ctx); err != nil {
		return err
	}
	// The caches of live sessions and of users are off from the start of
	// shutdown: the requests still draining read from the database.
	watchCtx, stopWatching := context.WithCancel(ctx)
	sessions, users := a.identity.WatchSessions(watchCtx), a.users.WatchUsers(watchCtx)
	defer func() {
		stopWatching()
		sessions()
		users()
	}()
	a.log.Info("nova serving", "addr", ln.Addr().String(), "env", a.cfg.Env, "public_url", a.cfg.PublicURL)
	return serveThenStop(ctx, a.cfg.ShutdownTimeout, func() error { return a.http.Serve(ctx, ln) }, a.bus.Stop)
}

// serveThenStop runs serve, which returns once ctx has ended and in-flight
// requests have drained (their events are committed), then stop, which lets
// the running event handlers finish. Both share one deadline, timeout after
// ctx ended (or serve failed): the drain takes what it needs of it and stop
// gets what is left, so that shutdown is not bounded by one timeout each.
func serveThenStop(ctx context.Context, timeout time.Duration, serve func() error, stop func(context.Context) error) error {
	served := make(chan error, 1)
	go func() { served <- serve() }()
	var err error
	returned := false
	select {
	case err = <-served:
		returned = true
	case <-ctx.Done():
	}
	stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout)
	defer cancel()
	if !returned {
		err = <-served
	}
	return errors.Join(err, stop(stopCtx))
}

// Close releases the database pools.
func (a *App) Close() {
	if a.migrator != nil {
		a.migrator.Close()
	}
	if a.bus != nil {
		// Run has stopped a started bus; this releases one never started.
		_ = a.bus.Stop(context.Background())
	}
	a.pools.Close()
}
