package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"runtime/debug"

	"github.com/nova-social/nova/internal/app"
	"github.com/nova-social/nova/internal/platform/config"
	"github.com/nova-social/nova/internal/platform/httpserver"
	"github.com/nova-social/nova/internal/platform/logging"
)

// serveGCPercent is the garbage collector's target for nova serve unless
// GOGC is set. With Go's default, 100, a server whose live heap is small
// collects all the time: at 400, 16 clients reading feed pages got 17% more
// pages through (two runs each, 635-715 against 749-838 a second) for 35 MB
// more memory under that load (45 MB against 80 MB); idle memory does not
// change, the live heap being small.
const serveGCPercent = 400

func runServe(ctx context.Context, env *environment, args []string) error {
	cfg, err := config.Load("nova serve", args, env.getenv, env.stderr)
	if err != nil {
		return err
	}
	if err := cfg.ValidateServe(); err != nil {
		return err
	}
	log := logging.New(env.stderr, cfg.Env == config.Production, cfg.LogLevel)
	if env.getenv("GOGC") == "" {
		debug.SetGCPercent(serveGCPercent)
	}
	// The listeners open before anything touches the database, so that an
	// address already taken stops start-up before migrations run or a
	// signing key is written. Serve closes ln; the deferred Close covers a
	// start-up that fails before it.
	ln, err := listen("NOVA_HTTP_ADDR", cfg.HTTPAddr)
	if err != nil {
		return err
	}
	defer ln.Close()
	stopProfiles, err := serveProfiles(ctx, cfg.DebugAddr, log)
	if err != nil {
		return err
	}
	defer stopProfiles()
	// Start-up may wait minutes (for migrations, or another replica's), so
	// probes are answered meanwhile instead of waiting in the backlog.
	stopStarting := httpserver.ServeStarting(ln, log)
	a, err := app.New(ctx, cfg, log)
	stopStarting()
	if err != nil {
		if interrupted(ctx, err) {
			log.Info("stopped during start-up")
			return nil
		}
		return err
	}
	defer a.Close()
	if err := a.Run(ctx, ln); err != nil && !interrupted(ctx, err) {
		return err
	}
	return nil
}

// interrupted reports whether err only says that a signal stopped start-up,
// which is a requested stop rather than a failure.
func interrupted(ctx context.Context, err error) bool {
	return ctx.Err() != nil && errors.Is(err, context.Canceled)
}

// listen opens a TCP listener on addr. Its error names the setting and keeps
// only the system's reason ("bind: address already in use"), the address
// being named once.
func listen(setting, addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		var op *net.OpError
		if errors.As(err, &op) {
			err = op.Err
		}
		return nil, fmt.Errorf("listen on %s (%s): %w", addr, setting, err)
	}
	return ln, nil
}

// serveProfiles starts the profile listener when addr is set; it serves
// from then on, start-up included. The function it returns stops the
// listener and waits until it has.
func serveProfiles(ctx context.Context, addr string, log *slog.Logger) (stop func(), err error) {
	if addr == "" {
		return func() {}, nil
	}
	ln, err := listen("NOVA_DEBUG_ADDR", addr)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	log.Info("serving profiles", "addr", ln.Addr().String())
	go func() {
		defer close(done)
		if err := httpserver.ServeDebug(ctx, ln); err != nil {
			log.Error("profile listener stopped", "err", err)
		}
	}()
	return func() { cancel(); <-done }, nil
}
