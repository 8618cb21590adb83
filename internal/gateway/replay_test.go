package gateway_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/nova-social/nova/internal/events"
	"github.com/nova-social/nova/internal/platform/domains"
	"github.com/nova-social/nova/internal/platform/testkit"
	"github.com/nova-social/nova/internal/user"
)

// replayCase is one consumer as the operator sees it: the tables it writes
// (compared before and after its replay) and what the README says to clear
// before replaying it (nothing for a consumer whose tables are not a
// projection: its replay must then change nothing).
type replayCase struct {
	consumer string
	domain   domains.Domain
	tables   []string
	clear    []string
}

// replayCases lists every consumer registered by the domains behind the
// gateway; TestReplayRebuildsEveryConsumer fails when the bus knows one
// that is not here.
var replayCases = []replayCase{
	{consumer: "identity.bans", domain: domains.Identity,
		tables: []string{"identity.credentials", "identity.sessions"},
		clear:  []string{`UPDATE identity.credentials SET banned_at = NULL WHERE banned_at IS NOT NULL`}},
	{consumer: "user.accounts", domain: domains.User,
		tables: []string{"users.users", "users.user_profiles", "users.user_settings", "users.user_roles"}},
	{consumer: "content.relationships", domain: domains.Content,
		tables: []string{"content.follows", "content.blocks"},
		clear:  []string{`DELETE FROM content.follows`, `DELETE FROM content.blocks`}},
	{consumer: "content.bans", domain: domains.Content,
		tables: []string{"content.banned_users"},
		clear:  []string{`DELETE FROM content.banned_users`}},
	{consumer: "social.feeds", domain: domains.Social,
		tables: []string{"social.posts", "social.merged_authors", "social.feeds", "social.feed_state",
			"social.likes", "social.shares", "social.post_stats"},
		clear: []string{`DELETE FROM social.posts`, `DELETE FROM social.merged_authors`,
			`DELETE FROM social.feeds`,
			`UPDATE social.feed_state SET entries = 0, horizon_at = '-infinity', horizon_id = '00000000-0000-0000-0000-000000000000'`}},
	{consumer: "social.bans", domain: domains.Social,
		tables: []string{"social.banned_users", "social.posts", "social.feeds", "social.feed_state"},
		clear:  []string{`DELETE FROM social.banned_users`}},
	{consumer: "social.requests", domain: domains.Social,
		tables: []string{"social.relationships", "social.user_stats", "social.feeds", "social.feed_state"}},
}

// TestReplayRebuildsEveryConsumer drives a history through the API, then,
// for each consumer in turn, clears what the README says to clear, replays
// the consumer from the log and checks that its tables hold exactly what
// they held before, and that the replay published nothing.
func TestReplayRebuildsEveryConsumer(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	admin := events.NewAdmin(e.db.Pools.For(domains.Events), 5)

	known, err := admin.Consumers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var listed []string
	for _, c := range replayCases {
		listed = append(listed, c.consumer)
	}
	slices.Sort(listed)
	if !slices.Equal(known, listed) {
		t.Fatalf("consumers = %v; the test covers %v", known, listed)
	}

	e.replayHistory(t)
	e.waitDelivered(t, admin)

	for _, c := range replayCases {
		pool := e.db.Pools.For(c.domain)
		before := snapshot(t, pool, c.tables)
		published := e.logged(t)
		for _, q := range c.clear {
			if _, err := pool.Exec(ctx, q); err != nil {
				t.Fatalf("%s: clear: %v", c.consumer, err)
			}
		}
		if n, err := admin.Replay(ctx, c.consumer, "", events.Since{}); err != nil || n == 0 {
			t.Fatalf("replay %s = %d, %v", c.consumer, n, err)
		}
		e.waitDelivered(t, admin)
		after := snapshot(t, pool, c.tables)
		for _, table := range c.tables {
			if d := diffRows(before[table], after[table]); d != "" {
				t.Errorf("replay of %s: %s differs:\n%s", c.consumer, table, d)
			}
		}
		if n := e.logged(t); n != published {
			t.Errorf("replay of %s published %d events", c.consumer, n-published)
		}
	}
}

