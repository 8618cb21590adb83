package gateway_test

import (
	"net/http"
	"testing"
	"time"
)

const refreshMutation = `mutation($t: String!) { refreshToken(refreshToken: $t) { accessToken refreshToken userId } }`

func TestSessionsRefreshAndLogout(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.register("sess")
	second := ok(t, e.login(a.Username, a.Password))
	access2, refresh2 := second.str("login.accessToken"), second.str("login.refreshToken")

	s := ok(t, e.gql(a.Access, `{ sessions { id createdAt lastUsedAt userAgent current } }`, nil))
	list, _ := s.get("sessions").([]any)
	if len(list) != 2 {
		t.Fatalf("sessions = %s, want 2", s.Raw)
	}
	current := 0
	for _, it := range list {
		if it.(map[string]any)["current"] == true {
			current++
		}
	}
	if current != 1 {
		t.Fatalf("sessions = %s, want exactly one current", s.Raw)
	}
	wantError(t, e.gql("", `{ sessions { id } }`, nil), http.StatusOK, "UNAUTHENTICATED", "")

	// Refresh rotates: the new pair works, the old refresh token is spent.
	r := ok(t, e.gql("", refreshMutation, map[string]any{"t": a.Refresh}))
	newAccess, newRefresh := r.str("refreshToken.accessToken"), r.str("refreshToken.refreshToken")
	if r.str("refreshToken.userId") != a.ID || newRefresh == a.Refresh {
		t.Fatalf("refresh = %s", r.Raw)
	}
	ok(t, e.gql(newAccess, `{ viewer { id } }`, nil))
	wantError(t, e.gql("", refreshMutation, map[string]any{"t": "not-a-token"}), http.StatusOK, "UNAUTHENTICATED", "")

	// Logout ends the calling session at once: access and refresh tokens.
	ok(t, e.gql(access2, `mutation { logout }`, nil))
	wantError(t, e.gql(access2, `{ viewer { id } }`, nil), http.StatusUnauthorized, "UNAUTHENTICATED", "")
	wantError(t, e.gql("", refreshMutation, map[string]any{"t": refresh2}), http.StatusOK, "UNAUTHENTICATED", "")
	ok(t, e.gql(newAccess, `{ viewer { id } }`, nil))

	// logoutAll ends the rest.
	ok(t, e.gql(newAccess, `mutation { logoutAll }`, nil))
	wantError(t, e.gql(newAccess, `{ viewer { id } }`, nil), http.StatusUnauthorized, "UNAUTHENTICATED", "")
	wantError(t, e.gql("", `mutation { logout }`, nil), http.StatusOK, "UNAUTHENTICATED", "")
	wantError(t, e.gql("", `mutation { logoutAll }`, nil), http.StatusOK, "UNAUTHENTICATED", "")
}

func TestRefreshReuseRevokesFamily(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.register("reuse")
	r := ok(t, e.gql("", refreshMutation, map[string]any{"t": a.Refresh}))
	access, refresh := r.str("refreshToken.accessToken"), r.str("refreshToken.refreshToken")
	ok(t, e.gql(access, `{ viewer { id } }`, nil))

	// The spent token comes back: someone copied it. The whole family dies.
	wantError(t, e.gql("", refreshMutation, map[string]any{"t": a.Refresh}), http.StatusOK, "UNAUTHENTICATED", "")
	wantError(t, e.gql("", refreshMutation, map[string]any{"t": refresh}), http.StatusOK, "UNAUTHENTICATED", "")
	wantError(t, e.gql(access, `{ viewer { id } }`, nil), http.StatusUnauthorized, "UNAUTHENTICATED", "")
}

func TestChangePassword(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.register("pw")
	other := ok(t, e.login(a.Username, a.Password)).str("login.accessToken")
	const change = `mutation($in: ChangePasswordInput!) { changePassword(input: $in) }`

	wantError(t, e.gql(a.Access, change, map[string]any{"in": map[string]any{"currentPassword": "wrong one!", "newPassword": "brand new secret"}}), http.StatusOK, "BAD_USER_INPUT", "currentPassword")
	wantError(t, e.gql(a.Access, change, map[string]any{"in": map[string]any{"currentPassword": a.Password, "newPassword": "short"}}), http.StatusOK, "BAD_USER_INPUT", "newPassword")
	wantError(t, e.gql("", change, map[string]any{"in": map[string]any{"currentPassword": a.Password, "newPassword": "brand new secret"}}), http.StatusOK, "UNAUTHENTICATED", "")

	r := ok(t, e.gql(a.Access, change, map[string]any{"in": map[string]any{"currentPassword": a.Password, "newPassword": "brand new secret"}}))
	if r.get("changePassword") != true {
		t.Fatalf("changePassword = %s", r.Raw)
	}
	ok(t, e.gql(a.Access, `{ viewer { id } }`, nil))
	wantError(t, e.gql(other, `{ viewer { id } }`, nil), http.StatusUnauthorized, "UNAUTHENTICATED", "")
	wantError(t, e.login(a.Username, a.Password), http.StatusOK, "UNAUTHENTICATED", "")
	ok(t, e.login(a.Username, "brand new secret"))
}

func TestRateLimits(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(o *envOptions) {
		o.identity.RegisterPerAddrPerHour = 2
		o.identity.LoginFailuresPerAccount = 3
		o.identity.LoginFailureWindow = time.Minute
	})
	a := e.register("rl")
	e.register("rl")
	r := e.gql("", registerMutation, map[string]any{"in": map[string]any{"email": "third@example.com", "username": "third_one", "password": "long enough pw", "displayName": "x"}})
	wantError(t, r, http.StatusOK, "RATE_LIMITED", "")
	if s, _ := r.Errors[0].Extensions["retryAfterSeconds"].(float64); s < 1 {
		t.Fatalf("retryAfterSeconds = %v, want ≥ 1", r.Errors[0].Extensions["retryAfterSeconds"])
	}

	for range 3 {
		wantError(t, e.login(a.Username, "wrong password"), http.StatusOK, "UNAUTHENTICATED", "")
	}
	limited := e.login(a.Username, a.Password)
	wantError(t, limited, http.StatusOK, "RATE_LIMITED", "")
	// The sliding count may need the rest of this window and part of the
	// next one to admit an attempt again.
	if s, _ := limited.Errors[0].Extensions["retryAfterSeconds"].(float64); s < 1 || s > 120 {
		t.Fatalf("retryAfterSeconds = %v, want within two 1-minute windows", limited.Errors[0].Extensions["retryAfterSeconds"])
	}
}

func TestLoginPerAddressLimit(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(o *envOptions) { o.identity.LoginPerAddrPerMinute = 3 })
	a := e.register("addr")
	for range 3 {
		ok(t, e.login(a.Username, a.Password))
	}
	wantError(t, e.login(a.Username, a.Password), http.StatusOK, "RATE_LIMITED", "")
}
