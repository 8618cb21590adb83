package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/nova-social/nova/internal/platform/domains"
	"github.com/nova-social/nova/internal/platform/pgtest"
	"github.com/nova-social/nova/internal/platform/testkit"
)

// replica is one `nova serve` process of several on one database.
type replica struct {
	name   string
	addr   string
	cmd    *exec.Cmd
	exited <-chan int
}

// startReplica runs `nova serve` on db, sharing dataDir (and so the signing
// key dev generates there) with the other replicas, and waits until it is
// ready and its cache of live sessions hears ended sessions, so that session
// checks are answered from the cache.
func startReplica(t *testing.T, name, dbURL, dataDir string) *replica {
	t.Helper()
	r := &replica{name: name, addr: freeAddr(t)}
	r.cmd, _, r.exited = startNova(t, map[string]string{
		"NOVA_ENV": "dev", "NOVA_DATABASE_URL": dbURL, "NOVA_DATA_DIR": dataDir,
		"NOVA_HTTP_ADDR": r.addr, "NOVA_LOG_LEVEL": "warn",
		"NOVA_RATELIMIT_REGISTER_PER_ADDR_PER_HOUR": "1000", "NOVA_RATELIMIT_LOGIN_PER_ADDR_PER_MINUTE": "1000",
	}, "serve")
	waitWhileRunning(t, name+" listening to ended sessions", r.exited, func() bool {
		return strings.Contains(r.get("/metrics"), "\nnova_identity_session_cache_listening 1\n")
	})
	return r
}

var replicaClient = &http.Client{Timeout: 10 * time.Second}

// get returns the body of a 200 answer to GET path, or "".
func (r *replica) get(path string) string {
	resp, err := replicaClient.Get("http://" + r.addr + path)
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return ""
	}
	return string(b)
}

// gqlResult is a GraphQL answer with its HTTP status.
type gqlResult struct {
	Status int
	Data   map[string]any `json:"data"`
	Errors []struct {
		Message    string         `json:"message"`
		Extensions map[string]any `json:"extensions"`
	} `json:"errors"`
	Raw string
}

// str walks the data by a dotted path to a string.
func (g *gqlResult) str(path string) string {
	var cur any = g.Data
	for _, p := range strings.Split(path, ".") {
		m, _ := cur.(map[string]any)
		cur = m[p]
	}
	s, _ := cur.(string)
	return s
}

