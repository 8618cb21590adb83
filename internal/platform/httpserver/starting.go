package httpserver

import (
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"
	"time"
)

// ServeStarting answers on ln while Nova starts (connects, migrates, waits
// for another replica's migrations), which may take minutes: /healthz with
// 200, since the process is alive, and every other path with 503 and the
// reason "starting". Unanswered, probes waited in the listen backlog until
// they timed out, and a liveness probe restarted a replica that was only
// migrating. The function it returns stops answering and leaves ln open for
// Serve; a connection already accepted still gets its answer, and closes
// after it. The server's own errors go to log.
func ServeStarting(ln net.Listener, log *slog.Logger) (stop func()) {
	dl, ok := ln.(interface{ SetDeadline(time.Time) error })
	if !ok {
		return func() {}
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "reason": "starting"})
	})
	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		WriteTimeout:      10 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	// One answer per connection: a client's next request opens a new one,
	// which the real server accepts once started.
	srv.SetKeepAlivesEnabled(false)
	l := &startingListener{Listener: ln}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(l)
	}()
	return func() {
		l.stopped.Store(true)
		// A deadline in the past wakes the Accept in progress without
		// closing the socket; connections waiting in the backlog stay there
		// for Serve.
		_ = dl.SetDeadline(time.Now())
		<-done
		_ = dl.SetDeadline(time.Time{})
	}
}

// startingListener is ln as ServeStarting's server sees it: Close leaves
// it open, and once stopped its Accept fails as a closed listener's would,
// ending that server's Serve.
type startingListener struct {
	net.Listener
	stopped atomic.Bool
}

func (l *startingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil && l.stopped.Load() {
		return nil, net.ErrClosed
	}
	return c, err
}

func (l *startingListener) Close() error { return nil }
