package main

import (
	"bytes"
	"context"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/nova-social/nova/internal/events"
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
	if _, err := pool.Exec(ctx, `INSERT INTO events.dead_letter_queue (event_id, consumer, topic, attempts, error) VALUES ($1, 'search.users', 'user.verified', 1, 'x'), ($1, 'search.posts', 'user.verified', 1, 'y')`, id); err != nil {
		t.Fatal(err)
	}
	if out := nova(0, "dlq", "purge", "--older-than", "1h"); !strings.Contains(out, "0 dead letters") {
		t.Fatalf("purge --older-than 1h:\n%s", out)
	}
	nova(2, "dlq", "purge", "--consumer", "search.nobody")
	if out, want := nova(0, "dlq", "purge", "--consumer", "search.users"), "1 dead letters of search.users purged\n"; out != want {
		t.Fatalf("purge --consumer: %q, want %q", out, want)
	}
	if out := nova(0, "dlq", "purge"); !strings.Contains(out, "1 dead letters") {
		t.Fatalf("purge:\n%s", out)
	}
	nova(2, "unsubscribe")
	if out, want := nova(2, "unsubscribe", "--consumer", "search.nobody"), "nova events: unsubscribe: no consumer \"search.nobody\" is subscribed to any topic\n"; out != want {
		t.Fatalf("unsubscribe of an unknown consumer: %q, want %q", out, want)
	}
	// Recorded just now, as by a running replica: kept.
	if out := nova(1, "unsubscribe", "--consumer", "search.users"); !strings.Contains(out, "within the last 5m0s, so it may still run") {
		t.Fatalf("unsubscribe of a consumer a replica recorded lately:\n%s", out)
	}
	// A topic the consumer's code dropped an hour ago goes; the one it
	// still records stays.
	for _, sql := range []string{
		`INSERT INTO events.event_subscriptions (consumer, topic) VALUES ('search.users', 'user.banned')`,
		`UPDATE events.event_subscriptions SET seen_at = now() - interval '1 hour' WHERE topic = 'user.verified'`,
	} {
		if _, err := pool.Exec(ctx, sql); err != nil {
			t.Fatal(err)
		}
	}
	if out, want := nova(1, "unsubscribe", "--consumer", "search.users"), "unsubscribed search.users from user.verified; deliveries already queued end in the dead-letter queue\n"+
		"nova events: unsubscribe: kept search.users's subscription to user.banned: a replica recorded it within the last 5m0s, so it may still run\n"; out != want {
		t.Fatalf("unsubscribe of a consumer with a dropped topic: %q, want %q", out, want)
	}
	if _, err := pool.Exec(ctx, `UPDATE events.event_subscriptions SET seen_at = now() - interval '1 hour'`); err != nil {
		t.Fatal(err)
	}
	if out, want := nova(0, "unsubscribe", "--consumer", "search.users", "--topic", "user.banned"), "unsubscribed search.users from user.banned; deliveries already queued end in the dead-letter queue\n"; out != want {
		t.Fatalf("unsubscribe --topic: %q, want %q", out, want)
	}
	nova(2, "unsubscribe", "--consumer", "search.users")
	nova(2, "sideways")
	nova(2, "stats", "--all")
}

