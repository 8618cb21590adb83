package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/nova-social/nova/internal/platform/pgtest"
)

func runNova(t *testing.T, vars map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	env := &environment{getenv: func(k string) string { return vars[k] }, stdout: &out, stderr: &errOut}
	code := run(context.Background(), args, env)
	return code, out.String(), errOut.String()
}

func TestConfigurationErrorsExit2NamingTheVariable(t *testing.T) {
	t.Parallel()
	cases := []struct {
		vars map[string]string
		args []string
		want string
	}{
		{map[string]string{}, []string{"serve"}, "NOVA_DATABASE_URL"},
		{map[string]string{"NOVA_DATABASE_URL": "postgres://x@localhost/x", "NOVA_HTTP_ADDR": "nonsense"}, []string{"serve"}, "NOVA_HTTP_ADDR"},
		{map[string]string{"NOVA_DATABASE_URL": "postgres://x@localhost/x"}, []string{"serve"}, "NOVA_JWT_PRIVATE_KEY_FILE"},
		{map[string]string{"NOVA_DATABASE_URL": "postgres://x@localhost/x"}, []string{"serve", "--env", "qa"}, "NOVA_ENV"},
		{map[string]string{}, []string{"migrate", "status"}, "NOVA_DATABASE_URL"},
		{map[string]string{}, []string{"migrate", "sideways"}, "unknown subcommand"},
		{map[string]string{}, []string{"frobnicate"}, "unknown command"},
	}
	for _, tc := range cases {
		code, _, stderr := runNova(t, tc.vars, tc.args...)
		if code != exitUsage || !strings.Contains(stderr, tc.want) {
			t.Errorf("nova %v: exit %d, stderr %q; want exit 2 naming %s", tc.args, code, stderr, tc.want)
		}
	}
}

func TestHelpOnEveryCommand(t *testing.T) {
	t.Parallel()
	for name := range commands {
		code, stdout, stderr := runNova(t, map[string]string{}, name, "--help")
		if code != 0 || stdout+stderr == "" {
			t.Errorf("nova %s --help: exit %d, no usage printed", name, code)
		}
	}
}

func TestMigrateStatusUpDown(t *testing.T) {
	t.Parallel()
	db := pgtest.Empty(t)
	vars := map[string]string{"NOVA_DATABASE_URL": db.URL}

	code, out, stderr := runNova(t, vars, "migrate", "status")
	if code != 0 || !strings.Contains(out, "pending") {
		t.Fatalf("status on an empty database: exit %d\n%s%s", code, out, stderr)
	}
	code, out, stderr = runNova(t, vars, "migrate", "up")
	if code != 0 || strings.Contains(out, "pending") || !strings.Contains(out, "content") {
		t.Fatalf("up: exit %d\n%s%s", code, out, stderr)
	}
	code, out, _ = runNova(t, vars, "migrate", "down", "--domain", "search")
	if code != 0 || !strings.Contains(out, "1 pending") {
		t.Fatalf("down --domain search: exit %d\n%s", code, out)
	}
	if code, out, _ = runNova(t, vars, "migrate", "up"); code != 0 || strings.Contains(out, "pending") {
		t.Fatalf("up again: exit %d\n%s", code, out)
	}
}
