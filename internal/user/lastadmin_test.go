package user_test

import (
	"context"
	"testing"

	"github.com/nova-social/nova/internal/platform/apperr"
	"github.com/nova-social/nova/internal/platform/testkit"
	"github.com/nova-social/nova/internal/user"
)

// Two admins, the only ones, stepping down at the same moment: one is
// refused and stays ADMIN. The operator may still retire the last one.
func TestLastAdminCannotStepDown(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	for range 10 {
		a, b := e.withRole(t, user.RoleAdmin), e.withRole(t, user.RoleAdmin)
		errs := make(chan error, 2)
		start := make(chan struct{})
		for _, u := range []user.User{a, b} {
			go func() {
				<-start
				_, err := e.users.AssignRole(ctx, u.ID, u.ID, user.RoleModerator)
				errs <- err
			}()
		}
		close(start)
		refused := 0
		for range 2 {
			if err := <-errs; err != nil {
				testkit.WantCode(t, err, apperr.Forbidden)
				refused++
			}
		}
		ua, err := e.users.Get(ctx, a.ID)
		testkit.Must(t, err)
		ub, err := e.users.Get(ctx, b.ID)
		testkit.Must(t, err)
		if refused != 1 || (ua.Role == user.RoleAdmin) == (ub.Role == user.RoleAdmin) {
			t.Fatalf("%d refused; roles %s and %s, want exactly one admin left", refused, ua.Role, ub.Role)
		}
		last := ua
		if ub.Role == user.RoleAdmin {
			last = ub
		}
		if _, err := e.users.GrantRole(ctx, last.Username, user.RoleUser); err != nil {
			t.Fatalf("the operator retires the last admin: %v", err)
		}
	}
}
