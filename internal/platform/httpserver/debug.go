package httpserver

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"time"
)

// ServeDebug serves Go's runtime profiles (net/http/pprof) on ln until ctx
// is cancelled. It runs a server of its own, never mounted on the API's
// router, so the profiles are reachable only where the operator binds it.
// It sets no write timeout: a CPU profile or trace streams for as long as
// its request asks. The command line is not served: a flag such as
// --database-url may carry a password.
func ServeDebug(ctx context.Context, ln net.Listener) error {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, MaxHeaderBytes: 64 << 10}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("debug server: %w", err)
	case <-ctx.Done():
	}
	// A profile in progress is cut short: shutdown does not wait for it.
	if err := srv.Close(); err != nil {
		return fmt.Errorf("debug server close: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("debug server: %w", err)
	}
	return nil
}
