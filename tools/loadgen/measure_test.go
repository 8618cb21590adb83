package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeAPI answers the operations the post scenarios send: register, viewer,
// follow, createPost and feed. visibleAfter is how many feed reads pass
// before a created post shows up (negative: never); newer is how many later
// posts (of other virtual users) are above it by then.
type fakeAPI struct {
	visibleAfter int
	newer        int

	mu      sync.Mutex
	users   int
	posts   []string
	follows int
	reads   int
}

func (f *fakeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Query     string
		Variables struct {
			N     int
			After string
		}
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	q := req.Query
	switch {
	case strings.Contains(q, "register("):
		f.users++
		fmt.Fprintf(w, `{"data":{"register":{"accessToken":"t%d","refreshToken":"r","userId":"User:%d"}}}`, f.users, f.users)
	case strings.Contains(q, "follow("):
		f.follows++
		_, _ = io.WriteString(w, `{"data":{"follow":{"id":"User:1"}}}`)
	case strings.Contains(q, "createPost("):
		id := fmt.Sprintf("Post:%d", len(f.posts)+1)
		f.posts = append(f.posts, id)
		f.reads = 0
		fmt.Fprintf(w, `{"data":{"createPost":{"id":%q,"createdAt":%q}}}`, id, postTime(len(f.posts)))
	case strings.Contains(q, "feed("):
		f.reads++
		// Newest first: the later posts, then the latest created here.
		var edges []string
		if f.visibleAfter >= 0 && f.reads > f.visibleAfter && len(f.posts) > 0 {
			for i := f.newer; i > 0; i-- {
				edges = append(edges, fmt.Sprintf(`{"node":{"id":"Post:later-%d","createdAt":%q}}`, i, postTime(len(f.posts)+i)))
			}
			edges = append(edges, fmt.Sprintf(`{"node":{"id":%q,"createdAt":%q}}`, f.posts[len(f.posts)-1], postTime(len(f.posts))))
		}
		from, n := 0, len(edges)
		if req.Variables.After != "" {
			from, _ = strconv.Atoi(req.Variables.After)
		}
		if req.Variables.N > 0 {
			n = req.Variables.N
		}
		to := min(from+n, len(edges))
		fmt.Fprintf(w, `{"data":{"feed":{"edges":[%s],"pageInfo":{"hasNextPage":%t,"endCursor":"%d"}}}}`,
			strings.Join(edges[from:to], ","), to < len(edges), to)
	case strings.Contains(q, "viewer"):
		_, _ = io.WriteString(w, `{"data":{"viewer":{"id":"User:1"}}}`)
	default:
		http.Error(w, "unexpected operation", http.StatusBadRequest)
	}
}

// postTime is the creation time of the fake API's i-th post.
func postTime(i int) string {
	return time.Date(2026, 1, 1, 0, 0, i, 0, time.UTC).Format(time.RFC3339Nano)
}

// setFollowers sets -followers for one test.
func setFollowers(t *testing.T, n int) {
	prev := fanoutFollowers
	fanoutFollowers = n
	t.Cleanup(func() { fanoutFollowers = prev })
}

// setUpFanout sets -followers to 3 and the wait for a post to become visible
// to within for one test, and sets up a fan-out scenario against api.
func setUpFanout(t *testing.T, api *fakeAPI, within time.Duration) (*fanoutScenario, *Client, context.Context) {
	t.Helper()
	setFollowers(t, 3)
	prev := visibleWithin
	visibleWithin = within
	t.Cleanup(func() { visibleWithin = prev })
	srv := httptest.NewServer(api)
	t.Cleanup(srv.Close)
	c, ctx := newClient(srv.URL), context.Background()
	s := &fanoutScenario{}
	if err := s.Setup(ctx, c, 1); err != nil {
		t.Fatal(err)
	}
	return s, c, ctx
}

