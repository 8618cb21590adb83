package user_test

import (
	"context"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/nova-social/nova/internal/identity"
	"github.com/nova-social/nova/internal/platform/apperr"
	"github.com/nova-social/nova/internal/platform/domains"
	"github.com/nova-social/nova/internal/platform/testkit"
	"github.com/nova-social/nova/internal/user"
)

func TestRegistrationSagaCreatesProfile(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	in := registration()
	in.Username = "MixedCase_Name"
	start := time.Now()
	tok, err := e.ids.Register(ctx, in, client)
	testkit.Must(t, err)
	u := e.waitUser(t, tok.UserID)
	t.Logf("profile visible %v after register returned", time.Since(start))

	if u.ID != tok.UserID || u.Username != "MixedCase_Name" || u.DisplayName != in.DisplayName || u.Bio != "" ||
		u.Role != user.RoleUser || u.Verified || u.Banned || u.AvatarMediaID != nil || time.Since(u.CreatedAt) > time.Minute {
		t.Fatalf("user %+v", u)
	}
	st, err := e.users.Settings(ctx, u.ID)
	testkit.Must(t, err)
	if st != (user.Settings{IsPrivate: false, EmailNotifications: true, PushNotifications: true}) {
		t.Fatalf("default settings %+v", st)
	}
	for _, name := range []string{"mixedcase_name", "MIXEDCASE_NAME", "MixedCase_Name"} {
		got, err := e.users.ByUsername(ctx, name)
		testkit.Must(t, err)
		if got.ID != u.ID || got.Username != "MixedCase_Name" {
			t.Fatalf("ByUsername(%q) = %+v", name, got)
		}
	}
	_, err = e.users.ByUsername(ctx, "nobody_here")
	testkit.WantCode(t, err, apperr.NotFound)
	_, err = e.users.Get(ctx, uuid.New())
	testkit.WantCode(t, err, apperr.NotFound)

	// An empty display name at registration takes the username.
	in = registration()
	in.DisplayName = ""
	tok, err = e.ids.Register(ctx, in, client)
	testkit.Must(t, err)
	if u := e.waitUser(t, tok.UserID); u.DisplayName != in.Username {
		t.Fatalf("display name %q", u.DisplayName)
	}
}

func TestCreateUserIsSynchronousAndTheEventChangesNothing(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	in := registration()
	u, err := e.users.CreateUser(ctx, in)
	testkit.Must(t, err)
	if u.Username != in.Username || u.DisplayName != in.DisplayName || u.Role != user.RoleUser {
		t.Fatalf("CreateUser = %+v", u)
	}
	// The profile is edited before the registration event is handled; the
	// handler must not overwrite it.
	bio := "set before the event"
	_, err = e.users.UpdateProfile(ctx, u.ID, user.ProfileUpdate{Bio: &bio})
	testkit.Must(t, err)
	deadline := time.Now().Add(10 * time.Second)
	for {
		var n int
		testkit.Must(t, e.db.Pools.Login().QueryRow(ctx, `SELECT count(*) FROM users.event_inbox WHERE consumer = 'user.accounts'`).Scan(&n))
		if n == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("registration event never handled")
		}
		time.Sleep(10 * time.Millisecond)
	}
	got, err := e.users.Get(ctx, u.ID)
	testkit.Must(t, err)
	if got.Bio != bio {
		t.Fatalf("bio %q after the event", got.Bio)
	}
	// The account logs in: CreateUser made real credentials.
	if _, err := e.ids.Login(ctx, identity.LoginInput{Login: in.Username, Password: in.Password}, client); err != nil {
		t.Fatal(err)
	}
	_, err = e.users.CreateUser(ctx, in)
	testkit.WantCode(t, err, apperr.Conflict, "email")
}