func TestParseSince(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]events.Since{
		"2026-04-30T10:00:00Z": events.SinceTime(time.Date(2026, 4, 30, 10, 0, 0, 0, time.UTC)),
		"2026-04-30":           events.SinceTime(time.Date(2026, 4, 30, 0, 0, 0, 0, time.UTC)),
		"90m":                  events.SinceAgo(90 * time.Minute),
		"0s":                   events.SinceAgo(0),
	} {
		got, err := parseSince(in)
		if err != nil || got != want {
			t.Errorf("parseSince(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	if _, err := parseSince("yesterday"); err == nil {
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

// novaEvents runs `nova events args…` on the database at url, fails t
// unless it exits with want, and returns its stdout and stderr.
func novaEvents(t *testing.T, url string, want int, args ...string) (string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	env := &environment{getenv: func(k string) string { return map[string]string{"NOVA_DATABASE_URL": url}[k] }, stdout: &stdout, stderr: &stderr}
	if code := run(context.Background(), append([]string{"events"}, args...), env); code != want {
		t.Fatalf("nova events %v: exit %d, want %d\n%s%s", args, code, want, stdout.String(), stderr.String())
	}
	return stdout.String(), stderr.String()
}

// addDeadLetters logs n user.verified events, each dead-lettered to
// consumer, and returns their ids in the order of the dead letters.
func addDeadLetters(t *testing.T, db *pgtest.DB, consumer string, n int) []string {
	t.Helper()
	rows, err := db.Pools.For(domains.Events).Query(context.Background(), `WITH e AS (
    INSERT INTO events.domain_events (id, topic, payload, producer)
    SELECT gen_random_uuid(), 'user.verified', '{}', 'user' FROM generate_series(1, $2)
    RETURNING id)
INSERT INTO events.dead_letter_queue (event_id, consumer, topic, attempts, error)
SELECT id, $1, 'user.verified', 8, 'failed' FROM e
RETURNING event_id::text`, consumer, n)
	if err != nil {
		t.Fatal(err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

// TestEventsDLQRetryAllOfOneConsumer: after fixing one consumer, the
// operator retries its dead letters only; a misspelt consumer is refused,
// and a retry that fails part way says how many it queued.
func TestEventsDLQRetryAllOfOneConsumer(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	ctx := context.Background()
	pool := db.Pools.For(domains.Events)
	addDeadLetters(t, db, "search.users", 2)
	addDeadLetters(t, db, "content.feeds", 3)
	dead := func(consumer string) int {
		var n int
		if err := pool.QueryRow(ctx, `SELECT count(*) FROM events.dead_letter_queue WHERE consumer = $1`, consumer).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	_, errOut := novaEvents(t, db.URL, 2, "dlq", "retry", "--all", "--consumer", "search.user")
	if want := "nova events: dlq retry: unknown consumer \"search.user\" (consumers: content.feeds, search.users)\n"; errOut != want {
		t.Fatalf("dlq retry --all --consumer search.user: %q, want %q", errOut, want)
	}
	novaEvents(t, db.URL, 2, "dlq", "retry", "1", "--consumer", "search.users")
	novaEvents(t, db.URL, 2, "dlq", "retry", "--consumer", "search.users")
	if out, _ := novaEvents(t, db.URL, 0, "dlq", "retry", "--all", "--consumer", "search.users"); out != "2 dead letters of search.users queued for delivery\n" {
		t.Fatalf("dlq retry --all --consumer search.users: %q", out)
	}
	if dead("search.users") != 0 || dead("content.feeds") != 3 {
		t.Fatalf("dead letters left: search.users %d, content.feeds %d; want 0 and 3", dead("search.users"), dead("content.feeds"))
	}

	// A page of 1,000 is queued; the next one fails.
	ids := addDeadLetters(t, db, "content.feeds", 1000)
	for _, sql := range []string{
		`CREATE FUNCTION events.t_refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
			IF NEW.args->>'event_id' = '` + ids[len(ids)-1] + `' THEN RAISE EXCEPTION 'refused'; END IF; RETURN NEW; END $$`,
		`CREATE TRIGGER t_refuse BEFORE INSERT ON events.river_job FOR EACH ROW EXECUTE FUNCTION events.t_refuse()`,
	} {
		if _, err := pool.Exec(ctx, sql); err != nil {
			t.Fatal(err)
		}
	}
	out, errOut := novaEvents(t, db.URL, 1, "dlq", "retry", "--all")
	if out != "1000 dead letters queued for delivery before the failure\n" || !strings.Contains(errOut, "refused") {
		t.Fatalf("dlq retry --all failing part way:\n%s%s", out, errOut)
	}
	if dead("content.feeds") != 3 {
		t.Fatalf("dead letters left = %d, want 3", dead("content.feeds"))
	}
}

// TestEventsDLQOutputEscapesControlCharacters: an error message or payload
// carrying user data cannot send the operator's terminal escape sequences
// (or reorder the text it shows); the payload stays indented JSON.
func TestEventsDLQOutputEscapesControlCharacters(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	ctx := context.Background()
	pool := db.Pools.For(domains.Events)
	const (
		evil    = "\x1b[31mred\x1b[0m\a\r\x7f\u009b2J\u202eevil"
		escaped = `\x1b[31mred\x1b[0m\a\r\x7f\u009b2J\u202eevil`
	)
	var dlqID int64
	err := pool.QueryRow(ctx, `WITH e AS (
    INSERT INTO events.domain_events (id, topic, payload, producer, request_id)
    VALUES (gen_random_uuid(), 'user.verified' || $1, jsonb_build_object('userId', 'u', 'name', $1::text), 'user' || $1, 'req' || $1)
    RETURNING id, topic)
INSERT INTO events.dead_letter_queue (event_id, consumer, topic, attempts, error)
SELECT id, 'search.users' || $1, topic, 8, 'name ' || $1 || E'\nline 2\tend' FROM e
RETURNING id`, evil).Scan(&dlqID)
	if err != nil {
		t.Fatal(err)
	}
	unsafe := func(s string) string {
		for _, r := range s {
			if r != '\n' && (unicode.IsControl(r) || !strconv.IsGraphic(r)) {
				return strconv.QuoteRune(r)
			}
		}
		return ""
	}
	show, _ := novaEvents(t, db.URL, 0, "dlq", "show", itoa(dlqID))
	list, _ := novaEvents(t, db.URL, 0, "dlq", "list")
	st, _ := novaEvents(t, db.URL, 0, "stats")
	for name, out := range map[string]string{"dlq show": show, "dlq list": list, "stats": st} {
		if r := unsafe(out); r != "" {
			t.Errorf("%s printed %s:\n%s", name, r, out)
		}
		if !strings.Contains(out, "search.users"+escaped) {
			t.Errorf("%s does not show the consumer escaped:\n%s", name, out)
		}
	}
	for _, want := range []string{
		"topic:       user.verified" + escaped + "\n",
		"producer:    user" + escaped + "\n",
		"request id:  req" + escaped + "\n",
		"error:       name " + escaped + `\nline 2\tend` + "\n",
		// Postgres escapes C0 controls in JSON; the rest is escaped the JSON
		// way too, so the payload stays valid JSON.
		"payload:\n  {\n    " + `"name": "\u001b[31mred\u001b[0m\u0007\r\u007f\u009b2J\u202eevil",` + "\n    \"userId\": \"u\"\n  }\n",
	} {
		if !strings.Contains(show, want) {
			t.Errorf("dlq show lacks %q:\n%s", want, show)
		}
	}
	// A table cell is one line: whitespace (\r too) runs become a space.
	if !strings.Contains(list, "name "+strings.Replace(escaped, `\r`, " ", 1)+" line 2 end") {
		t.Errorf("dlq list does not show the error on one line, escaped:\n%s", list)
	}
}

// TestEventsCutoffsFollowTheDatabaseClock: purge --older-than and replay
// --since with a duration measure it back from the database's clock, so an
// operator machine whose clock is a day fast purges and replays the same
// range as a correct one. The test database's now() is set back a day.
func TestEventsCutoffsFollowTheDatabaseClock(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	ctx := context.Background()
	for _, sql := range []string{
		`CREATE SCHEMA clock`,
		`CREATE FUNCTION clock.now() RETURNS timestamptz LANGUAGE sql STABLE AS $$ SELECT pg_catalog.now() - interval '1 day' $$`,
		`GRANT USAGE ON SCHEMA clock TO PUBLIC`,
		`DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET search_path = clock, pg_catalog, "$user", public', current_database()); END $$`,
	} {
		if _, err := db.Pools.Login().Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	pool := db.Pools.For(domains.Events)
	// By the database's clock: one event and its dead letter 2 hours old,
	// one of each 30 minutes old.
	if _, err := pool.Exec(ctx, `WITH e AS (
    INSERT INTO events.domain_events (id, topic, payload, producer, occurred_at)
    SELECT gen_random_uuid(), 'user.verified', '{}', 'user', clock.now() - age
    FROM unnest(ARRAY[interval '2 hours', interval '30 minutes']) AS age
    RETURNING id, occurred_at)
INSERT INTO events.dead_letter_queue (event_id, consumer, topic, attempts, error, failed_at)
SELECT id, 'search.users', 'user.verified', 8, 'failed', occurred_at FROM e`); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `INSERT INTO events.event_subscriptions (consumer, topic) VALUES ('search.users', 'user.verified')`); err != nil {
		t.Fatal(err)
	}
	if out, _ := novaEvents(t, db.URL, 0, "dlq", "purge", "--older-than", "1h"); out != "1 dead letters purged\n" {
		t.Fatalf("purge --older-than 1h: %q, want the one dead letter 2 hours old purged", out)
	}
	if out, _ := novaEvents(t, db.URL, 0, "replay", "--consumer", "search.users", "--since", "1h"); out != "1 events queued for redelivery to search.users\n" {
		t.Fatalf("replay --since 1h: %q, want the one event 30 minutes old", out)
	}
}

// TestEventsEmptyFlagValuesAreRefused: an empty --consumer or --topic (a
// shell variable left unset) is refused, not taken as no flag at all, which
// would widen the command to every consumer or every topic.
func TestEventsEmptyFlagValuesAreRefused(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	ctx := context.Background()
	pool := db.Pools.For(domains.Events)
	addDeadLetters(t, db, "search.users", 2)
	addDeadLetters(t, db, "content.feeds", 3)
	if _, err := pool.Exec(ctx, `INSERT INTO events.event_subscriptions (consumer, topic) VALUES ('search.users', 'user.verified'), ('search.users', 'user.banned')`); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"dlq", "retry", "--all", "--consumer", ""},
		{"dlq", "retry", "--all", "--consumer="},
		{"dlq", "list", "--consumer", ""},
		{"replay", "--consumer", "search.users", "--topic", ""},
		{"replay", "--consumer", "search.users", "--topic="},
	} {
		_, errOut := novaEvents(t, db.URL, 2, args...)
		if !strings.Contains(errOut, "needs a value") {
			t.Errorf("nova events %q: %q, want it to say the flag needs a value", args, errOut)
		}
	}
	var dead, jobs int
	if err := pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM events.dead_letter_queue), (SELECT count(*) FROM events.river_job)`).Scan(&dead, &jobs); err != nil {
		t.Fatal(err)
	}
	if dead != 5 || jobs != 0 {
		t.Fatalf("after the refused commands: %d dead letters and %d jobs, want 5 and 0", dead, jobs)
	}
}
