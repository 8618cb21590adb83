// Package httpserver is Nova's HTTP front: a chi router with request ids,
// panic recovery, request logs, metrics and body limits, the health
// endpoints, and graceful shutdown.
package httpserver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/nova-social/nova/internal/platform/requestid"
)

// Options configures a Server.
type Options struct {
	Addr            string
	ReadTimeout     time.Duration
	WriteTimeout    time.Duration
	IdleTimeout     time.Duration
	ShutdownTimeout time.Duration
	// DrainDelay is how long, once shutdown begins, the server goes on
	// accepting and serving while /readyz fails, so that a load balancer
	// probing it stops routing here before the listener closes. It counts
	// within ShutdownTimeout.
	DrainDelay time.Duration
	// MaxBodyBytes limits every request body except multipart uploads.
	MaxBodyBytes int64
	// MaxUploadBytes limits multipart/form-data bodies; their handler holds
	// the parts that are not files to MaxBodyBytes.
	MaxUploadBytes int64
	Logger         *slog.Logger
	Registry       *prometheus.Registry
	// Ready reports whether the server can serve traffic (database reachable,
	// migrations current). Otherwise /readyz answers 503 with the Reason of
	// a NotReady error ("not ready" for any other error) and logs the error.
	Ready func(context.Context) error
}

// NotReady is an error of Options.Ready. /readyz shows only its Reason,
// fixed text, on the public router; Err, driver text that may name hosts,
// roles and databases, goes to the log.
type NotReady struct {
	Reason string
	Err    error
}

func (e *NotReady) Error() string { return e.Reason + ": " + e.Err.Error() }
func (e *NotReady) Unwrap() error { return e.Err }

// Server serves Nova's HTTP API.
type Server struct {
	opts   Options
	router chi.Router
	srv    *http.Server
	// draining is set when shutdown begins: /readyz fails from then on.
	draining atomic.Bool
	// cutOff cancels every request's context when the shutdown timeout
	// ends (see Serve).
	cutOff context.CancelFunc
}

// errDraining is /readyz's answer once shutdown has begun, whatever Ready says.
var errDraining = &NotReady{Reason: "shutting down", Err: errors.New("draining in-flight requests")}

// New builds a server with the health and metrics endpoints mounted. Mount
// the API on Router before calling Serve.
func New(o Options) *Server {
	duration := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "nova_http_request_duration_seconds",
		Help:    "HTTP request duration by route, method and status.",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
	}, []string{"route", "method", "status"})
	o.Registry.MustRegister(duration)

	s := &Server{opts: o}
	r := chi.NewRouter()
	r.Use(requestid.Middleware, observe(o.Logger, duration), recoverer(o.Logger), limitBody(o.MaxBodyBytes, o.MaxUploadBytes))
	r.Get("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	r.Get("/readyz", func(w http.ResponseWriter, req *http.Request) {
		ctx, cancel := context.WithTimeout(req.Context(), 2*time.Second)
		defer cancel()
		// Draining, the answer is known without asking the database; it is
		// checked again after Ready, for a probe in flight when draining began.
		var err error
		if !s.draining.Load() {
			err = o.Ready(ctx)
		}
		if s.draining.Load() {
			err = errDraining
		}
		if err != nil {
			reason := "not ready"
			var nr *NotReady
			if errors.As(err, &nr) {
				reason = nr.Reason
			}
			o.Logger.WarnContext(req.Context(), "not ready", "error", err.Error())
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "reason": reason})
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
	})
	r.Handle("/metrics", promhttp.HandlerFor(o.Registry, promhttp.HandlerOpts{Registry: o.Registry}))

	s.router = r
	base, cutOff := context.WithCancel(context.Background())
	s.cutOff = cutOff
	s.srv = &http.Server{
		Handler:           r,
		BaseContext:       func(net.Listener) context.Context { return base },
		ReadTimeout:       o.ReadTimeout,
		ReadHeaderTimeout: headerTimeout(o.ReadTimeout),
		WriteTimeout:      o.WriteTimeout,
		IdleTimeout:       o.IdleTimeout,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(o.Logger.Handler(), slog.LevelWarn),
	}
	return s
}

// headerTimeout is the time allowed to read a request's headers: 10 s at
// most (slow clients), and never more than the whole request's read
// timeout, which the header timeout replaces while the headers are read.
func headerTimeout(read time.Duration) time.Duration {
	if read > 0 && read < 10*time.Second {
		return read
	}
	return 10 * time.Second
}

// Router is where the API's routes are mounted.
func (s *Server) Router() chi.Router { return s.router }

// OnShutdown registers fn to run when shutdown begins, for connections the
// server no longer tracks (websockets).
func (s *Server) OnShutdown(fn func()) { s.srv.RegisterOnShutdown(fn) }

