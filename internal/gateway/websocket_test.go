package gateway_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/gorilla/websocket"
)

// dialWS opens a graphql-transport-ws connection.
func (e *env) dialWS(t *testing.T, origin string) *websocket.Conn {
	t.Helper()
	d := websocket.Dialer{Subprotocols: []string{"graphql-transport-ws"}, HandshakeTimeout: 5 * time.Second}
	h := http.Header{}
	if origin != "" {
		h.Set("Origin", origin)
	}
	c, res, err := d.Dial("ws"+strings.TrimPrefix(e.url, "http")+"/graphql", h)
	if err != nil {
		status := 0
		if res != nil {
			status = res.StatusCode
		}
		t.Fatalf("dial: %v (status %d)", err, status)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

type wsMsg struct {
	ID      string          `json:"id,omitempty"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

// closeCode reads until the server closes and returns the close code.
func closeCode(t *testing.T, c *websocket.Conn, within time.Duration) int {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(within))
	for {
		if _, _, err := c.ReadMessage(); err != nil {
			var ce *websocket.CloseError
			if errors.As(err, &ce) {
				return ce.Code
			}
			t.Fatalf("read: %v, want a close frame", err)
		}
	}
}

// anonymousWS opens a websocket and initialises it without a token.
func (e *env) anonymousWS(t *testing.T) *websocket.Conn {
	t.Helper()
	c := e.dialWS(t, "")
	_ = c.WriteJSON(wsMsg{Type: "connection_init"})
	if m := read(t, c); m.Type != "connection_ack" {
		t.Fatalf("got %+v, want connection_ack", m)
	}
	return c
}

// next reads the next message, or the close frame that ended the
// connection; any other failure fails the test.
func next(t *testing.T, c *websocket.Conn) (wsMsg, *websocket.CloseError) {
	t.Helper()
	var m wsMsg
	err := c.ReadJSON(&m)
	var ce *websocket.CloseError
	if errors.As(err, &ce) {
		return m, ce
	}
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	return m, nil
}

func read(t *testing.T, c *websocket.Conn) wsMsg {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	var m wsMsg
	if err := c.ReadJSON(&m); err != nil {
		t.Fatalf("read: %v", err)
	}
	return m
}

func TestWebsocket(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(o *envOptions) { o.wsInitTimeout = 300 * time.Millisecond })
	a := e.register("ws")

	t.Run("no connection_init closes with 4408", func(t *testing.T) {
		c := e.dialWS(t, "")
		start := time.Now()
		if code := closeCode(t, c, 5*time.Second); code != 4408 {
			t.Fatalf("close code %d, want 4408", code)
		}
		// The server's 300 ms clock started at the upgrade, a little before
		// start; allow for a slow return from the dial on a busy machine.
		if time.Since(start) < 150*time.Millisecond {
			t.Fatalf("closed after %v, well before the init timeout", time.Since(start))
		}
	})
	t.Run("bad token closes with 4403", func(t *testing.T) {
		c := e.dialWS(t, "")
		_ = c.WriteJSON(wsMsg{Type: "connection_init", Payload: json.RawMessage(`{"authorization":"Bearer forged.token.here"}`)})
		if code := closeCode(t, c, 5*time.Second); code != 4403 {
			t.Fatalf("close code %d, want 4403", code)
		}
	})
	t.Run("subscribe before init closes with 4401", func(t *testing.T) {
		c := e.dialWS(t, "")
		_ = c.WriteJSON(wsMsg{ID: "1", Type: "subscribe", Payload: json.RawMessage(`{"query":"{ __typename }"}`)})
		if code := closeCode(t, c, 5*time.Second); code != 4401 {
			t.Fatalf("close code %d, want 4401", code)
		}
	})
	t.Run("foreign origin is refused", func(t *testing.T) {
		d := websocket.Dialer{Subprotocols: []string{"graphql-transport-ws"}}
		_, res, err := d.Dial("ws"+strings.TrimPrefix(e.url, "http")+"/graphql", http.Header{"Origin": {"https://evil.example"}})
		if err == nil || res == nil || res.StatusCode != http.StatusForbidden {
			t.Fatalf("dial from a foreign origin: err %v, response %v", err, res)
		}
	})
	t.Run("authenticated operation", func(t *testing.T) {
		c := e.dialWS(t, e.url)
		_ = c.WriteJSON(wsMsg{Type: "connection_init", Payload: json.RawMessage(`{"authorization":"Bearer ` + a.Access + `"}`)})
		if m := read(t, c); m.Type != "connection_ack" {
			t.Fatalf("got %+v, want connection_ack", m)
		}
		_ = c.WriteJSON(wsMsg{Type: "ping"})
		if m := read(t, c); m.Type != "pong" {
			t.Fatalf("got %+v, want pong", m)
		}
		_ = c.WriteJSON(wsMsg{ID: "q1", Type: "subscribe", Payload: json.RawMessage(`{"query":"{ viewer { id username } }"}`)})
		next := read(t, c)
		if next.Type != "next" || next.ID != "q1" || !strings.Contains(string(next.Payload), a.Username) {
			t.Fatalf("got %+v (%s), want next with the viewer", next, next.Payload)
		}
		if m := read(t, c); m.Type != "complete" || m.ID != "q1" {
			t.Fatalf("got %+v, want complete", m)
		}
		_ = c.WriteJSON(wsMsg{ID: "q2", Type: "subscribe", Payload: json.RawMessage(`{"query":"{ nope }"}`)})
		if m := read(t, c); m.Type != "error" || !strings.Contains(string(m.Payload), "BAD_USER_INPUT") {
			t.Fatalf("got %+v (%s), want error with a code", m, m.Payload)
		}
		_ = c.WriteJSON(wsMsg{Type: "connection_init"})
		if code := closeCode(t, c, 5*time.Second); code != 4429 {
			t.Fatalf("second init: close code %d, want 4429", code)
		}
	})
	t.Run("logout closes the socket", func(t *testing.T) {
		b := ok(t, e.login(a.Username, a.Password)).str("login.accessToken")
		c := e.dialWS(t, "")
		_ = c.WriteJSON(wsMsg{Type: "connection_init", Payload: json.RawMessage(`{"authorization":"Bearer ` + b + `"}`)})
		if m := read(t, c); m.Type != "connection_ack" {
			t.Fatalf("got %+v, want connection_ack", m)
		}
		ok(t, e.gql(b, `mutation { logout }`, nil))
		if code := closeCode(t, c, 5*time.Second); code != 4403 {
			t.Fatalf("close code %d after logout, want 4403", code)
		}
	})
	t.Run("Authorization header on the upgrade is refused", func(t *testing.T) {
		// Only connection_init's token is checked again while the socket
		// lives: one taken from the upgrade would outlive a logout.
		d := websocket.Dialer{Subprotocols: []string{"graphql-transport-ws"}, HandshakeTimeout: 5 * time.Second}
		c, res, err := d.Dial("ws"+strings.TrimPrefix(e.url, "http")+"/graphql", http.Header{"Authorization": {"Bearer " + a.Access}})
		if err == nil {
			c.Close()
			t.Fatal("upgrade with an Authorization header accepted")
		}
		if res == nil || res.StatusCode != http.StatusBadRequest {
			t.Fatalf("upgrade with an Authorization header: %v, response %v; want 400", err, res)
		}
	})
	t.Run("message flood closes with 4429", func(t *testing.T) {
		c := e.anonymousWS(t)
		// A burst of 210 messages passes (connection_init was one of them);
		// the rest of 400 pings, sent at once, do not.
		go func() {
			for range 400 {
				if c.WriteJSON(wsMsg{Type: "ping"}) != nil {
					return
				}
			}
		}()
		pongs := 0
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		for {
			if _, ce := next(t, c); ce != nil {
				if ce.Code != 4429 || pongs < 200 || pongs >= 400 {
					t.Fatalf("close %d after %d pongs, want 4429 after about 210", ce.Code, pongs)
				}
				return
			}
			pongs++
		}
	})
	t.Run("the most operations at once, started and stopped in a burst", func(t *testing.T) {
		c := e.anonymousWS(t)
		p := json.RawMessage(`{"query":"{ viewer { id } }"}`)
		for i := range 100 {
			_ = c.WriteJSON(wsMsg{ID: fmt.Sprint(i), Type: "subscribe", Payload: p})
		}
		for i := range 100 {
			_ = c.WriteJSON(wsMsg{ID: fmt.Sprint(i), Type: "complete"})
		}
		_ = c.WriteJSON(wsMsg{Type: "ping"})
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		for {
			m, ce := next(t, c)
			if ce != nil {
				t.Fatalf("closed %d %q: a burst within the operation limit was refused", ce.Code, ce.Text)
			}
			if m.Type == "pong" {
				return
			}
		}
	})
	t.Run("anonymous connection", func(t *testing.T) {
		c := e.anonymousWS(t)
		_ = c.WriteJSON(wsMsg{ID: "s", Type: "subscribe", Payload: json.RawMessage(`{"query":"{ viewerSettings { isPrivate } }"}`)})
		if m := read(t, c); m.Type != "next" || !strings.Contains(string(m.Payload), "UNAUTHENTICATED") {
			t.Fatalf("got %+v (%s), want an UNAUTHENTICATED field error", m, m.Payload)
		}
		_ = c.WriteMessage(websocket.TextMessage, []byte("not json"))
		if code := closeCode(t, c, 5*time.Second); code != 4400 {
			t.Fatalf("invalid message: close code %d, want 4400", code)
		}
	})
}

// TestWebsocketOperationsCheckTheToken: a socket's token is checked again
// before each operation, not only every WSRecheck, so after a logout or
// the token's expiry the next operation closes the socket with 4403 instead
// of running as the ended session (the periodic check is an hour away here).
func TestWebsocketOperationsCheckTheToken(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(o *envOptions) { o.wsRecheck = time.Hour })
	a := e.register("wstoken")
	// initialised opens a socket authenticated with token.
	initialised := func(t *testing.T, token string) *websocket.Conn {
		t.Helper()
		c := e.dialWS(t, "")
		_ = c.WriteJSON(wsMsg{Type: "connection_init", Payload: json.RawMessage(`{"authorization":"Bearer ` + token + `"}`)})
		if m := read(t, c); m.Type != "connection_ack" {
			t.Fatalf("got %+v, want connection_ack", m)
		}
		return c
	}
	// refused sends an operation and wants the socket closed with 4403
	// before any result.
	refused := func(t *testing.T, c *websocket.Conn) {
		t.Helper()
		_ = c.WriteJSON(wsMsg{ID: "after", Type: "subscribe", Payload: json.RawMessage(`{"query":"{ viewer { id username } }"}`)})
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		m, ce := next(t, c)
		if ce == nil {
			t.Fatalf("got %s for %q (%s), want close 4403 before any result", m.Type, m.ID, m.Payload)
		}
		if ce.Code != 4403 {
			t.Fatalf("close code %d, want 4403", ce.Code)
		}
	}

	t.Run("logout", func(t *testing.T) {
		token := ok(t, e.login(a.Username, a.Password)).str("login.accessToken")
		c := initialised(t, token)
		ok(t, e.gql(token, `mutation { logout }`, nil))
		refused(t, c)
	})
	t.Run("expiry", func(t *testing.T) {
		header, claims := claimsOf(t, a.Access)
		// Expired two seconds ago: identity's 5 s leeway accepts it for
		// three more seconds.
		exp := time.Now().Add(-2 * time.Second).Truncate(time.Second)
		claims["exp"], claims["iat"] = exp.Unix(), exp.Add(-time.Minute).Unix()
		tok := jwt.NewWithClaims(jwt.SigningMethodEdDSA, claims)
		tok.Header["kid"] = header["kid"]
		token, err := tok.SignedString(e.key)
		if err != nil {
			t.Fatal(err)
		}
		c := initialised(t, token)
		time.Sleep(time.Until(exp.Add(5*time.Second + 200*time.Millisecond)))
		refused(t, c)
	})
}
