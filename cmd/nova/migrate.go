package main

import (
	"context"
	"flag"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/nova-social/nova/internal/platform/config"
	"github.com/nova-social/nova/internal/platform/domains"
	"github.com/nova-social/nova/internal/platform/migrate"
	"github.com/nova-social/nova/internal/platform/postgres"
	"github.com/nova-social/nova/migrations"
)

const migrateUsage = `Usage: nova migrate <up|down|status> [flags]

  up      create missing roles and schemas, then apply every pending migration
  down    roll back the newest migration of every domain (or --domain D; --all for every migration)
  status  print each domain's applied and latest version`

func runMigrate(ctx context.Context, env *environment, args []string) error {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		fmt.Fprintln(env.stderr, migrateUsage)
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			return flag.ErrHelp
		}
		return usageError{"missing subcommand: up, down or status"}
	}
	sub, rest := args[0], args[1:]
	var domain string
	var all, domainGiven bool
	var settings []string
	// down's own flags are taken out, in either spelling (-flag, --flag);
	// the rest are configuration flags.
	for len(rest) > 0 {
		a := rest[0]
		name, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		isFlag := strings.HasPrefix(a, "-")
		switch {
		case sub == "down" && isFlag && name == "all" && !hasValue:
			all, rest = true, rest[1:]
		case sub == "down" && isFlag && name == "domain":
			if !hasValue {
				// Without this, the flag reached the configuration's parser,
				// which called it undefined.
				if len(rest) < 2 {
					return usageError{"down: --domain needs a value"}
				}
				value, rest = rest[1], rest[1:]
			}
			domain, domainGiven, rest = value, true, rest[1:]
		default:
			if isFlag && (name == "h" || name == "help") {
				// The configuration's usage follows; it lacks down's flags.
				fmt.Fprint(env.stderr, migrateUsage+"\n\n")
			}
			settings, rest = append(settings, a), rest[1:]
		}
	}
	if sub != "up" && sub != "down" && sub != "status" {
		fmt.Fprintln(env.stderr, migrateUsage)
		return usageError{fmt.Sprintf("unknown subcommand %q: want up, down or status", sub)}
	}
	// An empty --domain (a script's unset variable, say) must not mean
	// every domain, which is what down does without the flag.
	if _, known := domains.ByName(domain); domainGiven && !known {
		return usageError{fmt.Sprintf("down: --domain must name a domain (%s), got %q", domainNames(), domain)}
	}
	cfg, err := config.Load("nova migrate "+sub, settings, env.getenv, env.stderr)
	if err != nil {
		return err
	}
	pools, err := postgres.Open(ctx, postgres.Options{URL: cfg.DatabaseURL, PerDomain: cfg.DomainDBURLs, MaxConns: 2})
	if err != nil {
		return err
	}
	defer pools.Close()
	m, err := migrate.New(pools, migrations.FS)
	if err != nil {
		return err
	}
	defer m.Close()
	if sub != "status" {
		// A signal must not cut a migration short: one that runs outside a
		// transaction (River's) would be left half applied, failing every
		// later run. The first lets the run finish; a second exits at once.
		stop := context.AfterFunc(ctx, func() {
			fmt.Fprintln(env.stderr, "nova migrate: finishing the migrations first; a second signal exits at once")
		})
		defer stop()
		ctx = context.WithoutCancel(ctx)
	}
	switch sub {
	case "up":
		if err := m.Up(ctx); err != nil {
			return err
		}
	case "down":
		if err := m.Down(ctx, domain, all); err != nil {
			return err
		}
	}
	st, err := m.Status(ctx)
	if err != nil {
		return err
	}
	printStatus(env, st)
	return nil
}

func printStatus(env *environment, st []migrate.Status) {
	tw := tabwriter.NewWriter(env.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "DOMAIN\tAPPLIED\tLATEST\tSTATE")
	for _, s := range st {
		state := "current"
		if s.Pending() {
			state = fmt.Sprintf("%d pending", s.Latest-s.Current)
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s\n", s.Domain, s.Current, s.Latest, state)
	}
	_ = tw.Flush()
}

// domainNames lists the domains' names, for usage errors.
func domainNames() string {
	names := make([]string, len(domains.All))
	for i, d := range domains.All {
		names[i] = d.Name
	}
	return strings.Join(names, ", ")
}
