package user_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/nova-social/nova/internal/platform/domains"
	"github.com/nova-social/nova/internal/platform/pgtest"
	"github.com/nova-social/nova/internal/platform/postgres"
	"github.com/nova-social/nova/internal/platform/testkit"
	"github.com/nova-social/nova/internal/user"
)

// replica is another user service on the same database, with its own
// metrics, watching users until the test ends.
type replica struct {
	svc *user.Service
	reg *prometheus.Registry
}

func (e *env) watchingReplica(t testing.TB, pools *postgres.Pools) *replica {
	t.Helper()
	r := &replica{reg: prometheus.NewRegistry()}
	r.svc = user.New(pools.For(domains.User), e.bus, e.ids, quietLog(), r.reg)
	ctx, cancel := context.WithCancel(context.Background())
	wait := r.svc.WatchUsers(ctx)
	t.Cleanup(func() {
		cancel()
		wait()
	})
	testkit.Eventually(t, "user cache listening", func() bool { return r.metric(t, "nova_user_cache_listening") == 1 })
	return r
}

func (r *replica) metric(t testing.TB, name string) float64 {
	t.Helper()
	return testkit.MetricSum(t, r.reg, name)
}

// get reads one user through GetMany, the cached read.
func (r *replica) get(t testing.TB, id uuid.UUID) (user.User, bool) {
	t.Helper()
	got, err := r.svc.GetMany(context.Background(), []uuid.UUID{id})
	testkit.Must(t, err)
	u, ok := got[id]
	return u, ok
}

// A watching replica reads each user once; a user it never found is read
// again each time.
func TestUserCacheSparesReads(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	reads := &pgtest.StatementCounter{Match: "FROM users.users u"}
	r := e.watchingReplica(t, e.db.Traced(t, reads))
	_, _, u := e.register(t)
	for range 3 {
		if got, ok := r.get(t, u.ID); !ok || got.DisplayName != u.DisplayName {
			t.Fatalf("GetMany = %+v, %v; want %+v", got, ok, u)
		}
	}
	for range 2 {
		if _, ok := r.get(t, uuid.New()); ok {
			t.Fatal("found a user that does not exist")
		}
	}
	if got := reads.Count(); got != 3 {
		t.Fatalf("%d reads of users, want 3 (the user once, the unknown one twice)", got)
	}
}

// A user changed on one replica, or by hand, reads changed on every other
// replica within moments: its profile, its ban, its role, and its rows
// emptied by a TRUNCATE.
func TestUserChangedAnywhereReachesEveryReplica(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	a, b := e.watchingReplica(t, e.db.Pools), e.watchingReplica(t, e.db.Pools)
	admin := e.withRole(t, user.RoleAdmin)
	_, _, u := e.register(t)
	reads := func(what string, want func(user.User, bool) bool) {
		t.Helper()
		testkit.Within(t, 2*time.Second, "replica b reads "+what, func() bool { return want(b.get(t, u.ID)) })
	}
	b.get(t, u.ID)
	// Else every read below would come from the database and prove nothing.
	if n := b.metric(t, "nova_user_cache_entries"); n != 1 {
		t.Fatalf("replica b holds %v users, want the one it read", n)
	}

	name := "Renamed"
	_, err := a.svc.UpdateProfile(ctx, u.ID, user.ProfileUpdate{DisplayName: &name})
	testkit.Must(t, err)
	reads("the new display name", func(got user.User, _ bool) bool { return got.DisplayName == name })

	_, err = a.svc.AssignRole(ctx, admin.ID, u.ID, user.RoleModerator)
	testkit.Must(t, err)
	reads("the new role", func(got user.User, _ bool) bool { return got.Role == user.RoleModerator })

	_, err = e.db.Pools.For(domains.User).Exec(ctx, `UPDATE users.user_profiles SET bio = 'set by hand' WHERE user_id = $1`, u.ID)
	testkit.Must(t, err)
	reads("the bio set by hand", func(got user.User, _ bool) bool { return got.Bio == "set by hand" })

	_, err = a.svc.Ban(ctx, admin.ID, u.ID, "spam")
	testkit.Must(t, err)
	reads("the ban", func(got user.User, _ bool) bool { return got.Banned })

	_, err = e.db.Pools.For(domains.User).Exec(ctx, `TRUNCATE users.user_roles`)
	testkit.Must(t, err)
	reads("no user once its role is gone", func(_ user.User, ok bool) bool { return !ok })
}

// The replica that changes a user reads the change at once, without waiting
// to hear its notification, however it changed the user.
func TestUserCacheForgetsWhatItChangesItself(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	rl, url := e.db.Relay(t)
	r := e.watchingReplica(t, e.db.Open(t, postgres.Options{URL: url}))
	rl.Deaf.Store(true)
	admin := e.withRole(t, user.RoleAdmin)
	changes := map[string]struct {
		change func(u user.User) error
		want   func(user.User) bool
	}{
		"updateProfile": {
			func(u user.User) error {
				name := "Renamed"
				_, err := r.svc.UpdateProfile(ctx, u.ID, user.ProfileUpdate{DisplayName: &name})
				return err
			},
			func(u user.User) bool { return u.DisplayName == "Renamed" },
		},
		"assignRole": {
			func(u user.User) error {
				_, err := r.svc.AssignRole(ctx, admin.ID, u.ID, user.RoleModerator)
				return err
			},
			func(u user.User) bool { return u.Role == user.RoleModerator },
		},
		"ban": {
			func(u user.User) error { _, err := r.svc.Ban(ctx, admin.ID, u.ID, "spam"); return err },
			func(u user.User) bool { return u.Banned },
		},
		"verify": {
			func(u user.User) error { _, err := r.svc.Verify(ctx, admin.ID, u.ID); return err },
			func(u user.User) bool { return u.Verified },
		},
	}
	for name, c := range changes {
		t.Run(name, func(t *testing.T) {
			_, _, u := e.register(t)
			r.get(t, u.ID)
			testkit.Must(t, c.change(u))
			if got, _ := r.get(t, u.ID); !c.want(got) {
				t.Fatalf("read after %s: %+v", name, got)
			}
		})
	}
	// Else the cache may have been off, and the reads above proved nothing.
	if got := r.metric(t, "nova_user_changes_heard_total"); got != 0 {
		t.Fatalf("the replica heard %v changes, want none", got)
	}
	if r.metric(t, "nova_user_cache_listening") != 1 {
		t.Fatal("the cache stopped listening")
	}
}
