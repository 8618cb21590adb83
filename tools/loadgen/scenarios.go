package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"sync/atomic"
	"time"
)

// Scenario is one kind of virtual user. Setup prepares what its users need
// (accounts, tokens) before measuring; Run performs one iteration and
// records each operation it sends.
type Scenario interface {
	Setup(ctx context.Context, c *Client, vus int) error
	Run(ctx context.Context, c *Client, vu int, rec *recorder) error
}

// scenarios are the known scenarios by name.
var scenarios = map[string]func() Scenario{
	"viewer":   func() Scenario { return &viewerScenario{} },
	"login":    func() Scenario { return &loginScenario{} },
	"register": func() Scenario { return &registerScenario{} },
	"feed":     func() Scenario { return &feedScenario{} },
	"post":     func() Scenario { return &postScenario{} },
	"fanout":   func() Scenario { return &fanoutScenario{} },
}

const password = "loadgen password 1234"

const registerOp = `mutation($in: RegisterInput!) { register(input: $in) { accessToken refreshToken userId } }`

// runID keeps usernames unique across runs against one database.
var runID = func() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}()

var userSeq atomic.Int64

// visibleWithin is how long a scenario waits for what it created to become
// visible before it gives up.
var visibleWithin = 10 * time.Second

type session struct {
	username, access, userID string
}

// register creates one account and returns its session.
func register(ctx context.Context, c *Client) (session, error) {
	name := fmt.Sprintf("lg_%s_%d", runID, userSeq.Add(1))
	var out struct {
		Register struct{ AccessToken, UserID string }
	}
	err := c.Do(ctx, "", registerOp, map[string]any{"in": map[string]any{
		"email": name + "@loadgen.test", "username": name, "password": password, "displayName": "Load " + name,
	}}, &out)
	return session{username: name, access: out.Register.AccessToken, userID: out.Register.UserID}, err
}

// waitVisible polls viewer until the profile exists; it returns how long it
// waited, with errGaveUp when the profile never showed up.
func waitVisible(ctx context.Context, c *Client, s session) (time.Duration, error) {
	start := time.Now()
	for time.Since(start) < visibleWithin {
		var out struct{ Viewer *struct{ ID string } }
		if err := c.Do(ctx, s.access, `{ viewer { id } }`, nil, &out); err != nil {
			return time.Since(start), err
		}
		if out.Viewer != nil {
			return time.Since(start), nil
		}
		time.Sleep(2 * time.Millisecond)
	}
	return time.Since(start), fmt.Errorf("profile not visible after %v: %w", visibleWithin, errGaveUp)
}

// accounts registers n accounts concurrently (bounded) and waits for their
// profiles.
func accounts(ctx context.Context, c *Client, n int) ([]session, error) {
	out := make([]session, n)
	err := forEach(n, func(i int) error {
		s, err := register(ctx, c)
		if err == nil {
			_, err = waitVisible(ctx, c, s)
		}
		out[i] = s
		return err
	})
	return out, err
}

// viewerScenario: signed-in users reading their own profile.
type viewerScenario struct{ sessions []session }

func (s *viewerScenario) Setup(ctx context.Context, c *Client, vus int) (err error) {
	s.sessions, err = accounts(ctx, c, min(vus, 64))
	return err
}

func (s *viewerScenario) Run(ctx context.Context, c *Client, vu int, rec *recorder) error {
	sess := s.sessions[vu%len(s.sessions)]
	start := time.Now()
	err := c.Do(ctx, sess.access, `{ viewer { id username displayName bio verified role createdAt } }`, nil, nil)
	rec.record(ctx, "viewer", start, err)
	return err
}

// loginScenario: users logging in again and again (password hashing load).
type loginScenario struct{ sessions []session }

func (s *loginScenario) Setup(ctx context.Context, c *Client, vus int) (err error) {
	s.sessions, err = accounts(ctx, c, min(vus, 16))
	return err
}

func (s *loginScenario) Run(ctx context.Context, c *Client, vu int, rec *recorder) error {
	sess := s.sessions[vu%len(s.sessions)]
	start := time.Now()
	err := c.Do(ctx, "", `mutation($in: LoginInput!) { login(input: $in) { accessToken } }`,
		map[string]any{"in": map[string]any{"login": sess.username, "password": password}}, nil)
	rec.record(ctx, "login", start, err)
	return err
}

// registerScenario: new users signing up; measures register itself and the
// time until the profile is visible (the registration saga).
type registerScenario struct{}

func (*registerScenario) Setup(context.Context, *Client, int) error { return nil }

func (*registerScenario) Run(ctx context.Context, c *Client, _ int, rec *recorder) error {
	start := time.Now()
	s, err := register(ctx, c)
	rec.record(ctx, "register", start, err)
	if err != nil {
		return err
	}
	took, err := waitVisible(ctx, c, s)
	rec.observe(ctx, "register_to_profile_visible", took, err)
	return err
}
