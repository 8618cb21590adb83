package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/nova-social/nova/internal/events"
	"github.com/nova-social/nova/internal/platform/config"
	"github.com/nova-social/nova/internal/platform/domains"
	"github.com/nova-social/nova/internal/platform/postgres"
)

const eventsUsage = `Usage: nova events <subcommand> [flags] [configuration flags]

  dlq list [--consumer C] [--limit N]   list dead letters, oldest first
  dlq show ID                           show one dead letter with its event
  dlq retry ID | --all [--consumer C]   deliver dead letters again (after fixing the consumer),
                                        all of them or all of C's, 1,000 per transaction
  dlq purge [--older-than DURATION] [--consumer C]
                                        delete dead letters (all, or C's, or those older than
                                        DURATION by the database's clock)
  replay --consumer C [--topic T] [--since TIME]
                                        re-deliver logged events to C to rebuild its projection;
                                        TIME is RFC 3339, a date (2006-01-02, from midnight UTC) or a
                                        duration ago by the database's clock (24h)
  stats                                 events published per topic, backlog per consumer
  unsubscribe --consumer C [--topic T]  stop delivering to a consumer (or one of its topics) that the
                                        code no longer has: removes the subscriptions no running
                                        replica has recorded for 5 minutes`

// maxListLimit bounds dlq list: each dead letter is read with its payload.
const maxListLimit = 10000

// eventsArgs is a parsed `nova events` command line: the subcommand's words
// and flags; anything else is configuration (--database-url …).
type eventsArgs struct {
	words    []string
	flags    map[string]string
	settings []string
}

// eventsFlags are the subcommand flags; true marks a flag taking a value.
var eventsFlags = map[string]bool{"consumer": true, "limit": true, "all": false, "older-than": true, "topic": true, "since": true}

func parseEventsArgs(args []string) (eventsArgs, error) {
	p := eventsArgs{flags: map[string]string{}}
	// The subcommand's words come first, then flags in any order.
	for len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		p.words, args = append(p.words, args[0]), args[1:]
	}
	for i := 0; i < len(args); i++ {
		a := args[i]
		name, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		takesValue, ok := eventsFlags[name]
		if !ok || !strings.HasPrefix(a, "-") {
			// Configuration flags (and their values) go to config.Load.
			p.settings = append(p.settings, a)
			continue
		}
		switch {
		case !takesValue && hasValue:
			return p, usageError{fmt.Sprintf("flag --%s takes no value", name)}
		case !takesValue:
			value = "true"
		case !hasValue && i+1 < len(args):
			value = args[i+1]
			i++
		case !hasValue:
			return p, usageError{fmt.Sprintf("flag --%s needs a value", name)}
		}
		// An empty value (a shell variable left unset) would read as no
		// flag at all and widen --consumer or --topic to every one.
		if takesValue && value == "" {
			return p, usageError{fmt.Sprintf("flag --%s needs a value", name)}
		}
		p.flags[name] = value
	}
	return p, nil
}

func runEvents(ctx context.Context, env *environment, args []string) error {
	for _, a := range args {
		if a == "-h" || a == "--help" || a == "-help" {
			fmt.Fprintln(env.stdout, eventsUsage)
			return flag.ErrHelp
		}
	}
	p, err := parseEventsArgs(args)
	if err != nil {
		return err
	}
	run, err := eventsSubcommand(p)
	if err != nil {
		fmt.Fprintln(env.stderr, eventsUsage)
		return err
	}
	cfg, err := config.Load("nova events", p.settings, env.getenv, env.stderr)
	if err != nil {
		return err
	}
	pools, err := postgres.Open(ctx, postgres.Options{URL: cfg.DatabaseURL, PerDomain: cfg.DomainDBURLs, MaxConns: 2})
	if err != nil {
		return err
	}
	defer pools.Close()
	return run(ctx, env, events.NewAdmin(pools.For(domains.Events), cfg.EventMaxAttempts))
}

type eventsRun func(ctx context.Context, env *environment, admin *events.Admin) error

