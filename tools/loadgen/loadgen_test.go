package main

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
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

func TestDoReportsErrorsWithoutDecodingCleanResponses(t *testing.T) {
	for _, c := range []struct {
		status int
		body   string
		code   string // "" for success
	}{
		{200, `{"data":{"feed":{"edges":[]}}}`, ""},
		{200, `{"data":{"post":{"body":"say \"errors\" twice"}}}`, ""},
		{200, `{"errors":[{"message":"no","extensions":{"code":"FORBIDDEN"}}],"data":null}`, "FORBIDDEN"},
		{200, `{"data":{"post":null},"errors":[{"message":"no","extensions":{"code":"NOT_FOUND"}}]}`, "NOT_FOUND"},
		{200, `{"data":`, "HTTP_200"},
		{502, `{"data":{}}`, "HTTP_502"},
	} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(c.status)
			_, _ = io.WriteString(w, c.body)
		}))
		err := newClient(srv.URL).Do(context.Background(), "", "{ x }", nil, nil)
		srv.Close()
		var opErr *OpError
		switch {
		case c.code == "" && err != nil:
			t.Errorf("%d %s: %v", c.status, c.body, err)
		case c.code != "" && (!errors.As(err, &opErr) || opErr.Code() != c.code):
			t.Errorf("%d %s: got %v, want %s", c.status, c.body, err, c.code)
		}
	}
}
