package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParseProcTimes(t *testing.T) {
	comm, times, err := parseProcTimes([]byte("4242 (odd) name)) S 1 4242 4242 0 -1 4194560 900 0 0 0 123 45 0 0 20 0 9 0 77 1 2 3\n"))
	if want := (procTimes{ppid: 1, used: 168 * tick, reaped: 0}); err != nil || comm != "odd) name)" || times != want {
		t.Fatalf("parseProcTimes = %q, %+v, %v", comm, times, err)
	}
	for _, bad := range []string{"", "4242 odd S 1", "4242 (x) S 1 2 3", "4242 (x) S 1 2 3 4 5 6 7 8 9 10 11 12 u 14 15"} {
		if _, _, err := parseProcTimes([]byte(bad)); err == nil {
			t.Errorf("parseProcTimes(%q) accepted", bad)
		}
	}
	if idle, err := parseIdle([]byte("cpu  10 0 20 300 7 0 1 0 0 0\ncpu0 5 0 10 150 3 0 0 0 0 0\n")); err != nil || idle != 307*tick {
		t.Fatalf("parseIdle = %v, %v", idle, err)
	}
	if _, err := parseIdle([]byte("intr 1 2 3\n")); err == nil {
		t.Fatal("parseIdle accepted a line that is not the cpu total")
	}
}

// fakeProc writes a /proc with the given processes (pid: command and ticks)
// and idle ticks.
func fakeProc(t *testing.T, dir string, idle int, procs map[int]struct {
	comm  string
	ticks int
}) {
	t.Helper()
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "stat"), []byte(fmt.Sprintf("cpu  1 0 1 %d 0 0 0 0 0 0\n", idle)), 0o644); err != nil {
		t.Fatal(err)
	}
	for pid, p := range procs {
		writeStat(t, dir, pid, p.comm, 1, p.ticks, 0)
	}
}

// mustSample samples w, failing the test if it cannot.
func mustSample(t *testing.T, w *cpuWatch) cpuSample {
	t.Helper()
	s, err := w.sample()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestCPUWatchCountsWhatEachCommandUsedInBetween(t *testing.T) {
	type proc = struct {
		comm  string
		ticks int
	}
	dir, self := t.TempDir(), os.Getpid()
	fakeProc(t, dir, 400, map[int]proc{10: {"nova", 150}, 11: {"postgres", 60}, 12: {"postgres", 80}, self: {"loadgen", 5}})
	w, err := newCPUWatch(dir, []string{"nova", " postgres", "redis"})
	if err != nil {
		t.Fatal(err)
	}
	before := mustSample(t, w)
	// nova used 30 ticks; backend 11 used 20, 12 ended, 13 started and used 7;
	// the load tool used 4; the machine idled 9.
	fakeProc(t, dir, 409, map[int]proc{10: {"nova", 180}, 11: {"postgres", 80}, 13: {"postgres", 7}, self: {"loadgen", 9}})
	after := mustSample(t, w)
	got := w.since(before, after)
	want := map[string]time.Duration{"nova": 300 * time.Millisecond, "postgres": 270 * time.Millisecond, "redis": 0,
		selfCommand: 40 * time.Millisecond, idleCommand: 90 * time.Millisecond}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("since = %v, want %v", got, want)
	}

	var rep Report
	rep.setCPU(got, 300)
	if u := rep.CPU["nova"]; u.Seconds != 0.3 || u.MsPerRequest != 1 {
		t.Fatalf("nova = %+v, want 0.3 s and 1 ms per request", u)
	}
	var out bytes.Buffer
	rep.print(&out)
	if !strings.Contains(out.String(), "postgres") || !strings.Contains(out.String(), "0.900") {
		t.Fatalf("report lacks the CPU table:\n%s", out.String())
	}

	for _, bad := range [][]string{{""}, {"nova", selfCommand}, {idleCommand}} {
		if _, err := newCPUWatch(dir, bad); err == nil {
			t.Errorf("newCPUWatch(%q) accepted", bad)
		}
	}
	if _, err := newCPUWatch(filepath.Join(dir, "missing"), []string{"nova"}); err == nil {
		t.Error("newCPUWatch accepted a directory without stat")
	}
}

// The real /proc has the layout the parsers expect.
func TestCPUWatchReadsThisMachine(t *testing.T) {
	w, err := newCPUWatch("/proc", []string{"nova"})
	if err != nil {
		t.Skip(err)
	}
	mustSample(t, w)
}

// writeStat adds a process to a /proc written by fakeProc, with its parent
// and the CPU time of the children it has waited for.
func writeStat(t *testing.T, dir string, pid int, comm string, ppid, ticks, reaped int) {
	t.Helper()
	if err := os.MkdirAll(filepath.Join(dir, fmt.Sprint(pid)), 0o755); err != nil {
		t.Fatal(err)
	}
	line := fmt.Sprintf("%d (%s) S %d 1 1 0 -1 0 0 0 0 0 %d 0 %d 0 20 0 1 0 1 1 1\n", pid, comm, ppid, ticks, reaped)
	if err := os.WriteFile(filepath.Join(dir, fmt.Sprint(pid), "stat"), []byte(line), 0o644); err != nil {
		t.Fatal(err)
	}
}

// Postgres runs a process per connection (and per worker): those that end
// during a run, or start and end within it, used CPU time the server's
// parent process is credited with once it has waited for them.
func TestCPUWatchCountsProcessesThatEndDuringTheRun(t *testing.T) {
	dir := t.TempDir()
	fakeProc(t, dir, 100, nil)
	writeStat(t, dir, 20, "postgres", 1, 100, 500) // the server
	writeStat(t, dir, 21, "postgres", 20, 60, 0)   // a connection that stays
	writeStat(t, dir, 22, "postgres", 20, 80, 0)   // one that ends
	w, err := newCPUWatch(dir, []string{"postgres"})
	if err != nil {
		t.Fatal(err)
	}
	before := mustSample(t, w)
	// The server used 1 tick and waited for 22 (90 ticks in all, 10 of them
	// in between) and for 23, which started and ended in between (15); 21
	// used 10.
	fakeProc(t, dir, 100, nil)
	writeStat(t, dir, 20, "postgres", 1, 101, 500+90+15)
	writeStat(t, dir, 21, "postgres", 20, 70, 0)
	after := mustSample(t, w)
	if got := w.since(before, after)["postgres"]; got != 36*tick {
		t.Fatalf("postgres used %v, want %v (1 + 10 + 10 + 15 ticks)", got, 36*tick)
	}
}

// /proc keeps the first 15 bytes of a command's name: a server binary with a
// longer name is still found, and reported under the name given.
func TestCPUWatchFindsLongCommandNames(t *testing.T) {
	dir := t.TempDir()
	fakeProc(t, dir, 100, nil)
	writeStat(t, dir, 30, "nova-server-pro", 1, 100, 0)
	w, err := newCPUWatch(dir, []string{"nova-server-production"})
	if err != nil {
		t.Fatal(err)
	}
	before := mustSample(t, w)
	writeStat(t, dir, 30, "nova-server-pro", 1, 150, 0)
	after := mustSample(t, w)
	if got := w.since(before, after); got["nova-server-production"] != 50*tick {
		t.Fatalf("since = %v, want nova-server-production at %v", got, 50*tick)
	}
	if _, err := newCPUWatch(dir, []string{"nova-server-production", "nova-server-production-2"}); err == nil {
		t.Error("newCPUWatch accepted two commands /proc cannot tell apart")
	}
}
