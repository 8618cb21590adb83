package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nova-social/nova/internal/platform/pgtest"
	"github.com/nova-social/nova/internal/platform/testkit"
)

// occupy listens on a loopback port until the test ends, as another process
// holding the address would.
func occupy(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln.Addr().String()
}

// An address already taken stops `nova serve` with status 1 before it
// connects: the empty database is still unmigrated and no signing key was
// written. Whatever listener start-up opened is closed again when a later
// step fails.
func TestServeFailsFastWhenItCannotListen(t *testing.T) {
	t.Parallel()
	taken := occupy(t)
	cases := []struct {
		name string
		vars map[string]string
		want string
	}{
		{"API address taken", map[string]string{"NOVA_HTTP_ADDR": taken},
			fmt.Sprintf("nova serve: listen on %s (NOVA_HTTP_ADDR): bind: address already in use\n", taken)},
		{"profile address taken", map[string]string{"NOVA_DEBUG_ADDR": taken},
			fmt.Sprintf("nova serve: listen on %s (NOVA_DEBUG_ADDR): bind: address already in use\n", taken)},
		{"migrations behind", map[string]string{"NOVA_AUTO_MIGRATE": "false"},
			"nova serve: migrations are behind ("},
	}
	for _, tc := range cases {
		db, api, dataDir := pgtest.Empty(t), freeAddr(t), t.TempDir()
		vars := map[string]string{
			"NOVA_ENV": "dev", "NOVA_DATABASE_URL": db.URL, "NOVA_DATA_DIR": dataDir,
			"NOVA_HTTP_ADDR": api, "NOVA_LOG_LEVEL": "error",
		}
		for k, v := range tc.vars {
			vars[k] = v
		}
		code, _, stderr := runNova(t, vars, "serve")
		if code != exitFailure || !strings.HasPrefix(stderr, tc.want) || strings.Count(stderr, "\n") != 1 {
			t.Errorf("%s: exit %d, stderr %q; want exit 1 and %q", tc.name, code, stderr, tc.want)
		}
		if files, err := os.ReadDir(dataDir); err != nil || len(files) != 0 {
			t.Errorf("%s: the data dir holds %v (%v), want nothing written", tc.name, files, err)
		}
		if ln, err := net.Listen("tcp", api); err != nil {
			t.Errorf("%s: the API address is still held after nova serve returned: %v", tc.name, err)
		} else {
			ln.Close()
		}
		_, out, _ := runNova(t, map[string]string{"NOVA_DATABASE_URL": db.URL}, "migrate", "status")
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if len(lines) < 2 {
			t.Fatalf("%s: migrate status printed %q", tc.name, out)
		}
		for _, l := range lines[1:] {
			if f := strings.Fields(l); len(f) < 2 || f[1] != "0" {
				t.Errorf("%s: a migration ran:\n%s", tc.name, out)
				break
			}
		}
	}
}

// A mistyped flag is reported once, with where to find the flags, instead
// of the flag package's message, the whole usage and the message again.
func TestUnknownFlagIsReportedOnce(t *testing.T) {
	t.Parallel()
	vars := map[string]string{"NOVA_DATABASE_URL": "postgres://nova@localhost/nova"}
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"serve", "--bogus"}, "nova serve: command line: flag provided but not defined: -bogus (`nova serve --help` lists the flags)\n"},
		{[]string{"migrate", "status", "--bogus"}, "nova migrate: command line: flag provided but not defined: -bogus (`nova migrate status --help` lists the flags)\n"},
		{[]string{"version", "--bogus"}, "nova version: flag provided but not defined: -bogus\n"},
	}
	for _, tc := range cases {
		code, stdout, stderr := runNova(t, vars, tc.args...)
		if code != exitUsage || stdout != "" || stderr != tc.want {
			t.Errorf("nova %v: exit %d, stdout %q, stderr %q; want exit 2 and %q", tc.args, code, stdout, stderr, tc.want)
		}
	}
}