func TestGetMany(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	_, _, a := e.register(t)
	_, _, b := e.register(t)
	missing := uuid.New()
	got, err := e.users.GetMany(ctx, []uuid.UUID{a.ID, b.ID, missing, a.ID})
	testkit.Must(t, err)
	if len(got) != 2 || got[a.ID].Username != a.Username || got[b.ID].Username != b.Username {
		t.Fatalf("GetMany = %+v", got)
	}
	empty, err := e.users.GetMany(ctx, nil)
	testkit.Must(t, err)
	if len(empty) != 0 {
		t.Fatal("GetMany(nil) not empty")
	}
	private := true
	_, err = e.users.UpdateSettings(ctx, b.ID, user.SettingsUpdate{IsPrivate: &private})
	testkit.Must(t, err)
	sm, err := e.users.SettingsMany(ctx, []uuid.UUID{a.ID, b.ID, missing})
	testkit.Must(t, err)
	if len(sm) != 2 || sm[a.ID].IsPrivate || !sm[b.ID].IsPrivate {
		t.Fatalf("SettingsMany = %+v", sm)
	}
}

func TestByUsernames(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	_, _, a := e.register(t)
	_, _, b := e.register(t)
	upper := strings.ToUpper(a.Username)
	got, err := e.users.ByUsernames(ctx, []string{upper, b.Username, "nobody_here", a.Username})
	testkit.Must(t, err)
	if len(got) != 3 || got[upper].ID != a.ID || got[a.Username].ID != a.ID || got[b.Username].ID != b.ID {
		t.Fatalf("ByUsernames = %+v", got)
	}
	empty, err := e.users.ByUsernames(ctx, nil)
	testkit.Must(t, err)
	if len(empty) != 0 {
		t.Fatal("ByUsernames(nil) not empty")
	}
}

func ptr[T any](v T) *T { return &v }

func TestUpdateProfile(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	_, _, u := e.register(t)

	// Any Unicode is stored exactly as given.
	name := "Zoë 🚀 \u05e9\u05dc\u05d5\u05dd e\u0301"
	bio := "Line one\nLine two\twith tab — 日本語 " + strings.Repeat("x", 400)
	got, err := e.users.UpdateProfile(ctx, u.ID, user.ProfileUpdate{DisplayName: &name, Bio: &bio})
	testkit.Must(t, err)
	if got.DisplayName != name || got.Bio != bio {
		t.Fatalf("profile %+v", got)
	}
	// Omitted fields keep their value.
	avatar := uuid.Must(uuid.NewV7())
	got, err = e.users.UpdateProfile(ctx, u.ID, user.ProfileUpdate{AvatarMediaID: &avatar})
	testkit.Must(t, err)
	if got.DisplayName != name || got.Bio != bio || got.AvatarMediaID == nil || *got.AvatarMediaID != avatar {
		t.Fatalf("after avatar update %+v", got)
	}
	got, err = e.users.UpdateProfile(ctx, u.ID, user.ProfileUpdate{Bio: ptr("")})
	testkit.Must(t, err)
	if got.Bio != "" || got.DisplayName != name {
		t.Fatalf("after clearing bio %+v", got)
	}
	// Limits: 64 and 500 code points, inclusive.
	_, err = e.users.UpdateProfile(ctx, u.ID, user.ProfileUpdate{DisplayName: ptr(strings.Repeat("é", 64)), Bio: ptr(strings.Repeat("🙂", 500))})
	testkit.Must(t, err)

	bad := []struct {
		in    user.ProfileUpdate
		field string
	}{
		{user.ProfileUpdate{DisplayName: ptr(strings.Repeat("é", 65))}, "displayName"},
		{user.ProfileUpdate{DisplayName: ptr("")}, "displayName"},
		{user.ProfileUpdate{DisplayName: ptr("  \t")}, "displayName"},
		{user.ProfileUpdate{DisplayName: ptr("two\nlines")}, "displayName"},
		{user.ProfileUpdate{DisplayName: ptr("bad \xff utf8")}, "displayName"},
		{user.ProfileUpdate{Bio: ptr(strings.Repeat("a", 501))}, "bio"},
		{user.ProfileUpdate{Bio: ptr("nul \x00 byte")}, "bio"},
		{user.ProfileUpdate{Bio: ptr("bell \a")}, "bio"},
	}
	for _, c := range bad {
		_, err := e.users.UpdateProfile(ctx, u.ID, c.in)
		testkit.WantCode(t, err, apperr.BadInput, c.field)
	}
	after, err := e.users.Get(ctx, u.ID)
	testkit.Must(t, err)
	if after.DisplayName != strings.Repeat("é", 64) {
		t.Fatalf("a refused update changed the profile: %+v", after)
	}

	_, err = e.users.UpdateProfile(ctx, uuid.Nil, user.ProfileUpdate{Bio: ptr("x")})
	testkit.WantCode(t, err, apperr.Unauthenticated)
	_, err = e.users.UpdateProfile(ctx, uuid.New(), user.ProfileUpdate{Bio: ptr("x")})
	testkit.WantCode(t, err, apperr.NotFound)
	if n := count(e.db.Topics(t, "userId", u.ID.String()), "user.profile.updated"); n != 4 {
		t.Fatalf("%d user.profile.updated events, want 4", n)
	}
}

