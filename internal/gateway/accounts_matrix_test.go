package gateway_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/nova-social/nova/internal/gateway/gid"
	"github.com/nova-social/nova/internal/user"
)

// A matrix of the account operations over HTTP: registration and login
// input, case-insensitive uniqueness, profile limits, roles, bans, sessions
// and tokens, each against the codes of the API contract.

// registerInput is a registration whose fields a case may override.
func (e *env) registerInput(mod func(map[string]any)) map[string]any {
	n := e.seq.Add(1)
	in := map[string]any{
		"email": fmt.Sprintf("m%d@example.com", n), "username": fmt.Sprintf("m_%d", n),
		"password": "correct horse battery matrix", "displayName": "Matrix",
	}
	if mod != nil {
		mod(in)
	}
	return in
}

func TestRegistrationInputMatrix(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	taken := e.register("taken")
	set := func(k string, v any) func(map[string]any) { return func(in map[string]any) { in[k] = v } }
	cases := []struct {
		name   string
		mod    func(map[string]any)
		code   string // "" for success
		field  string
		status int // of a failure; 200 unless the document does not validate
	}{
		{"valid", nil, "", "", 0},
		{"username 3", set("username", "abc"), "", "", 0},
		{"username 30", set("username", strings.Repeat("x", 29)+"1"), "", "", 0},
		{"username 2", set("username", "ab"), "BAD_USER_INPUT", "username", 200},
		{"username 31", set("username", strings.Repeat("y", 31)), "BAD_USER_INPUT", "username", 200},
		{"username empty", set("username", ""), "BAD_USER_INPUT", "username", 200},
		{"username leading space", set("username", " lead"), "BAD_USER_INPUT", "username", 200},
		{"username trailing space", set("username", "trail "), "BAD_USER_INPUT", "username", 200},
		{"username hyphen", set("username", "a-b-c"), "BAD_USER_INPUT", "username", 200},
		{"username accented", set("username", "josé"), "BAD_USER_INPUT", "username", 200},
		{"username Cyrillic a", set("username", "\u0430dmin"), "BAD_USER_INPUT", "username", 200},
		{"username fullwidth", set("username", "ａｄｍｉｎ"), "BAD_USER_INPUT", "username", 200},
		{"username Kelvin sign", set("username", "\u212Aelvin"), "BAD_USER_INPUT", "username", 200},
		{"username control", set("username", "bell\u0007"), "BAD_USER_INPUT", "username", 200},
		{"username taken, other case", set("username", strings.ToUpper(taken.Username)), "CONFLICT", "username", 200},
		{"email empty", set("email", ""), "BAD_USER_INPUT", "email", 200},
		{"email no at", set("email", "nobody.example.com"), "BAD_USER_INPUT", "email", 200},
		{"email leading space", set("email", " lead@example.com"), "BAD_USER_INPUT", "email", 200},
		{"email trailing space", set("email", "trail@example.com "), "BAD_USER_INPUT", "email", 200},
		{"email display name", set("email", "Eve <eve@example.com>"), "BAD_USER_INPUT", "email", 200},
		{"email control", set("email", "bell\u0007@example.com"), "BAD_USER_INPUT", "email", 200},
		{"email 255 bytes", set("email", strings.Repeat("e", 243)+"@example.com"), "BAD_USER_INPUT", "email", 200},
		{"email taken, other case", set("email", strings.ToUpper(taken.Email)), "CONFLICT", "email", 200},
		{"email taken, Kelvin sign", set("email", strings.Replace(taken.Email, "k", "\u212A", 1)), "CONFLICT", "email", 200},
		{"password 7 code points", set("password", "ééééééé"), "BAD_USER_INPUT", "password", 200},
		{"password 8 two-byte code points", set("password", "ééééééé\u00e8"), "", "", 0},
		{"password 128 emoji", set("password", strings.Repeat("🔑", 128)), "", "", 0},
		{"password 129 emoji", set("password", strings.Repeat("🔑", 129)), "BAD_USER_INPUT", "password", 200},
		{"password common", set("password", "password123"), "BAD_USER_INPUT", "password", 200},
		{"password empty", set("password", ""), "BAD_USER_INPUT", "password", 200},
		{"displayName 64", set("displayName", strings.Repeat("é", 64)), "", "", 0},
		{"displayName 65", set("displayName", strings.Repeat("é", 65)), "BAD_USER_INPUT", "displayName", 200},
		{"displayName blank", set("displayName", "   "), "BAD_USER_INPUT", "displayName", 200},
		{"displayName newline", set("displayName", "two\nlines"), "BAD_USER_INPUT", "displayName", 200},
		{"displayName line separator", set("displayName", "two\u2028lines"), "BAD_USER_INPUT", "displayName", 200},
		{"displayName zero-width space only", set("displayName", "\u200B"), "BAD_USER_INPUT", "displayName", 200},
		{"displayName bidi override", set("displayName", "Admin\u202Egpj.exe"), "BAD_USER_INPUT", "displayName", 200},
		{"displayName bidi isolate", set("displayName", "a\u2067b"), "BAD_USER_INPUT", "displayName", 200},
		{"displayName right-to-left mark", set("displayName", "\u05D0\u200F 1"), "", "", 0},
		{"displayName invisible only", set("displayName", " \u200D\u2060\uFEFF "), "BAD_USER_INPUT", "displayName", 200},
		{"displayName emoji sequence", set("displayName", "👩\u200D💻 Ada"), "", "", 0},
		{"displayName NUL", set("displayName", "a\x00b"), "BAD_USER_INPUT", "in", 422},
		{"missing username", func(in map[string]any) { delete(in, "username") }, "BAD_USER_INPUT", "", 422},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			r := e.gql("", registerMutation, map[string]any{"in": e.registerInput(c.mod)})
			if c.code == "" {
				ok(t, r)
				return
			}
			wantError(t, r, c.status, c.code, c.field)
			if r.Data != nil && r.get("register") != nil {
				t.Fatalf("a refused registration returned data: %s", r.Raw)
			}
		})
	}
}

