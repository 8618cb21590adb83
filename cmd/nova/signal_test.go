package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"
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
