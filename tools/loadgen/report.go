package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// recorder collects each operation's latencies and errors.
type recorder struct {
	budget atomic.Int64

	mu   sync.Mutex
	ops  map[string]*opSamples
	errs map[string]int
}

type opSamples struct {
	// latencies of the successes and of the waits given up (gaveUp of them).
	latencies []time.Duration
	errors    int
	gaveUp    int
}

// errGaveUp marks a wait for something to become visible that ran out of
// time.
var errGaveUp = errors.New("gave up waiting")

// gaveUp reports whether err ended a wait rather than answered it: the
// operation took at least as long as it ran, so its length counts among the
// latencies (as well as among the errors), where leaving it out would lower
// the percentiles just when the server is slowest.
func gaveUp(err error) bool {
	var ne net.Error
	return errors.Is(err, errGaveUp) || errors.As(err, &ne) && ne.Timeout()
}

func newRecorder(maxRequests int64) *recorder {
	r := &recorder{ops: map[string]*opSamples{}, errs: map[string]int{}}
	r.budget.Store(maxRequests)
	return r
}

// take spends one request of the budget; false when it is spent.
func (r *recorder) take() bool { return r.budget.Add(-1) >= 0 }

// record notes an operation that started at start. Operations cut short by
// the end of the run are not counted.
func (r *recorder) record(ctx context.Context, op string, start time.Time, err error) {
	r.observe(ctx, op, time.Since(start), err)
}

func (r *recorder) observe(ctx context.Context, op string, d time.Duration, err error) {
	if ctx.Err() != nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.ops[op]
	if s == nil {
		s = &opSamples{}
		r.ops[op] = s
	}
	if err != nil {
		s.errors++
		var oe *OpError
		if errors.As(err, &oe) {
			r.errs[op+": "+oe.Code()]++
		} else {
			r.errs[op+": "+err.Error()]++
		}
		if gaveUp(err) {
			s.latencies = append(s.latencies, d)
			s.gaveUp++
		}
		return
	}
	s.latencies = append(s.latencies, d)
}

// Report is the JSON report of a run.
type Report struct {
	Started    time.Time          `json:"started"`
	DurationS  float64            `json:"durationSeconds"`
	Scenarios  map[string]int     `json:"scenarios"`
	Operations map[string]OpStats `json:"operations"`
	Errors     map[string]int     `json:"errors,omitempty"`
	// CPU is where the machine's CPU time went during the measured phase
	// (with -cpu): per watched command, the load tool and idle.
	CPU map[string]CPUUse `json:"cpu,omitempty"`
}

// CPUUse is the CPU time of one command over the measured phase, in all and
// per request sent (polls, failed requests and those cut short at the end
// included).
type CPUUse struct {
	Seconds      float64 `json:"seconds"`
	MsPerRequest float64 `json:"msPerRequest"`
}

// setCPU fills rep.CPU from the CPU time each command used while the load
// tool sent requests. Those are what used the time: the operations reported
// leave out the polls behind a visibility time and what the deadline cut short.
func (rep *Report) setCPU(used map[string]time.Duration, requests int64) {
	rep.CPU = map[string]CPUUse{}
	for comm, d := range used {
		u := CPUUse{Seconds: d.Seconds()}
		if requests > 0 {
			u.MsPerRequest = ms(d) / float64(requests)
		}
		rep.CPU[comm] = u
	}
}

// OpStats summarises one operation: Count and PerSecond are its successes;
// the percentiles also hold the waits given up (timeouts), at their length.
type OpStats struct {
	Count     int     `json:"count"`
	Errors    int     `json:"errors"`
	PerSecond float64 `json:"perSecond"`
	// The latencies are absent when there are none (every attempt failed),
	// rather than 0 ms.
	P50Ms float64 `json:"p50Ms,omitempty"`
	P95Ms float64 `json:"p95Ms,omitempty"`
	P99Ms float64 `json:"p99Ms,omitempty"`
	MaxMs float64 `json:"maxMs,omitempty"`
}

func (r *recorder) report(elapsed time.Duration, mix []mixEntry) Report {
	r.mu.Lock()
	defer r.mu.Unlock()
	rep := Report{Started: time.Now().Add(-elapsed).UTC(), DurationS: elapsed.Seconds(), Scenarios: map[string]int{}, Operations: map[string]OpStats{}, Errors: r.errs}
	for _, m := range mix {
		rep.Scenarios[m.name] = m.vus
	}
	for op, s := range r.ops {
		l := s.latencies
		slices.Sort(l)
		n := len(l) - s.gaveUp
		st := OpStats{Count: n, Errors: s.errors, PerSecond: float64(n) / elapsed.Seconds()}
		if len(l) > 0 {
			st.P50Ms, st.P95Ms, st.P99Ms = ms(pct(l, 50)), ms(pct(l, 95)), ms(pct(l, 99))
			st.MaxMs = ms(l[len(l)-1])
		}
		rep.Operations[op] = st
	}
	return rep
}

// pct is the nearest-rank percentile of sorted samples: the smallest with at
// least p% of them at or below it. Rounding the rank instead of raising it
// took the sample below (the p99 of 60 samples is the slowest, not the 59th).
func pct(sorted []time.Duration, p float64) time.Duration {
	i := int(math.Ceil(float64(len(sorted))*p/100)) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// msCell is a latency for the table, "-" when there is none.
func msCell(v float64) string {
	if v == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f", v)
}

func (rep Report) print(w io.Writer) {
	fmt.Fprintf(w, "\n%-30s %9s %7s %10s %9s %9s %9s %9s\n", "operation", "count", "errors", "req/s", "p50 ms", "p95 ms", "p99 ms", "max ms")
	for _, op := range slices.Sorted(maps.Keys(rep.Operations)) {
		s := rep.Operations[op]
		fmt.Fprintf(w, "%-30s %9d %7d %10.1f %9s %9s %9s %9s\n", op, s.Count, s.Errors, s.PerSecond, msCell(s.P50Ms), msCell(s.P95Ms), msCell(s.P99Ms), msCell(s.MaxMs))
	}
	for e, n := range rep.Errors {
		fmt.Fprintf(w, "error %s: %d\n", e, n)
	}
	if len(rep.CPU) == 0 {
		return
	}
	fmt.Fprintf(w, "\n%-30s %9s %14s\n", "cpu", "seconds", "ms per request")
	for _, c := range slices.Sorted(maps.Keys(rep.CPU)) {
		fmt.Fprintf(w, "%-30s %9.2f %14.3f\n", c, rep.CPU[c].Seconds, rep.CPU[c].MsPerRequest)
	}
}
