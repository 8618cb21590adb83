package gateway_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/nova-social/nova/internal/platform/domains"
	"github.com/nova-social/nova/internal/platform/testkit"
	"github.com/nova-social/nova/internal/user"
)

// A moderator demoted elsewhere (on another replica, or by an operator) may
// not moderate, even in a request whose earlier field loaded them through
// the replica's cache of users before it heard of the demotion: the role
// that authorizes is read from the database.
func TestDemotedModeratorIsRefusedDespiteTheCacheOfUsers(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(o *envOptions) { o.deafUserCache = true })
	mod, author := e.register("mod"), e.register("author")
	e.grant(mod, user.RoleModerator)
	postID := e.createPost(author, "hide me", "")
	// The cache now holds the moderator (else the test would prove nothing).
	testkit.Within(t, 2*time.Second, "the moderator cached", func() bool {
		ok(t, e.gql(mod.Access, `query($id: ID!) { user(id: $id) { id } }`, map[string]any{"id": mod.ID}))
		return testkit.MetricSum(t, e.userMetrics, "nova_user_cache_entries") >= 1
	})
	_, err := e.db.Pools.For(domains.User).Exec(context.Background(), `UPDATE users.user_roles SET role = 'USER'
		WHERE user_id = (SELECT id FROM users.users WHERE username = $1)`, mod.Username)
	testkit.Must(t, err)

	// createPost's author is the viewer, loaded through the request's loader
	// from the cache; moderatePost then runs in the same request.
	r := e.gql(mod.Access, `mutation($id: ID!) { createPost(input: {body: "first"}) { author { id } } moderatePost(id: $id, action: HIDE) { id } }`,
		map[string]any{"id": postID})
	wantError(t, r, http.StatusOK, "FORBIDDEN", "")
	for _, del := range []string{`deletePost(id: $id)`, `moderatePost(id: $id, action: RESTORE) { id }`} {
		r := e.gql(mod.Access, `mutation($id: ID!) { createPost(input: {body: "again"}) { author { id } } `+del+` }`, map[string]any{"id": postID})
		wantError(t, r, http.StatusOK, "FORBIDDEN", "")
	}
}
