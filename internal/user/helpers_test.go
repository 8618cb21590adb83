package user_test

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
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/nova-social/nova/internal/events"
	"github.com/nova-social/nova/internal/identity"
	"github.com/nova-social/nova/internal/platform/apperr"
	"github.com/nova-social/nova/internal/platform/domains"
	"github.com/nova-social/nova/internal/platform/pgtest"
	"github.com/nova-social/nova/internal/user"
)

// env is the registration saga's whole cast: a database, a running bus,
// identity and user wired as the application wires them.
type env struct {
	db    *pgtest.DB
	bus   *events.Bus
	ids   *identity.Service
	users *user.Service
}

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func newEnv(t testing.TB) *env {
	t.Helper()
	db := pgtest.New(t)
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(t.TempDir(), "key.pem")
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	bus, err := events.NewBus(db.Pools.For(domains.Events), quietLog(), nil, events.Options{FetchPollInterval: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ids, err := identity.New(context.Background(), db.Pools.For(domains.Identity), bus,
		identity.Config{PrivateKeyFile: keyFile, RegisterPerAddrPerHour: 1000, LoginPerAddrPerMinute: 1000}, quietLog())
	if err != nil {
		t.Fatal(err)
	}
	users := user.New(db.Pools.For(domains.User), bus, ids, quietLog(), nil)
	ids.Subscribe(bus)
	users.Subscribe(bus)
	if err := bus.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = bus.Stop(ctx)
	})
	return &env{db: db, bus: bus, ids: ids, users: users}
}

var seq atomic.Int64

func registration() identity.RegisterInput {
	n := seq.Add(1)
	return identity.RegisterInput{
		Email:       fmt.Sprintf("member%d@example.org", n),
		Username:    fmt.Sprintf("Member_%d", n),
		Password:    "correct horse battery staple",
		DisplayName: fmt.Sprintf("Member %d 🌱", n),
	}
}

var client = identity.ClientInfo{Addr: "192.0.2.10", UserAgent: "user-tests"}

// register registers through identity and waits for the profile the saga creates.
func (e *env) register(t testing.TB) (identity.RegisterInput, identity.Tokens, user.User) {
	t.Helper()
	in := registration()
	tok, err := e.ids.Register(context.Background(), in, client)
	if err != nil {
		t.Fatalf("Register: %v", err)
	}
	return in, tok, e.waitUser(t, tok.UserID)
}

func (e *env) waitUser(t testing.TB, id uuid.UUID) user.User {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		u, err := e.users.Get(context.Background(), id)
		if err == nil {
			return u
		}
		if !apperr.Is(err, apperr.NotFound) {
			t.Fatalf("Get: %v", err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("profile of %v never appeared", id)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// admin registers a user and makes it ADMIN the operator's way.
func (e *env) withRole(t testing.TB, r user.Role) user.User {
	t.Helper()
	_, _, u := e.register(t)
	u, err := e.users.GrantRole(context.Background(), u.Username, r)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
