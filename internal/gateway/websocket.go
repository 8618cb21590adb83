package gateway

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/99designs/gqlgen/graphql"
	"github.com/gorilla/websocket"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/nova-social/nova/internal/platform/apperr"
)

// The graphql-transport-ws protocol: its subprotocol name and the close
// codes it defines. 4429 closes a connection that sends a second
// connection_init, or messages faster than wsMessageRate.
const (
	wsSubprotocol         = "graphql-transport-ws"
	closeBadMessage       = 4400
	closeUnauthorized     = 4401
	closeForbidden        = 4403
	closeBadSubprotocol   = 4406
	closeInitTimeout      = 4408
	closeDuplicateID      = 4409
	closeTooManyRequests  = 4429
	closeInternal         = websocket.CloseInternalServerErr
	closeGoingAway        = websocket.CloseGoingAway
	wsWriteTimeout        = 10 * time.Second
	wsMaxOpsPerConnection = 100
	// wsMessageBurst and wsMessageRate bound the messages of one connection:
	// a burst that starts and completes as many operations as it may run at
	// once, with room for connection_init and pings, then 20 a second.
	wsMessageBurst = 2*wsMaxOpsPerConnection + 10
	wsMessageRate  = 20
)

// wsMessage is one message of graphql-transport-ws.
type wsMessage struct {
	ID      string          `json:"id,omitempty"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

// wsAuthenticate turns the authorization of connection_init into the
// context the connection's operations run in.
type wsAuthenticate func(ctx context.Context, authorization string) (context.Context, error)

// wsTransport serves GraphQL over websockets with the graphql-transport-ws
// protocol: the access token travels in connection_init, which must arrive
// within InitTimeout.
type wsTransport struct {
	log *slog.Logger
	// perOperation prepares the context of each operation (fresh
	// dataloaders: a connection lives far longer than their cache should).
	perOperation func(context.Context) context.Context
	initTimeout  time.Duration
	recheck      time.Duration
	maxMessage   int64
	authenticate wsAuthenticate
	upgrader     websocket.Upgrader

	mu     sync.Mutex
	conns  map[*wsConn]struct{}
	closed bool
}

func newWSTransport(log *slog.Logger, initTimeout, recheck time.Duration, maxMessage int64, allowedOrigins []string, auth wsAuthenticate) *wsTransport {
	t := &wsTransport{log: log, initTimeout: initTimeout, recheck: recheck, maxMessage: maxMessage, authenticate: auth, conns: map[*wsConn]struct{}{}}
	t.upgrader = websocket.Upgrader{
		Subprotocols:    []string{wsSubprotocol},
		CheckOrigin:     originChecker(allowedOrigins),
		ReadBufferSize:  4096,
		WriteBufferSize: 4096,
	}
	return t
}

// originChecker accepts clients that send no Origin (not browsers), a page
// served from the same host, and the listed origins.
func originChecker(allowed []string) func(*http.Request) bool {
	set := map[string]bool{}
	for _, o := range allowed {
		set[strings.ToLower(strings.TrimRight(o, "/"))] = true
	}
	return func(r *http.Request) bool {
		origin := r.Header.Get("Origin")
		if origin == "" {
			return true
		}
		u, err := url.Parse(origin)
		if err != nil || u.Host == "" {
			return false
		}
		return strings.EqualFold(u.Host, r.Host) || set[strings.ToLower(u.Scheme+"://"+u.Host)]
	}
}

func (*wsTransport) Supports(r *http.Request) bool {
	return strings.EqualFold(r.Header.Get("Upgrade"), "websocket")
}

// hijacker reaches the connection under the server's wrapping response
// writers, which expose it only through http.ResponseController.
type hijacker struct{ http.ResponseWriter }

func (h hijacker) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return http.NewResponseController(h.ResponseWriter).Hijack()
}

func (t *wsTransport) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	ws, err := t.upgrader.Upgrade(hijacker{w}, r, nil)
	if err != nil {
		// The upgrader has answered with the HTTP error already.
		return
	}
	// The server's read and write deadlines were set for a plain request;
	// this connection manages its own.
	_ = ws.UnderlyingConn().SetDeadline(time.Time{})
	ws.SetReadLimit(t.maxMessage)
	c := &wsConn{t: t, ws: ws, exec: exec, ops: map[string]context.CancelFunc{}}
	if !t.track(c) {
		c.close(closeGoingAway, "server shutting down")
		return
	}
	defer t.untrack(c)
	if ws.Subprotocol() != wsSubprotocol {
		c.close(closeBadSubprotocol, "subprotocol not acceptable")
		return
	}
	ctx, cancel := context.WithCancel(context.WithoutCancel(r.Context()))
	defer cancel()
	c.serve(ctx)
}

func (t *wsTransport) track(c *wsConn) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return false
	}
	t.conns[c] = struct{}{}
	return true
}

func (t *wsTransport) untrack(c *wsConn) {
	t.mu.Lock()
	delete(t.conns, c)
	t.mu.Unlock()
}

// Shutdown closes every open websocket with "going away"; clients reconnect
// to another replica.
func (t *wsTransport) Shutdown() {
	t.mu.Lock()
	t.closed = true
	conns := make([]*wsConn, 0, len(t.conns))
	for c := range t.conns {
		conns = append(conns, c)
	}
	t.mu.Unlock()
	for _, c := range conns {
		c.close(closeGoingAway, "server shutting down")
	}
}

// wsConn is one websocket connection.
type wsConn struct {
	t    *wsTransport
	ws   *websocket.Conn
	exec graphql.GraphExecutor

	// authorization is connection_init's, "" when anonymous; set before
	// any operation starts.
	authorization string

	writeMu sync.Mutex
	mu      sync.Mutex
	ops     map[string]context.CancelFunc
	closed  bool
	wg      sync.WaitGroup
}

func (c *wsConn) serve(ctx context.Context) {
	// Deferred in this order: cancel the connection's context (operations,
	// the token watch), then wait for their goroutines.
	defer c.wg.Wait()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	_ = c.ws.SetReadDeadline(time.Now().Add(c.t.initTimeout))
	acked := false
	bucket := wsBucket{tokens: wsMessageBurst, last: time.Now()}
	for {
		_, data, err := c.ws.ReadMessage()
		if err != nil {
			var netErr net.Error
			if !acked && errors.As(err, &netErr) && netErr.Timeout() {
				c.close(closeInitTimeout, "connection initialisation timeout")
			} else {
				c.close(websocket.CloseNormalClosure, "")
			}
			return
		}
		m, ok := decodeWSMessage(data)
		if !ok {
			c.close(closeBadMessage, "invalid message")
			return
		}
		if !bucket.take(time.Now()) {
			c.closeFlooded("too many messages")
			return
		}
		step := wsDecide(m, acked)
		if step.code != 0 {
			c.close(step.code, step.reason)
			return
		}
		switch m.Type {
		case "connection_init":
			if ctx, err = c.init(ctx, step.authorization); err != nil {
				return
			}
			acked = true
			_ = c.ws.SetReadDeadline(time.Time{})
			c.send(wsMessage{Type: "connection_ack"})
		case "ping":
			c.send(wsMessage{Type: "pong", Payload: m.Payload})
		case "subscribe":
			if !c.subscribe(ctx, m.ID, step.params) {
				return
			}
		case "complete":
			c.mu.Lock()
			cancel := c.ops[m.ID]
			c.mu.Unlock()
			if cancel != nil {
				cancel()
			}
		}
	}
}

// decodeWSMessage decodes one client message: a single JSON object whose
// id and type, when present, are strings.
func decodeWSMessage(data []byte) (wsMessage, bool) {
	var m wsMessage
	err := json.Unmarshal(data, &m)
	return m, err == nil
}

// wsStep is what the read loop does with one decoded message: close the
// connection with code and reason when code is set, else act on it with
// connection_init's authorization or subscribe's operation.
type wsStep struct {
	authorization string
	params        *graphql.RawParams
	code          int
	reason        string
}

// wsDecide checks m against the protocol, acked telling whether
// connection_init was acknowledged. It depends on nothing else, so that
// every message a client may send can be tested without a socket.
func wsDecide(m wsMessage, acked bool) wsStep {
	switch m.Type {
	case "connection_init":
		if acked {
			return wsStep{code: closeTooManyRequests, reason: "too many initialisation requests"}
		}
		var p struct {
			Authorization string `json:"authorization"`
		}
		if len(m.Payload) > 0 && string(m.Payload) != "null" {
			if err := json.Unmarshal(m.Payload, &p); err != nil {
				return wsStep{code: closeBadMessage, reason: "invalid connection_init payload"}
			}
		}
		return wsStep{authorization: p.Authorization}
	case "ping", "pong", "complete":
		return wsStep{}
	case "subscribe":
		if !acked {
			return wsStep{code: closeUnauthorized, reason: "unauthorized"}
		}
		if m.ID == "" {
			return wsStep{code: closeBadMessage, reason: "subscribe needs an id"}
		}
		var params graphql.RawParams
		if err := decodeJSON(bytes.NewReader(m.Payload), &params); err != nil {
			return wsStep{code: closeBadMessage, reason: "invalid subscribe payload"}
		}
		return wsStep{params: &params}
	default:
		return wsStep{code: closeBadMessage, reason: "invalid message type"}
	}
}

// wsBucket is a token bucket over the messages of one connection: it holds
// at most wsMessageBurst tokens and gains wsMessageRate a second. Only the
// connection's read loop uses it.
type wsBucket struct {
	tokens float64
	last   time.Time
}

// take spends a token on a message read at now; false means the connection
// sends faster than it may.
func (b *wsBucket) take(now time.Time) bool {
	b.tokens = min(wsMessageBurst, b.tokens+now.Sub(b.last).Seconds()*wsMessageRate)
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// init authenticates the connection from connection_init's authorization.
// A bad token closes the connection with 4403.
func (c *wsConn) init(ctx context.Context, authorization string) (context.Context, error) {
	authed, err := c.t.authenticate(ctx, authorization)
	if err != nil {
		c.refuse(ctx, err)
		return nil, err
	}
	c.authorization = authorization
	if authorization != "" && c.t.recheck > 0 {
		c.wg.Add(1)
		go c.watch(ctx, authorization)
	}
	return authed, nil
}

// refuse closes the connection whose credentials failed: 4403 when they
// are bad, 1011 when they could not be checked.
func (c *wsConn) refuse(ctx context.Context, err error) {
	if _, ok := apperr.As(err); ok {
		c.close(closeForbidden, "forbidden")
		return
	}
	c.t.log.ErrorContext(ctx, "websocket authentication failed", "error", err.Error())
	c.close(closeInternal, "internal error")
}

// watch re-checks the connection's token every recheck interval, so that
// a logout, a ban or the token's expiry also ends a long-lived socket; the
// client reconnects with a fresh token.
func (c *wsConn) watch(ctx context.Context, authorization string) {
	defer c.wg.Done()
	tick := time.NewTicker(c.t.recheck)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			if _, err := c.t.authenticate(ctx, authorization); err != nil {
				c.refuse(ctx, err)
				return
			}
		}
	}
}

// subscribe starts the operation params under id; it reports false when
// the connection was closed for a protocol violation.
func (c *wsConn) subscribe(ctx context.Context, id string, params *graphql.RawParams) bool {
	c.mu.Lock()
	if _, dup := c.ops[id]; dup {
		c.mu.Unlock()
		c.close(closeDuplicateID, "subscriber for "+id+" already exists")
		return false
	}
	if len(c.ops) >= wsMaxOpsPerConnection {
		c.mu.Unlock()
		c.sendErrors(id, requestError(fmt.Sprintf("at most %d operations may run at once on one connection", wsMaxOpsPerConnection)).Errors)
		return true
	}
	opCtx, cancel := context.WithCancel(ctx)
	c.ops[id] = cancel
	c.mu.Unlock()

	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		defer c.finish(id, cancel)
		c.run(opCtx, id, params)
	}()
	return true
}

// run executes one operation, sending each result as "next". An
// authenticated socket's token is checked again first, as every HTTP
// request's is: after a logout or the token's expiry the next operation
// closes the socket with 4403 instead of running until the periodic check.
func (c *wsConn) run(ctx context.Context, id string, params *graphql.RawParams) {
	if c.authorization != "" {
		if _, err := c.t.authenticate(ctx, c.authorization); err != nil {
			c.refuse(ctx, err)
			return
		}
	}
	ctx = graphql.StartOperationTrace(c.t.perOperation(ctx))
	rc, errs := c.exec.CreateOperationContext(ctx, params)
	if errs != nil {
		resp := c.exec.DispatchError(graphql.WithOperationContext(ctx, rc), errs)
		c.sendErrors(id, resp.Errors)
		return
	}
	responses, ctx := c.exec.DispatchOperation(ctx, rc)
	for {
		resp := responses(ctx)
		if resp == nil || ctx.Err() != nil {
			break
		}
		b, err := json.Marshal(resp)
		if err != nil {
			c.t.log.ErrorContext(ctx, "encode websocket response", "error", err.Error())
			return
		}
		c.send(wsMessage{ID: id, Type: "next", Payload: b})
	}
	if ctx.Err() == nil {
		c.send(wsMessage{ID: id, Type: "complete"})
	}
}

func (c *wsConn) finish(id string, cancel context.CancelFunc) {
	cancel()
	c.mu.Lock()
	delete(c.ops, id)
	c.mu.Unlock()
}

func (c *wsConn) sendErrors(id string, errs gqlerror.List) {
	b, err := json.Marshal(errs)
	if err != nil {
		return
	}
	c.send(wsMessage{ID: id, Type: "error", Payload: b})
}

func (c *wsConn) send(m wsMessage) {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	_ = c.ws.SetWriteDeadline(time.Now().Add(wsWriteTimeout))
	_ = c.ws.WriteJSON(m)
}

// close sends a close frame with code and reason and closes the socket.
func (c *wsConn) close(code int, reason string) {
	if c.sendClose(code, reason) {
		_ = c.ws.Close()
	}
}

// closeFlooded closes, with 4429, a connection that sends faster than it may.
// Its messages keep arriving after the close frame: closing the socket with
// them unread would reset the connection, and the client would lose the
// close frame and its reason. So the read loop, which calls this, discards
// them until the client closes too, for at most wsLinger.
func (c *wsConn) closeFlooded(reason string) {
	if !c.sendClose(closeTooManyRequests, reason) {
		return
	}
	_ = c.ws.SetReadDeadline(time.Now().Add(wsLinger))
	for {
		if _, _, err := c.ws.NextReader(); err != nil {
			break
		}
	}
	_ = c.ws.Close()
}

// wsLinger bounds how long closeFlooded waits for the client's close.
const wsLinger = time.Second

// sendClose sends the close frame once; false means the connection was
// closed already.
func (c *wsConn) sendClose(code int, reason string) bool {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return false
	}
	c.closed = true
	c.mu.Unlock()
	c.writeMu.Lock()
	_ = c.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, closeReason(reason)), time.Now().Add(time.Second))
	c.writeMu.Unlock()
	return true
}

// maxCloseReason is how many bytes of reason a close frame holds beside
// its code: a longer frame would not be sent at all, and the client would
// see the connection drop without the code.
const maxCloseReason = 123

// closeReason cuts reason (which may quote a client's operation id) to
// maxCloseReason bytes, on a character boundary.
func closeReason(reason string) string {
	if len(reason) <= maxCloseReason {
		return reason
	}
	cut := maxCloseReason
	for cut > 0 && !utf8.RuneStart(reason[cut]) {
		cut--
	}
	return reason[:cut]
}
