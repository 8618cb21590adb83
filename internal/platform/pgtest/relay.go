package pgtest

import (
	"bytes"
	"encoding/binary"
	"io"
	"net"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
)

// Relay passes connections on to the test database, and can make a cache
// watcher's connection (the one that sent LISTEN) deaf to changes while it
// still hears its own probes, or silent in both directions without
// closing, as behind a network partition.
type Relay struct {
	// Deaf drops every notification but a probe's (an empty payload).
	Deaf   atomic.Bool
	ln     net.Listener
	silent chan struct{}
	once   sync.Once
	done   chan struct{}
}

// Relay starts a relay to db and returns it with the URL that connects
// through it. It stops when the test ends, after the cleanups registered
// later (a replica's, which stops watching before its connections are cut).
func (db *DB) Relay(t testing.TB) (*Relay, string) {
	t.Helper()
	u, err := url.Parse(db.URL)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	rl := &Relay{ln: ln, silent: make(chan struct{}), done: make(chan struct{})}
	go rl.accept(u.Host)
	t.Cleanup(func() {
		close(rl.done)
		_ = ln.Close()
	})
	u.Host = ln.Addr().String()
	return rl, u.String()
}

// Silence makes the watcher's connection silent from now on.
func (rl *Relay) Silence() { rl.once.Do(func() { close(rl.silent) }) }

func (rl *Relay) accept(target string) {
	for {
		c, err := rl.ln.Accept()
		if err != nil {
			return
		}
		s, err := net.Dial("tcp", target)
		if err != nil {
			_ = c.Close()
			continue
		}
		go rl.serve(c, s)
	}
}

// serve relays one connection. The client's bytes are copied as they come;
// the server's are read message by message (with sslmode=disable each is a
// type byte and a length), so that notifications can be dropped.
func (rl *Relay) serve(c, s net.Conn) {
	var listening atomic.Bool
	// held blocks, on the watcher's connection once silenced, until the test
	// ends.
	held := func() bool {
		select {
		case <-rl.silent:
			if listening.Load() {
				<-rl.done
				return true
			}
		default:
		}
		return false
	}
	go func() {
		<-rl.done
		_ = c.Close()
		_ = s.Close()
	}()
	go func() {
		defer s.Close()
		buf := make([]byte, 32<<10)
		for {
			n, err := c.Read(buf)
			if bytes.Contains(buf[:n], []byte("LISTEN")) {
				listening.Store(true)
			}
			if n > 0 && held() {
				return
			}
			if _, werr := s.Write(buf[:n]); werr != nil || err != nil {
				return
			}
		}
	}()
	defer c.Close()
	for {
		msg := make([]byte, 5)
		if _, err := io.ReadFull(s, msg); err != nil {
			return
		}
		msg = append(msg, make([]byte, binary.BigEndian.Uint32(msg[1:])-4)...)
		if _, err := io.ReadFull(s, msg[5:]); err != nil {
			return
		}
		// A NotificationResponse ends with its channel's and its payload's
		// terminators: two zero bytes when the payload is empty, a probe's.
		if msg[0] == 'A' && rl.Deaf.Load() && !bytes.HasSuffix(msg, []byte{0, 0}) {
			continue
		}
		if held() {
			return
		}
		if _, err := c.Write(msg); err != nil {
			return
		}
	}
}