func count(s []string, v string) int {
	n := 0
	for _, x := range s {
		if x == v {
			n++
		}
	}
	return n
}

func TestUpdateSettings(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	_, _, u := e.register(t)
	st, err := e.users.UpdateSettings(ctx, u.ID, user.SettingsUpdate{IsPrivate: ptr(true), PushNotifications: ptr(false)})
	testkit.Must(t, err)
	if st != (user.Settings{IsPrivate: true, EmailNotifications: true, PushNotifications: false}) {
		t.Fatalf("settings %+v", st)
	}
	st, err = e.users.UpdateSettings(ctx, u.ID, user.SettingsUpdate{EmailNotifications: ptr(false)})
	testkit.Must(t, err)
	if st != (user.Settings{IsPrivate: true, EmailNotifications: false, PushNotifications: false}) {
		t.Fatalf("settings %+v", st)
	}
	st, err = e.users.UpdateSettings(ctx, u.ID, user.SettingsUpdate{})
	testkit.Must(t, err)
	if got, _ := e.users.Settings(ctx, u.ID); got != st {
		t.Fatalf("Settings %+v, UpdateSettings %+v", got, st)
	}
	_, err = e.users.UpdateSettings(ctx, uuid.Nil, user.SettingsUpdate{IsPrivate: ptr(true)})
	testkit.WantCode(t, err, apperr.Unauthenticated)
	_, err = e.users.UpdateSettings(ctx, uuid.New(), user.SettingsUpdate{IsPrivate: ptr(true)})
	testkit.WantCode(t, err, apperr.NotFound)
	_, err = e.users.Settings(ctx, uuid.New())
	testkit.WantCode(t, err, apperr.NotFound)
	if n := count(e.db.Topics(t, "userId", u.ID.String()), "user.settings.updated"); n != 2 {
		t.Fatalf("%d user.settings.updated events, want 2", n)
	}
}

func TestRoles(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	admin := e.withRole(t, user.RoleAdmin)
	mod := e.withRole(t, user.RoleModerator)
	_, _, plain := e.register(t)
	_, _, target := e.register(t)

	for _, actor := range []uuid.UUID{plain.ID, mod.ID} {
		_, err := e.users.AssignRole(ctx, actor, target.ID, user.RoleModerator)
		testkit.WantCode(t, err, apperr.Forbidden)
		_, err = e.users.Verify(ctx, actor, target.ID)
		testkit.WantCode(t, err, apperr.Forbidden)
	}
	_, err := e.users.AssignRole(ctx, uuid.Nil, target.ID, user.RoleModerator)
	testkit.WantCode(t, err, apperr.Unauthenticated)
	_, err = e.users.AssignRole(ctx, admin.ID, target.ID, user.Role("ROOT"))
	testkit.WantCode(t, err, apperr.BadInput, "role")
	_, err = e.users.AssignRole(ctx, admin.ID, uuid.New(), user.RoleModerator)
	testkit.WantCode(t, err, apperr.NotFound)

	got, err := e.users.AssignRole(ctx, admin.ID, target.ID, user.RoleModerator)
	testkit.Must(t, err)
	if got.Role != user.RoleModerator {
		t.Fatalf("role %s", got.Role)
	}
	_, err = e.users.AssignRole(ctx, admin.ID, target.ID, user.RoleModerator) // no change, no event
	testkit.Must(t, err)
	got, err = e.users.Verify(ctx, admin.ID, target.ID)
	testkit.Must(t, err)
	if !got.Verified {
		t.Fatal("not verified")
	}
	_, err = e.users.Verify(ctx, admin.ID, uuid.New())
	testkit.WantCode(t, err, apperr.NotFound)
	topics := e.db.Topics(t, "userId", target.ID.String())
	if count(topics, "user.role.changed") != 1 || count(topics, "user.verified") != 1 {
		t.Fatalf("events %v", topics)
	}

	// Permissions follow the role.
	for _, c := range []struct {
		who  uuid.UUID
		perm user.Permission
		want bool
	}{
		{admin.ID, user.PermAssignRole, true}, {admin.ID, user.PermModerateContent, true},
		{mod.ID, user.PermBan, true}, {mod.ID, user.PermModerateContent, true}, {mod.ID, user.PermVerify, false},
		{plain.ID, user.PermBan, false}, {plain.ID, user.PermModerateContent, false}, {uuid.Nil, user.PermBan, false},
	} {
		if got, err := e.users.Can(ctx, c.who, c.perm); err != nil || got != c.want {
			t.Fatalf("Can(%v, %s) = %v, %v", c.who, c.perm, got, err)
		}
	}
	_, err = e.users.GrantRole(ctx, "no_such_user", user.RoleAdmin)
	testkit.WantCode(t, err, apperr.NotFound)
}

