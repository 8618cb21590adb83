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

	"github.com/nova-social/nova/internal/events"
	"github.com/nova-social/nova/internal/platform/config"
	"github.com/nova-social/nova/internal/platform/domains"
	"github.com/nova-social/nova/internal/platform/postgres"
)

const eventsUsage = `Usage: nova events <subcommand> [flags] [configuration flags]

  dlq list [--consumer C] [--limit N]   list dead letters, oldest first
  dlq show ID                           show one dead letter with its event
  dlq retry ID | --all                  deliver dead letters again (after fixing the consumer)
  dlq purge [--older-than DURATION]     delete dead letters (all, or older than DURATION)
  replay --consumer C [--topic T] [--since TIME]
                                        re-deliver logged events to C to rebuild its projection;
                                        TIME is RFC 3339, a date (2006-01-02, from midnight UTC) or a duration ago (24h)
  stats                                 events published per topic, backlog per consumer`

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
		return dlqRetryAll, allowed("all")
	case words == "dlq purge":
		var olderThan time.Duration
		if v, ok := p.flags["older-than"]; ok {
			d, err := time.ParseDuration(v)
			if err != nil || d < 0 {
				return nil, usageError{fmt.Sprintf("--older-than %q is not a duration", v)}
			}
			olderThan = d
		}
		return dlqPurge(olderThan), allowed("older-than")
	case words == "replay":
		consumer := p.flags["consumer"]
		if consumer == "" {
			return nil, usageError{"replay needs --consumer"}
		}
		var since time.Time
		if v, ok := p.flags["since"]; ok {
			t, err := parseSince(v, time.Now())
			if err != nil {
				return nil, err
			}
			since = t
		}
		return replay(consumer, events.Topic(p.flags["topic"]), since), allowed("consumer", "topic", "since")
	case words == "stats":
		return stats, allowed()
	case words == "dlq retry":
		return nil, usageError{"dlq retry needs an ID or --all"}
	case words == "dlq show":
		return nil, usageError{"dlq show needs an ID"}
	default:
		return nil, usageError{fmt.Sprintf("unknown subcommand %q", words)}
	}
}

// parseSince reads --since: RFC 3339, a date, or a duration before now.
func parseSince(v string, now time.Time) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, nil
	}
	if t, err := time.ParseInLocation(time.DateOnly, v, time.UTC); err == nil {
		return t, nil
	}
	if d, err := time.ParseDuration(v); err == nil && d >= 0 {
		return now.Add(-d), nil
	}
	return time.Time{}, usageError{fmt.Sprintf("--since %q: want RFC 3339 time, a date (2006-01-02) or a duration (24h)", v)}
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
			if err := knownConsumer(ctx, admin, consumer); err != nil {
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
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%d\t%s\n", d.ID, d.FailedAt.UTC().Format(time.RFC3339), d.Consumer, d.Topic, d.EventID, d.Attempts, oneLine(d.Error, 80))
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
func knownConsumer(ctx context.Context, admin *events.Admin, consumer string) error {
	names, err := admin.Consumers(ctx)
	if err != nil {
		return err
	}
	if slices.Contains(names, consumer) {
		return nil
	}
	return usageError{fmt.Sprintf("dlq list: unknown consumer %q (consumers: %s)", consumer, strings.Join(names, ", "))}
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
			d.ID, d.Consumer, d.Topic, d.EventID, d.Producer, d.OccurredAt.UTC().Format(time.RFC3339Nano), d.RequestID,
			d.FailedAt.UTC().Format(time.RFC3339Nano), d.Attempts, d.Replay, d.Error, payload.String())
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

func dlqRetryAll(ctx context.Context, env *environment, admin *events.Admin) error {
	n, err := admin.RetryAllDeadLetters(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "%d dead letters queued for delivery\n", n)
	return nil
}

func dlqPurge(olderThan time.Duration) eventsRun {
	return func(ctx context.Context, env *environment, admin *events.Admin) error {
		n, err := admin.PurgeDeadLetters(ctx, time.Now().Add(-olderThan))
		if err != nil {
			return err
		}
		fmt.Fprintf(env.stdout, "%d dead letters purged\n", n)
		return nil
	}
}

func replay(consumer string, topic events.Topic, since time.Time) eventsRun {
	return func(ctx context.Context, env *environment, admin *events.Admin) error {
		n, err := admin.Replay(ctx, consumer, topic, since)
		switch {
		case errors.Is(err, events.ErrNotFound) && topic == "":
			return usageError{fmt.Sprintf("replay: no consumer %q is subscribed to any topic", consumer)}
		case errors.Is(err, events.ErrNotFound):
			return usageError{fmt.Sprintf("replay: consumer %q is not subscribed to %q", consumer, topic)}
		}
		if err != nil {
			if n > 0 {
				fmt.Fprintf(env.stdout, "%d events queued for redelivery to %s before the failure; clear the projection again before replaying again\n", n, consumer)
			}
			return err
		}
		fmt.Fprintf(env.stdout, "%d events queued for redelivery to %s\n", n, consumer)
		return nil
	}
}

func stats(ctx context.Context, env *environment, admin *events.Admin) error {
	st, err := admin.Stats(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(env.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TOPIC\tPUBLISHED\tLAST")
	for _, t := range st.Topics {
		fmt.Fprintf(tw, "%s\t%d\t%s\n", t.Topic, t.Published, t.Last.UTC().Format(time.RFC3339))
	}
	fmt.Fprintln(tw)
	fmt.Fprintln(tw, "CONSUMER\tTOPICS\tPENDING\tRUNNING\tFAILED\tDEAD\tOLDEST PENDING")
	for _, c := range st.Consumers {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%s\n", c.Consumer, c.Topics, c.Pending, c.Running, c.Failed, c.Dead, c.OldestPending.Round(time.Millisecond))
	}
	return tw.Flush()
}

// oneLine shortens s to one line of at most n runes for a table cell.
func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}