// TestDrainDelayThenSecondSignal runs the real main in a child process:
// after SIGTERM, during the drain delay, /readyz answers 503 while other
// requests are still served on new connections; a second signal then exits
// at once with status 1 instead of waiting out the delay.
func TestDrainDelayThenSecondSignal(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	addr := freeAddr(t)
	cmd, stderr, exited := startNova(t, map[string]string{
		"NOVA_ENV": "dev", "NOVA_DATABASE_URL": db.URL, "NOVA_DATA_DIR": t.TempDir(), "NOVA_HTTP_ADDR": addr,
		"NOVA_LOG_LEVEL": "error", "NOVA_SHUTDOWN_DRAIN_DELAY": "1m", "NOVA_SHUTDOWN_TIMEOUT": "2m",
	}, "serve")
	// A new connection per request: the listener itself must still accept.
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	get := func(path string) (int, string) {
		resp, err := client.Get("http://" + addr + path)
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	testkit.Eventually(t, "nova serve is ready", func() bool { code, _ := get("/readyz"); return code == http.StatusOK })

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, "/readyz fails", func() bool { code, _ := get("/readyz"); return code != http.StatusOK })
	if code, body := get("/readyz"); code != http.StatusServiceUnavailable || body != `{"reason":"shutting down","status":"unavailable"}`+"\n" {
		t.Fatalf("/readyz during the drain delay: %d %q, want 503 shutting down", code, body)
	}
	if code, body := get("/healthz"); code != http.StatusOK {
		t.Fatalf("/healthz during the drain delay: %d %q, want it served", code, body)
	}

	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case code := <-exited:
		if code != exitFailure {
			t.Fatalf("after a second signal: exit %d, want 1", code)
		}
		// Before it, the request log's lines for the 503s.
		if got, want := stderr.String(), "nova: second signal (interrupt): exiting before shutdown finished\n"; !strings.HasSuffix(got, want) {
			t.Fatalf("stderr %q, want it to end with %q", got, want)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a second signal during the drain delay did not end the process")
	}
}

// The drain delay and the data dir are refused at start-up, naming the
// variable, when unusable.
func TestShutdownAndDataDirSettingsExit2(t *testing.T) {
	t.Parallel()
	base := map[string]string{"NOVA_ENV": "dev", "NOVA_DATABASE_URL": "postgres://nova:s3cret@localhost/nova"}
	cases := []struct {
		set  map[string]string
		args []string
		want string
	}{
		{map[string]string{"NOVA_PUBLIC_URL": "https://nova.example:99999"}, nil,
			"nova serve: configuration: NOVA_PUBLIC_URL (flag --public-url): must have a port from 1 to 65535, got \"https://nova.example:99999\"\n"},
		{nil, []string{"--data-dir="},
			"nova serve: configuration: NOVA_DATA_DIR (flag --data-dir): must name a directory, got an empty value\n"},
		{map[string]string{"NOVA_SHUTDOWN_DRAIN_DELAY": "20s"}, nil,
			"nova serve: configuration: NOVA_SHUTDOWN_DRAIN_DELAY (flag --shutdown-drain-delay): must be shorter than NOVA_SHUTDOWN_TIMEOUT (20s), which it counts within, got 20s\n"},
	}
	for _, tc := range cases {
		vars := map[string]string{}
		for k, v := range base {
			vars[k] = v
		}
		for k, v := range tc.set {
			vars[k] = v
		}
		code, _, stderr := runNova(t, vars, append([]string{"serve"}, tc.args...)...)
		if code != exitUsage || stderr != tc.want {
			t.Errorf("nova serve %v %v: exit %d, stderr %q; want exit 2 and %q", tc.set, tc.args, code, stderr, tc.want)
		}
	}
}

// While `nova serve` starts, here waiting for another replica's migrations,
// its listener answers probes at once: /healthz 200 (the process is alive,
// and a liveness probe must not restart it), /readyz and the API 503
// "starting". Then it serves as usual.
func TestProbesAreAnsweredDuringStartUp(t *testing.T) {
	t.Parallel()
	db := pgtest.Empty(t)
	release := holdMigrationLock(t, db.URL)
	api := freeAddr(t)
	_, _, exited := startNova(t, map[string]string{
		"NOVA_ENV": "dev", "NOVA_DATABASE_URL": db.URL, "NOVA_DATA_DIR": t.TempDir(),
		"NOVA_HTTP_ADDR": api, "NOVA_LOG_LEVEL": "warn",
	}, "serve")
	waitForLockWaiter(t, db.URL, exited)
	client := &http.Client{Timeout: 2 * time.Second}
	get := func(path string) (int, string) {
		resp, err := client.Get("http://" + api + path)
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get("/healthz"); code != http.StatusOK {
		t.Fatalf("/healthz while migrations wait: %d %q, want 200", code, body)
	}
	for _, path := range []string{"/readyz", "/graphql"} {
		if code, body := get(path); code != http.StatusServiceUnavailable || body != `{"reason":"starting","status":"unavailable"}`+"\n" {
			t.Fatalf("%s while migrations wait: %d %q, want 503 starting", path, code, body)
		}
	}
	release()
	testkit.Eventually(t, "nova serve is ready", func() bool { code, _ := get("/readyz"); return code == http.StatusOK })
}