// Two admins demoting each other at once: in any order the second would be
// refused, so one of them must stay an admin.
func TestAdminsDemotingEachOtherLeaveOneAdmin(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for range 10 {
		raceTwoAdmins(t, e, user.RoleUser, func(a, b uuid.UUID) [2][2]uuid.UUID { return [2][2]uuid.UUID{{a, b}, {b, a}} })
	}
}

// Two admins, the only ones, stepping down at the same moment: one is
// refused and stays ADMIN. The operator may still retire the last one.
func TestLastAdminCannotStepDown(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for range 10 {
		last := raceTwoAdmins(t, e, user.RoleModerator, func(a, b uuid.UUID) [2][2]uuid.UUID { return [2][2]uuid.UUID{{a, a}, {b, b}} })
		if _, err := e.users.GrantRole(context.Background(), last.Username, user.RoleUser); err != nil {
			t.Fatalf("the operator retires the last admin: %v", err)
		}
	}
}

// raceTwoAdmins makes two new admins a and b, runs the two role changes
// (actor, target) that changes names at once, each to role to, and requires
// exactly one refused as FORBIDDEN and exactly one of a and b still ADMIN,
// which it returns.
func raceTwoAdmins(t *testing.T, e *env, to user.Role, changes func(a, b uuid.UUID) [2][2]uuid.UUID) user.User {
	t.Helper()
	ctx := context.Background()
	a, b := e.withRole(t, user.RoleAdmin), e.withRole(t, user.RoleAdmin)
	errs := make(chan error, 2)
	start := make(chan struct{})
	for _, change := range changes(a.ID, b.ID) {
		go func() {
			<-start
			_, err := e.users.AssignRole(ctx, change[0], change[1], to)
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
	if ua.Role == user.RoleAdmin {
		return ua
	}
	return ub
}

func TestBanFlow(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	admin := e.withRole(t, user.RoleAdmin)
	mod := e.withRole(t, user.RoleModerator)
	otherMod := e.withRole(t, user.RoleModerator)
	_, _, plain := e.register(t)
	in, tok, victim := e.register(t)
	second, err := e.ids.Login(ctx, identity.LoginInput{Login: in.Email, Password: in.Password}, client)
	testkit.Must(t, err)

	_, err = e.users.Ban(ctx, plain.ID, victim.ID, "spam")
	testkit.WantCode(t, err, apperr.Forbidden)
	_, err = e.users.Ban(ctx, mod.ID, admin.ID, "coup")
	testkit.WantCode(t, err, apperr.Forbidden)
	_, err = e.users.Ban(ctx, mod.ID, otherMod.ID, "rivalry")
	testkit.WantCode(t, err, apperr.Forbidden)
	_, err = e.users.Ban(ctx, mod.ID, mod.ID, "oops")
	testkit.WantCode(t, err, apperr.Forbidden)
	_, err = e.users.Ban(ctx, mod.ID, victim.ID, "  ")
	testkit.WantCode(t, err, apperr.BadInput, "reason")
	_, err = e.users.Ban(ctx, mod.ID, victim.ID, strings.Repeat("r", 1001))
	testkit.WantCode(t, err, apperr.BadInput, "reason")
	_, err = e.users.Ban(ctx, mod.ID, uuid.New(), "ghost")
	testkit.WantCode(t, err, apperr.NotFound)

	got, err := e.users.Ban(ctx, mod.ID, victim.ID, "spam")
	testkit.Must(t, err)
	if !got.Banned {
		t.Fatal("not banned")
	}
	// identity learns it from user.banned: every session dies, logins are refused.
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err1 := e.ids.Authenticate(ctx, tok.AccessToken)
		_, err2 := e.ids.Authenticate(ctx, second.AccessToken)
		if apperr.Is(err1, apperr.Unauthenticated) && apperr.Is(err2, apperr.Unauthenticated) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("sessions still live after the ban")
		}
		time.Sleep(10 * time.Millisecond)
	}
	_, err = e.ids.Login(ctx, identity.LoginInput{Login: in.Username, Password: in.Password}, client)
	if ae := testkit.WantCode(t, err, apperr.Forbidden); !strings.Contains(ae.Message, "suspended") {
		t.Fatalf("message %q", ae.Message)
	}
	_, err = e.ids.Login(ctx, identity.LoginInput{Login: in.Username, Password: "not the password"}, client)
	testkit.WantCode(t, err, apperr.Unauthenticated)

	// Banning again changes nothing and publishes nothing.
	_, err = e.users.Ban(ctx, admin.ID, victim.ID, "again")
	testkit.Must(t, err)
	if n := count(e.db.Topics(t, "userId", victim.ID.String()), "user.banned"); n != 1 {
		t.Fatalf("%d user.banned events", n)
	}
	// A banned moderator loses its powers.
	_, err = e.users.Ban(ctx, admin.ID, mod.ID, "abuse of power")
	testkit.Must(t, err)
	_, err = e.users.Ban(ctx, mod.ID, plain.ID, "spam")
	testkit.WantCode(t, err, apperr.Forbidden)
	if !slices.Contains(e.db.Topics(t, "userId", victim.ID.String()), "identity.session.revoked") {
		t.Fatal("no identity.session.revoked for the banned user")
	}
}

