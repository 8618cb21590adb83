package gateway_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/nova-social/nova/internal/gateway/gid"
	"github.com/nova-social/nova/internal/user"
)

func TestProfileAndSettings(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.register("prof")
	const update = `mutation($in: UpdateProfileInput!) { updateProfile(input: $in) { id displayName bio } }`

	r := ok(t, e.gql(a.Access, update, map[string]any{"in": map[string]any{"displayName": "Zoë 🚀", "bio": "line one\nline two"}}))
	if r.str("updateProfile.displayName") != "Zoë 🚀" || r.str("updateProfile.bio") != "line one\nline two" || r.str("updateProfile.id") != a.ID {
		t.Fatalf("updateProfile = %s", r.Raw)
	}
	// Omitted fields keep their value.
	r = ok(t, e.gql(a.Access, update, map[string]any{"in": map[string]any{"bio": "only bio"}}))
	if r.str("updateProfile.displayName") != "Zoë 🚀" || r.str("updateProfile.bio") != "only bio" {
		t.Fatalf("partial updateProfile = %s", r.Raw)
	}
	wantError(t, e.gql(a.Access, update, map[string]any{"in": map[string]any{"displayName": strings.Repeat("é", 65)}}), http.StatusOK, "BAD_USER_INPUT", "displayName")
	wantError(t, e.gql(a.Access, update, map[string]any{"in": map[string]any{"bio": strings.Repeat("b", 501)}}), http.StatusOK, "BAD_USER_INPUT", "bio")
	wantError(t, e.gql(a.Access, update, map[string]any{"in": map[string]any{"avatarMediaId": "nope"}}), http.StatusOK, "BAD_USER_INPUT", "avatarMediaId")
	wantError(t, e.gql("", update, map[string]any{"in": map[string]any{"bio": "x"}}), http.StatusOK, "UNAUTHENTICATED", "")

	const settings = `{ viewerSettings { isPrivate emailNotifications pushNotifications } }`
	s := ok(t, e.gql(a.Access, settings, nil))
	if s.get("viewerSettings.isPrivate") != false || s.get("viewerSettings.emailNotifications") != true || s.get("viewerSettings.pushNotifications") != true {
		t.Fatalf("default settings = %s", s.Raw)
	}
	u := ok(t, e.gql(a.Access, `mutation { updateSettings(input: {isPrivate: true}) { isPrivate emailNotifications pushNotifications } }`, nil))
	if u.get("updateSettings.isPrivate") != true || u.get("updateSettings.emailNotifications") != true {
		t.Fatalf("updateSettings = %s", u.Raw)
	}
	u = ok(t, e.gql(a.Access, `mutation { updateSettings(input: {pushNotifications: false}) { isPrivate pushNotifications } }`, nil))
	if u.get("updateSettings.isPrivate") != true || u.get("updateSettings.pushNotifications") != false {
		t.Fatalf("second updateSettings = %s", u.Raw)
	}

	// Anonymous: a field error with HTTP 200, other fields still resolve.
	anon := e.gql("", `{ viewer { id } viewerSettings { isPrivate } }`, nil)
	wantError(t, anon, http.StatusOK, "UNAUTHENTICATED", "")
	wantError(t, e.gql("", `mutation { updateSettings(input: {isPrivate: true}) { isPrivate } }`, nil), http.StatusOK, "UNAUTHENTICATED", "")
}

func TestRolesVerificationAndBans(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	admin, mod, alice := e.register("admin"), e.register("mod"), e.register("alice")
	e.grant(admin, user.RoleAdmin)
	const assign = `mutation($id: ID!, $role: Role!) { assignRole(userId: $id, role: $role) { id role } }`
	const verify = `mutation($id: ID!) { verifyUser(userId: $id) { id verified } }`
	const ban = `mutation($id: ID!, $reason: String!) { banUser(userId: $id, reason: $reason) { id username } }`

	// Ordinary users may do none of it; anonymous callers are UNAUTHENTICATED.
	wantError(t, e.gql(alice.Access, assign, map[string]any{"id": alice.ID, "role": "ADMIN"}), http.StatusOK, "FORBIDDEN", "")
	wantError(t, e.gql(alice.Access, verify, map[string]any{"id": alice.ID}), http.StatusOK, "FORBIDDEN", "")
	wantError(t, e.gql(alice.Access, ban, map[string]any{"id": mod.ID, "reason": "spam"}), http.StatusOK, "FORBIDDEN", "")
	wantError(t, e.gql("", ban, map[string]any{"id": mod.ID, "reason": "spam"}), http.StatusOK, "UNAUTHENTICATED", "")

	r := ok(t, e.gql(admin.Access, assign, map[string]any{"id": mod.ID, "role": "MODERATOR"}))
	if r.str("assignRole.role") != "MODERATOR" {
		t.Fatalf("assignRole = %s", r.Raw)
	}
	wantError(t, e.gql(admin.Access, assign, map[string]any{"id": "garbage", "role": "USER"}), http.StatusOK, "BAD_USER_INPUT", "userId")
	wantError(t, e.gql(admin.Access, assign, map[string]any{"id": gid.Encode(gid.User, uuid.Must(uuid.NewV7())), "role": "USER"}), http.StatusOK, "NOT_FOUND", "")
	wantError(t, e.gql(admin.Access, assign, map[string]any{"id": mod.ID, "role": "KING"}), http.StatusUnprocessableEntity, "BAD_USER_INPUT", "")

	// Verification is ADMIN only.
	wantError(t, e.gql(mod.Access, verify, map[string]any{"id": alice.ID}), http.StatusOK, "FORBIDDEN", "")
	v := ok(t, e.gql(admin.Access, verify, map[string]any{"id": alice.ID}))
	if v.get("verifyUser.verified") != true {
		t.Fatalf("verifyUser = %s", v.Raw)
	}

	// A moderator bans alice: her sessions end and she cannot log in again.
	wantError(t, e.gql(mod.Access, ban, map[string]any{"id": alice.ID, "reason": ""}), http.StatusOK, "BAD_USER_INPUT", "reason")
	wantError(t, e.gql(mod.Access, ban, map[string]any{"id": admin.ID, "reason": "coup"}), http.StatusOK, "FORBIDDEN", "")
	ok(t, e.gql(mod.Access, ban, map[string]any{"id": alice.ID, "reason": "spam"}))
	deadline := time.Now().Add(3 * time.Second)
	for {
		r := e.gql(alice.Access, `{ viewer { id } }`, nil)
		if r.Status == http.StatusUnauthorized {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("banned user's token still works: %s", r.Raw)
		}
		time.Sleep(20 * time.Millisecond)
	}
	l := e.login(alice.Username, alice.Password)
	wantError(t, l, http.StatusOK, "FORBIDDEN", "")
	if !strings.Contains(l.Errors[0].Message, "suspended") {
		t.Fatalf("banned login message = %q, want it to say suspended", l.Errors[0].Message)
	}
	// A wrong password for a banned account reveals nothing.
	wantError(t, e.login(alice.Username, "wrong password"), http.StatusOK, "UNAUTHENTICATED", "")
}