// eventsSubcommand validates the command line before anything connects.
func eventsSubcommand(p eventsArgs) (eventsRun, error) {
	words := strings.Join(p.words, " ")
	allowed := func(names ...string) error {
		for f := range p.flags {
			if !contains(names, f) {
				return usageError{fmt.Sprintf("nova events %s does not take --%s", words, f)}
			}
		}
		return nil
	}
	switch {
	case words == "dlq list":
		limit := 100
		if v, ok := p.flags["limit"]; ok {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > maxListLimit {
				return nil, usageError{fmt.Sprintf("--limit must be a number from 1 to %d", maxListLimit)}
			}
			limit = n
		}
		return dlqList(p.flags["consumer"], limit), allowed("consumer", "limit")
	case len(p.words) == 3 && p.words[0] == "dlq" && (p.words[1] == "show" || p.words[1] == "retry"):
		id, err := strconv.ParseInt(p.words[2], 10, 64)
		if err != nil || id < 1 {
			return nil, usageError{fmt.Sprintf("dead letter id %q must be a positive number", p.words[2])}
		}
		if p.words[1] == "show" {
			return dlqShow(id), allowed()
		}
		return dlqRetry(id), allowed()
	case words == "dlq retry" && p.flags["all"] == "true":
		return dlqRetryAll(p.flags["consumer"]), allowed("all", "consumer")
	case words == "dlq purge":
		var olderThan time.Duration
		if v, ok := p.flags["older-than"]; ok {
			d, err := time.ParseDuration(v)
			if err != nil || d < 0 {
				return nil, usageError{fmt.Sprintf("--older-than %q is not a duration", v)}
			}
			olderThan = d
		}
		return dlqPurge(olderThan, p.flags["consumer"]), allowed("older-than", "consumer")
	case words == "replay":
		consumer := p.flags["consumer"]
		if consumer == "" {
			return nil, usageError{"replay needs --consumer"}
		}
		var since events.Since
		if v, ok := p.flags["since"]; ok {
			t, err := parseSince(v)
			if err != nil {
				return nil, err
			}
			since = t
		}
		return replay(consumer, events.Topic(p.flags["topic"]), since), allowed("consumer", "topic", "since")
	case words == "stats":
		return stats, allowed()
	case words == "unsubscribe":
		consumer := p.flags["consumer"]
		if consumer == "" {
			return nil, usageError{"unsubscribe needs --consumer"}
		}
		return unsubscribe(consumer, events.Topic(p.flags["topic"])), allowed("consumer", "topic")
	case words == "dlq retry":
		return nil, usageError{"dlq retry needs an ID or --all"}
	case words == "dlq show":
		return nil, usageError{"dlq show needs an ID"}
	default:
		return nil, usageError{fmt.Sprintf("unknown subcommand %q", words)}
	}
}

