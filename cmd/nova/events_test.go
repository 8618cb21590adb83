package main

import (
	"bytes"
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/nova-social/nova/internal/platform/domains"
	"github.com/nova-social/nova/internal/platform/pgtest"
)

func TestEventsCommands(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	vars := map[string]string{"NOVA_DATABASE_URL": db.URL}
	ctx := context.Background()
	pool := db.Pools.For(domains.Events)
	// One logged event, a consumer subscribed to its topic, and a dead letter
	// of it, as the bus would have left them.
	id, _ := uuid.NewV7()
	for _, sql := range []string{
		`INSERT INTO events.domain_events (id, topic, payload, producer) VALUES ($1, 'user.verified', '{"userId": "0193a5b0-0000-7000-8000-000000000001"}', 'user')`,
		`INSERT INTO events.event_subscriptions (consumer, topic) VALUES ('search.users', 'user.verified')`,
		`INSERT INTO events.dead_letter_queue (event_id, consumer, topic, attempts, error) VALUES ($1, 'search.users', 'user.verified', 8, 'index unavailable')`,
	} {
		args := []any{id}
		if !strings.Contains(sql, "$1") {
			args = nil
		}
		if _, err := pool.Exec(ctx, sql, args...); err != nil {
			t.Fatal(err)
		}
	}
	var dlqID int64
	if err := pool.QueryRow(ctx, `SELECT id FROM events.dead_letter_queue`).Scan(&dlqID); err != nil {
		t.Fatal(err)
	}
	jobs := func() int {
		var n int
		if err := pool.QueryRow(ctx, `SELECT count(*) FROM events.river_job`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	nova := func(want int, args ...string) string {
		t.Helper()
		var stdout, stderr bytes.Buffer
		env := &environment{getenv: func(k string) string { return vars[k] }, stdout: &stdout, stderr: &stderr}
		code := run(context.Background(), append([]string{"events"}, args...), env)
		out := stdout.String()
		if code != want {
			t.Fatalf("nova events %v: exit %d, want %d\n%s%s", args, code, want, out, stderr.String())
		}
		return out + stderr.String()
	}

	if out := nova(0, "dlq", "list"); !strings.Contains(out, "search.users") || !strings.Contains(out, "index unavailable") {
		t.Fatalf("dlq list:\n%s", out)
	}
	// A consumer that has no subscription, delivery or dead letter is a typo,
	// not an empty queue.
	if out, want := nova(2, "dlq", "list", "--consumer", "search.user"), "nova events: dlq list: unknown consumer \"search.user\" (consumers: search.users)\n"; out != want {
		t.Fatalf("dlq list --consumer search.user: %q, want %q", out, want)
	}
	if out := nova(0, "dlq", "list", "--consumer", "search.users"); !strings.Contains(out, "index unavailable") {
		t.Fatalf("dlq list --consumer search.users:\n%s", out)
	}
	if out := nova(0, "dlq", "show", itoa(dlqID)); !strings.Contains(out, id.String()) || !strings.Contains(out, `"userId"`) {
		t.Fatalf("dlq show:\n%s", out)
	}
	if out := nova(0, "stats"); !strings.Contains(out, "user.verified") || !strings.Contains(out, "search.users") {
		t.Fatalf("stats:\n%s", out)
	}
	nova(0, "dlq", "retry", itoa(dlqID))
	if jobs() != 1 {
		t.Fatalf("jobs after dlq retry = %d", jobs())
	}
	nova(1, "dlq", "show", itoa(dlqID))
	nova(2, "dlq", "retry")
	nova(2, "dlq", "show", "abc")
	if out, want := nova(2, "dlq", "retry", "0"), "nova events: dead letter id \"0\" must be a positive number\n"; !strings.HasSuffix(out, want) {
		t.Fatalf("dlq retry 0: %q, want it to end with %q", out, want)
	}
	nova(2, "replay")
	if out, want := nova(2, "replay", "--consumer", "search.nobody"), "nova events: replay: no consumer \"search.nobody\" is subscribed to any topic\n"; out != want {
		t.Fatalf("replay of an unknown consumer: %q, want %q", out, want)
	}
	if out, want := nova(2, "replay", "--consumer", "search.users", "--topic", "user.banned"), "nova events: replay: consumer \"search.users\" is not subscribed to \"user.banned\"\n"; out != want {
		t.Fatalf("replay of a topic the consumer lacks: %q, want %q", out, want)
	}
	if out := nova(0, "replay", "--consumer", "search.users", "--since", "1h"); !strings.Contains(out, "1 events") {
		t.Fatalf("replay:\n%s", out)
	}
	if out := nova(0, "replay", "--consumer", "search.users", "--topic", "user.verified", "--since", "2999-01-01"); !strings.Contains(out, "0 events") {
		t.Fatalf("replay from the future:\n%s", out)
	}
	if jobs() != 2 {
		t.Fatalf("jobs after replay = %d", jobs())
	}
	if _, err := pool.Exec(ctx, `INSERT INTO events.dead_letter_queue (event_id, consumer, topic, attempts, error) VALUES ($1, 'search.users', 'user.verified', 1, 'x')`, id); err != nil {
		t.Fatal(err)
	}
	if out := nova(0, "dlq", "purge", "--older-than", "1h"); !strings.Contains(out, "0 dead letters") {
		t.Fatalf("purge --older-than 1h:\n%s", out)
	}
	if out := nova(0, "dlq", "purge"); !strings.Contains(out, "1 dead letters") {
		t.Fatalf("purge:\n%s", out)
	}
	nova(2, "sideways")
	nova(2, "stats", "--all")
}

func TestParseSince(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Time{
		"2026-04-30T10:00:00Z": time.Date(2026, 4, 30, 10, 0, 0, 0, time.UTC),
		"2026-04-30":           time.Date(2026, 4, 30, 0, 0, 0, 0, time.UTC),
		"90m":                  now.Add(-90 * time.Minute),
	} {
		got, err := parseSince(in, now)
		if err != nil || !got.Equal(want) {
			t.Errorf("parseSince(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	if _, err := parseSince("yesterday", now); err == nil {
		t.Error("parseSince(yesterday) succeeded")
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// TestEventsDLQListSaysWhenCut: a list cut at --limit says so, rather than
// passing for the whole queue.
func TestEventsDLQListSaysWhenCut(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	ctx := context.Background()
	pool := db.Pools.For(domains.Events)
	id, _ := uuid.NewV7()
	if _, err := pool.Exec(ctx, `INSERT INTO events.domain_events (id, topic, payload, producer) VALUES ($1, 'user.verified', '{}', 'user')`, id); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `INSERT INTO events.dead_letter_queue (event_id, consumer, topic, attempts, error)
		SELECT $1, 'search.users', 'user.verified', 8, 'failure ' || i FROM generate_series(1, 3) AS i`, id); err != nil {
		t.Fatal(err)
	}
	list := func(args ...string) (string, string) {
		t.Helper()
		var stdout, stderr bytes.Buffer
		env := &environment{getenv: func(k string) string { return map[string]string{"NOVA_DATABASE_URL": db.URL}[k] }, stdout: &stdout, stderr: &stderr}
		if code := run(ctx, append([]string{"events", "dlq", "list"}, args...), env); code != 0 {
			t.Fatalf("dlq list %v: exit %d\n%s%s", args, code, stdout.String(), stderr.String())
		}
		return stdout.String(), stderr.String()
	}
	out, errOut := list("--limit", "2")
	if !strings.Contains(out, "failure 2") || strings.Contains(out, "failure 3") {
		t.Fatalf("dlq list --limit 2:\n%s", out)
	}
	if !strings.Contains(errOut, "more") || !strings.Contains(errOut, "--limit") {
		t.Fatalf("dlq list --limit 2 did not say the list was cut: %q", errOut)
	}
	if _, errOut := list("--limit", "3"); errOut != "" {
		t.Fatalf("dlq list --limit 3 of 3: %q", errOut)
	}
	var stdout, stderr bytes.Buffer
	env := &environment{getenv: func(string) string { return "" }, stdout: &stdout, stderr: &stderr}
	if code := run(ctx, []string{"events", "dlq", "list", "--limit", "9223372036854775807"}, env); code != 2 {
		t.Fatalf("dlq list with a limit past any queue: exit %d, want 2\n%s", code, stderr.String())
	}
}
