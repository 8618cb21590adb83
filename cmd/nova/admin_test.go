package main

import (
	"context"
	"strings"
	"testing"

	"github.com/nova-social/nova/internal/platform/domains"
	"github.com/nova-social/nova/internal/platform/pgtest"
)

func TestAdminBadUsageExits2(t *testing.T) {
	t.Parallel()
	vars := map[string]string{"NOVA_DATABASE_URL": "postgres://x@localhost/x"}
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"admin"}, "missing subcommand"},
		{[]string{"admin", "promote"}, "unknown subcommand"},
		{[]string{"admin", "grant-role", "--role", "ADMIN"}, "--username is required"},
		{[]string{"admin", "grant-role", "--username", "root"}, "--role is required"},
		{[]string{"admin", "grant-role", "--username", "root", "--role", "GOD"}, "--role must be"},
		{[]string{"admin", "grant-role", "--username"}, "needs a value"},
		{[]string{"admin", "create-user", "--username", "root", "--password", "long enough pw"}, "--email is required"},
	}
	for _, tc := range cases {
		code, _, stderr := runNova(t, vars, tc.args...)
		if code != exitUsage || !strings.Contains(stderr, tc.want) {
			t.Errorf("nova %v: exit %d, stderr %q; want exit 2 with %q", tc.args, code, stderr, tc.want)
		}
	}
}

func TestAdminCreateUserAndGrantRole(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	vars := map[string]string{"NOVA_DATABASE_URL": db.URL}

	code, out, stderr := runNova(t, vars, "admin", "create-user", "--email", "root@example.org", "--username", "Root_Admin",
		"--password=a long admin password", "--display-name", "The Root")
	if code != 0 || !strings.Contains(out, "Root_Admin\tUSER") {
		t.Fatalf("create-user: exit %d\n%s%s", code, out, stderr)
	}
	// The same again: the email is taken (exit 1, not a usage error).
	if code, _, stderr = runNova(t, vars, "admin", "create-user", "--email", "ROOT@example.org", "--username", "other", "--password", "a long admin password"); code != exitFailure || !strings.Contains(stderr, "email") {
		t.Fatalf("duplicate create-user: exit %d, %s", code, stderr)
	}
	// Invalid input is bad usage and names the flag.
	if code, _, stderr = runNova(t, vars, "admin", "create-user", "--email", "x@example.org", "--username", "x", "--password", "a long admin password"); code != exitUsage || !strings.Contains(stderr, "--username") {
		t.Fatalf("invalid username: exit %d, %s", code, stderr)
	}
	if code, _, stderr = runNova(t, vars, "admin", "create-user", "--email", "y@example.org", "--username", "yyy", "--password", "password"); code != exitUsage || !strings.Contains(stderr, "--password") {
		t.Fatalf("common password: exit %d, %s", code, stderr)
	}

	code, out, stderr = runNova(t, vars, "admin", "grant-role", "--username", "root_admin", "--role", "admin")
	if code != 0 || !strings.Contains(out, "Root_Admin\tADMIN") {
		t.Fatalf("grant-role: exit %d\n%s%s", code, out, stderr)
	}
	var role string
	err := db.Pools.For(domains.User).QueryRow(context.Background(),
		`SELECT r.role FROM users.user_roles r JOIN users.users u ON u.id = r.user_id WHERE u.username_key = 'root_admin'`).Scan(&role)
	if err != nil || role != "ADMIN" {
		t.Fatalf("role in the database: %q, %v", role, err)
	}
	if code, _, stderr = runNova(t, vars, "admin", "grant-role", "--username", "nobody", "--role", "ADMIN"); code != exitFailure || !strings.Contains(stderr, "not found") {
		t.Fatalf("grant-role to an unknown user: exit %d, %s", code, stderr)
	}
}

// A password with spaces left unquoted splits into arguments: the rest of it
// is refused without being printed, since stderr ends up in logs.
func TestAdminStrayArgumentIsNotPrinted(t *testing.T) {
	t.Parallel()
	vars := map[string]string{"NOVA_DATABASE_URL": "postgres://x@localhost/x"}
	code, stdout, stderr := runNova(t, vars, "admin", "create-user", "--email", "e@example.org", "--username", "someone",
		"--password", "correct", "horse", "battery", "--log-level", "warn")
	if code != exitUsage || !strings.Contains(stderr, "unexpected argument") || strings.Contains(stdout+stderr, "horse") {
		t.Errorf("exit %d, stdout %q, stderr %q; want exit 2 naming no part of the password", code, stdout, stderr)
	}
}
