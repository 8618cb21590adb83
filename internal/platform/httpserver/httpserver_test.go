package httpserver_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/nova-social/nova/internal/platform/httpserver"
	"github.com/nova-social/nova/internal/platform/testkit"
)

func newServer(t *testing.T, ready func(context.Context) error) (*httpserver.Server, string, context.CancelFunc, chan error) {
	t.Helper()
	srv := httpserver.New(httpserver.Options{
		ReadTimeout: 5 * time.Second, WriteTimeout: 5 * time.Second, IdleTimeout: 5 * time.Second,
		ShutdownTimeout: 5 * time.Second, MaxBodyBytes: 1024, MaxUploadBytes: 4096,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Registry: prometheus.NewRegistry(), Ready: ready,
	})
	base, cancel, done := serveLoopback(t, srv.Serve)
	return srv, base, cancel, done
}

// serveLoopback runs serve on a new loopback listener until the test ends or
// cancel is called; done receives what serve returned.
func serveLoopback(t *testing.T, serve func(context.Context, net.Listener) error) (string, context.CancelFunc, chan error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serve(ctx, ln) }()
	t.Cleanup(cancel)
	return "http://" + ln.Addr().String(), cancel, done
}

func TestGracefulShutdownFinishesInFlightRequest(t *testing.T) {
	t.Parallel()
	srv, base, cancel, done := newServer(t, func(context.Context) error { return nil })
	started := make(chan struct{})
	srv.Router().Get("/slow", func(w http.ResponseWriter, _ *http.Request) {
		close(started)
		time.Sleep(300 * time.Millisecond)
		_, _ = io.WriteString(w, "finished")
	})
	type result struct {
		body string
		err  error
	}
	res := make(chan result, 1)
	go func() {
		resp, err := http.Get(base + "/slow")
		if err != nil {
			res <- result{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		res <- result{string(b), err}
	}()
	<-started
	cancel() // SIGTERM arrives while the request is in flight
	r := <-res
	if r.err != nil || r.body != "finished" {
		t.Fatalf("in-flight request during shutdown: body %q, err %v", r.body, r.err)
	}
	if err := <-done; err != nil {
		t.Fatalf("Serve returned %v after a clean shutdown", err)
	}
	if _, err := http.Get(base + "/healthz"); err == nil {
		t.Fatal("server still accepts connections after shutdown")
	}
}

func TestHealthReadinessAndMetrics(t *testing.T) {
	t.Parallel()
	var readyErr error
	_, base, _, _ := newServer(t, func(context.Context) error { return readyErr })
	get := func(path string) (int, string) {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, _ := get("/healthz"); code != 200 {
		t.Fatalf("/healthz = %d", code)
	}
	if code, _ := get("/readyz"); code != 200 {
		t.Fatalf("/readyz = %d while ready", code)
	}
	readyErr = &httpserver.NotReady{Reason: "database unreachable", Err: errors.New("dial")}
	if code, body := get("/readyz"); code != 503 || !strings.Contains(body, `"reason":"database unreachable"`) {
		t.Fatalf("/readyz = %d %s while not ready", code, body)
	}
	// Methods a client invents share one label: each new value would be a
	// series kept for the process's life.
	for _, m := range []string{"BREW", "PROPFIND", "X1", "get"} {
		req, err := http.NewRequest(m, base+"/healthz", nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	code, body := get("/metrics")
	if code != 200 || !strings.Contains(body, `nova_http_request_duration_seconds_count{method="GET",route="/readyz",status="503"} 1`) {
		t.Fatalf("/metrics = %d, missing request histogram:\n%s", code, body)
	}
	if !strings.Contains(body, `nova_http_request_duration_seconds_count{method="other",route="unmatched",status="405"} 4`) ||
		strings.Contains(body, `method="BREW"`) || strings.Contains(body, `method="get"`) {
		t.Fatalf("/metrics labels invented methods:\n%s", body)
	}
}

// TestNotReadyWhileDraining: a readiness probe answered once shutdown has
// begun says 503 "shutting down", even though the database is fine, so that
// a load balancer stops sending traffic to a replica on its way out.
func TestNotReadyWhileDraining(t *testing.T) {
	t.Parallel()
	probed, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	_, base, cancel, done := newServer(t, func(context.Context) error {
		once.Do(func() { close(probed) })
		<-release
		return nil
	})
	type result struct {
		code int
		body string
		err  error
	}
	res := make(chan result, 1)
	go func() {
		resp, err := http.Get(base + "/readyz")
		if err != nil {
			res <- result{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		res <- result{resp.StatusCode, string(b), err}
	}()
	<-probed
	cancel() // SIGTERM arrives while the probe is in flight
	testkit.Eventually(t, "the listener closes", func() bool {
		c, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
		if err == nil {
			c.Close()
		}
		return err != nil
	})
	close(release)
	r := <-res
	if want := `{"reason":"shutting down","status":"unavailable"}` + "\n"; r.err != nil || r.code != http.StatusServiceUnavailable || r.body != want {
		t.Fatalf("/readyz while draining: %d %q %v, want 503 %q", r.code, r.body, r.err, want)
	}
	if err := <-done; err != nil {
		t.Fatalf("Serve: %v", err)
	}
}

// TestReadinessHidesDetail: /readyz, on the public router, shows a fixed
// reason; the error's text, which names hosts and roles, goes to the log.
func TestReadinessHidesDetail(t *testing.T) {
	t.Parallel()
	var logs testkit.SyncBuffer
	detail := errors.New(`failed to connect to user=nova_content database=nova_prod host=10.0.4.2: connection refused`)
	var readyErr error
	srv := httpserver.New(httpserver.Options{
		ReadTimeout: 5 * time.Second, WriteTimeout: 5 * time.Second, IdleTimeout: 5 * time.Second,
		ShutdownTimeout: 5 * time.Second, MaxBodyBytes: 1024, MaxUploadBytes: 4096,
		Logger: slog.New(slog.NewTextHandler(&logs, nil)), Registry: prometheus.NewRegistry(),
		Ready: func(context.Context) error { return readyErr },
	})
	base, _, _ := serveLoopback(t, srv.Serve)
	readyz := func() string {
		resp, err := http.Get(base + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusServiceUnavailable {
			t.Fatalf("/readyz = %d %s while not ready", resp.StatusCode, b)
		}
		return string(b)
	}
	readyErr = fmt.Errorf("wrapped: %w", &httpserver.NotReady{Reason: "database unreachable", Err: detail})
	if body := readyz(); !strings.Contains(body, `"reason":"database unreachable"`) || strings.Contains(body, "nova_content") {
		t.Fatalf("/readyz = %s, want the reason alone", body)
	}
	readyErr = detail
	if body := readyz(); !strings.Contains(body, `"reason":"not ready"`) || strings.Contains(body, "nova_content") {
		t.Fatalf("/readyz = %s for an error without a reason", body)
	}
	if !strings.Contains(logs.String(), "host=10.0.4.2") {
		t.Fatalf("the detail was not logged: %s", logs.String())
	}
	// A load balancer probes every few seconds while a replica is not
	// ready: each 503 is a warning, not an error.
	if !strings.Contains(logs.String(), `level=WARN msg="http request" method=GET route=/readyz path=/readyz status=503`) ||
		strings.Contains(logs.String(), "level=ERROR") {
		t.Fatalf("a 503 from /readyz is not logged as a warning: %s", logs.String())
	}
}

func TestBodyLimitAndPanicRecovery(t *testing.T) {
	t.Parallel()
	srv, base, _, _ := newServer(t, func(context.Context) error { return nil })
	// The handler answers a body over the limit itself, in its own shape.
	srv.Router().Post("/echo", func(w http.ResponseWriter, r *http.Request) {
		if _, err := io.ReadAll(r.Body); err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				w.WriteHeader(http.StatusRequestEntityTooLarge)
				_, _ = fmt.Fprintf(w, "limit %d", mbe.Limit)
				return
			}
			w.WriteHeader(http.StatusBadRequest)
		}
	})
	srv.Router().Get("/panic", func(http.ResponseWriter, *http.Request) { panic("boom: secret detail") })
	post := func(contentType string, body io.Reader) (int, string) {
		t.Helper()
		resp, err := http.Post(base+"/echo", contentType, body)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}

	if code, body := post("application/json", strings.NewReader(strings.Repeat("x", 2048))); code != http.StatusRequestEntityTooLarge || body != "limit 1024" {
		t.Fatalf("declared oversize body: %d %q, want the handler's 413", code, body)
	}
	// A chunked body declares no length: the limit bites while reading.
	if code, body := post("application/json", io.MultiReader(strings.NewReader(strings.Repeat("x", 2048)))); code != http.StatusRequestEntityTooLarge || body != "limit 1024" {
		t.Fatalf("chunked oversize body: %d %q, want the handler's 413", code, body)
	}
	// Uploads get their own, larger limit.
	for _, ct := range []string{"multipart/form-data; boundary=x", "Multipart/Form-Data; boundary=x"} { // media types ignore case
		if code, _ := post(ct, strings.NewReader(strings.Repeat("x", 2048))); code != http.StatusOK {
			t.Fatalf("upload (%s) within its limit: %d", ct, code)
		}
	}
	if code, body := post("multipart/form-data; boundary=x", strings.NewReader(strings.Repeat("x", 5000))); code != http.StatusRequestEntityTooLarge || body != "limit 4096" {
		t.Fatalf("declared oversize upload: %d %q, want the handler's 413", code, body)
	}

	resp, err := http.Get(base + "/panic")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 500 || strings.Contains(string(b), "secret") {
		t.Fatalf("panic: %d %s; want 500 without the panic text", resp.StatusCode, b)
	}
	if resp.Header.Get("X-Request-Id") == "" {
		t.Fatal("response has no request id")
	}
}

func TestProfilesOnlyOnTheDebugListener(t *testing.T) {
	t.Parallel()
	_, base, _, _ := newServer(t, func(context.Context) error { return nil })
	resp, err := http.Get(base + "/debug/pprof/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("API listener /debug/pprof/ = %d, want 404", resp.StatusCode)
	}

	debug, cancel, done := serveLoopback(t, httpserver.ServeDebug)

	resp, err = http.Get(debug + "/debug/pprof/profile?seconds=1")
	if err != nil {
		t.Fatal(err)
	}
	profile, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	// A CPU profile is a gzipped protocol buffer.
	if err != nil || resp.StatusCode != http.StatusOK || len(profile) < 2 || profile[0] != 0x1f || profile[1] != 0x8b {
		t.Fatalf("debug listener CPU profile: status %d, %d bytes, err %v", resp.StatusCode, len(profile), err)
	}
	resp, err = http.Get(debug + "/debug/pprof/goroutine?debug=1")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "ServeDebug") {
		t.Fatalf("debug listener goroutine profile: status %d:\n%s", resp.StatusCode, body)
	}

	// The command line may carry secrets (--database-url with its
	// password): it is not served.
	resp, err = http.Get(debug + "/debug/pprof/cmdline")
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound || strings.Contains(string(body), os.Args[0]) {
		t.Fatalf("debug listener /debug/pprof/cmdline: status %d:\n%s", resp.StatusCode, body)
	}

	cancel()
	if err := <-done; err != nil {
		t.Fatalf("ServeDebug returned %v after cancellation", err)
	}
	if _, err := http.Get(debug + "/debug/pprof/"); err == nil {
		t.Fatal("debug listener still accepts connections after shutdown")
	}
}

// TestDrainDelayKeepsServing: once shutdown begins, /readyz answers 503 at
// once, but for the drain delay the listener still accepts and requests are
// served, so that a load balancer that has not probed yet loses nothing;
// then the listener closes.
func TestDrainDelayKeepsServing(t *testing.T) {
	t.Parallel()
	const delay = 2 * time.Second
	srv := httpserver.New(httpserver.Options{
		ReadTimeout: 5 * time.Second, WriteTimeout: 5 * time.Second, IdleTimeout: 5 * time.Second,
		ShutdownTimeout: 10 * time.Second, DrainDelay: delay, MaxBodyBytes: 1024, MaxUploadBytes: 4096,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Registry: prometheus.NewRegistry(),
		Ready: func(context.Context) error { return nil },
	})
	srv.Router().Get("/hello", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "hello") })
	base, cancel, done := serveLoopback(t, srv.Serve)
	// A new connection per request: the listener itself must still accept.
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	get := func(path string) (int, string, error) {
		resp, err := client.Get(base + path)
		if err != nil {
			return 0, "", err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b), err
	}

	signalled := time.Now()
	cancel()
	testkit.Eventually(t, "/readyz fails", func() bool { code, _, _ := get("/readyz"); return code != http.StatusOK })
	code, body, err := get("/readyz")
	if want := `{"reason":"shutting down","status":"unavailable"}` + "\n"; err != nil || code != http.StatusServiceUnavailable || body != want {
		t.Fatalf("/readyz during the drain delay: %d %q %v, want 503 %q", code, body, err, want)
	}
	code, body, err = get("/hello")
	if err != nil || code != http.StatusOK || body != "hello" {
		t.Fatalf("a request during the drain delay: %d %q %v, want it served", code, body, err)
	}
	if elapsed := time.Since(signalled); elapsed >= delay {
		t.Fatalf("the checks took %v, longer than the drain delay: they prove nothing", elapsed)
	}
	if err := <-done; err != nil {
		t.Fatalf("Serve: %v", err)
	}
	if elapsed := time.Since(signalled); elapsed < delay {
		t.Fatalf("Serve returned %v after the signal, before the drain delay of %v", elapsed, delay)
	}
	if _, _, err := get("/hello"); err == nil {
		t.Fatal("the listener still accepts after the drain delay and the drain")
	}
}

// TestDrainDelayCountsWithinTheTimeout: the delay is part of the shutdown
// timeout, not added to it, so a request that never finishes is cut off a
// timeout after the signal.
func TestDrainDelayCountsWithinTheTimeout(t *testing.T) {
	t.Parallel()
	const delay, timeout = 600 * time.Millisecond, time.Second
	srv := httpserver.New(httpserver.Options{
		ReadTimeout: 5 * time.Second, WriteTimeout: 5 * time.Second, IdleTimeout: 5 * time.Second,
		ShutdownTimeout: timeout, DrainDelay: delay, MaxBodyBytes: 1024, MaxUploadBytes: 4096,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Registry: prometheus.NewRegistry(),
		Ready: func(context.Context) error { return nil },
	})
	started, release := make(chan struct{}), make(chan struct{})
	t.Cleanup(func() { close(release) })
	srv.Router().Get("/stuck", func(http.ResponseWriter, *http.Request) {
		close(started)
		<-release
	})
	base, cancel, done := serveLoopback(t, srv.Serve)
	go func() {
		if resp, err := http.Get(base + "/stuck"); err == nil {
			resp.Body.Close()
		}
	}()
	<-started
	signalled := time.Now()
	cancel()
	err := <-done
	elapsed := time.Since(signalled)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Serve = %v, want the shutdown deadline's error", err)
	}
	if elapsed < timeout || elapsed > delay+timeout-100*time.Millisecond {
		t.Fatalf("Serve gave up %v after the signal, want the timeout, %v, drain delay included", elapsed, timeout)
	}
}

// TestShutdownLogsDurationsAsText: JSON logs show durations as "20s", not as
// nanoseconds (20000000000), in the shutdown lines and the request log.
func TestShutdownLogsDurationsAsText(t *testing.T) {
	t.Parallel()
	var logs testkit.SyncBuffer
	srv := httpserver.New(httpserver.Options{
		ReadTimeout: 5 * time.Second, WriteTimeout: 5 * time.Second, IdleTimeout: 5 * time.Second,
		ShutdownTimeout: 20 * time.Second, DrainDelay: 10 * time.Millisecond, MaxBodyBytes: 1024, MaxUploadBytes: 4096,
		Logger: slog.New(slog.NewJSONHandler(&logs, nil)), Registry: prometheus.NewRegistry(),
		Ready: func(context.Context) error { return nil },
	})
	base, cancel, done := serveLoopback(t, srv.Serve)
	resp, err := http.Get(base + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Serve: %v", err)
	}
	out := logs.String()
	if !strings.Contains(out, `"msg":"shutting down http server","drain_delay":"10ms","timeout":"20s"`) {
		t.Errorf("shutdown line does not show its durations as text:\n%s", out)
	}
	if !regexp.MustCompile(`"msg":"http request",.*"duration":"[0-9.]+[µnm]?s"`).MatchString(out) {
		t.Errorf("request line does not show its duration as text:\n%s", out)
	}
}

// TestRequestsPastTheTimeoutAreCutOff: a request still running when the
// shutdown timeout ends (a query waiting for a lock, say) has its context
// cancelled, so that it stops and gives its database connection back;
// otherwise closing the pools, which waits for every connection, held the
// process long past NOVA_SHUTDOWN_TIMEOUT. That holds too for a handler that
// has not read the body yet (the gateway checks the session before it reads
// the operation), where closing the connection alone cancels nothing: the
// server watches a connection for a hang-up only once the body was read.
func TestRequestsPastTheTimeoutAreCutOff(t *testing.T) {
	t.Parallel()
	for name, readBody := range map[string]bool{"body read": true, "body unread": false} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			const timeout = 300 * time.Millisecond
			srv := httpserver.New(httpserver.Options{
				ReadTimeout: 5 * time.Second, WriteTimeout: 5 * time.Second, IdleTimeout: 5 * time.Second,
				ShutdownTimeout: timeout, MaxBodyBytes: 1024, MaxUploadBytes: 4096,
				Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Registry: prometheus.NewRegistry(),
				Ready: func(context.Context) error { return nil },
			})
			started, cancelled := make(chan struct{}), make(chan struct{})
			srv.Router().Post("/stuck", func(_ http.ResponseWriter, r *http.Request) {
				if readBody {
					_, _ = io.Copy(io.Discard, r.Body)
				}
				close(started)
				<-r.Context().Done()
				close(cancelled)
			})
			base, cancel, done := serveLoopback(t, srv.Serve)
			go func() {
				if resp, err := http.Post(base+"/stuck", "application/json", strings.NewReader("{}")); err == nil {
					resp.Body.Close()
				}
			}()
			<-started
			cancel()
			if err := <-done; !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("Serve = %v, want the shutdown deadline's error", err)
			}
			select {
			case <-cancelled:
			case <-time.After(5 * time.Second):
				t.Fatal("the request still runs 5s after the shutdown timeout: its context was never cancelled")
			}
		})
	}
}

