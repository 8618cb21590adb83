package gateway_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/nova-social/nova/internal/content"
	"github.com/nova-social/nova/internal/events"
	"github.com/nova-social/nova/internal/gateway"
	"github.com/nova-social/nova/internal/identity"
	"github.com/nova-social/nova/internal/platform/domains"
	"github.com/nova-social/nova/internal/platform/httpserver"
	"github.com/nova-social/nova/internal/platform/pgtest"
	"github.com/nova-social/nova/internal/platform/postgres"
	"github.com/nova-social/nova/internal/social"
	"github.com/nova-social/nova/internal/user"
)

// env is a Nova API served over a real HTTP server on a fresh database,
// with the real domain services and event bus behind the gateway.
type env struct {
	t     testing.TB
	url   string
	ids   *identity.Service
	users *user.Service
	// userMetrics are the user service's (its cache of users).
	userMetrics *prometheus.Registry
	posts       *content.Service
	soc         *social.Service
	key         ed25519.PrivateKey
	db          *pgtest.DB
	seq         atomic.Int64
}

type envOptions struct {
	dev             bool
	complexityLimit int
	maxBody         int64
	wsInitTimeout   time.Duration
	wsRecheck       time.Duration
	identity        identity.Config
	trustedProxies  []netip.Prefix
	// tracer, when set, sees every statement of the identity, user,
	// content and social pools behind the gateway.
	tracer pgx.QueryTracer
	// uncachedUsers leaves the cache of users off, so that every read of
	// users is a statement, as on a replica that has not read them yet.
	uncachedUsers bool
	// deafUserCache makes the cache of users hear no change but its own,
	// as a replica that has not heard of another's yet.
	deafUserCache bool
}

func newEnv(t testing.TB, mods ...func(*envOptions)) *env {
	t.Helper()
	o := envOptions{
		wsRecheck:       100 * time.Millisecond,
		complexityLimit: 5000,
		maxBody:         64 << 10,
		identity:        identity.Config{RegisterPerAddrPerHour: 10_000, LoginPerAddrPerMinute: 10_000},
	}
	for _, m := range mods {
		m(&o)
	}
	ctx := context.Background()
	db := pgtest.New(t)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}

	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(t.TempDir(), "jwt.pem")
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	o.identity.PrivateKeyFile = keyFile

	bus, err := events.NewBus(db.Pools.For(domains.Events), log, prometheus.NewRegistry(), events.Options{RetryBase: 50 * time.Millisecond, RetryMax: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	pools := db.Pools
	if o.tracer != nil {
		pools = db.Traced(t, o.tracer)
	}
	identityPool := pools.For(domains.Identity)
	ids, err := identity.New(ctx, identityPool, bus, o.identity, log)
	if err != nil {
		t.Fatal(err)
	}
	userPool, contentPool, socialPool := pools.For(domains.User), pools.For(domains.Content), pools.For(domains.Social)
	if o.deafUserCache {
		rl, url := db.Relay(t)
		rl.Deaf.Store(true)
		userPool = db.Open(t, postgres.Options{URL: url}).For(domains.User)
	}
	userMetrics := prometheus.NewRegistry()
	users := user.New(userPool, bus, ids, log, userMetrics)
	posts := content.New(contentPool, bus, content.Options{Log: log, Users: content.UserDirectory(users)})
	soc := social.New(socialPool, bus, posts, social.UserAccounts(users), social.Config{Log: log})
	ids.Subscribe(bus)
	users.Subscribe(bus)
	posts.Subscribe(bus)
	soc.Subscribe(bus)
	if err := bus.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = bus.Stop(ctx)
	})
	watchCtx, stopWatching := context.WithCancel(ctx)
	sessions, watchingUsers := ids.WatchSessions(watchCtx), func() {}
	if !o.uncachedUsers {
		watchingUsers = users.WatchUsers(watchCtx)
	}
	t.Cleanup(func() {
		stopWatching()
		sessions()
		watchingUsers()
	})

	srv := httpserver.New(httpserver.Options{
		ReadTimeout: 10 * time.Second, WriteTimeout: 10 * time.Second, IdleTimeout: time.Minute, ShutdownTimeout: time.Second,
		MaxBodyBytes: o.maxBody, MaxUploadBytes: 1 << 20, Logger: log, Registry: prometheus.NewRegistry(),
		Ready: func(context.Context) error { return nil },
	})
	gw := gateway.New(gateway.Options{
		Identity: ids, Users: users, Content: posts, Social: soc, Log: log, Dev: o.dev, ComplexityLimit: o.complexityLimit,
		MaxMessageBytes: o.maxBody, WSInitTimeout: o.wsInitTimeout, WSRecheck: o.wsRecheck,
		TrustedProxies: o.trustedProxies,
	})
	gw.Mount(srv.Router())
	hs := httptest.NewServer(srv.Router())
	t.Cleanup(hs.Close)
	t.Cleanup(gw.Shutdown)
	return &env{t: t, url: hs.URL, ids: ids, users: users, userMetrics: userMetrics, posts: posts, soc: soc, key: priv, db: db}
}

