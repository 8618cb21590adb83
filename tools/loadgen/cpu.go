package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Linux reports CPU time in /proc in ticks of USER_HZ, which is 100 on every
// architecture regardless of the kernel's own tick rate.
const tick = 10 * time.Millisecond

// selfCommand names the load tool's own CPU time in a cpuSample.
const selfCommand = "loadgen"

// idleCommand names the machine's idle CPU time in a cpuSample.
const idleCommand = "idle"

// cpuWatch samples the CPU time used by the processes of the named commands
// (as /proc shows them, e.g. nova and postgres), by the load tool itself and
// left idle on the machine, so that a run can say where each request's CPU
// went when the server, its database and the load tool share the machine.
type cpuWatch struct {
	proc     string
	commands map[string]bool
}

func newCPUWatch(proc string, commands []string) (*cpuWatch, error) {
	if _, err := os.Stat(filepath.Join(proc, "stat")); err != nil {
		return nil, fmt.Errorf("-cpu needs the Linux %s file system: %w", proc, err)
	}
	w := &cpuWatch{proc: proc, commands: map[string]bool{}}
	for _, c := range commands {
		c = strings.TrimSpace(c)
		if c == "" || c == selfCommand || c == idleCommand {
			return nil, fmt.Errorf("-cpu: %q is not a command to watch", c)
		}
		w.commands[c] = true
	}
	return w, nil
}

// cpuSample is the CPU time used so far by each watched process, keyed by
// command and process id, and the load tool's and the machine's idle time.
type cpuSample struct {
	procs map[string]map[int]time.Duration
	self  time.Duration
	idle  time.Duration
}

func (w *cpuWatch) sample() (cpuSample, error) {
	s := cpuSample{procs: map[string]map[int]time.Duration{}}
	entries, err := os.ReadDir(w.proc)
	if err != nil {
		return s, fmt.Errorf("read %s: %w", w.proc, err)
	}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		raw, err := os.ReadFile(filepath.Join(w.proc, e.Name(), "stat"))
		if err != nil {
			continue // the process ended since the directory was read
		}
		comm, used, err := parseProcStat(raw)
		if err != nil {
			return s, fmt.Errorf("process %d: %w", pid, err)
		}
		if pid == os.Getpid() {
			s.self = used
		}
		if w.commands[comm] {
			if s.procs[comm] == nil {
				s.procs[comm] = map[int]time.Duration{}
			}
			s.procs[comm][pid] = used
		}
	}
	raw, err := os.ReadFile(filepath.Join(w.proc, "stat"))
	if err != nil {
		return s, fmt.Errorf("read machine CPU times: %w", err)
	}
	if s.idle, err = parseIdle(raw); err != nil {
		return s, err
	}
	return s, nil
}

// parseProcStat reads a process's command and its user plus system CPU
// time from its /proc/PID/stat line. The command is in parentheses and may
// itself hold spaces and parentheses, so the fields are counted after the
// last closing one.
func parseProcStat(raw []byte) (string, time.Duration, error) {
	open, end := bytes.IndexByte(raw, '('), bytes.LastIndexByte(raw, ')')
	if open < 0 || end < open {
		return "", 0, errors.New("malformed stat line")
	}
	// After the command: state(3) … utime(14) stime(15).
	fields := strings.Fields(string(raw[end+1:]))
	if len(fields) < 13 {
		return "", 0, errors.New("short stat line")
	}
	utime, err1 := strconv.ParseUint(fields[11], 10, 64)
	stime, err2 := strconv.ParseUint(fields[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return "", 0, fmt.Errorf("stat line times: %w", err)
	}
	return string(raw[open+1 : end]), time.Duration(utime+stime) * tick, nil
}

// parseIdle reads the machine's idle and I/O-wait time, over all CPUs, from
// the first line of /proc/stat.
func parseIdle(raw []byte) (time.Duration, error) {
	line, _, _ := bytes.Cut(raw, []byte("\n"))
	fields := strings.Fields(string(line))
	if len(fields) < 6 || fields[0] != "cpu" {
		return 0, errors.New("malformed /proc/stat")
	}
	idle, err1 := strconv.ParseUint(fields[4], 10, 64)
	iowait, err2 := strconv.ParseUint(fields[5], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, fmt.Errorf("/proc/stat idle times: %w", err)
	}
	return time.Duration(idle+iowait) * tick, nil
}

// since is the CPU time used between before and s by each watched command
// (zero for one with no process), the load tool and idle. A process that
// started in between counts from zero; one that ended in between is not seen
// at the end, and its time in between is lost (a server's pooled
// connections live through a run).
func (w *cpuWatch) since(before, s cpuSample) map[string]time.Duration {
	out := map[string]time.Duration{selfCommand: s.self - before.self, idleCommand: s.idle - before.idle}
	for comm := range w.commands {
		var d time.Duration
		for pid, used := range s.procs[comm] {
			if prev := before.procs[comm][pid]; prev <= used { // else a new process reused the id
				used -= prev
			}
			d += used
		}
		out[comm] = d
	}
	return out
}