// The display name defaults to the username when omitted or empty, and the
// username is shown as registered.
func TestRegistrationDefaultsAndSpelling(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, dn := range []any{nil, ""} {
		in := e.registerInput(func(in map[string]any) {
			in["username"] = fmt.Sprintf("MiXeD_%d", e.seq.Add(1))
			if dn == nil {
				delete(in, "displayName")
			} else {
				in["displayName"] = dn
			}
		})
		r := ok(t, e.gql("", registerMutation, map[string]any{"in": in}))
		a := &account{ID: r.str("register.userId"), Access: r.str("register.accessToken")}
		e.waitProfile(a)
		v := ok(t, e.gql(a.Access, `{ viewer { username displayName role verified } }`, nil))
		if v.str("viewer.username") != in["username"] || v.str("viewer.displayName") != in["username"] ||
			v.str("viewer.role") != "USER" || v.get("viewer.verified") != false {
			t.Fatalf("displayName %v: viewer = %s", dn, v.Raw)
		}
		u := ok(t, e.gql("", `query($u: String!) { user(username: $u) { id username } }`, map[string]any{"u": strings.ToLower(in["username"].(string))}))
		if u.str("user.id") != a.ID || u.str("user.username") != in["username"] {
			t.Fatalf("user by lower-case username = %s", u.Raw)
		}
	}
}

// Registrations of one name in different cases, or of one email in
// different cases, racing each other: exactly one wins, the others get
// CONFLICT on the field, never INTERNAL.
func TestRegistrationRaceDifferingInCase(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, field := range []string{"username", "email"} {
		t.Run(field, func(t *testing.T) {
			spellings := []string{"RaceName", "racename", "RACENAME", "raceNAME", "RaCeNaMe", "rACEnAME"}
			codes := make([]string, len(spellings))
			var wg sync.WaitGroup
			for i, s := range spellings {
				wg.Add(1)
				go func() {
					defer wg.Done()
					in := e.registerInput(func(in map[string]any) {
						if field == "username" {
							in["username"] = s
						} else {
							in["email"] = s + "@Example.com"
						}
					})
					r := e.gql("", registerMutation, map[string]any{"in": in})
					if r.code() == "" {
						codes[i] = "ok"
						return
					}
					if r.code() != "CONFLICT" || r.field() != field {
						t.Errorf("%s: got %s", s, r.Raw)
					}
					codes[i] = r.code()
				}()
			}
			wg.Wait()
			sort.Strings(codes)
			want := []string{"CONFLICT", "CONFLICT", "CONFLICT", "CONFLICT", "CONFLICT", "ok"}
			if !slices.Equal(codes, want) {
				t.Fatalf("outcomes %v, want %v", codes, want)
			}
		})
	}
}

const loginFields = `accessToken refreshToken userId expiresAt`

