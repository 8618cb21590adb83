package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/nova-social/nova/internal/platform/pgtest"
	"github.com/nova-social/nova/internal/platform/testkit"
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
		{map[string]string{}, []string{"migrate", "down", "--domain="}, "--domain must name a domain"},
		{map[string]string{}, []string{"migrate", "down", "--domain", "users"}, "--domain must name a domain"},
		{map[string]string{}, []string{"migrate", "down", "-domain=users"}, "--domain must name a domain"},
		{map[string]string{}, []string{"migrate", "down", "--domain"}, "--domain needs a value"},
		{map[string]string{}, []string{"version", "--bogus"}, "bogus"},
	}
	for _, tc := range cases {
		code, _, stderr := runNova(t, tc.vars, tc.args...)
		if code != exitUsage || !strings.Contains(stderr, tc.want) {
			t.Errorf("nova %v: exit %d, stderr %q; want exit 2 naming %s", tc.args, code, stderr, tc.want)
		}
	}
}

// A per-domain connection string whose name is no domain's stops every
// command that reads the configuration with exit 2, naming it and not
// quoting it, before anything connects.
func TestUnknownPerDomainURLExits2(t *testing.T) {
	t.Parallel()
	vars := map[string]string{"NOVA_DATABASE_URL": "postgres://nova:s3cret@localhost/nova", "NOVA_DATABASE_URL_USERS": "postgres://nova_user:s3cret@localhost/nova"}
	environ := func() []string {
		var kv []string
		for k, v := range vars {
			kv = append(kv, k+"="+v)
		}
		return kv
	}
	for _, args := range [][]string{{"serve"}, {"migrate", "status"}, {"events", "stats"}} {
		var out, errOut bytes.Buffer
		env := &environment{getenv: func(k string) string { return vars[k] }, environ: environ, stdout: &out, stderr: &errOut}
		code := run(context.Background(), args, env)
		if code != exitUsage || !strings.Contains(errOut.String(), "NOVA_DATABASE_URL_USERS: names no domain") || strings.Contains(errOut.String(), "s3cret") {
			t.Errorf("nova %v: exit %d, stderr %q; want exit 2 naming NOVA_DATABASE_URL_USERS", args, code, errOut.String())
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

// A subcommand's help shows its own flags, not only the configuration's.
func TestMigrateDownHelpNamesItsFlags(t *testing.T) {
	t.Parallel()
	code, stdout, stderr := runNova(t, map[string]string{}, "migrate", "down", "--help")
	if code != 0 || !strings.Contains(stdout+stderr, "--domain") || !strings.Contains(stdout+stderr, "-database-url") {
		t.Errorf("nova migrate down --help: exit %d, output %q; want --domain and the configuration flags", code, stdout+stderr)
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

// freeAddr returns a loopback address no one listens on just now.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func TestServeOpensTheProfileListenerWhenAsked(t *testing.T) {
	t.Parallel()
	db := pgtest.Empty(t)
	api, debug := freeAddr(t), freeAddr(t)
	vars := map[string]string{
		"NOVA_ENV": "dev", "NOVA_DATABASE_URL": db.URL, "NOVA_DATA_DIR": t.TempDir(),
		"NOVA_HTTP_ADDR": api, "NOVA_DEBUG_ADDR": debug, "NOVA_LOG_LEVEL": "warn",
	}
	var stderr testkit.SyncBuffer
	env := &environment{getenv: func(k string) string { return vars[k] }, stdout: io.Discard, stderr: &stderr}
	ctx, cancel := context.WithCancel(context.Background())
	exited := make(chan int, 1)
	go func() { exited <- run(ctx, []string{"serve"}, env) }()

	get := func(url string) (int, error) {
		resp, err := http.Get(url)
		if err != nil {
			return 0, err
		}
		resp.Body.Close()
		return resp.StatusCode, nil
	}
	t.Cleanup(func() {
		cancel()
		if t.Failed() {
			t.Logf("nova serve's log:\n%s", stderr.String())
		}
	})
	testkit.Eventually(t, "nova serve answers /readyz", func() bool {
		code, err := get("http://" + api + "/readyz")
		return err == nil && code == http.StatusOK
	})
	if code, err := get("http://" + debug + "/debug/pprof/"); err != nil || code != http.StatusOK {
		t.Errorf("profile listener: %d, %v", code, err)
	}
	if code, err := get("http://" + api + "/debug/pprof/"); err != nil || code != http.StatusNotFound {
		t.Errorf("API listener serves profiles: %d, %v", code, err)
	}
	cancel()
	if code := <-exited; code != 0 {
		t.Fatalf("nova serve exited %d:\n%s", code, stderr.String())
	}
	if _, err := get("http://" + debug + "/debug/pprof/"); err == nil {
		t.Error("profile listener still open after nova serve returned")
	}
}

// Settings that only fail once used (a connection string pgx cannot parse, a
// port no listener takes) stop every command at once with exit 2, naming the
// variable, before anything connects or migrates, and never print the password.
func TestUnusableSettingsExit2BeforeConnecting(t *testing.T) {
	t.Parallel()
	cases := []struct {
		vars map[string]string
		args []string
		want string
	}{
		{map[string]string{"NOVA_DATABASE_URL": "postgres://nova:s3cret@localhost:99999/nova"}, []string{"migrate", "status"},
			"nova migrate: configuration: NOVA_DATABASE_URL (flag --database-url): is not a valid connection string: invalid port\n"},
		{map[string]string{"NOVA_DATABASE_URL": "postgres://nova:s3cret@localhost/nova?connect_timeout=soon"}, []string{"events", "stats"},
			"nova events: configuration: NOVA_DATABASE_URL (flag --database-url): is not a valid connection string: invalid connect_timeout (strconv.ParseInt: parsing \"soon\": invalid syntax)\n"},
		{map[string]string{"NOVA_DATABASE_URL": "postgres://nova:s3cret@localhost/nova", "NOVA_DATABASE_URL_USER": "postgres://nova_user:s3cret@localhost:0x1f/nova"}, []string{"admin", "grant-role", "--username", "root", "--role", "ADMIN"},
			"nova admin: configuration: NOVA_DATABASE_URL_USER: is not a valid connection string: invalid port \":0x1f\" after host\n"},
		{map[string]string{"NOVA_ENV": "dev", "NOVA_DATABASE_URL": "postgres://nova:s3cret@localhost/nova", "NOVA_HTTP_ADDR": ":99999"}, []string{"serve"},
			"nova serve: configuration: NOVA_HTTP_ADDR (flag --http-addr): must be host:port or :port with a port from 0 to 65535, got \":99999\"\n"},
		{map[string]string{"NOVA_DATABASE_URL": "postgres://nova:s3cret@localhost/nova"}, []string{"migrate", "status", "extra"},
			"nova migrate: command line: unexpected argument \"extra\"\n"},
	}
	for _, tc := range cases {
		code, _, stderr := runNova(t, tc.vars, tc.args...)
		if code != exitUsage || stderr != tc.want || strings.Contains(stderr, "s3cret") {
			t.Errorf("nova %v: exit %d, stderr %q; want exit 2 and %q", tc.args, code, stderr, tc.want)
		}
	}
}

// Bare `nova` is a usage error: its usage goes to stderr with exit 2, so a
// script capturing stdout gets nothing; `nova help` prints it on stdout.
func TestUsageGoesToStderrOnError(t *testing.T) {
	t.Parallel()
	code, stdout, stderr := runNova(t, map[string]string{})
	if code != exitUsage || stdout != "" || !strings.HasPrefix(stderr, "Usage: nova <command>") {
		t.Errorf("nova: exit %d, stdout %q, stderr %q; want exit 2 with the usage on stderr", code, stdout, stderr)
	}
	code, stdout, stderr = runNova(t, map[string]string{}, "help")
	if code != 0 || stderr != "" || !strings.HasPrefix(stdout, "Usage: nova <command>") {
		t.Errorf("nova help: exit %d, stdout %q, stderr %q; want exit 0 with the usage on stdout", code, stdout, stderr)
	}
}