// post sends one GraphQL operation to the replica, with token as bearer when
// not empty. It returns an error only when no answer came.
func (r *replica) post(token, query string, vars map[string]any) (*gqlResult, error) {
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequest(http.MethodPost, "http://"+r.addr+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := replicaClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	g := &gqlResult{Status: resp.StatusCode, Raw: string(raw)}
	if err := json.Unmarshal(raw, g); err != nil {
		return nil, fmt.Errorf("status %d, body %q: %w", resp.StatusCode, raw, err)
	}
	return g, nil
}

// ok sends an operation that must succeed.
func (r *replica) ok(t *testing.T, token, query string, vars map[string]any) *gqlResult {
	t.Helper()
	g, err := r.post(token, query, vars)
	if err != nil {
		t.Fatalf("%s: %v", r.name, err)
	}
	if g.Status != http.StatusOK || len(g.Errors) > 0 {
		t.Fatalf("%s: status %d, body %s", r.name, g.Status, g.Raw)
	}
	return g
}

// accepts reports whether the replica serves a request made with token
// (true) or refuses the token with 401 (false).
func (r *replica) accepts(t *testing.T, token string) bool {
	t.Helper()
	g, err := r.post(token, `{ viewer { id } }`, nil)
	if err != nil {
		t.Fatalf("%s: %v", r.name, err)
	}
	switch {
	case g.Status == http.StatusOK && len(g.Errors) == 0 && g.str("viewer.id") != "":
		return true
	case g.Status == http.StatusUnauthorized:
		return false
	}
	t.Fatalf("%s: status %d, body %s", r.name, g.Status, g.Raw)
	return false
}

// refusesWithin fails t unless the replica refuses token within d.
func (r *replica) refusesWithin(t *testing.T, what, token string, d time.Duration) {
	t.Helper()
	testkit.Within(t, d, r.name+" refuses the token after "+what, func() bool { return !r.accepts(t, token) })
}

// cacheHits is how many session checks the replica answered from its cache.
func (r *replica) cacheHits(t *testing.T) int {
	t.Helper()
	for _, l := range strings.Split(r.get("/metrics"), "\n") {
		if v, found := strings.CutPrefix(l, `nova_identity_session_checks_total{source="cache"} `); found {
			var n int
			fmt.Sscan(v, &n)
			return n
		}
	}
	return 0
}

// usedFrom makes a request with token on each replica twice, so that each
// has it in its cache, and checks that the cache answered.
func usedFrom(t *testing.T, token string, rs ...*replica) {
	t.Helper()
	for _, r := range rs {
		before := r.cacheHits(t)
		if !r.accepts(t, token) || !r.accepts(t, token) {
			t.Fatalf("%s refuses a live session", r.name)
		}
		if r.cacheHits(t) == before {
			t.Fatalf("%s answered no session check from its cache", r.name)
		}
	}
}

// member is a registered account.
type member struct {
	id, username, password, token string
}

// register creates an account on r and waits until its profile exists.
func register(t *testing.T, r *replica, username string) *member {
	t.Helper()
	m := &member{username: username, password: "correct horse battery " + username}
	g := r.ok(t, "", `mutation($in: RegisterInput!) { register(input: $in) { accessToken userId } }`, map[string]any{"in": map[string]any{
		"email": username + "@example.org", "username": username, "password": m.password,
	}})
	m.id, m.token = g.str("register.userId"), g.str("register.accessToken")
	testkit.Eventually(t, username+"'s profile exists", func() bool {
		return r.ok(t, m.token, `{ viewer { id } }`, nil).str("viewer.id") == m.id
	})
	return m
}

// login opens another session of m on r and returns its access token.
func login(t *testing.T, r *replica, m *member) string {
	t.Helper()
	g := r.ok(t, "", `mutation($in: LoginInput!) { login(input: $in) { accessToken } }`,
		map[string]any{"in": map[string]any{"login": m.username, "password": m.password}})
	return g.str("login.accessToken")
}

// feedIDs is the post ids of m's feed read from r (one page of up to 100).
func feedIDs(t *testing.T, r *replica, m *member) map[string]bool {
	t.Helper()
	g := r.ok(t, m.token, `{ feed(first: 100) { edges { node { id } } } }`, nil)
	return edgeIDs(g, "feed")
}

// postIDs is the post ids of author's posts read from r by viewer.
func postIDs(t *testing.T, r *replica, viewer, author *member) map[string]bool {
	t.Helper()
	g := r.ok(t, viewer.token, `query($id: ID!) { user(id: $id) { posts(first: 100) { edges { node { id } } } } }`, map[string]any{"id": author.id})
	u, _ := g.Data["user"].(map[string]any)
	return edgeIDs(&gqlResult{Data: u}, "posts")
}

func edgeIDs(g *gqlResult, conn string) map[string]bool {
	ids := map[string]bool{}
	c, _ := g.Data[conn].(map[string]any)
	edges, _ := c["edges"].([]any)
	for _, e := range edges {
		node, _ := e.(map[string]any)["node"].(map[string]any)
		id, _ := node["id"].(string)
		ids[id] = true
	}
	return ids
}

const (
	logoutMutation     = `mutation { logout }`
	logoutAllMutation  = `mutation { logoutAll }`
	createPostMutation = `mutation($body: String!) { createPost(input: {body: $body}) { id } }`
	followMutation     = `mutation($id: ID!) { follow(userId: $id) { id } }`
	isFollowingQuery   = `query($id: ID!) { user(id: $id) { viewerIsFollowing } }`
)

// endedSessionWait is how long a session ended on one replica may still be
// accepted by another: the time for the notification to reach it.
const endedSessionWait = 2 * time.Second

// TestReplicasAgree runs two `nova serve` processes on one database and
// drives the API over HTTP: what one replica does, the other's next
// requests see. A session ended on A (logout, logoutAll, changePassword) is
// refused by A at once and by B as soon as the notification reaches it,
// also when B had it in its cache; so is the session of a user banned on A.
// A post made on A reaches a follower's feed read on B, and a follow made on
// B is A's viewerIsFollowing. Last, A is killed mid-traffic (SIGKILL): every
// post it committed still reaches the follower's feed, delivered by B.
func TestReplicasAgree(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	dataDir := t.TempDir()
	a := startReplica(t, "replica A", db.URL, dataDir)
	b := startReplica(t, "replica B", db.URL, dataDir)

	t.Run("logout", func(t *testing.T) {
		m := register(t, a, "leaver")
		usedFrom(t, m.token, a, b)
		if g := a.ok(t, m.token, logoutMutation, nil); g.Data["logout"] != true {
			t.Fatalf("logout: %s", g.Raw)
		}
		if a.accepts(t, m.token) {
			t.Fatal("A accepts the token it logged out")
		}
		b.refusesWithin(t, "logout on A", m.token, endedSessionWait)
	})

	t.Run("logoutAll", func(t *testing.T) {
		m := register(t, a, "quitter")
		other := login(t, b, m)
		usedFrom(t, m.token, a, b)
		usedFrom(t, other, a, b)
		if g := a.ok(t, m.token, logoutAllMutation, nil); g.Data["logoutAll"] != true {
			t.Fatalf("logoutAll: %s", g.Raw)
		}
		for _, tok := range []string{m.token, other} {
			if a.accepts(t, tok) {
				t.Fatal("A accepts a token of a session it ended with logoutAll")
			}
			b.refusesWithin(t, "logoutAll on A", tok, endedSessionWait)
		}
	})

	t.Run("changePassword", func(t *testing.T) {
		m := register(t, a, "changer")
		other := login(t, b, m)
		usedFrom(t, m.token, a, b)
		usedFrom(t, other, a, b)
		a.ok(t, m.token, `mutation($in: ChangePasswordInput!) { changePassword(input: $in) }`, map[string]any{"in": map[string]any{
			"currentPassword": m.password, "newPassword": "another long password of " + m.username,
		}})
		if a.accepts(t, other) {
			t.Fatal("A accepts the token of a session changePassword ended")
		}
		b.refusesWithin(t, "changePassword on A", other, endedSessionWait)
		if !a.accepts(t, m.token) || !b.accepts(t, m.token) {
			t.Fatal("the session that changed the password was ended")
		}
	})

	t.Run("ban", func(t *testing.T) {
		admin := register(t, a, "root")
		if code, out, stderr := runNova(t, map[string]string{"NOVA_DATABASE_URL": db.URL}, "admin", "grant-role", "--username", "root", "--role", "ADMIN"); code != 0 {
			t.Fatalf("grant-role: exit %d\n%s%s", code, out, stderr)
		}
		victim := register(t, a, "spammer")
		usedFrom(t, victim.token, b)
		a.ok(t, admin.token, `mutation($id: ID!) { banUser(userId: $id, reason: "spam") { id } }`, map[string]any{"id": victim.id})
		// The ban reaches identity as an event, handled by either replica;
		// the other hears of the ended sessions as of any other ending.
		b.refusesWithin(t, "a ban on A", victim.token, 5*time.Second)
		a.refusesWithin(t, "a ban on A", victim.token, endedSessionWait)
	})

	author := register(t, a, "author")
	reader := register(t, b, "reader")

	t.Run("feed and follows", func(t *testing.T) {
		b.ok(t, reader.token, followMutation, map[string]any{"id": author.id})
		if g := a.ok(t, reader.token, isFollowingQuery, map[string]any{"id": author.id}); g.Data["user"].(map[string]any)["viewerIsFollowing"] != true {
			t.Fatalf("A: viewerIsFollowing after a follow on B: %s", g.Raw)
		}
		post := a.ok(t, author.token, createPostMutation, map[string]any{"body": "hello from A"}).str("createPost.id")
		testkit.Eventually(t, "the post made on A is in the feed read on B", func() bool { return feedIDs(t, b, reader)[post] })
	})

	t.Run("SIGKILL mid-traffic", func(t *testing.T) {
		// Four clients post on A; A is killed once 20 posts have been
		// answered, with more in flight.
		var answered atomic.Int64
		var mu sync.Mutex
		acked := map[string]bool{}
		killed := make(chan struct{})
		var wg sync.WaitGroup
		for w := 0; w < 4; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < 20; i++ {
					g, err := a.post(author.token, createPostMutation, map[string]any{"body": fmt.Sprintf("post %d of %d", i, w)})
					if err != nil {
						return // A is gone
					}
					if id := g.str("createPost.id"); g.Status == http.StatusOK && id != "" {
						mu.Lock()
						acked[id] = true
						mu.Unlock()
						if answered.Add(1) == 20 {
							close(killed)
						}
					}
				}
			}()
		}
		select {
		case <-killed:
		case <-time.After(20 * time.Second):
			t.Fatal("A did not answer 20 posts")
		}
		if err := a.cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		<-a.exited
		wg.Wait()

		// The deliveries A had fetched (some applied, their completion
		// not yet recorded) stay running until River's rescuer puts them
		// back, 5 minutes after their attempt began; here that is done at
		// once. A delivery of B's that this puts back is applied once: the
		// inbox absorbs its second run.
		rescued, err := db.Pools.For(domains.Events).Exec(context.Background(),
			`UPDATE events.river_job SET state = 'available', scheduled_at = now() WHERE state = 'running'`)
		if err != nil {
			t.Fatal(err)
		}

		committed := postIDs(t, b, reader, author)
		for id := range acked {
			if !committed[id] {
				t.Fatalf("post %s was answered by A but is not among the author's posts", id)
			}
		}
		testkit.Eventually(t, fmt.Sprintf("B's feed holds exactly the author's %d committed posts", len(committed)), func() bool {
			feed := feedIDs(t, b, reader)
			for id := range committed {
				if !feed[id] {
					return false
				}
			}
			return len(feed) == len(committed)
		})
		t.Logf("%d posts answered, %d committed, all in the feed; %d deliveries put back", len(acked), len(committed), rescued.RowsAffected())
	})
}
