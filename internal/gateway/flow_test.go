package gateway_test

import (
	"bytes"
	"net/http"
	"testing"
	"time"
)

func TestRegistrationSagaAndProfileReads(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := ok(t, e.gql("", registerMutation, map[string]any{"in": map[string]any{
		"email": "Ada@Example.com", "username": "Ada_Lovelace", "password": "analytical engine", "displayName": "Ada ✨ Lovelace",
	}}))
	a := &account{ID: r.str("register.userId"), Access: r.str("register.accessToken"), Refresh: r.str("register.refreshToken")}
	if a.ID == "" || a.Access == "" || a.Refresh == "" {
		t.Fatalf("register payload incomplete: %s", r.Raw)
	}
	if exp, err := time.Parse(time.RFC3339, r.str("register.expiresAt")); err != nil || time.Until(exp) < 10*time.Minute || time.Until(exp) > 16*time.Minute {
		t.Fatalf("expiresAt = %q (%v), want about 15 minutes ahead", r.str("register.expiresAt"), err)
	}
	if took := e.waitProfile(a); took > time.Second {
		t.Fatalf("profile appeared after %v, want within a second", took)
	}

	const userFields = `id username displayName bio verified role createdAt`
	v := ok(t, e.gql(a.Access, `{ viewer { `+userFields+` } }`, nil))
	if v.str("viewer.username") != "Ada_Lovelace" || v.str("viewer.displayName") != "Ada ✨ Lovelace" || v.str("viewer.bio") != "" ||
		v.get("viewer.verified") != false || v.str("viewer.role") != "USER" || v.str("viewer.createdAt") == "" {
		t.Fatalf("viewer = %s", v.Raw)
	}
	byID := ok(t, e.gql("", `query($id: ID!) { user(id: $id) { id username } node(id: $id) { id ... on User { username } } }`, map[string]any{"id": a.ID}))
	if byID.str("user.username") != "Ada_Lovelace" || byID.str("node.username") != "Ada_Lovelace" || byID.str("node.id") != a.ID {
		t.Fatalf("user/node by id = %s", byID.Raw)
	}
	byName := ok(t, e.gql("", `{ user(username: "ada_lovelace") { id } }`, nil))
	if byName.str("user.id") != a.ID {
		t.Fatalf("user by username (any case) = %s", byName.Raw)
	}
	missing := ok(t, e.gql("", `{ user(username: "nobody_here") { id } }`, nil))
	if missing.get("user") != nil {
		t.Fatalf("unknown user = %s, want null", missing.Raw)
	}
	wantError(t, e.gql("", `{ user { id } }`, nil), http.StatusOK, "BAD_USER_INPUT", "id")
	wantError(t, e.gql("", `{ user(id: "garbage") { id } }`, nil), http.StatusOK, "BAD_USER_INPUT", "id")
	wantError(t, e.gql("", `{ node(id: "garbage") { id } }`, nil), http.StatusOK, "BAD_USER_INPUT", "id")

	anon := ok(t, e.gql("", `{ viewer { id } }`, nil))
	if anon.get("viewer") != nil {
		t.Fatalf("anonymous viewer = %s, want null", anon.Raw)
	}

	// displayName is optional: the username stands in.
	r = ok(t, e.gql("", `mutation { register(input: {email: "b@example.com", username: "Babbage", password: "difference engine"}) { accessToken userId } }`, nil))
	b := &account{ID: r.str("register.userId"), Access: r.str("register.accessToken")}
	e.waitProfile(b)
	if v := ok(t, e.gql(b.Access, `{ viewer { displayName } }`, nil)); v.str("viewer.displayName") != "Babbage" {
		t.Fatalf("default displayName = %s", v.Raw)
	}

	// Login by email (any case) and by username.
	for _, login := range []string{"ada@example.com", "ADA_LOVELACE"} {
		l := ok(t, e.login(login, "analytical engine"))
		if l.str("login.userId") != a.ID {
			t.Fatalf("login %q = %s", login, l.Raw)
		}
	}
}

func TestRegisterAndLoginErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.register("grace")
	reg := func(email, username, password string) *response {
		return e.gql("", registerMutation, map[string]any{"in": map[string]any{"email": email, "username": username, "password": password, "displayName": ""}})
	}
	wantError(t, reg("x@example.com", "ab", "long enough pw"), http.StatusOK, "BAD_USER_INPUT", "username")
	wantError(t, reg("x@example.com", "bad-name!", "long enough pw"), http.StatusOK, "BAD_USER_INPUT", "username")
	wantError(t, reg("not-an-email", "fine_name", "long enough pw"), http.StatusOK, "BAD_USER_INPUT", "email")
	wantError(t, reg("x@example.com", "fine_name", "short"), http.StatusOK, "BAD_USER_INPUT", "password")
	wantError(t, reg("y@example.com", a.Username, "long enough pw"), http.StatusOK, "CONFLICT", "username")
	wantError(t, reg(a.Email, "other_name", "long enough pw"), http.StatusOK, "CONFLICT", "email")

	wrong := e.login(a.Username, "not the password")
	unknown := e.login("no_such_user", "not the password")
	wantError(t, wrong, http.StatusOK, "UNAUTHENTICATED", "")
	wantError(t, unknown, http.StatusOK, "UNAUTHENTICATED", "")
	if wrong.Errors[0].Message != unknown.Errors[0].Message {
		t.Fatalf("wrong password %q and unknown user %q are distinguishable", wrong.Errors[0].Message, unknown.Errors[0].Message)
	}
	if !bytes.Contains(wrong.Raw, []byte(`"data":null`)) {
		t.Fatalf("failed login: want data null (the field is non-null), got %s", wrong.Raw)
	}
}