func TestLoginMatrix(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.register("LoginCase")
	cases := []struct {
		name, login, password string
		code, field           string
	}{
		{"username as registered", a.Username, a.Password, "", ""},
		{"username upper case", strings.ToUpper(a.Username), a.Password, "", ""},
		{"email upper case", strings.ToUpper(a.Email), a.Password, "", ""},
		{"wrong password", a.Username, a.Password + "!", "UNAUTHENTICATED", ""},
		{"password with a trailing space", a.Username, a.Password + " ", "UNAUTHENTICATED", ""},
		{"password cut short", a.Username, a.Password[:len(a.Password)-1], "UNAUTHENTICATED", ""},
		{"unknown user", "nobody_here", a.Password, "UNAUTHENTICATED", ""},
		{"unknown email", "nobody@example.com", a.Password, "UNAUTHENTICATED", ""},
		{"username with a leading space", " " + a.Username, a.Password, "UNAUTHENTICATED", ""},
		{"login over 254 bytes", strings.Repeat("x", 300), a.Password, "UNAUTHENTICATED", ""},
		{"login with a control character", a.Username + "\u0007", a.Password, "UNAUTHENTICATED", ""},
		{"password over 128 code points", a.Username, strings.Repeat("p", 129), "UNAUTHENTICATED", ""},
		{"empty login", "", a.Password, "BAD_USER_INPUT", "login"},
		{"empty password", a.Username, "", "BAD_USER_INPUT", "password"},
	}
	var badMessage string
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := e.login(c.login, c.password)
			if c.code == "" {
				ok(t, r)
				if r.str("login.userId") != a.ID {
					t.Fatalf("login = %s, want user %s", r.Raw, a.ID)
				}
				return
			}
			wantError(t, r, http.StatusOK, c.code, c.field)
			if c.code == "UNAUTHENTICATED" {
				// Unknown user and wrong password read the same.
				if badMessage == "" {
					badMessage = r.Errors[0].Message
				}
				if r.Errors[0].Message != badMessage || len(r.Errors[0].Extensions) != 1 {
					t.Fatalf("failure %q %v, want the same message %q and only a code", r.Errors[0].Message, r.Errors[0].Extensions, badMessage)
				}
			}
		})
	}
}

// An unknown login and a wrong password take about as long: both verify
// one argon2id hash. Without the dummy verification an unknown login
// answers many times faster. Not parallel, and the two kinds interleaved, so
// that the load of other tests weighs on both alike.
func TestLoginTimingUnknownUserVsWrongPassword(t *testing.T) {
	e := newEnv(t)
	a := e.register("timing")
	var known, unknown []time.Duration
	timed := func(login string, i int) time.Duration {
		start := time.Now()
		wantError(t, e.login(login, fmt.Sprintf("wrong password %d", i)), http.StatusOK, "UNAUTHENTICATED", "")
		return time.Since(start)
	}
	for i := range 9 {
		known = append(known, timed(a.Username, i))
		unknown = append(unknown, timed("no_such_user_here", i))
	}
	slices.Sort(known)
	slices.Sort(unknown)
	k, u := known[len(known)/2], unknown[len(unknown)/2]
	t.Logf("median wrong password %v, unknown user %v", k, u)
	if u < k/4 || k < u/4 {
		t.Fatalf("wrong password %v vs unknown user %v: the answer time tells them apart", k, u)
	}
}

const updateProfileMutation = `mutation($in: UpdateProfileInput!) { updateProfile(input: $in) { id displayName bio } }`

