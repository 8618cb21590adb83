package gateway_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// holdOnce holds the first statement containing match that runs once armed,
// until released, so that a test can act while that request is in flight.
type holdOnce struct {
	match   string
	armed   atomic.Bool
	reached chan struct{}
	release chan struct{}
}

func (h *holdOnce) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	if strings.Contains(d.SQL, h.match) && h.armed.CompareAndSwap(true, false) {
		close(h.reached)
		<-h.release
	}
	return ctx
}

func (*holdOnce) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// Two sessions change the password at once, both knowing the current one:
// say the owner, locking out a thief who has a session and the password.
// The thief's change, held after verifying the password until the owner's
// has committed, must not replace the owner's password nor end the owner's
// session.
func TestIdentityReviewConcurrentPasswordChange(t *testing.T) {
	t.Parallel()
	// Taking back the failure count runs after the current password verified
	// and before the change's transaction.
	h := &holdOnce{match: "SET hits = greatest(hits - 1, 0)", reached: make(chan struct{}), release: make(chan struct{})}
	e := newEnv(t, func(o *envOptions) { o.tracer = h })
	owner := e.register("pwrace")
	thief := ok(t, e.login(owner.Username, owner.Password)).str("login.accessToken")
	const change = `mutation($in: ChangePasswordInput!) { changePassword(input: $in) }`
	const ownerNew, thiefNew = "the owner's new passphrase", "the thief's new passphrase"

	h.armed.Store(true)
	released := false
	release := func() {
		if !released {
			released = true
			close(h.release)
		}
	}
	t.Cleanup(release)
	type answer struct {
		status int
		body   []byte
		err    error
	}
	done := make(chan answer, 1)
	go func() {
		body, _ := json.Marshal(map[string]any{"query": change, "variables": map[string]any{
			"in": map[string]any{"currentPassword": owner.Password, "newPassword": thiefNew}}})
		req, _ := http.NewRequest(http.MethodPost, e.url+"/graphql", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+thief)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			done <- answer{err: err}
			return
		}
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		done <- answer{res.StatusCode, b, err}
	}()
	select {
	case <-h.reached:
	case a := <-done:
		t.Fatalf("thief's change finished before it was held: %d %s %v", a.status, a.body, a.err)
	case <-time.After(10 * time.Second):
		t.Fatal("thief's change never verified the password")
	}

	ok(t, e.gql(owner.Access, change, map[string]any{"in": map[string]any{"currentPassword": owner.Password, "newPassword": ownerNew}}))
	release()
	var a answer
	select {
	case a = <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("thief's change did not finish")
	}
	if a.err != nil {
		t.Fatal(a.err)
	}
	r := &response{Status: a.status, Raw: a.body}
	if err := json.Unmarshal(a.body, r); err != nil {
		t.Fatalf("decode %s: %v", a.body, err)
	}
	wantError(t, r, http.StatusOK, "BAD_USER_INPUT", "currentPassword")

	ok(t, e.gql(owner.Access, `{ viewer { id } }`, nil))
	wantError(t, e.gql(thief, `{ viewer { id } }`, nil), http.StatusUnauthorized, "UNAUTHENTICATED", "")
	wantError(t, e.login(owner.Username, thiefNew), http.StatusOK, "UNAUTHENTICATED", "")
	ok(t, e.login(owner.Username, ownerNew))
}