// Nearest rank is the smallest sample with at least p% of the samples at or
// below it: the 60th of 60 for p99, not the 59th.
func TestPercentileIsNearestRank(t *testing.T) {
	for _, c := range []struct{ n, p, rank int }{
		{60, 99, 60}, {70, 99, 70}, {31, 95, 30}, {100, 99, 99}, {1000, 99, 990},
		{3, 50, 2}, {4, 50, 2}, {1, 99, 1}, {1, 50, 1}, {200, 95, 190}, {201, 99, 199},
	} {
		var l []time.Duration
		for i := 1; i <= c.n; i++ {
			l = append(l, time.Duration(i))
		}
		if got := pct(l, float64(c.p)); got != time.Duration(c.rank) {
			t.Errorf("p%d of %d samples = rank %d, want %d", c.p, c.n, got, c.rank)
		}
	}
}

// A post that never reaches the follower's feed is the slowest delivery
// there is: it must raise the visibility percentiles, not drop out of them.
func TestFanoutCountsPostsThatNeverShowUp(t *testing.T) {
	api := &fakeAPI{visibleAfter: -1}
	s, c, ctx := setUpFanout(t, api, 60*time.Millisecond)
	rec := newRecorder(100)
	api.visibleAfter = 0
	for range 3 {
		if err := s.Run(ctx, c, 0, rec); err != nil {
			t.Fatal(err)
		}
	}
	api.visibleAfter = -1
	if err := s.Run(ctx, c, 0, rec); err == nil {
		t.Fatal("a post that never showed up was reported visible")
	}
	rep := rec.report(time.Second, nil)
	vis := rep.Operations["post_visible_in_follower_feed"]
	if vis.Count != 3 || vis.Errors != 1 || vis.MaxMs < 60 || vis.P99Ms < 60 {
		t.Fatalf("visibility = %+v, want 3 seen, 1 error and the 60 ms wait as the p99", vis)
	}
	if n := rep.Operations["createPost_3_followers"].Count; n != 4 {
		t.Fatalf("createPost with 3 followers counted %d times, want 4 (operations %v)", n, rep.Operations)
	}
}

// With several virtual users posting as one author, later posts can be
// above a post by the time it reaches the follower's feed: it is still
// there, not missing.
func TestFanoutFindsPostsBelowLaterOnes(t *testing.T) {
	api := &fakeAPI{visibleAfter: 1, newer: 7}
	s, c, ctx := setUpFanout(t, api, 200*time.Millisecond)
	rec := newRecorder(100)
	for range 3 {
		if err := s.Run(ctx, c, 0, rec); err != nil {
			t.Fatal(err)
		}
	}
	vis := rec.report(time.Second, nil).Operations["post_visible_in_follower_feed"]
	if vis.Count != 3 || vis.Errors != 0 || vis.MaxMs >= 200 {
		t.Fatalf("visibility = %+v, want 3 seen well within the 200 ms wait", vis)
	}
}

// A request the client gave up on is at least as slow as its timeout.
func TestTimedOutRequestsCountInLatencies(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body) // so that the server sees the client leave
		if strings.Contains(r.URL.RawQuery, "slow") {
			select {
			case <-r.Context().Done(): // the client gave up
			case <-time.After(5 * time.Second):
			}
			return
		}
		_, _ = io.WriteString(w, `{"data":{"viewer":{"id":"User:1"}}}`)
	}))
	defer srv.Close()
	ctx, rec := context.Background(), newRecorder(100)
	for _, path := range []string{"?fast", "?fast", "?slow"} {
		c := newClient(srv.URL + path)
		c.http.Timeout = 250 * time.Millisecond
		start := time.Now()
		rec.record(ctx, "viewer", start, c.Do(ctx, "", "{ viewer { id } }", nil, nil))
	}
	s := rec.report(time.Second, nil).Operations["viewer"]
	if s.Count != 2 || s.Errors != 1 || s.P99Ms < 250 {
		t.Fatalf("viewer = %+v, want 2 answered, 1 timed out and p99 at least the 250 ms timeout", s)
	}
}