// TestProbesAreAnsweredDuringStartUp: while Nova starts, the listener it
// opened first answers: /healthz 200, anything else 503 "starting". Then
// the listener, still open, is handed to the server, which serves the
// connections that waited meanwhile.
func TestProbesAreAnsweredDuringStartUp(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	base := "http://" + ln.Addr().String()
	client := &http.Client{Timeout: 2 * time.Second}
	get := func(path string) (int, string, error) {
		resp, err := client.Get(base + path)
		if err != nil {
			return 0, "", err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b), err
	}
	stop := httpserver.ServeStarting(ln, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if code, body, err := get("/healthz"); err != nil || code != http.StatusOK {
		t.Fatalf("/healthz during start-up: %d %q %v, want 200", code, body, err)
	}
	for _, path := range []string{"/readyz", "/graphql"} {
		if code, body, err := get(path); err != nil || code != http.StatusServiceUnavailable || body != `{"reason":"starting","status":"unavailable"}`+"\n" {
			t.Fatalf("%s during start-up: %d %q %v, want 503 starting", path, code, body, err)
		}
	}
	stop()

	// A connection made between the two servers waits in the backlog.
	waiting, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer waiting.Close()
	srv := httpserver.New(httpserver.Options{
		ReadTimeout: 5 * time.Second, WriteTimeout: 5 * time.Second, IdleTimeout: 5 * time.Second,
		ShutdownTimeout: 5 * time.Second, MaxBodyBytes: 1024, MaxUploadBytes: 4096,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Registry: prometheus.NewRegistry(),
		Ready: func(context.Context) error { return nil },
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	}()
	if _, err := io.WriteString(waiting, "GET /readyz HTTP/1.1\r\nHost: nova\r\nConnection: close\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	_ = waiting.SetReadDeadline(time.Now().Add(5 * time.Second))
	if b, err := io.ReadAll(waiting); err != nil || !strings.HasPrefix(string(b), "HTTP/1.1 200 ") {
		t.Fatalf("the connection made between the servers got %q, %v; want the server's 200", b, err)
	}
	if code, body, err := get("/readyz"); err != nil || code != http.StatusOK {
		t.Fatalf("/readyz once started: %d %q %v, want 200", code, body, err)
	}
}

// TestReadTimeoutBoundsTheHeaders: NOVA_HTTP_READ_TIMEOUT is the time
// allowed to read a whole request, its headers included: a client that
// trickles its headers is cut off then, even when the read timeout is
// shorter than the server's own bound on headers.
func TestReadTimeoutBoundsTheHeaders(t *testing.T) {
	t.Parallel()
	const readTimeout = 500 * time.Millisecond
	srv := httpserver.New(httpserver.Options{
		ReadTimeout: readTimeout, WriteTimeout: 5 * time.Second, IdleTimeout: 5 * time.Second,
		ShutdownTimeout: 5 * time.Second, MaxBodyBytes: 1024, MaxUploadBytes: 4096,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Registry: prometheus.NewRegistry(),
		Ready: func(context.Context) error { return nil },
	})
	base, _, _ := serveLoopback(t, srv.Serve)
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	start := time.Now()
	if _, err := io.WriteString(conn, "GET /healthz HTTP/1.1\r\nHost: nova\r\n"); err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, _ = io.ReadAll(conn) // returns when the server closes the connection
	if elapsed := time.Since(start); elapsed > readTimeout+time.Second {
		t.Fatalf("unfinished headers kept the connection %v, want it closed after the read timeout, %v", elapsed, readTimeout)
	}
}