func TestUpdateProfileMatrix(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.register("profile")
	cases := []struct {
		name        string
		in          map[string]any
		code, field string
		status      int
		displayName string // expected after success
		bio         string
	}{
		{"displayName 64 code points", map[string]any{"displayName": strings.Repeat("ß", 64)}, "", "", 0, strings.Repeat("ß", 64), ""},
		{"displayName 65 code points", map[string]any{"displayName": strings.Repeat("ß", 65)}, "BAD_USER_INPUT", "displayName", 200, "", ""},
		{"displayName 64 four-byte emoji", map[string]any{"displayName": strings.Repeat("🚀", 64)}, "", "", 0, strings.Repeat("🚀", 64), ""},
		{"displayName empty", map[string]any{"displayName": ""}, "BAD_USER_INPUT", "displayName", 200, "", ""},
		{"displayName blank", map[string]any{"displayName": " \t "}, "BAD_USER_INPUT", "displayName", 200, "", ""},
		{"displayName newline", map[string]any{"displayName": "a\nb"}, "BAD_USER_INPUT", "displayName", 200, "", ""},
		{"displayName paragraph separator", map[string]any{"displayName": "a\u2029b"}, "BAD_USER_INPUT", "displayName", 200, "", ""},
		{"displayName zero-width only", map[string]any{"displayName": "\u200B\u200C"}, "BAD_USER_INPUT", "displayName", 200, "", ""},
		{"displayName escape", map[string]any{"displayName": "a\u001b[31mb"}, "BAD_USER_INPUT", "displayName", 200, "", ""},
		{"displayName DEL", map[string]any{"displayName": "a\u007fb"}, "BAD_USER_INPUT", "displayName", 200, "", ""},
		{"displayName C1 control", map[string]any{"displayName": "a\u0085b"}, "BAD_USER_INPUT", "displayName", 200, "", ""},
		{"displayName NUL", map[string]any{"displayName": "a\x00b"}, "BAD_USER_INPUT", "in", 422, "", ""},
		{"bio 500 code points", map[string]any{"bio": strings.Repeat("é", 500)}, "", "", 0, strings.Repeat("🚀", 64), strings.Repeat("é", 500)},
		{"bio 501 code points", map[string]any{"bio": strings.Repeat("é", 501)}, "BAD_USER_INPUT", "bio", 200, "", ""},
		{"bio multi-line", map[string]any{"bio": "one\r\ntwo\tthree\u2028four"}, "", "", 0, strings.Repeat("🚀", 64), "one\r\ntwo\tthree\u2028four"},
		{"bio escape", map[string]any{"bio": "\u001b]0;owned\u0007"}, "BAD_USER_INPUT", "bio", 200, "", ""},
		{"bio emptied", map[string]any{"bio": ""}, "", "", 0, strings.Repeat("🚀", 64), ""},
		{"nothing", map[string]any{}, "", "", 0, strings.Repeat("🚀", 64), ""},
		{"avatarMediaId not an id", map[string]any{"avatarMediaId": "nope"}, "BAD_USER_INPUT", "avatarMediaId", 200, "", ""},
		{"avatarMediaId of a user", map[string]any{"avatarMediaId": a.ID}, "BAD_USER_INPUT", "avatarMediaId", 200, "", ""},
		{"both, one bad: nothing changes", map[string]any{"displayName": "kept?", "bio": strings.Repeat("b", 501)}, "BAD_USER_INPUT", "bio", 200, "", ""},
	}
	// In order: successes build on each other.
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := e.gql(a.Access, updateProfileMutation, map[string]any{"in": c.in})
			if c.code != "" {
				wantError(t, r, c.status, c.code, c.field)
				return
			}
			ok(t, r)
			if r.str("updateProfile.id") != a.ID || r.str("updateProfile.displayName") != c.displayName || r.str("updateProfile.bio") != c.bio {
				t.Fatalf("updateProfile = %s", r.Raw)
			}
		})
	}
	v := ok(t, e.gql(a.Access, `{ viewer { displayName bio } }`, nil))
	if v.str("viewer.displayName") != strings.Repeat("🚀", 64) || v.str("viewer.bio") != "" {
		t.Fatalf("after the matrix, viewer = %s", v.Raw)
	}
	// The input has no user argument: a profile is only ever the viewer's own.
	wantError(t, e.gql(a.Access, `mutation($id: ID!) { updateProfile(userId: $id, input: {bio: "x"}) { id } }`, map[string]any{"id": a.ID}),
		http.StatusUnprocessableEntity, "BAD_USER_INPUT", "query")
}

const (
	assignRoleMutation = `mutation($id: ID!, $role: Role!) { assignRole(userId: $id, role: $role) { id role } }`
	banMutation        = `mutation($id: ID!, $reason: String!) { banUser(userId: $id, reason: $reason) { id } }`
)

func TestRoleMatrix(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	root, mod, plain := e.register("root"), e.register("mod"), e.register("plain")
	e.grant(root, user.RoleAdmin)
	ok(t, e.gql(root.Access, assignRoleMutation, map[string]any{"id": mod.ID, "role": "MODERATOR"}))

	cases := []struct {
		name       string
		actor      *account
		target     *account
		role, code string
	}{
		{"user promotes self", plain, plain, "ADMIN", "FORBIDDEN"},
		{"moderator promotes self", mod, mod, "ADMIN", "FORBIDDEN"},
		{"moderator promotes a user", mod, plain, "MODERATOR", "FORBIDDEN"},
		{"moderator demotes the admin", mod, root, "USER", "FORBIDDEN"},
		{"the last admin demotes self", root, root, "USER", "FORBIDDEN"},
		{"the last admin makes self moderator", root, root, "MODERATOR", "FORBIDDEN"},
		{"the last admin keeps ADMIN", root, root, "ADMIN", ""},
		{"anonymous", nil, plain, "ADMIN", "UNAUTHENTICATED"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			token := ""
			if c.actor != nil {
				token = c.actor.Access
			}
			r := e.gql(token, assignRoleMutation, map[string]any{"id": c.target.ID, "role": c.role})
			if c.code == "" {
				ok(t, r)
				return
			}
			wantError(t, r, http.StatusOK, c.code, "")
		})
	}
	roleOf := func(a *account) string {
		return ok(t, e.gql("", `query($id: ID!) { user(id: $id) { role } }`, map[string]any{"id": a.ID})).str("user.role")
	}
	if roleOf(root) != "ADMIN" || roleOf(mod) != "MODERATOR" || roleOf(plain) != "USER" {
		t.Fatalf("roles after refused changes: %s %s %s", roleOf(root), roleOf(mod), roleOf(plain))
	}

	// With a second admin, either may step down; the one left may not.
	ok(t, e.gql(root.Access, assignRoleMutation, map[string]any{"id": plain.ID, "role": "ADMIN"}))
	ok(t, e.gql(plain.Access, assignRoleMutation, map[string]any{"id": plain.ID, "role": "USER"}))
	wantError(t, e.gql(root.Access, assignRoleMutation, map[string]any{"id": root.ID, "role": "USER"}), http.StatusOK, "FORBIDDEN", "")
	if roleOf(root) != "ADMIN" || roleOf(plain) != "USER" {
		t.Fatalf("roles: root %s plain %s", roleOf(root), roleOf(plain))
	}
	wantError(t, e.gql(root.Access, assignRoleMutation, map[string]any{"id": gid.Encode(gid.User, uuid.Must(uuid.NewV7())), "role": "USER"}), http.StatusOK, "NOT_FOUND", "")

	// A banned admin can assign nothing, so does not count as another one.
	ok(t, e.gql(root.Access, banMutation, map[string]any{"id": plain.ID, "reason": "spam"}))
	e.grant(plain, user.RoleAdmin)
	wantError(t, e.gql(root.Access, assignRoleMutation, map[string]any{"id": root.ID, "role": "USER"}), http.StatusOK, "FORBIDDEN", "")
	if roleOf(root) != "ADMIN" {
		t.Fatalf("root is %s after stepping down beside a banned admin", roleOf(root))
	}
}

