package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/nova-social/nova/internal/platform/pgtest"
	"github.com/nova-social/nova/internal/platform/testkit"
)

// TestSecondSignalExitsAtOnce: the first SIGTERM starts the graceful
// shutdown; a second signal while it drains ends the process at once, with
// status 1, instead of waiting out the shutdown timeout.
func TestSecondSignalExitsAtOnce(t *testing.T) {
	if os.Getenv("NOVA_TEST_SIGNAL_HELPER") == "1" {
		ctx, stop := shutdownOnSignal(os.Stderr)
		defer stop()
		fmt.Println("ready")
		<-ctx.Done()
		fmt.Println("draining")
		time.Sleep(time.Minute) // a drain that would take its whole timeout
		os.Exit(0)
	}
	t.Parallel()
	cmd := exec.Command(os.Args[0], "-test.run=^TestSecondSignalExitsAtOnce$")
	cmd.Env = append(os.Environ(), "NOVA_TEST_SIGNAL_HELPER=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	lines := bufio.NewScanner(out)
	expect := func(want string) {
		t.Helper()
		for lines.Scan() {
			if lines.Text() == want {
				return
			}
		}
		t.Fatalf("helper never printed %q; stderr:\n%s", want, stderr.String())
	}
	expect("ready")
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	expect("draining")
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	select {
	case err := <-exited:
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != exitFailure {
			t.Fatalf("after a second signal: %v, want exit status 1", err)
		}
		if got, want := stderr.String(), "nova: second signal (interrupt): exiting before shutdown finished\n"; got != want {
			t.Fatalf("stderr %q, want %q", got, want)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a second signal did not end the process")
	}
}

// TestNovaProcess is not a test: the tests below run it as a child process
// that runs main with the arguments in NOVA_TEST_MAIN_ARGS, separated by
// spaces.
func TestNovaProcess(t *testing.T) {
	args := os.Getenv("NOVA_TEST_MAIN_ARGS")
	if args == "" {
		t.Skip("runs only as a child process of another test")
	}
	os.Args = append([]string{"nova"}, strings.Split(args, " ")...)
	main()
}

// startNova runs `nova args…` in a child process with vars as its only
// NOVA_* settings: none of the machine's (a NOVA_DEBUG_ADDR or a per-domain
// connection string exported in the shell) reaches it. The channel receives
// its exit code.
func startNova(t *testing.T, vars map[string]string, args ...string) (*exec.Cmd, *testkit.SyncBuffer, <-chan int) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestNovaProcess$")
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "NOVA_") || strings.HasPrefix(kv, "NOVA_TEST_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, "NOVA_TEST_MAIN_ARGS="+strings.Join(args, " "))
	for k, v := range vars {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var stdout, stderr testkit.SyncBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan int, 1)
	go func() {
		err := cmd.Wait()
		var ee *exec.ExitError
		switch {
		case err == nil:
			exited <- 0
		case errors.As(err, &ee):
			exited <- ee.ExitCode()
		default:
			exited <- -1
		}
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		if t.Failed() {
			t.Logf("nova %v: stdout:\n%s\nstderr:\n%s", args, stdout.String(), stderr.String())
		}
	})
	return cmd, &stderr, exited
}

// migrationLockKey is the advisory lock `migrate up` takes
// (internal/platform/migrate).
const migrationLockKey = 7_406_310_571

// holdMigrationLock takes the migration lock on dbURL, as a replica
// migrating would, until the returned function releases it. It waits until
// another session queues behind it.
func holdMigrationLock(t *testing.T, dbURL string) (release func()) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(ctx) })
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", int64(migrationLockKey)); err != nil {
		t.Fatal(err)
	}
	return func() {
		if _, err := conn.Exec(ctx, "SELECT pg_advisory_unlock($1)", int64(migrationLockKey)); err != nil {
			t.Fatal(err)
		}
	}
}

