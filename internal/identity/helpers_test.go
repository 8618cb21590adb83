package identity_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/nova-social/nova/internal/events"
	"github.com/nova-social/nova/internal/identity"
	"github.com/nova-social/nova/internal/identity/internal/password"
	"github.com/nova-social/nova/internal/platform/domains"
	"github.com/nova-social/nova/internal/platform/pgtest"
)

// env is a migrated database, a running bus and an identity service whose
// signing key the test holds (to forge tokens with it).
type env struct {
	db   *pgtest.DB
	pool *pgxpool.Pool
	bus  *events.Bus
	svc  *identity.Service
	key  ed25519.PrivateKey
	cfg  identity.Config
}

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// writeKey writes k as PEM PKCS#8 into dir and returns the path.
func writeKey(t testing.TB, dir string, k ed25519.PrivateKey) string {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, fmt.Sprintf("key-%d.pem", time.Now().UnixNano()))
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func newKey(t testing.TB) ed25519.PrivateKey {
	t.Helper()
	_, k, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// newEnv builds the environment; tweak adjusts the configuration, and
// subscribe (optional) registers extra consumers before the bus starts.
func newEnv(t testing.TB, tweak func(*identity.Config), subscribe ...func(*events.Bus)) *env {
	t.Helper()
	db := pgtest.New(t)
	e := &env{db: db, pool: db.Pools.For(domains.Identity), key: newKey(t)}
	e.cfg = identity.Config{PrivateKeyFile: writeKey(t, t.TempDir(), e.key)}
	if tweak != nil {
		tweak(&e.cfg)
	}
	bus, err := events.NewBus(db.Pools.For(domains.Events), quietLog(), nil, events.Options{FetchPollInterval: 20 * time.Millisecond})
	if err != nil {
		t.Fatalf("NewBus: %v", err)
	}
	e.bus = bus
	e.svc, err = identity.New(context.Background(), e.pool, bus, e.cfg, quietLog())
	if err != nil {
		t.Fatalf("identity.New: %v", err)
	}
	e.svc.Subscribe(bus)
	for _, s := range subscribe {
		s(bus)
	}
	if err := bus.Start(context.Background()); err != nil {
		t.Fatalf("bus.Start: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = bus.Stop(ctx)
	})
	return e
}

var seq atomic.Int64

// registration returns valid, unique registration input.
func registration() identity.RegisterInput {
	n := seq.Add(1)
	return identity.RegisterInput{
		Email:       fmt.Sprintf("Person%d_%d@Example.org", n, time.Now().UnixNano()%1e6),
		Username:    fmt.Sprintf("Person_%d_%d", n, time.Now().UnixNano()%1e6),
		Password:    "correct horse battery staple",
		DisplayName: "Person Ünïcode ✨",
	}
}

var client = identity.ClientInfo{Addr: "192.0.2.1", UserAgent: "test-agent/1.0"}

func (e *env) register(t testing.TB) (identity.RegisterInput, identity.Tokens) {
	t.Helper()
	in := registration()
	tok, err := e.svc.Register(context.Background(), in, client)
	if err != nil {
		t.Fatalf("Register: %v", err)
	}
	return in, tok
}

// pause is a query tracer that holds the first statement containing match
// until released, so that a test can act while a call is in flight: before
// the statement is sent or, with after, once it has run and before its
// result is read.
type pause struct {
	match   string
	after   bool
	once    sync.Once
	reached chan struct{}
	release chan struct{}
}

func (p *pause) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	if !strings.Contains(d.SQL, p.match) {
		return ctx
	}
	if p.after {
		return context.WithValue(ctx, p, true)
	}
	p.hold()
	return ctx
}

func (p *pause) TraceQueryEnd(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryEndData) {
	if ctx.Value(p) != nil {
		p.hold()
	}
}

func (p *pause) hold() {
	p.once.Do(func() {
		close(p.reached)
		<-p.release
	})
}

type loginResult struct {
	tok identity.Tokens
	err error
}

// pausedLogin starts in on a second service (another replica) and returns
// once the login is about to run the first statement containing match;
// calling resume lets it go on and returns its result.
func (e *env) pausedLogin(t *testing.T, match string, in identity.LoginInput) (resume func() loginResult) {
	t.Helper()
	var tok identity.Tokens
	resumeCall := e.paused(t, match, func(s *identity.Service) error {
		var err error
		tok, err = s.Login(context.Background(), in, client)
		return err
	})
	return func() loginResult {
		err := resumeCall()
		return loginResult{tok, err}
	}
}

// paused runs call on a second service (another replica) and returns once it
// is about to run the first statement containing match; calling resume lets
// it go on and returns its error.
func (e *env) paused(t *testing.T, match string, call func(*identity.Service) error) (resume func() error) {
	t.Helper()
	p := &pause{match: match, reached: make(chan struct{}), release: make(chan struct{})}
	replica, err := identity.New(context.Background(), e.db.Traced(t, p).For(domains.Identity), e.bus, e.cfg, quietLog())
	if err != nil {
		t.Fatalf("identity.New: %v", err)
	}
	var once sync.Once
	release := func() { once.Do(func() { close(p.release) }) }
	t.Cleanup(release) // before the traced pool closes, which waits for the paused connection
	done := make(chan error, 1)
	go func() { done <- call(replica) }()
	select {
	case <-p.reached:
	case err := <-done:
		t.Fatalf("call finished before %q: %v", match, err)
	case <-time.After(10 * time.Second):
		t.Fatalf("call never reached %q", match)
	}
	return func() error {
		release()
		select {
		case err := <-done:
			return err
		case <-time.After(10 * time.Second):
			t.Fatal("paused call did not finish")
			return nil
		}
	}
}

// unhitSQL is in the statement a login runs once the password verified and
// before it opens the session.
const unhitSQL = "SET hits = greatest(hits - 1, 0)"

// setWeakHash gives the account a hash of pw with weaker argon2id parameters
// than the service's, as stored before they were raised.
func (e *env) setWeakHash(t testing.TB, userID uuid.UUID, pw string) {
	t.Helper()
	weak, err := password.NewHasher(password.Params{MemoryKiB: 8 * 1024, Iterations: 1, Lanes: 1}, 1)
	if err != nil {
		t.Fatal(err)
	}
	hash, err := weak.Hash(context.Background(), pw)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.pool.Exec(context.Background(), `UPDATE identity.credentials SET password_hash = $2 WHERE user_id = $1`, userID, hash); err != nil {
		t.Fatal(err)
	}
}
