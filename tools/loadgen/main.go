// Command loadgen drives Nova's GraphQL API with concurrent virtual users
// running named scenarios, and reports throughput and latency percentiles
// per operation, as a table and as JSON.
//
//	go run ./tools/loadgen -url http://127.0.0.1:8080/graphql -scenarios viewer=64,login=16 -duration 20s
//
// It only targets loopback addresses, and every run is bounded in time and
// in requests. Each virtual user sends its next request once the previous
// one is answered (a closed loop), so a slow server is sent fewer requests
// and the percentiles are those of the requests sent. The server's
// per-address rate limits must be raised for it
// (NOVA_RATELIMIT_REGISTER_PER_ADDR_PER_HOUR, NOVA_RATELIMIT_LOGIN_PER_ADDR_PER_MINUTE):
// every virtual user comes from the same address.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"maps"
	"net"
	"net/url"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Bounds of one run.
const (
	maxDuration = 10 * time.Minute
	maxVUs      = 2000
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("loadgen", flag.ContinueOnError)
	target := fs.String("url", "http://127.0.0.1:8080/graphql", "GraphQL endpoint (loopback only)")
	spec := fs.String("scenarios", "viewer=32", "comma-separated scenario=virtual users; scenarios: "+strings.Join(scenarioNames(), ", "))
	duration := fs.Duration("duration", 15*time.Second, "how long the measured phase lasts (at most 10m)")
	warmup := fs.Duration("warmup", 2*time.Second, "unmeasured run before the measured phase")
	maxRequests := fs.Int64("max-requests", 5_000_000, "stop after this many requests in all")
	report := fs.String("out", "", "write the JSON report to this file")
	followers := fs.Int("followers", fanoutFollowers, "followers of the fanout scenario's author (at most 10,000)")
	cpuOf := fs.String("cpu", "", "comma-separated commands, as /proc names them (e.g. nova,postgres), whose CPU time to report per request with the load tool's own and the machine's idle time (Linux)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *duration <= 0 || *duration > maxDuration {
		return fmt.Errorf("-duration must be within (0, %v]", maxDuration)
	}
	if *warmup < 0 || *warmup > maxDuration {
		return fmt.Errorf("-warmup must be within [0, %v]", maxDuration)
	}
	if *maxRequests < 1 {
		return fmt.Errorf("-max-requests must be at least 1")
	}
	if *followers < 1 || *followers > 10_000 {
		return fmt.Errorf("-followers must be within [1, 10000]")
	}
	fanoutFollowers = *followers
	if err := checkLoopback(*target); err != nil {
		return err
	}
	mix, err := parseMix(*spec)
	if err != nil {
		return err
	}
	var watch *cpuWatch
	if *cpuOf != "" {
		if watch, err = newCPUWatch("/proc", strings.Split(*cpuOf, ",")); err != nil {
			return err
		}
	}

	client := newClient(*target)
	var runs []*scenarioRun
	for _, m := range mix {
		s := scenarios[m.name]()
		fmt.Fprintf(out, "setting up %s with %d virtual users...\n", m.name, m.vus)
		if err := s.Setup(ctx, client, m.vus); err != nil {
			return fmt.Errorf("set up %s: %w", m.name, err)
		}
		runs = append(runs, &scenarioRun{name: m.name, vus: m.vus, s: s})
	}

	rec := newRecorder(*maxRequests)
	if *warmup > 0 {
		fmt.Fprintf(out, "warming up for %v...\n", *warmup)
		drive(ctx, runs, client, newRecorder(*maxRequests), *warmup)
	}
	fmt.Fprintf(out, "measuring for %v...\n", *duration)
	var before cpuSample
	if watch != nil {
		if before, err = watch.sample(); err != nil {
			return err
		}
	}
	sent := client.sent.Load()
	elapsed := drive(ctx, runs, client, rec, *duration)
	sent = client.sent.Load() - sent
	// Sampled before the report sorts the latencies, which is no request's work.
	var after cpuSample
	if watch != nil {
		if after, err = watch.sample(); err != nil {
			return err
		}
	}

	r := rec.report(elapsed, mix)
	if watch != nil {
		r.setCPU(watch.since(before, after), sent)
	}
	r.print(out)
	if *report != "" {
		b, err := json.MarshalIndent(r, "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(*report, append(b, '\n'), 0o644); err != nil {
			return fmt.Errorf("write report: %w", err)
		}
	}
	return nil
}

// checkLoopback refuses any target but this machine.
func checkLoopback(target string) error {
	u, err := url.Parse(target)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return fmt.Errorf("-url must be an http(s) URL, got %q", target)
	}
	host := u.Hostname()
	if host == "localhost" {
		return nil
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("-url must point at a loopback address (127.0.0.0/8, ::1, localhost), got %q", host)
	}
	return nil
}

type mixEntry struct {
	name string
	vus  int
}

func parseMix(spec string) ([]mixEntry, error) {
	var mix []mixEntry
	total := 0
	for _, part := range strings.Split(spec, ",") {
		name, n, found := strings.Cut(strings.TrimSpace(part), "=")
		if _, ok := scenarios[name]; !ok {
			return nil, fmt.Errorf("unknown scenario %q (known: %s)", name, strings.Join(scenarioNames(), ", "))
		}
		// The report keys users and operations by scenario name.
		if slices.ContainsFunc(mix, func(m mixEntry) bool { return m.name == name }) {
			return nil, fmt.Errorf("scenario %s given twice", name)
		}
		vus := 1
		if found {
			v, err := strconv.Atoi(n)
			if err != nil || v < 1 {
				return nil, fmt.Errorf("scenario %s: virtual users must be a positive integer, got %q", name, n)
			}
			vus = v
		}
		total += vus
		mix = append(mix, mixEntry{name: name, vus: vus})
	}
	if total > maxVUs {
		return nil, fmt.Errorf("at most %d virtual users in all", maxVUs)
	}
	return mix, nil
}

type scenarioRun struct {
	name string
	vus  int
	s    Scenario
}

// drive runs every scenario's virtual users until d has passed, the
// request budget is spent or ctx ends, and returns how long that was.
// Operations still running at the deadline are not counted, so neither is
// the wait for them to end: rates are over d, not over d and the drain.
func drive(ctx context.Context, runs []*scenarioRun, c *Client, rec *recorder, d time.Duration) time.Duration {
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var wg sync.WaitGroup
	for _, r := range runs {
		for vu := range r.vus {
			wg.Add(1)
			go func() {
				defer wg.Done()
				// Errors are recorded per operation by the scenario.
				for ctx.Err() == nil && rec.take() {
					_ = r.s.Run(ctx, c, vu, rec)
				}
			}()
		}
	}
	wg.Wait()
	return min(time.Since(start), d)
}

func scenarioNames() []string {
	return slices.Sorted(maps.Keys(scenarios))
}
