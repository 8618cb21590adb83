package gateway_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/netip"
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

// Behind a trusted proxy, per-address limits count the address the proxy
// forwarded; from anywhere else, X-Forwarded-For is ignored.
func TestRateLimitsBehindATrustedProxy(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(o *envOptions) {
		o.identity.RegisterPerAddrPerHour = 1
		o.trustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	})
	register := func(forwarded, name string) *response {
		body, _ := json.Marshal(map[string]any{"query": registerMutation, "variables": map[string]any{"in": map[string]any{
			"email": name + "@example.com", "username": name, "password": "long enough pw", "displayName": name}}})
		req, _ := http.NewRequest(http.MethodPost, e.url+"/graphql", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Forwarded-For", forwarded)
		return e.request(req)
	}
	ok(t, register("198.51.100.1", "behind_one"))
	wantError(t, register("198.51.100.1", "behind_two"), http.StatusOK, "RATE_LIMITED", "")
	// A client cannot pick its address: the proxy appends the real one.
	wantError(t, register("198.51.100.9, 198.51.100.1", "behind_three"), http.StatusOK, "RATE_LIMITED", "")
	ok(t, register("198.51.100.2", "behind_four"))
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