// overrun is a scenario whose iterations run on past the end of the run.
type overrun struct{ d time.Duration }

func (*overrun) Setup(context.Context, *Client, int) error { return nil }

func (o *overrun) Run(ctx context.Context, _ *Client, _ int, rec *recorder) error {
	start := time.Now()
	time.Sleep(o.d)
	rec.record(ctx, "op", start, nil)
	return nil
}

// Operations finishing after the deadline are not counted, so the time spent
// waiting for them is not part of the measured interval either.
func TestDriveMeasuresUntilTheDeadline(t *testing.T) {
	runs := []*scenarioRun{{name: "overrun", vus: 2, s: &overrun{d: 300 * time.Millisecond}}}
	if elapsed := drive(context.Background(), runs, nil, newRecorder(100), 50*time.Millisecond); elapsed != 50*time.Millisecond {
		t.Fatalf("measured %v of a 50ms run", elapsed)
	}
	// A budget spent before the deadline ends the interval early.
	runs[0].s = &overrun{d: 20 * time.Millisecond}
	if elapsed := drive(context.Background(), runs, nil, newRecorder(2), time.Second); elapsed > 500*time.Millisecond {
		t.Fatalf("measured %v of a run whose budget ended after about 20ms", elapsed)
	}
}

// CPU per request divides by the requests the load tool sent, polls
// included, not by the operations it reports.
func TestCPUIsPerRequestSent(t *testing.T) {
	setFollowers(t, 2)
	srv := httptest.NewServer(&fakeAPI{visibleAfter: 2})
	defer srv.Close()
	c, ctx := newClient(srv.URL), context.Background()
	s := &fanoutScenario{}
	if err := s.Setup(ctx, c, 1); err != nil {
		t.Fatal(err)
	}
	sent := c.sent.Load()
	rec := newRecorder(100)
	if err := s.Run(ctx, c, 0, rec); err != nil {
		t.Fatal(err)
	}
	rep := rec.report(time.Second, nil)
	// createPost and three feed reads, for two operations.
	rep.setCPU(map[string]time.Duration{"nova": 40 * time.Millisecond}, c.sent.Load()-sent)
	if u := rep.CPU["nova"]; u.MsPerRequest != 10 {
		t.Fatalf("nova = %+v, want 10 ms per request over 4 requests", u)
	}
}

// An operation that always failed has no latency to show, not 0 ms.
func TestReportOfOnlyFailuresHasNoLatencies(t *testing.T) {
	rec := newRecorder(10)
	rec.observe(context.Background(), "login", time.Millisecond, &OpError{Status: 500})
	rep := rec.report(time.Second, nil)
	b, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(b, []byte("p99Ms")) {
		t.Errorf("JSON gives a p99 for an operation that never succeeded: %s", b)
	}
	var out bytes.Buffer
	rep.print(&out)
	if strings.Contains(out.String(), "0.00") {
		t.Errorf("table gives latencies for an operation that never succeeded:\n%s", out.String())
	}
}

func TestRunRejectsNonsenseFlags(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close() // nothing is sent anywhere
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // a flag let through runs nothing either
	for _, c := range []struct{ flag, value string }{
		{"-max-requests", "0"}, {"-max-requests", "-5"}, {"-warmup", "-1s"}, {"-warmup", "11m"},
	} {
		err := run(ctx, []string{"-url", url, "-scenarios", "register=1", "-duration", "10ms", c.flag, c.value}, io.Discard)
		if err == nil || !strings.Contains(err.Error(), c.flag) {
			t.Errorf("%s %s: got %v, want it refused", c.flag, c.value, err)
		}
	}
	if _, err := parseMix("viewer=4,viewer=8"); err == nil {
		t.Error("parseMix accepted a scenario twice (the report would show one of its user counts)")
	}
}
