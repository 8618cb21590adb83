package gateway_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/google/uuid"

	"github.com/nova-social/nova/internal/gateway/gid"
	"github.com/nova-social/nova/internal/user"
)

// userUUID is the uuid behind an account's global id.
func userUUID(t *testing.T, a *account) uuid.UUID {
	t.Helper()
	id, err := gid.Parse("id", gid.User, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// An avatar must be media the viewer uploaded, and no media can be checked
// yet: any media id is refused and nothing of the update is stored.
func TestUserReviewAvatarIsNotStoredUnchecked(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.register("avatar")
	someone := gid.Encode(gid.Media, uuid.Must(uuid.NewV7()))
	wantError(t, e.gql(a.Access, updateProfileMutation, map[string]any{"in": map[string]any{"avatarMediaId": someone, "bio": "kept?"}}),
		http.StatusOK, "BAD_USER_INPUT", "avatarMediaId")
	u, err := e.users.Get(context.Background(), userUUID(t, a))
	if err != nil {
		t.Fatal(err)
	}
	if u.AvatarMediaID != nil || u.Bio != "" {
		t.Fatalf("a refused update stored avatar %v, bio %q", u.AvatarMediaID, u.Bio)
	}
}

// A ban reason must say something: one rule, text.Blank, decides what is
// blank for every domain.
func TestUserReviewBanReasonNeedsVisibleText(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	mod, u := e.register("rmod"), e.register("ruser")
	e.grant(mod, user.RoleModerator)
	for _, reason := range []string{"\u200b", " \u200d\ufeff ", "\u3000"} {
		wantError(t, e.gql(mod.Access, banMutation, map[string]any{"id": u.ID, "reason": reason}), http.StatusOK, "BAD_USER_INPUT", "reason")
	}
	if got, err := e.users.Get(context.Background(), userUUID(t, u)); err != nil || got.Banned {
		t.Fatalf("after refused bans: %+v, %v", got, err)
	}
}

// Like assignRole, verifyUser and banUser, an update that changes nothing
// publishes nothing, and a change publishes exactly one event.
func TestUserReviewUnchangedUpdatesPublishNothing(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.register("noop")
	id := userUUID(t, a).String()
	for range 3 {
		ok(t, e.gql(a.Access, updateProfileMutation, map[string]any{"in": map[string]any{"displayName": "Same", "bio": "same"}}))
		ok(t, e.gql(a.Access, `mutation { updateSettings(input: {isPrivate: true, pushNotifications: true}) { isPrivate } }`, nil))
	}
	r := ok(t, e.gql(a.Access, updateProfileMutation, map[string]any{"in": map[string]any{"bio": "same"}}))
	if r.str("updateProfile.displayName") != "Same" || r.str("updateProfile.bio") != "same" {
		t.Fatalf("unchanged updateProfile = %s", r.Raw)
	}
	s := ok(t, e.gql(a.Access, `mutation { updateSettings(input: {emailNotifications: true}) { isPrivate emailNotifications pushNotifications } }`, nil))
	if s.get("updateSettings.isPrivate") != true || s.get("updateSettings.emailNotifications") != true || s.get("updateSettings.pushNotifications") != true {
		t.Fatalf("unchanged updateSettings = %s", s.Raw)
	}
	topics := e.db.Topics(t, "userId", id)
	profile, settings := 0, 0
	for _, tp := range topics {
		switch tp {
		case "user.profile.updated":
			profile++
		case "user.settings.updated":
			settings++
		}
	}
	if profile != 1 || settings != 1 {
		t.Fatalf("%d user.profile.updated and %d user.settings.updated events, want 1 each: %v", profile, settings, topics)
	}
}