// waitForLockWaiter returns once another session of dbURL's database has
// asked for the migration lock (which a waiting replica does every 100 ms),
// or fails t if the process exits first.
func waitForLockWaiter(t *testing.T, dbURL string, exited <-chan int) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	waitWhileRunning(t, "waiting for the migration lock", exited, func() bool {
		var waiting bool
		if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT FROM pg_stat_activity WHERE datname = current_database()
			AND pid <> pg_backend_pid() AND query LIKE '%pg_try_advisory_lock%')`).Scan(&waiting); err != nil {
			t.Fatal(err)
		}
		return waiting
	})
}

// waitForOutput returns once out holds want, or fails t if the process
// exits first.
func waitForOutput(t *testing.T, out *testkit.SyncBuffer, want string, exited <-chan int) {
	t.Helper()
	waitWhileRunning(t, fmt.Sprintf("printing %q", want), exited, func() bool { return strings.Contains(out.String(), want) })
}

// waitWhileRunning polls cond every 20 ms until it holds, failing t if the
// process exits first or 20 s pass.
func waitWhileRunning(t *testing.T, what string, exited <-chan int, cond func() bool) {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for !cond() {
		select {
		case code := <-exited:
			t.Fatalf("exited %d before %s", code, what)
		case <-deadline:
			t.Fatalf("never got to %s", what)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// A signal must not cut a migration short: River's runs outside a
// transaction, and cut half way it left tables behind on which every later
// `migrate up` failed ("relation river_migration already exists"). So a
// first SIGTERM during `nova serve`'s auto-migration lets the migrations
// finish (here: wait for another replica's lock, then apply them all), then
// stops start-up with status 0, before a signing key is written.
func TestSignalDuringAutoMigrationLetsItFinish(t *testing.T) {
	t.Parallel()
	db := pgtest.Empty(t)
	release := holdMigrationLock(t, db.URL)
	dataDir := t.TempDir()
	cmd, stderr, exited := startNova(t, map[string]string{
		"NOVA_ENV": "dev", "NOVA_DATABASE_URL": db.URL, "NOVA_DATA_DIR": dataDir,
		"NOVA_HTTP_ADDR": freeAddr(t), "NOVA_LOG_LEVEL": "info",
	}, "serve")
	waitForLockWaiter(t, db.URL, exited)
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	waitForOutput(t, stderr, "finishing the migrations", exited)
	release()
	select {
	case code := <-exited:
		if code != 0 || strings.Contains(stderr.String(), "context canceled") {
			t.Fatalf("nova serve exited %d, want 0 without an error", code)
		}
	case <-time.After(time.Minute):
		t.Fatal("nova serve did not stop")
	}
	assertMigrated(t, db.URL)
	if files, err := os.ReadDir(dataDir); err != nil || len(files) != 0 {
		t.Errorf("the data dir holds %v (%v): start-up went on after the signal", files, err)
	}
}

// The same for `nova migrate up`: a first Ctrl-C lets the run finish.
func TestSignalDuringMigrateUpLetsItFinish(t *testing.T) {
	t.Parallel()
	db := pgtest.Empty(t)
	release := holdMigrationLock(t, db.URL)
	cmd, stderr, exited := startNova(t, map[string]string{"NOVA_DATABASE_URL": db.URL}, "migrate", "up")
	waitForLockWaiter(t, db.URL, exited)
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	waitForOutput(t, stderr, "finishing the migrations", exited)
	release()
	select {
	case code := <-exited:
		if code != 0 {
			t.Fatalf("nova migrate up exited %d, want 0", code)
		}
	case <-time.After(time.Minute):
		t.Fatal("nova migrate up did not stop")
	}
	assertMigrated(t, db.URL)
}

// assertMigrated fails t unless every domain of dbURL's database is current.
func assertMigrated(t *testing.T, dbURL string) {
	t.Helper()
	code, out, stderr := runNova(t, map[string]string{"NOVA_DATABASE_URL": dbURL}, "migrate", "status")
	if code != 0 || strings.Contains(out, "pending") {
		t.Fatalf("migrate status: exit %d\n%s%s", code, out, stderr)
	}
}
