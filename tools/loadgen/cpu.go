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
	proc string
	// commands maps the command as /proc shows it (cut to commLen bytes)
	// to the name it was given and is reported under.
	commands map[string]string
}

// commLen is how much of a command's name /proc keeps (TASK_COMM_LEN less
// its NUL): a binary named nova-server-production shows as nova-server-pro.
const commLen = 15

func newCPUWatch(proc string, commands []string) (*cpuWatch, error) {
	if _, err := os.Stat(filepath.Join(proc, "stat")); err != nil {
		return nil, fmt.Errorf("-cpu needs the Linux %s file system: %w", proc, err)
	}
	w := &cpuWatch{proc: proc, commands: map[string]string{}}
	for _, c := range commands {
		c = strings.TrimSpace(c)
		if c == "" || c == selfCommand || c == idleCommand {
			return nil, fmt.Errorf("-cpu: %q is not a command to watch", c)
		}
		comm := c[:min(len(c), commLen)]
		if prev, ok := w.commands[comm]; ok && prev != c {
			return nil, fmt.Errorf("-cpu: %q and %q are both %q in /proc", prev, c, comm)
		}
		w.commands[comm] = c
	}
	return w, nil
}

// cpuSample is the CPU time used so far by each watched process, keyed by
// command and process id, and the load tool's and the machine's idle time.
type cpuSample struct {
	procs map[string]map[int]procTimes
	self  time.Duration
	idle  time.Duration
}

// procTimes is one process's parent and CPU time: its own, and that of its
// children that have ended and that it has waited for (how a Postgres
// server's connections and workers that end during a run still count).
type procTimes struct {
	ppid         int
	used, reaped time.Duration
}

// total is the CPU time the process and the children it has waited for used.
func (t procTimes) total() time.Duration { return t.used + t.reaped }

func (w *cpuWatch) sample() (cpuSample, error) {
	s := cpuSample{procs: map[string]map[int]procTimes{}}
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
		comm, t, err := parseProcTimes(raw)
		if err != nil {
			return s, fmt.Errorf("process %d: %w", pid, err)
		}
		if pid == os.Getpid() {
			s.self = t.used
		}
		if _, ok := w.commands[comm]; ok {
			if s.procs[comm] == nil {
				s.procs[comm] = map[int]procTimes{}
			}
			s.procs[comm][pid] = t
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

// parseProcTimes reads a process's command, parent and CPU times from its
// /proc/PID/stat line. The command is in parentheses and may itself hold
// spaces and parentheses, so the fields are counted after the last closing
// one.
func parseProcTimes(raw []byte) (string, procTimes, error) {
	open, end := bytes.IndexByte(raw, '('), bytes.LastIndexByte(raw, ')')
	if open < 0 || end < open {
		return "", procTimes{}, errors.New("malformed stat line")
	}
	// After the command: state(3) ppid(4) … utime(14) stime(15) cutime(16)
	// cstime(17).
	fields := strings.Fields(string(raw[end+1:]))
	if len(fields) < 15 {
		return "", procTimes{}, errors.New("short stat line")
	}
	var n [5]uint64
	var errs []error
	for i, f := range []int{1, 11, 12, 13, 14} {
		var err error
		n[i], err = strconv.ParseUint(fields[f], 10, 64)
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return "", procTimes{}, fmt.Errorf("stat line times: %w", err)
	}
	return string(raw[open+1 : end]), procTimes{ppid: int(n[0]),
		used: time.Duration(n[1]+n[2]) * tick, reaped: time.Duration(n[3]+n[4]) * tick}, nil
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
// started in between counts from zero. One that ended in between is counted
// through its parent when that is a process of the same command still
// running, which adds a child's whole time when it waits for it (a Postgres
// server's connections and workers): only what it had used before is taken
// off. Otherwise its time in between is lost.
func (w *cpuWatch) since(before, s cpuSample) map[string]time.Duration {
	out := map[string]time.Duration{selfCommand: s.self - before.self, idleCommand: s.idle - before.idle}
	for comm, name := range w.commands {
		var d time.Duration
		for pid, t := range s.procs[comm] {
			used := t.total()
			if prev, ok := before.procs[comm][pid]; ok && prev.total() <= used { // else a new process reused the id
				used -= prev.total()
			}
			d += used
		}
		for pid, prev := range before.procs[comm] {
			if _, alive := s.procs[comm][pid]; alive {
				continue
			}
			if _, ok := s.procs[comm][prev.ppid]; ok {
				d -= prev.total()
			}
		}
		out[name] = d
	}
	return out
}
