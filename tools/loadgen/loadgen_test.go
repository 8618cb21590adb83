package main

import (
	"context"
	"testing"
	"time"
)

func TestCheckLoopback(t *testing.T) {
	for _, u := range []string{"http://127.0.0.1:8080/graphql", "http://localhost/graphql", "http://[::1]:9/graphql", "http://127.3.2.1/graphql"} {
		if err := checkLoopback(u); err != nil {
			t.Errorf("%s refused: %v", u, err)
		}
	}
	for _, u := range []string{"http://10.0.0.1/graphql", "http://example.com/graphql", "ftp://127.0.0.1/", "http://192.168.1.2/"} {
		if err := checkLoopback(u); err == nil {
			t.Errorf("%s accepted", u)
		}
	}
}

func TestParseMix(t *testing.T) {
	mix, err := parseMix("viewer=64, login=16,register")
	if err != nil || len(mix) != 3 || mix[0].vus != 64 || mix[1].name != "login" || mix[2].vus != 1 {
		t.Fatalf("parseMix = %+v, %v", mix, err)
	}
	for _, bad := range []string{"nope=1", "viewer=0", "viewer=x", "viewer=3000"} {
		if _, err := parseMix(bad); err == nil {
			t.Errorf("parseMix(%q) accepted", bad)
		}
	}
}

func TestPercentilesAndBudget(t *testing.T) {
	var l []time.Duration
	for i := 1; i <= 100; i++ {
		l = append(l, time.Duration(i)*time.Millisecond)
	}
	if pct(l, 50) != 50*time.Millisecond || pct(l, 99) != 99*time.Millisecond || pct(l[:1], 99) != time.Millisecond {
		t.Fatalf("pct: %v %v", pct(l, 50), pct(l, 99))
	}
	r := newRecorder(2)
	if !r.take() || !r.take() || r.take() {
		t.Fatal("budget of 2 requests not enforced")
	}
	r.observe(context.Background(), "op", 3*time.Millisecond, nil)
	r.observe(context.Background(), "op", time.Millisecond, &OpError{Status: 401})
	rep := r.report(time.Second, []mixEntry{{"viewer", 1}})
	if s := rep.Operations["op"]; s.Count != 1 || s.Errors != 1 || s.P99Ms != 3 || rep.Errors["op: HTTP_401"] != 1 {
		t.Fatalf("report = %+v", rep)
	}
}
