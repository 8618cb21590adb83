package app_test

import (
	"cmp"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/nova-social/nova/internal/app"
	"github.com/nova-social/nova/internal/platform/config"
	"github.com/nova-social/nova/internal/platform/pgtest"
	"github.com/nova-social/nova/internal/platform/testkit"
)

// proxy forwards TCP connections to Postgres (over TCP or its Unix socket)
// and can cut them all, to make the database unreachable without touching
// the server other tests share.
type proxy struct {
	network, target string
	addr            string
	mu              sync.Mutex
	ln              net.Listener
	conns           map[net.Conn]struct{}
}

func newProxy(t *testing.T, network, target string) *proxy {
	p := &proxy{network: network, target: target, conns: map[net.Conn]struct{}{}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.addr = ln.Addr().String()
	p.serve(ln)
	t.Cleanup(p.cut)
	return p
}

func (p *proxy) serve(ln net.Listener) {
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial(p.network, p.target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns[c], p.conns[up] = struct{}{}, struct{}{}
			p.mu.Unlock()
			go func() { _, _ = io.Copy(up, c); up.Close() }()
			go func() { _, _ = io.Copy(c, up); c.Close() }()
		}
	}()
}

// cut closes the listener and every open connection.
func (p *proxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		c.Close()
		delete(p.conns, c)
	}
}

// restore listens again on the same address.
func (p *proxy) restore(t *testing.T) {
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		t.Fatal(err)
	}
	p.serve(ln)
}

func testConfig(t *testing.T, dbURL string, extra map[string]string) *config.Config {
	t.Helper()
	vars := map[string]string{
		"NOVA_ENV":          "dev",
		"NOVA_DATABASE_URL": dbURL,
		"NOVA_DATA_DIR":     t.TempDir(),
		"NOVA_HTTP_ADDR":    "127.0.0.1:0",
	}
	for k, v := range extra {
		vars[k] = v
	}
	cfg, err := config.Load("nova serve", nil, func(k string) string { return vars[k] }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func serve(t *testing.T, cfg *config.Config) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	a, err := app.New(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		cancel()
		t.Fatalf("app.New: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
		a.Close()
	})
	return "http://" + ln.Addr().String()
}

func status(t *testing.T, u string) int {
	t.Helper()
	c := http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(u)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func TestReadinessFollowsTheDatabase(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	u, err := url.Parse(db.URL)
	if err != nil {
		t.Fatal(err)
	}
	// Point the URL at the proxy, which dials where the URL pointed.
	network, target := "tcp", u.Host
	q := u.Query()
	if dir := q.Get("host"); strings.HasPrefix(dir, "/") {
		port := cmp.Or(q.Get("port"), "5432")
		network, target = "unix", filepath.Join(dir, ".s.PGSQL."+port)
		q.Del("host")
		q.Del("port")
		u.RawQuery = q.Encode()
	} else if u.Port() == "" {
		target = net.JoinHostPort(u.Hostname(), "5432")
	}
	p := newProxy(t, network, target)
	u.Host = p.addr
	base := serve(t, testConfig(t, u.String(), nil))

	if code := status(t, base+"/readyz"); code != 200 {
		t.Fatalf("/readyz = %d with the database up", code)
	}
	p.cut()
	testkit.Eventually(t, "/readyz reports 503", func() bool { return status(t, base+"/readyz") == 503 })
	// The public router shows a fixed reason, not the driver's text, which
	// names the database's address, role and database.
	resp, err := http.Get(base + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), `"reason":"database unreachable"`) || strings.Contains(string(body), p.addr) {
		t.Fatalf("/readyz while the database is down: %s", body)
	}
	if code := status(t, base+"/healthz"); code != 200 {
		t.Fatalf("/healthz = %d: liveness must not depend on the database", code)
	}
	p.restore(t)
	testkit.Eventually(t, "/readyz recovers", func() bool { return status(t, base+"/readyz") == 200 })
}

func TestRefusesToStartWhenMigrationsAreBehind(t *testing.T) {
	t.Parallel()
	db := pgtest.Empty(t)
	cfg := testConfig(t, db.URL, map[string]string{"NOVA_AUTO_MIGRATE": "false"})
	_, err := app.New(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if !errors.Is(err, app.ErrMigrationsBehind) {
		t.Fatalf("app.New on an unmigrated database: %v, want ErrMigrationsBehind", err)
	}
	// With auto-migration (the dev default) the same database comes up ready.
	base := serve(t, testConfig(t, db.URL, nil))
	if code := status(t, base+"/readyz"); code != 200 {
		t.Fatalf("/readyz = %d after auto-migration", code)
	}
}

// A browser page served from NOVA_PUBLIC_URL may open a websocket even when
// the proxy in front of Nova rewrites the Host header: its Origin
// (scheme://host, no path, no default port) is what the public URL allows,
// also when the URL has a path or spells out the default port.
func TestPublicURLAllowsItsOrigin(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	for _, public := range []string{"https://nova.example/social", "https://Nova.Example:443"} {
		base := serve(t, testConfig(t, db.URL, map[string]string{"NOVA_PUBLIC_URL": public}))
		wsURL := "ws" + strings.TrimPrefix(base, "http") + "/graphql"
		for origin, want := range map[string]int{"https://nova.example": http.StatusSwitchingProtocols, "https://elsewhere.example": http.StatusForbidden} {
			d := websocket.Dialer{Subprotocols: []string{"graphql-transport-ws"}, HandshakeTimeout: 5 * time.Second}
			conn, resp, err := d.Dial(wsURL, http.Header{"Origin": {origin}})
			if conn != nil {
				conn.Close()
			}
			if resp == nil || resp.StatusCode != want {
				t.Errorf("NOVA_PUBLIC_URL %s, Origin %s: %v, %v; want status %d", public, origin, resp, err, want)
			}
		}
	}
}
