package gateway_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/nova-social/nova/internal/gateway/gid"
)

// TestBatchedUserLookups resolves many users in one request through the
// request's loader: every alias gets its own user, unknown ids read null.
func TestBatchedUserLookups(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	var accounts []*account
	for range 3 {
		accounts = append(accounts, e.register("batch"))
	}
	unknown := gid.Encode(gid.User, uuid.Must(uuid.NewV7()))
	var q strings.Builder
	q.WriteString("{ ")
	for i := range 12 {
		id := unknown
		if i%4 < 3 {
			id = accounts[i%4].ID
		}
		fmt.Fprintf(&q, "u%d: user(id: %q) { id username } ", i, id)
	}
	q.WriteString(`s: node(id: "` + gid.Encode(gid.Session, uuid.Must(uuid.NewV7())) + `") { id } }`)
	r := ok(t, e.gql("", q.String(), nil))
	for i := range 12 {
		key := fmt.Sprintf("u%d", i)
		if i%4 == 3 {
			if r.get(key) != nil {
				t.Fatalf("%s: unknown id resolved: %s", key, r.Raw)
			}
			continue
		}
		if r.str(key+".id") != accounts[i%4].ID || r.str(key+".username") != accounts[i%4].Username {
			t.Fatalf("%s = %v, want %s", key, r.get(key), accounts[i%4].Username)
		}
	}
	if r.get("s") != nil {
		t.Fatalf("node of a non-node type resolved: %s", r.Raw)
	}
}