// Serve accepts connections on ln until ctx is cancelled. Then /readyz fails
// at once, the server goes on serving for DrainDelay, stops accepting and
// waits for in-flight requests, all within ShutdownTimeout of the
// cancellation, and returns.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	errc := make(chan error, 1)
	go func() { errc <- s.srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("http server: %w", err)
	case <-ctx.Done():
	}
	s.draining.Store(true)
	// Durations are logged as text ("20s"): a JSON handler writes a
	// time.Duration as nanoseconds.
	s.opts.Logger.Info("shutting down http server", "drain_delay", s.opts.DrainDelay.String(), "timeout", s.opts.ShutdownTimeout.String())
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.opts.ShutdownTimeout)
	defer cancel()
	if s.opts.DrainDelay > 0 {
		select {
		case err := <-errc:
			return fmt.Errorf("http server: %w", err)
		case <-time.After(s.opts.DrainDelay):
		}
		s.opts.Logger.Info("drain delay over: closing the listener")
	}
	if err := s.srv.Shutdown(sctx); err != nil {
		// Requests still running at the deadline are cut off: their
		// connections are closed and their contexts cancelled, so their
		// queries stop and give their connections back. Left running, they
		// held the process past the timeout, since closing the pools waits
		// for every connection. Closing a connection alone cancels nothing
		// while its request's body is unread (a handler waiting for a pool
		// connection before it reads the body, say): the server notices a
		// closed connection only once the body has been read.
		_ = s.srv.Close()
		s.cutOff()
		return fmt.Errorf("http shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("http server: %w", err)
	}
	return nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// statusWriter records the status and size of a response.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach Flush and Hijack underneath.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// methodLabel is the method as a metric label: a client may send any token
// as its method, and each new label value would be a new series held for
// the process's life, so the methods outside HTTP's own are one "other".
func methodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodConnect, http.MethodOptions, http.MethodTrace:
		return m
	}
	return "other"
}

// observe logs one line per request and records its duration by route.
func observe(log *slog.Logger, duration *prometheus.HistogramVec) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			sw := &statusWriter{ResponseWriter: w}
			defer func() {
				status := sw.status
				if status == 0 {
					status = http.StatusOK
				}
				route := "unmatched"
				if rc := chi.RouteContext(r.Context()); rc != nil && rc.RoutePattern() != "" {
					route = rc.RoutePattern()
				}
				elapsed := time.Since(start)
				duration.WithLabelValues(route, methodLabel(r.Method), strconv.Itoa(status)).Observe(elapsed.Seconds())
				// 503 is the server saying it is unavailable (not ready,
				// draining), which a load balancer probes every few seconds:
				// a warning, not an error per probe.
				level := slog.LevelInfo
				switch {
				case status == http.StatusServiceUnavailable:
					level = slog.LevelWarn
				case status >= 500:
					level = slog.LevelError
				}
				// Checked first: the attributes cost a formatted duration
				// per request even when the level drops the line.
				if log.Enabled(r.Context(), level) {
					log.LogAttrs(r.Context(), level, "http request",
						slog.String("method", r.Method), slog.String("route", route), slog.String("path", r.URL.Path),
						slog.Int("status", status), slog.Int64("bytes", sw.bytes),
						slog.String("duration", elapsed.String()), slog.String("remote", r.RemoteAddr))
				}
			}()
			next.ServeHTTP(sw, r)
		})
	}
}

// recoverer turns a panic into a 500 with a generic body; the panic value and
// stack go to the log under the request id.
func recoverer(log *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			defer func() {
				rec := recover()
				if rec == nil {
					return
				}
				if rec == http.ErrAbortHandler {
					panic(rec)
				}
				log.ErrorContext(r.Context(), "panic serving request", "panic", fmt.Sprint(rec), "stack", string(debug.Stack()))
				writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "internal server error", "requestId": requestid.From(r.Context())})
			}()
			next.ServeHTTP(w, r)
		})
	}
}

// limitBody caps request bodies. Reading past the limit fails with
// *http.MaxBytesError, which each handler answers (413) in its own shape; a
// declared length over the limit fails the first read, before a byte of the
// body is read.
func limitBody(maxBody, maxUpload int64) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			limit := maxBody
			if isMultipart(r.Header.Get("Content-Type")) {
				limit = maxUpload
			}
			if r.ContentLength > limit {
				r.Body = overLimit{limit: limit}
			} else {
				r.Body = http.MaxBytesReader(w, r.Body, limit)
			}
			next.ServeHTTP(w, r)
		})
	}
}

// isMultipart reports whether a Content-Type names multipart/form-data, in
// any case as media types are compared; a prefix test, since every request
// passes here and parsing the parameters is the handler's business.
func isMultipart(contentType string) bool {
	const mt = "multipart/form-data"
	return len(contentType) >= len(mt) && strings.EqualFold(contentType[:len(mt)], mt)
}

// overLimit replaces a body whose declared length is over the limit: the
// handler's first read fails without reading any of it.
type overLimit struct{ limit int64 }

func (b overLimit) Read([]byte) (int, error) { return 0, &http.MaxBytesError{Limit: b.limit} }
func (overLimit) Close() error               { return nil }
