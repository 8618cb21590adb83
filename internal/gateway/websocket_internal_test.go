package gateway

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// TestWebsocketReleasesClosedConnections checks that a connection the
// client closes is released, its token watch included.
func TestWebsocketReleasesClosedConnections(t *testing.T) {
	checks := make(chan struct{}, 100)
	tr := newWSTransport(slog.New(slog.NewTextHandler(io.Discard, nil)), time.Second, 10*time.Millisecond, 1<<16, nil,
		func(ctx context.Context, _ string) (context.Context, error) {
			select {
			case checks <- struct{}{}:
			default:
			}
			return ctx, nil
		})
	tr.perOperation = func(ctx context.Context) context.Context { return ctx }
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { tr.Do(w, r, nil) }))
	defer srv.Close()

	d := websocket.Dialer{Subprotocols: []string{wsSubprotocol}}
	c, _, err := d.Dial("ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	if err != nil {
		t.Fatal(err)
	}
	_ = c.WriteJSON(wsMessage{Type: "connection_init", Payload: []byte(`{"authorization":"Bearer t"}`)})
	var m wsMessage
	if err := c.ReadJSON(&m); err != nil || m.Type != "connection_ack" {
		t.Fatalf("ack: %+v %v", m, err)
	}
	// The watch re-checks the token.
	for range 3 {
		select {
		case <-checks:
		case <-time.After(2 * time.Second):
			t.Fatal("token not re-checked")
		}
	}
	_ = c.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""))
	_ = c.Close()
	deadline := time.Now().Add(2 * time.Second)
	for {
		tr.mu.Lock()
		n := len(tr.conns)
		tr.mu.Unlock()
		if n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("closed connection still tracked: its goroutines did not end")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestWebsocketShutdownGoesAway(t *testing.T) {
	tr := newWSTransport(slog.New(slog.NewTextHandler(io.Discard, nil)), time.Second, 0, 1<<16, nil,
		func(ctx context.Context, _ string) (context.Context, error) { return ctx, nil })
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { tr.Do(w, r, nil) }))
	defer srv.Close()
	d := websocket.Dialer{Subprotocols: []string{wsSubprotocol}}
	c, _, err := d.Dial("ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for {
		tr.mu.Lock()
		n := len(tr.conns)
		tr.mu.Unlock()
		if n == 1 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	// Without the subprotocol: refused with 4406.
	plain, _, err := (&websocket.Dialer{}).Dial("ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	_ = plain.SetReadDeadline(time.Now().Add(2 * time.Second))
	if _, _, err = plain.ReadMessage(); !websocket.IsCloseError(err, closeBadSubprotocol) {
		t.Fatalf("no subprotocol: %v, want close 4406", err)
	}

	tr.Shutdown()
	_ = c.SetReadDeadline(time.Now().Add(2 * time.Second))
	_, _, err = c.ReadMessage()
	if !websocket.IsCloseError(err, websocket.CloseGoingAway) {
		t.Fatalf("after shutdown: %v, want close 1001", err)
	}
	// Connections arriving during shutdown go away at once.
	c2, _, err := (&websocket.Dialer{}).Dial("ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	_ = c2.SetReadDeadline(time.Now().Add(2 * time.Second))
	if _, _, err = c2.ReadMessage(); !websocket.IsCloseError(err, websocket.CloseGoingAway) {
		t.Fatalf("after shutdown, new connection: %v, want close 1001", err)
	}
}