// parseSince reads --since: RFC 3339, a date, or a duration before the
// database's now.
func parseSince(v string) (events.Since, error) {
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return events.SinceTime(t), nil
	}
	if t, err := time.ParseInLocation(time.DateOnly, v, time.UTC); err == nil {
		return events.SinceTime(t), nil
	}
	if d, err := time.ParseDuration(v); err == nil && d >= 0 {
		return events.SinceAgo(d), nil
	}
	return events.Since{}, usageError{fmt.Sprintf("--since %q: want RFC 3339 time, a date (2006-01-02) or a duration (24h)", v)}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func dlqList(consumer string, limit int) eventsRun {
	return func(ctx context.Context, env *environment, admin *events.Admin) error {
		if consumer != "" {
			if err := knownConsumer(ctx, admin, "dlq list", consumer); err != nil {
				return err
			}
		}
		// One more than asked tells whether the list was cut.
		dls, err := admin.DeadLetters(ctx, consumer, limit+1)
		if err != nil {
			return err
		}
		cut := len(dls) > limit
		if cut {
			dls = dls[:limit]
		}
		tw := tabwriter.NewWriter(env.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tFAILED AT\tCONSUMER\tTOPIC\tEVENT\tATTEMPTS\tERROR")
		for _, d := range dls {
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%d\t%s\n", d.ID, d.FailedAt.UTC().Format(time.RFC3339), printable(d.Consumer), printable(string(d.Topic)), d.EventID, d.Attempts, oneLine(d.Error, 80))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		if cut {
			fmt.Fprintf(env.stderr, "the oldest %d dead letters shown, there are more (raise --limit, or see their number in nova events stats)\n", limit)
		}
		return nil
	}
}

// knownConsumer refuses a consumer the bus has never heard of (no
// subscription, delivery or dead letter), so that a misspelt name is not
// mistaken for an empty queue.
func knownConsumer(ctx context.Context, admin *events.Admin, command, consumer string) error {
	names, err := admin.Consumers(ctx)
	if err != nil {
		return err
	}
	if slices.Contains(names, consumer) {
		return nil
	}
	return usageError{fmt.Sprintf("%s: unknown consumer %q (consumers: %s)", command, consumer, printable(strings.Join(names, ", ")))}
}

func dlqShow(id int64) eventsRun {
	return func(ctx context.Context, env *environment, admin *events.Admin) error {
		d, err := admin.DeadLetter(ctx, id)
		if err != nil {
			return err
		}
		var payload bytes.Buffer
		if err := json.Indent(&payload, d.Payload, "  ", "  "); err != nil {
			payload.Reset()
			payload.Write(d.Payload)
		}
		fmt.Fprintf(env.stdout, "id:          %d\nconsumer:    %s\ntopic:       %s\nevent:       %s\nproducer:    %s\noccurred at: %s\nrequest id:  %s\nfailed at:   %s\nattempts:    %d\nreplay:      %t\nerror:       %s\npayload:\n  %s\n",
			d.ID, printable(d.Consumer), printable(string(d.Topic)), d.EventID, printable(d.Producer), d.OccurredAt.UTC().Format(time.RFC3339Nano), printable(d.RequestID),
			d.FailedAt.UTC().Format(time.RFC3339Nano), d.Attempts, d.Replay, printable(d.Error), printableJSON(payload.String()))
		return nil
	}
}

func dlqRetry(id int64) eventsRun {
	return func(ctx context.Context, env *environment, admin *events.Admin) error {
		if err := admin.RetryDeadLetter(ctx, id); err != nil {
			return err
		}
		fmt.Fprintf(env.stdout, "dead letter %d queued for delivery\n", id)
		return nil
	}
}

// dlqRetryAll retries the dead letters of consumer, or of all when empty.
func dlqRetryAll(consumer string) eventsRun {
	return func(ctx context.Context, env *environment, admin *events.Admin) error {
		what := "dead letters"
		if consumer != "" {
			if err := knownConsumer(ctx, admin, "dlq retry", consumer); err != nil {
				return err
			}
			what += " of " + consumer
		}
		n, err := admin.RetryAllDeadLetters(ctx, consumer)
		return reportQueued(env, n, err, what+" queued for delivery", "")
	}
}

// reportQueued prints how many items a command working in pages queued
// (what they were), also when it failed part way, then with advice, and
// returns its error.
func reportQueued(env *environment, n int64, err error, what, advice string) error {
	switch {
	case err == nil:
		fmt.Fprintf(env.stdout, "%d %s\n", n, what)
	case n > 0:
		fmt.Fprintf(env.stdout, "%d %s before the failure%s\n", n, what, advice)
	}
	return err
}

func dlqPurge(olderThan time.Duration, consumer string) eventsRun {
	return func(ctx context.Context, env *environment, admin *events.Admin) error {
		what := "dead letters"
		if consumer != "" {
			if err := knownConsumer(ctx, admin, "dlq purge", consumer); err != nil {
				return err
			}
			what += " of " + consumer
		}
		n, err := admin.PurgeDeadLetters(ctx, olderThan, consumer)
		if err != nil {
			return err
		}
		fmt.Fprintf(env.stdout, "%d %s purged\n", n, what)
		return nil
	}
}

func replay(consumer string, topic events.Topic, since events.Since) eventsRun {
	return func(ctx context.Context, env *environment, admin *events.Admin) error {
		n, err := admin.Replay(ctx, consumer, topic, since)
		switch {
		case errors.Is(err, events.ErrNotFound) && topic == "":
			return usageError{fmt.Sprintf("replay: no consumer %q is subscribed to any topic", consumer)}
		case errors.Is(err, events.ErrNotFound):
			return usageError{fmt.Sprintf("replay: consumer %q is not subscribed to %q", consumer, topic)}
		}
		return reportQueued(env, n, err, "events queued for redelivery to "+consumer, "; clear the projection again before replaying again")
	}
}

func unsubscribe(consumer string, topic events.Topic) eventsRun {
	return func(ctx context.Context, env *environment, admin *events.Admin) error {
		removed, kept, err := admin.Unsubscribe(ctx, consumer, topic)
		switch {
		case errors.Is(err, events.ErrNotFound) && topic == "":
			return usageError{fmt.Sprintf("unsubscribe: no consumer %q is subscribed to any topic", consumer)}
		case errors.Is(err, events.ErrNotFound):
			return usageError{fmt.Sprintf("unsubscribe: consumer %q is not subscribed to %q", consumer, topic)}
		case err != nil:
			return err
		}
		if len(removed) > 0 {
			fmt.Fprintf(env.stdout, "unsubscribed %s from %s; deliveries already queued end in the dead-letter queue\n", printable(consumer), topicList(removed))
		}
		if len(kept) > 0 {
			return fmt.Errorf("unsubscribe: kept %s's subscription to %s: a replica recorded it within the last %v, so it may still run", printable(consumer), topicList(kept), events.SubscriptionsStaleAfter)
		}
		return nil
	}
}

// topicList joins topics for a message, escaping what a terminal would act on.
func topicList(topics []events.Topic) string {
	names := make([]string, len(topics))
	for i, t := range topics {
		names[i] = printable(string(t))
	}
	return strings.Join(names, ", ")
}

func stats(ctx context.Context, env *environment, admin *events.Admin) error {
	st, err := admin.Stats(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(env.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TOPIC\tPUBLISHED\tLAST")
	for _, t := range st.Topics {
		fmt.Fprintf(tw, "%s\t%d\t%s\n", printable(string(t.Topic)), t.Published, t.Last.UTC().Format(time.RFC3339))
	}
	fmt.Fprintln(tw)
	fmt.Fprintln(tw, "CONSUMER\tTOPICS\tPENDING\tRUNNING\tFAILED\tDEAD\tOLDEST PENDING")
	for _, c := range st.Consumers {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%s\n", printable(c.Consumer), c.Topics, c.Pending, c.Running, c.Failed, c.Dead, c.OldestPending.Round(time.Millisecond))
	}
	return tw.Flush()
}

// oneLine shortens stored text to one printable line of at most n runes for
// a table cell: runs of whitespace become one space.
func oneLine(s string, n int) string {
	s = printable(strings.Join(strings.Fields(s), " "))
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

// printable shows stored text, which may carry user data, safely on the
// operator's terminal: control and other non-graphic characters (escape
// sequences, bidirectional overrides) and bytes that are not UTF-8 are
// escaped as in a Go string literal (\x1b, \u202e).
func printable(s string) string {
	return escapeNonGraphic(s, "", func(r rune) string {
		q := strconv.QuoteRune(r)
		return q[1 : len(q)-1]
	})
}

// printableJSON is printable for indented JSON: its newlines are the
// layout's, and it escapes as JSON does (\u202e), so that the payload stays
// valid JSON (Postgres has already escaped the C0 controls in its strings).
func printableJSON(s string) string {
	return escapeNonGraphic(s, "\n", func(r rune) string {
		var b strings.Builder
		for _, u := range utf16.Encode([]rune{r}) {
			fmt.Fprintf(&b, `\u%04x`, u)
		}
		return b.String()
	})
}

// escapeNonGraphic writes s with every character that is neither graphic
// nor in keep replaced by escape's rendering; a byte that is not UTF-8
// becomes \xNN.
func escapeNonGraphic(s, keep string, escape func(rune) string) string {
	var b strings.Builder
	for len(s) > 0 {
		r, size := utf8.DecodeRuneInString(s)
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[0])
		case strconv.IsGraphic(r) || strings.ContainsRune(keep, r):
			b.WriteString(s[:size])
		default:
			b.WriteString(escape(r))
		}
		s = s[size:]
	}
	return b.String()
}
