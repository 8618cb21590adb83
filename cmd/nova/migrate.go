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
	// Subcommand flags come first; the rest are configuration flags.
	for len(rest) > 0 {
		switch a := rest[0]; {
		case sub == "down" && (a == "--all" || a == "-all"):
			all, rest = true, rest[1:]
		case sub == "down" && (a == "--domain" || a == "-domain") && len(rest) > 1:
			domain, domainGiven, rest = rest[1], true, rest[2:]
		case sub == "down" && strings.HasPrefix(a, "--domain="):
			domain, domainGiven, rest = strings.TrimPrefix(a, "--domain="), true, rest[1:]
		default:
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