// Two admins stepping down at the same moment: one of them stays ADMIN.
func TestConcurrentSelfDemotionKeepsAnAdmin(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for round := range 5 {
		a, b := e.register(fmt.Sprintf("adm%da", round)), e.register(fmt.Sprintf("adm%db", round))
		for _, x := range []*account{a, b} {
			e.grant(x, user.RoleAdmin)
		}
		var wg sync.WaitGroup
		codes := make([]string, 2)
		for i, x := range []*account{a, b} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				codes[i] = e.gql(x.Access, assignRoleMutation, map[string]any{"id": x.ID, "role": "USER"}).code()
			}()
		}
		wg.Wait()
		admins := 0
		for _, x := range []*account{a, b} {
			r := ok(t, e.gql("", `query($id: ID!) { user(id: $id) { role } }`, map[string]any{"id": x.ID}))
			if r.str("user.role") == "ADMIN" {
				admins++
			}
		}
		if sorted := slices.Sorted(slices.Values(codes)); admins != 1 || !slices.Equal(sorted, []string{"", "FORBIDDEN"}) {
			t.Fatalf("round %d: codes %q left %d admins, want one FORBIDDEN and 1 admin", round, codes, admins)
		}
		// The operator retires the survivor: the next round starts from its
		// two admins alone.
		survivor := a
		if codes[0] == "" {
			survivor = b
		}
		e.grant(survivor, user.RoleUser)
	}
}

func TestBanMatrix(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	root, root2, mod, mod2, u1 := e.register("broot"), e.register("broot2"), e.register("bmod"), e.register("bmod2"), e.register("bu")
	for _, g := range []struct {
		a *account
		r user.Role
	}{{root, user.RoleAdmin}, {root2, user.RoleAdmin}, {mod, user.RoleModerator}, {mod2, user.RoleModerator}} {
		e.grant(g.a, g.r)
	}
	cases := []struct {
		name          string
		actor, target *account
		reason        string
		code, field   string
	}{
		{"user bans user", u1, mod, "spam", "FORBIDDEN", ""},
		{"moderator bans self", mod, mod, "spam", "FORBIDDEN", ""},
		{"moderator bans moderator", mod, mod2, "spam", "FORBIDDEN", ""},
		{"moderator bans admin", mod, root, "spam", "FORBIDDEN", ""},
		{"admin bans admin", root, root2, "spam", "FORBIDDEN", ""},
		{"admin bans self", root, root, "spam", "FORBIDDEN", ""},
		{"blank reason", mod, u1, " \n ", "BAD_USER_INPUT", "reason"},
		{"reason over 1000", mod, u1, strings.Repeat("r", 1001), "BAD_USER_INPUT", "reason"},
		{"anonymous", nil, u1, "spam", "UNAUTHENTICATED", ""},
		{"admin bans moderator", root, mod2, "abuse", "", ""},
		{"moderator bans user", mod, u1, "spam", "", ""},
		{"moderator bans the banned user again", mod, u1, "spam", "", ""},
		{"the banned moderator bans", mod2, u1, "spam", "UNAUTHENTICATED", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			token := ""
			if c.actor != nil {
				token = c.actor.Access
			}
			if c.actor == mod2 {
				e.waitRevoked(t, mod2.Access)
				wantError(t, e.gql(token, banMutation, map[string]any{"id": c.target.ID, "reason": c.reason}), http.StatusUnauthorized, c.code, "")
				return
			}
			r := e.gql(token, banMutation, map[string]any{"id": c.target.ID, "reason": c.reason})
			if c.code == "" {
				ok(t, r)
				return
			}
			wantError(t, r, http.StatusOK, c.code, c.field)
		})
	}
	unknown := gid.Encode(gid.User, uuid.Must(uuid.NewV7()))
	wantError(t, e.gql(mod.Access, banMutation, map[string]any{"id": unknown, "reason": "spam"}), http.StatusOK, "NOT_FOUND", "")
}