// gqlError is one error of a response.
type gqlError struct {
	Message    string         `json:"message"`
	Path       []any          `json:"path"`
	Extensions map[string]any `json:"extensions"`
}

// response is a decoded GraphQL response with its HTTP status.
type response struct {
	Status      int
	ContentType string
	Header      http.Header
	Data        map[string]any `json:"data"`
	Errors      []gqlError     `json:"errors"`
	Raw         []byte
}

func (r *response) code() string {
	if len(r.Errors) == 0 {
		return ""
	}
	c, _ := r.Errors[0].Extensions["code"].(string)
	return c
}

func (r *response) field() string {
	if len(r.Errors) == 0 {
		return ""
	}
	c, _ := r.Errors[0].Extensions["field"].(string)
	return c
}

// get walks the data by a dotted path.
func (r *response) get(path string) any {
	var cur any = r.Data
	for _, p := range strings.Split(path, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[p]
	}
	return cur
}

func (r *response) str(path string) string {
	s, _ := r.get(path).(string)
	return s
}

// request sends one HTTP request and decodes the answer.
func (e *env) request(req *http.Request) *response {
	e.t.Helper()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	r := &response{Status: res.StatusCode, ContentType: res.Header.Get("Content-Type"), Header: res.Header, Raw: body}
	if strings.Contains(r.ContentType, "json") {
		if err := json.Unmarshal(body, r); err != nil {
			e.t.Fatalf("decode %s: %v", body, err)
		}
	}
	return r
}

// gql POSTs a GraphQL operation, with token as bearer when not empty.
func (e *env) gql(token, query string, vars map[string]any) *response {
	e.t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequest(http.MethodPost, e.url+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return e.request(req)
}

// ok fails the test unless r is a 200 without errors.
func ok(t testing.TB, r *response) *response {
	t.Helper()
	if r.Status != http.StatusOK || len(r.Errors) > 0 {
		t.Fatalf("status %d, body %s", r.Status, r.Raw)
	}
	return r
}

// wantError fails the test unless r has status and its first error code (and field).
func wantError(t testing.TB, r *response, status int, code, field string) {
	t.Helper()
	if r.Status != status || r.code() != code || (field != "" && r.field() != field) {
		t.Fatalf("got status %d code %q field %q, want %d %q %q; body %s", r.Status, r.code(), r.field(), status, code, field, r.Raw)
	}
}

// account is a registered user.
type account struct {
	ID, Username, Email, Password string
	Access, Refresh               string
}

const registerMutation = `mutation($in: RegisterInput!) { register(input: $in) { accessToken refreshToken expiresAt userId } }`

// register creates a user and waits until its profile exists.
func (e *env) register(prefix string) *account {
	e.t.Helper()
	n := e.seq.Add(1)
	a := &account{Username: fmt.Sprintf("%s_%d", prefix, n), Email: fmt.Sprintf("%s_%d@example.com", prefix, n), Password: "correct horse battery " + prefix}
	r := ok(e.t, e.gql("", registerMutation, map[string]any{"in": map[string]any{
		"email": a.Email, "username": a.Username, "password": a.Password, "displayName": "User " + prefix,
	}}))
	a.ID, a.Access, a.Refresh = r.str("register.userId"), r.str("register.accessToken"), r.str("register.refreshToken")
	e.waitProfile(a)
	return a
}

// grant gives a the role r, as an operator does (`nova admin grant-role`).
func (e *env) grant(a *account, r user.Role) {
	e.t.Helper()
	if _, err := e.users.GrantRole(context.Background(), a.Username, r); err != nil {
		e.t.Fatalf("grant %s to %s: %v", r, a.Username, err)
	}
}

// waitProfile waits for the registration saga to create the profile.
func (e *env) waitProfile(a *account) time.Duration {
	e.t.Helper()
	start := time.Now()
	for time.Since(start) < 5*time.Second {
		r := ok(e.t, e.gql(a.Access, `{ viewer { id } }`, nil))
		if r.str("viewer.id") == a.ID {
			return time.Since(start)
		}
		time.Sleep(5 * time.Millisecond)
	}
	e.t.Fatalf("profile of %s did not appear within 5s", a.Username)
	return 0
}

func (e *env) login(login, password string) *response {
	e.t.Helper()
	return e.gql("", `mutation($in: LoginInput!) { login(input: $in) { accessToken refreshToken userId expiresAt } }`,
		map[string]any{"in": map[string]any{"login": login, "password": password}})
}

// heap is the live heap after two collections, for the tests that measure
// what a request leaves held.
func heap() uint64 {
	var m runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}