// replayHistory registers accounts and has them do what users and
// moderators do, so that every consumer has events to apply.
func (e *env) replayHistory(t *testing.T) {
	t.Helper()
	mod := e.register("mod")
	e.grant(mod, user.RoleModerator)
	a, b, c, d := e.register("ann"), e.register("bob"), e.register("cid"), e.register("dee")
	p, q, s := e.register("pia"), e.register("qed"), e.register("sam")

	mutate := func(who *account, query string, vars map[string]any) *response {
		t.Helper()
		return ok(t, e.gql(who.Access, query, vars))
	}
	on := func(who *account, query string, target *account) {
		t.Helper()
		mutate(who, query, map[string]any{"id": target.ID})
	}
	const (
		unfollow = `mutation($id: ID!) { unfollow(userId: $id) { id } }`
		approve  = `mutation($id: ID!) { approveFollowRequest(userId: $id) { id } }`
		reject   = `mutation($id: ID!) { rejectFollowRequest(userId: $id) }`
		block    = `mutation($id: ID!) { blockUser(userId: $id) }`
		unblock  = `mutation($id: ID!) { unblockUser(userId: $id) }`
		like     = `mutation($id: ID!) { likePost(postId: $id) { id } }`
		unlike   = `mutation($id: ID!) { unlikePost(postId: $id) { id } }`
		share    = `mutation($id: ID!, $c: String) { sharePost(postId: $id, comment: $c) { id } }`
		comment  = `mutation($in: CreateCommentInput!) { createComment(input: $in) { id } }`
		edit     = `mutation($id: ID!, $body: String!) { updatePost(id: $id, body: $body) { id } }`
		remove   = `mutation($id: ID!) { deletePost(id: $id) }`
		hide     = `mutation($id: ID!) { moderatePost(id: $id, action: HIDE) { id } }`
		restore  = `mutation($id: ID!) { moderatePost(id: $id, action: RESTORE) { id } }`
		settings = `mutation($in: UpdateSettingsInput!) { updateSettings(input: $in) { isPrivate } }`
		profile  = `mutation($in: UpdateProfileInput!) { updateProfile(input: $in) { id } }`
	)
	setPrivate := func(who *account, private bool) {
		t.Helper()
		mutate(who, settings, map[string]any{"in": map[string]any{"isPrivate": private}})
	}
	mutate(a, profile, map[string]any{"in": map[string]any{"displayName": "Ann", "bio": "hello"}})
	mutate(b, settings, map[string]any{"in": map[string]any{"emailNotifications": false}})

	// Posts before the follows, which back-fill them.
	a1 := e.createPost(a, "a1", "PUBLIC")
	e.createPost(a, "a2", "FOLLOWERS")
	b1 := e.createPost(b, "b1", "PUBLIC")
	s1 := e.createPost(s, "s1", "PUBLIC")

	// Private accounts: requests approved, rejected, left pending, and
	// approved by going public.
	setPrivate(p, true)
	setPrivate(q, true)
	for _, x := range []*account{a, b, c} {
		if st := e.follow(x, p); st != "REQUESTED" {
			t.Fatalf("follow of a private account = %s", st)
		}
	}
	on(p, approve, a)
	on(p, reject, b)
	e.follow(b, q)
	e.follow(c, q)
	on(q, reject, c)
	setPrivate(q, false)
	e.waitFollowing(t, b, q)
	setPrivate(q, true)
	e.follow(d, q)

	// Follows and unfollows.
	for _, f := range [][2]*account{{b, a}, {c, a}, {d, a}, {a, b}, {c, b}, {s, a}, {a, s}, {b, s}, {d, s}} {
		e.follow(f[0], f[1])
	}
	on(c, unfollow, a)
	e.follow(c, a)
	on(d, unfollow, b)
	on(b, unfollow, s)

	// Posts after the follows, fanned out.
	a3 := e.createPost(a, "a3", "PUBLIC")
	e.createPost(a, "a4", "FOLLOWERS")
	p1 := e.createPost(p, "p1", "FOLLOWERS")
	q1 := e.createPost(q, "q1", "PUBLIC")
	e.createPost(s, "s2", "PUBLIC")
	b2 := e.createPost(b, "b2", "PUBLIC")
	mutate(a, edit, map[string]any{"id": a1, "body": "a1 edited"})
	mutate(a, edit, map[string]any{"id": a1, "body": "a1 edited again"})

	// Interactions.
	onPost := func(who *account, query, id string) {
		t.Helper()
		mutate(who, query, map[string]any{"id": id})
	}
	onPost(b, like, a1)
	onPost(c, like, a1)
	onPost(a, like, b1)
	onPost(b, like, s1)
	onPost(a, like, p1)
	onPost(c, like, b2)
	onPost(c, unlike, b2)
	mutate(b, share, map[string]any{"id": a1, "c": "look"})
	mutate(c, share, map[string]any{"id": b1})
	mutate(a, share, map[string]any{"id": q1})
	parent := mutate(b, comment, map[string]any{"in": map[string]any{"postId": a1, "body": "nice"}}).str("createComment.id")
	mutate(a, comment, map[string]any{"in": map[string]any{"postId": a1, "body": "thanks", "parentId": parent}})
	mutate(c, comment, map[string]any{"in": map[string]any{"postId": b1, "body": "hm"}})

	// Moderation and deletions.
	onPost(mod, hide, a3)
	onPost(mod, hide, b1)
	onPost(mod, restore, b1)
	onPost(mod, hide, s1)
	onPost(a, remove, a1)
	onPost(q, remove, q1)

	// Blocks: one kept (ending a follow), one lifted.
	on(a, block, d)
	on(c, block, b)
	on(c, unblock, b)

	// A ban, of a user with posts (one of them hidden) and followers.
	mutate(mod, `mutation($id: ID!, $r: String!) { banUser(userId: $id, reason: $r) { id } }`, map[string]any{"id": s.ID, "r": "spam"})
}