// waitRevoked waits until the access token is refused: a ban revokes the
// sessions through the user.banned event.
func (e *env) waitRevoked(t *testing.T, access string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for e.gql(access, `{ viewer { id } }`, nil).Status != http.StatusUnauthorized {
		if time.Now().After(deadline) {
			t.Fatal("the banned user's access token still works after 5s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// A ban ends everything the user holds: access and refresh tokens of every
// session, an open websocket, and new logins (FORBIDDEN once the password
// verified, UNAUTHENTICATED before).
func TestBannedUserLosesEverything(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	mod, u := e.register("wmod"), e.register("wuser")
	e.grant(mod, user.RoleModerator)
	second := ok(t, e.login(u.Username, u.Password))
	c := e.dialWS(t, "")
	_ = c.WriteJSON(wsMsg{Type: "connection_init", Payload: json.RawMessage(`{"authorization":"Bearer ` + u.Access + `"}`)})
	if m := read(t, c); m.Type != "connection_ack" {
		t.Fatalf("got %+v, want connection_ack", m)
	}

	ok(t, e.gql(mod.Access, banMutation, map[string]any{"id": u.ID, "reason": "spam"}))
	e.waitRevoked(t, u.Access)
	wantError(t, e.gql(second.str("login.accessToken"), `{ viewer { id } }`, nil), http.StatusUnauthorized, "UNAUTHENTICATED", "")
	for _, rt := range []string{u.Refresh, second.str("login.refreshToken")} {
		wantError(t, e.gql("", refreshMutation, map[string]any{"t": rt}), http.StatusOK, "UNAUTHENTICATED", "")
	}
	if code := closeCode(t, c, 5*time.Second); code != 4403 {
		t.Fatalf("banned user's websocket closed with %d, want 4403", code)
	}
	l := e.login(strings.ToUpper(u.Email), u.Password)
	wantError(t, l, http.StatusOK, "FORBIDDEN", "")
	if l.Errors[0].Message != "account suspended" {
		t.Fatalf("message %q", l.Errors[0].Message)
	}
	wantError(t, e.login(u.Username, "not the password"), http.StatusOK, "UNAUTHENTICATED", "")
	// The profile still reads, marked by nothing a client must know.
	ok(t, e.gql("", `query($id: ID!) { user(id: $id) { id } }`, map[string]any{"id": u.ID}))
}

// Sessions list only the viewer's own; another user's session id is
// nothing to anyone else.
func TestSessionsAreOwnOnly(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a, b := e.register("sa"), e.register("sb")
	ok(t, e.login(a.Username, a.Password))
	list := func(x *account) []string {
		r := ok(t, e.gql(x.Access, `{ sessions { id current } }`, nil))
		var ids []string
		for _, it := range r.get("sessions").([]any) {
			ids = append(ids, it.(map[string]any)["id"].(string))
		}
		return ids
	}
	as, bs := list(a), list(b)
	if len(as) != 2 || len(bs) != 1 || slices.Contains(as, bs[0]) {
		t.Fatalf("sessions of a %v, of b %v", as, bs)
	}
	for _, id := range as {
		r := ok(t, e.gql(b.Access, `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": id}))
		if r.get("node") != nil {
			t.Fatalf("node(another user's session) = %s, want null", r.Raw)
		}
	}
}

// logoutAll ends every session, the calling one included; changePassword
// keeps only the calling one; reuse of a rotated refresh token ends the
// session it descends from and no other.
func TestSessionRevocationMatrix(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.register("rev")
	b := ok(t, e.login(a.Username, a.Password))
	c := ok(t, e.login(a.Username, a.Password))

	// Rotate b twice, then present its first refresh token again.
	r1 := ok(t, e.gql("", refreshMutation, map[string]any{"t": b.str("login.refreshToken")}))
	r2 := ok(t, e.gql("", refreshMutation, map[string]any{"t": r1.str("refreshToken.refreshToken")}))
	wantError(t, e.gql("", refreshMutation, map[string]any{"t": b.str("login.refreshToken")}), http.StatusOK, "UNAUTHENTICATED", "")
	for _, tok := range []string{b.str("login.accessToken"), r1.str("refreshToken.accessToken"), r2.str("refreshToken.accessToken")} {
		wantError(t, e.gql(tok, `{ viewer { id } }`, nil), http.StatusUnauthorized, "UNAUTHENTICATED", "")
	}
	wantError(t, e.gql("", refreshMutation, map[string]any{"t": r2.str("refreshToken.refreshToken")}), http.StatusOK, "UNAUTHENTICATED", "")
	// The other sessions live on.
	ok(t, e.gql(a.Access, `{ viewer { id } }`, nil))
	ok(t, e.gql(c.str("login.accessToken"), `{ viewer { id } }`, nil))

	// changePassword from a: c ends (access and refresh), a lives.
	const change = `mutation($in: ChangePasswordInput!) { changePassword(input: $in) }`
	ok(t, e.gql(a.Access, change, map[string]any{"in": map[string]any{"currentPassword": a.Password, "newPassword": "a whole new secret"}}))
	wantError(t, e.gql(c.str("login.accessToken"), `{ viewer { id } }`, nil), http.StatusUnauthorized, "UNAUTHENTICATED", "")
	wantError(t, e.gql("", refreshMutation, map[string]any{"t": c.str("login.refreshToken")}), http.StatusOK, "UNAUTHENTICATED", "")
	s := ok(t, e.gql(a.Access, `{ sessions { current } }`, nil))
	if list := s.get("sessions").([]any); len(list) != 1 || list[0].(map[string]any)["current"] != true {
		t.Fatalf("sessions after changePassword = %s", s.Raw)
	}
	ar := ok(t, e.gql("", refreshMutation, map[string]any{"t": a.Refresh}))

	// logoutAll: nothing is left, the caller's refresh token included.
	d := ok(t, e.login(a.Username, "a whole new secret"))
	ok(t, e.gql(d.str("login.accessToken"), `mutation { logoutAll }`, nil))
	for _, tok := range []string{ar.str("refreshToken.accessToken"), d.str("login.accessToken")} {
		wantError(t, e.gql(tok, `{ viewer { id } }`, nil), http.StatusUnauthorized, "UNAUTHENTICATED", "")
	}
	for _, rt := range []string{ar.str("refreshToken.refreshToken"), d.str("login.refreshToken")} {
		wantError(t, e.gql("", refreshMutation, map[string]any{"t": rt}), http.StatusOK, "UNAUTHENTICATED", "")
	}
}

// Over a limit: RATE_LIMITED with a whole number of seconds to wait, and a
// wrong current password in changePassword counts as a failed login.
func TestRateLimitMatrix(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(o *envOptions) {
		o.identity.LoginFailuresPerAccount = 2
		o.identity.LoginFailureWindow = time.Minute
	})
	a := e.register("lim")
	const change = `mutation($in: ChangePasswordInput!) { changePassword(input: $in) }`
	for range 2 {
		wantError(t, e.gql(a.Access, change, map[string]any{"in": map[string]any{"currentPassword": "not it at all", "newPassword": "another secret!"}}),
			http.StatusOK, "BAD_USER_INPUT", "currentPassword")
	}
	for _, r := range []*response{
		e.login(a.Username, a.Password),
		e.login(strings.ToUpper(a.Email), a.Password),
		e.gql(a.Access, change, map[string]any{"in": map[string]any{"currentPassword": a.Password, "newPassword": "another secret!"}}),
	} {
		wantError(t, r, http.StatusOK, "RATE_LIMITED", "")
		s, isNum := r.Errors[0].Extensions["retryAfterSeconds"].(float64)
		if !isNum || s != float64(int(s)) || s < 1 || s > 120 {
			t.Fatalf("retryAfterSeconds = %v, want whole seconds within two windows", r.Errors[0].Extensions["retryAfterSeconds"])
		}
	}
	// Unknown logins are limited alike.
	for range 2 {
		wantError(t, e.login("ghost_user", "whatever pw"), http.StatusOK, "UNAUTHENTICATED", "")
	}
	wantError(t, e.login("ghost_user", "whatever pw"), http.StatusOK, "RATE_LIMITED", "")
}

// An email is one address however its accents are encoded: é precomposed
// (NFC) and e with a combining acute (NFD) look alike and are one key, for
// uniqueness and for login.
func TestEmailUniqueAcrossNormalization(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	const nfc, nfd = "jos\u00e9@example.com", "JOSE\u0301@example.com"
	r := ok(t, e.gql("", registerMutation, map[string]any{"in": e.registerInput(func(in map[string]any) { in["email"] = nfc })}))
	wantError(t, e.gql("", registerMutation, map[string]any{"in": e.registerInput(func(in map[string]any) { in["email"] = nfd })}),
		http.StatusOK, "CONFLICT", "email")
	l := ok(t, e.login(nfd, "correct horse battery matrix"))
	if l.str("login.userId") != r.str("register.userId") {
		t.Fatalf("login by the decomposed spelling = %s", l.Raw)
	}
}

// Usernames are ASCII: a spelling that only Unicode case mapping turns into
// one (the Kelvin sign K folds to k) names no account, for login and for
// look-ups alike.
func TestNonASCIIUsernameSpellingsMatchNothing(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.register("kelvin")
	lookalike := strings.Replace(a.Username, "k", "\u212A", 1)
	wantError(t, e.login(lookalike, a.Password), http.StatusOK, "UNAUTHENTICATED", "")
	r := ok(t, e.gql("", `query($u: String!) { user(username: $u) { id } }`, map[string]any{"u": lookalike}))
	if r.get("user") != nil {
		t.Fatalf("user(username: %q) = %s, want null", lookalike, r.Raw)
	}
	ok(t, e.login(strings.ToUpper(a.Username), a.Password))
}

// Every account operation that needs a user, called anonymously: a field
// error UNAUTHENTICATED with HTTP 200.
func TestAnonymousAccountOperations(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.register("anon")
	for _, q := range []string{
		`{ sessions { id } }`,
		`{ viewerSettings { isPrivate } }`,
		`mutation { logout }`,
		`mutation { logoutAll }`,
		`mutation { changePassword(input: {currentPassword: "whatever it is", newPassword: "another secret!"}) }`,
		`mutation { updateProfile(input: {bio: "x"}) { id } }`,
		`mutation { updateSettings(input: {isPrivate: true}) { isPrivate } }`,
		`mutation($id: ID!) { assignRole(userId: $id, role: ADMIN) { id } }`,
		`mutation($id: ID!) { banUser(userId: $id, reason: "spam") { id } }`,
		`mutation($id: ID!) { verifyUser(userId: $id) { id } }`,
	} {
		var vars map[string]any
		if strings.Contains(q, "$id") {
			vars = map[string]any{"id": a.ID}
		}
		r := e.gql("", q, vars)
		wantError(t, r, http.StatusOK, "UNAUTHENTICATED", "")
		if len(r.Errors) != 1 {
			t.Fatalf("%s: %s", q, r.Raw)
		}
	}
	// The anonymous viewer is null, not an error.
	if r := ok(t, e.gql("", `{ viewer { id } }`, nil)); r.get("viewer") != nil {
		t.Fatalf("anonymous viewer = %s", r.Raw)
	}
}

func TestChangePasswordMatrix(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.register("cpw")
	const change = `mutation($in: ChangePasswordInput!) { changePassword(input: $in) }`
	cases := []struct {
		name, current, next string
		field               string
	}{
		{"empty current", "", "a fine new secret", "currentPassword"},
		{"wrong current", "not my password", "a fine new secret", "currentPassword"},
		{"new too short", a.Password, "short", "newPassword"},
		{"new 7 code points", a.Password, "ééééééé", "newPassword"},
		{"new 129 code points", a.Password, strings.Repeat("ü", 129), "newPassword"},
		{"new common", a.Password, "qwertyuiop", "newPassword"},
	}
	for _, c := range cases {
		wantError(t, e.gql(a.Access, change, map[string]any{"in": map[string]any{"currentPassword": c.current, "newPassword": c.next}}),
			http.StatusOK, "BAD_USER_INPUT", c.field)
	}
	// Nothing changed: the old password still logs in.
	ok(t, e.login(a.Username, a.Password))
	// 128 code points, exactly as given: no trimming, no truncation.
	next := " " + strings.Repeat("ü", 126) + " "
	ok(t, e.gql(a.Access, change, map[string]any{"in": map[string]any{"currentPassword": a.Password, "newPassword": next}}))
	wantError(t, e.login(a.Username, strings.TrimSpace(next)), http.StatusOK, "UNAUTHENTICATED", "")
	ok(t, e.login(a.Username, next))
}

// Ids of another type, or not ids at all, are BAD_USER_INPUT on the argument.
func TestAdministrativeIDArguments(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	root := e.register("idroot")
	e.grant(root, user.RoleAdmin)
	session := ok(t, e.gql(root.Access, `{ sessions { id } }`, nil)).get("sessions").([]any)[0].(map[string]any)["id"].(string)
	for _, id := range []string{session, gid.Encode(gid.Media, uuid.Must(uuid.NewV7())), "", "VXNlcjp4"} {
		for _, q := range []string{assignRoleMutation, banMutation, `mutation($id: ID!) { verifyUser(userId: $id) { id } }`} {
			wantError(t, e.gql(root.Access, q, map[string]any{"id": id, "role": "USER", "reason": "spam"}), http.StatusOK, "BAD_USER_INPUT", "userId")
		}
	}
}