// A verification whose actor is demoted while it is in flight is refused,
// as a ban or role change would be: the permission is checked again under
// the role locks the demotion holds.
func TestVerifyIsRecheckedUnderTheRoleLocks(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	admin := e.withRole(t, user.RoleAdmin)
	_, _, target := e.register(t)
	pool := e.db.Pools.For(domains.User)

	demotion, err := pool.Begin(ctx)
	testkit.Must(t, err)
	defer demotion.Rollback(ctx)
	_, err = demotion.Exec(ctx, `UPDATE users.user_roles SET role = 'USER' WHERE user_id = $1`, admin.ID)
	testkit.Must(t, err)

	done := make(chan error, 1)
	go func() {
		_, err := e.users.Verify(ctx, admin.ID, target.ID)
		done <- err
	}()
	// The verification passes its first check (the demotion is not
	// committed) and waits for the admin's role row.
	testkit.Eventually(t, "the verification waits for the role lock", func() bool {
		select {
		case err := <-done:
			t.Fatalf("verification finished while the demotion was in flight: %v", err)
		default:
		}
		var waiting int
		testkit.Must(t, pool.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND cardinality(pg_blocking_pids(pid)) > 0`).Scan(&waiting))
		return waiting > 0
	})
	testkit.Must(t, demotion.Commit(ctx))
	testkit.WantCode(t, <-done, apperr.Forbidden)
	u, err := e.users.Get(ctx, target.ID)
	testkit.Must(t, err)
	if u.Verified {
		t.Fatal("verified by a demoted admin")
	}
}

// A banned user's sessions end only once identity has handled user.banned;
// until then the user domain, which knows of the ban at once, refuses the
// banned account's profile changes, so a ban is not followed by a profile
// rewritten for all to read.
func TestBannedUserCannotChangeProfile(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	mod := e.withRole(t, user.RoleModerator)
	_, _, u := e.register(t)
	_, err := e.users.Ban(ctx, mod.ID, u.ID, "spam")
	testkit.Must(t, err)
	_, err = e.users.UpdateProfile(ctx, u.ID, user.ProfileUpdate{DisplayName: ptr("Rewritten"), Bio: ptr("after the ban")})
	testkit.WantCode(t, err, apperr.Forbidden)
	got, err := e.users.Get(ctx, u.ID)
	testkit.Must(t, err)
	if got.DisplayName != u.DisplayName || got.Bio != "" {
		t.Fatalf("profile changed after the ban: %+v", got)
	}
	if n := count(e.db.Topics(t, "userId", u.ID.String()), "user.profile.updated"); n != 0 {
		t.Fatalf("%d user.profile.updated events after the ban", n)
	}
}

// pauseCommit holds the next transaction of its pool that commits, once
// armed, just before the commit, until resume is closed.
type pauseCommit struct {
	armed          atomic.Bool
	paused, resume chan struct{}
}

func (p *pauseCommit) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	if strings.EqualFold(d.SQL, "commit") && p.armed.CompareAndSwap(true, false) {
		close(p.paused)
		<-p.resume
	}
	return ctx
}

func (*pauseCommit) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// A profile update that read the account as not banned, and commits after a
// ban did, would rewrite a banned profile: the ban must wait for the update,
// or the update be refused.
func TestBanRacingProfileUpdate(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	mod := e.withRole(t, user.RoleModerator)
	_, _, u := e.register(t)
	p := &pauseCommit{paused: make(chan struct{}), resume: make(chan struct{})}
	p.armed.Store(true)
	slow := user.New(e.db.Traced(t, p).For(domains.User), e.bus, e.ids, quietLog(), nil)

	updated := make(chan error, 1)
	go func() {
		_, err := slow.UpdateProfile(ctx, u.ID, user.ProfileUpdate{Bio: ptr("after the ban")})
		updated <- err
	}()
	select {
	case <-p.paused:
	case err := <-updated:
		t.Fatalf("the update finished without committing: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("the update never reached its commit")
	}
	banned := make(chan error, 1)
	go func() {
		_, err := e.users.Ban(ctx, mod.ID, u.ID, "spam")
		banned <- err
	}()
	banFirst := false
	pool := e.db.Pools.For(domains.User)
	testkit.Eventually(t, "the ban commits or waits", func() bool {
		select {
		case err := <-banned:
			testkit.Must(t, err)
			banFirst = true
			return true
		default:
		}
		var waiting int
		testkit.Must(t, pool.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND cardinality(pg_blocking_pids(pid)) > 0`).Scan(&waiting))
		return waiting > 0
	})
	close(p.resume)
	err := <-updated
	if !banFirst {
		testkit.Must(t, <-banned)
		testkit.Must(t, err)
		return
	}
	if err == nil {
		t.Fatal("a profile update committed after the ban")
	}
	testkit.WantCode(t, err, apperr.Forbidden)
	got, err := e.users.Get(ctx, u.ID)
	testkit.Must(t, err)
	if got.Bio != "" {
		t.Fatalf("profile changed after the ban: %+v", got)
	}
}

// A username holding NUL names no account; a look-up of one answers as for
// any unknown name, rather than failing on text Postgres cannot hold.
func TestUsernameNoAccountCanHave(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	_, _, a := e.register(t)
	_, err := e.users.ByUsername(ctx, a.Username+"\x00")
	testkit.WantCode(t, err, apperr.NotFound)
	got, err := e.users.ByUsernames(ctx, []string{"nul\x00name", a.Username})
	testkit.Must(t, err)
	if len(got) != 1 || got[a.Username].ID != a.ID {
		t.Fatalf("ByUsernames = %+v", got)
	}
	_, err = e.users.GrantRole(ctx, "root\x00", user.RoleAdmin)
	testkit.WantCode(t, err, apperr.NotFound)
}