// waitFollowing waits until follower follows followee in social.
func (e *env) waitFollowing(t *testing.T, follower, followee *account) {
	t.Helper()
	pool := e.db.Pools.For(domains.Social)
	testkit.Within(t, 5*time.Second, follower.Username+" follows "+followee.Username, func() bool {
		var following bool
		if err := pool.QueryRow(context.Background(), `SELECT EXISTS (SELECT 1 FROM social.relationships
			WHERE follower_id = $1 AND followee_id = $2 AND state = 'FOLLOWING')`, mustUUID(t, follower.ID), mustUUID(t, followee.ID)).Scan(&following); err != nil {
			t.Fatal(err)
		}
		return following
	})
}

// waitDelivered waits until no delivery is waiting, running or failed, and
// fails on a dead letter.
func (e *env) waitDelivered(t *testing.T, admin *events.Admin) {
	t.Helper()
	testkit.Eventually(t, "no delivery is waiting", func() bool {
		st, err := admin.Stats(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		busy := false
		for _, c := range st.Consumers {
			if c.Dead > 0 {
				t.Fatalf("%s has %d dead letters", c.Consumer, c.Dead)
			}
			busy = busy || c.Pending+c.Running+c.Failed > 0
		}
		return !busy
	})
}

// logged counts the events in the log.
func (e *env) logged(t *testing.T) int64 {
	t.Helper()
	var n int64
	if err := e.db.Pools.For(domains.Events).QueryRow(context.Background(), `SELECT count(*) FROM events.domain_events`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// snapshot reads each table as its rows in JSON, sorted.
func snapshot(t *testing.T, pool *pgxpool.Pool, tables []string) map[string][]string {
	t.Helper()
	out := make(map[string][]string, len(tables))
	for _, table := range tables {
		rows, err := pool.Query(context.Background(), fmt.Sprintf(`SELECT to_jsonb(t)::text FROM %s t ORDER BY 1`, table))
		if err != nil {
			t.Fatalf("read %s: %v", table, err)
		}
		for rows.Next() {
			var row string
			if err := rows.Scan(&row); err != nil {
				t.Fatalf("read %s: %v", table, err)
			}
			out[table] = append(out[table], row)
		}
		if err := rows.Err(); err != nil {
			t.Fatalf("read %s: %v", table, err)
		}
	}
	return out
}

// diffRows lists the rows only before (-) and only after (+).
func diffRows(before, after []string) string {
	var b strings.Builder
	for _, r := range before {
		if !slices.Contains(after, r) {
			fmt.Fprintf(&b, "  - %s\n", r)
		}
	}
	for _, r := range after {
		if !slices.Contains(before, r) {
			fmt.Fprintf(&b, "  + %s\n", r)
		}
	}
	return b.String()
}
