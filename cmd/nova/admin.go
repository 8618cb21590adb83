package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"slices"
	"strings"

	"github.com/nova-social/nova/internal/events"
	"github.com/nova-social/nova/internal/identity"
	"github.com/nova-social/nova/internal/platform/apperr"
	"github.com/nova-social/nova/internal/platform/config"
	"github.com/nova-social/nova/internal/platform/domains"
	"github.com/nova-social/nova/internal/platform/logging"
	"github.com/nova-social/nova/internal/platform/migrate"
	"github.com/nova-social/nova/internal/platform/postgres"
	"github.com/nova-social/nova/internal/user"
	"github.com/nova-social/nova/migrations"
)

const adminUsage = `Usage: nova admin <grant-role|create-user> [flags] [configuration flags]

  grant-role   --username NAME --role USER|MODERATOR|ADMIN
               give an account a role; this is how the first ADMIN is made
  create-user  --email EMAIL --username NAME --password PASSWORD [--display-name NAME]
               create an account with its profile at once (scripted setups)

Configuration (database URL etc.) comes from the NOVA_* environment or the
flags of ` + "`nova serve`" + `.`

// adminFlags lists each subcommand's own flags; every other argument is a
// configuration flag.
var adminFlags = map[string][]string{
	"grant-role":  {"username", "role"},
	"create-user": {"email", "username", "password", "display-name"},
}

func runAdmin(ctx context.Context, env *environment, args []string) error {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		fmt.Fprintln(env.stderr, adminUsage)
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			return flag.ErrHelp
		}
		return usageError{"missing subcommand: grant-role or create-user"}
	}
	sub, rest := args[0], args[1:]
	known, ok := adminFlags[sub]
	if !ok {
		fmt.Fprintln(env.stderr, adminUsage)
		return usageError{fmt.Sprintf("unknown subcommand %q: want grant-role or create-user", sub)}
	}
	values, settings, err := splitFlags(rest, known)
	if err != nil {
		return err
	}
	for i, a := range settings {
		if a == "-h" || a == "--help" || a == "-help" {
			fmt.Fprintln(env.stderr, adminUsage)
			return flag.ErrHelp
		}
		// Every configuration flag takes a value, so an argument that
		// follows no flag is most likely the rest of an unquoted value, a
		// password with spaces say: it is not quoted back.
		if !strings.HasPrefix(a, "-") && (i == 0 || !strings.HasPrefix(settings[i-1], "-") || strings.Contains(settings[i-1], "=")) {
			return usageError{fmt.Sprintf("%s: unexpected argument after the flags (quote a value that holds spaces)", sub)}
		}
	}
	required := map[string][]string{"grant-role": {"username", "role"}, "create-user": {"email", "username", "password"}}[sub]
	for _, name := range required {
		if values[name] == "" {
			return usageError{fmt.Sprintf("%s: --%s is required", sub, name)}
		}
	}
	role := user.Role(strings.ToUpper(values["role"]))
	if sub == "grant-role" && !role.Valid() {
		return usageError{fmt.Sprintf("grant-role: --role must be USER, MODERATOR or ADMIN, got %q", values["role"])}
	}

	cfg, err := config.Load("nova admin "+sub, settings, env.getenv, env.stderr)
	if err != nil {
		return err
	}
	log := logging.New(env.stderr, cfg.Env == config.Production, cfg.LogLevel)
	pools, err := postgres.Open(ctx, postgres.Options{URL: cfg.DatabaseURL, PerDomain: cfg.DomainDBURLs, MaxConns: 2})
	if err != nil {
		return err
	}
	defer pools.Close()
	if err := migrationsCurrent(ctx, pools); err != nil {
		return err
	}
	// Publishing needs no running workers: the serving replicas deliver.
	bus, err := events.NewBus(pools.For(domains.Events), log, nil, events.Options{MaxAttempts: cfg.EventMaxAttempts})
	if err != nil {
		return err
	}
	ids, err := identity.New(ctx, pools.For(domains.Identity), bus, identity.Config{EphemeralKey: true}, log)
	if err != nil {
		return err
	}
	users := user.New(pools.For(domains.User), bus, ids, log, nil)

	var u user.User
	switch sub {
	case "grant-role":
		u, err = users.GrantRole(ctx, values["username"], role)
	case "create-user":
		u, err = users.CreateUser(ctx, identity.RegisterInput{
			Email: values["email"], Username: values["username"], Password: values["password"], DisplayName: values["display-name"],
		})
	}
	if ae, ok := apperr.As(err); ok && ae.Code == apperr.BadInput {
		return usageError{fmt.Sprintf("%s: --%s %s", sub, flagName(ae.Field), ae.Message)}
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "%s\t%s\t%s\n", u.ID, u.Username, u.Role)
	return nil
}

// flagName maps an input field name to the flag that carries it.
func flagName(field string) string {
	if field == "displayName" {
		return "display-name"
	}
	return field
}

// splitFlags takes the subcommand's own flags (--name value or --name=value)
// out of args and returns the rest, the configuration flags, in order.
func splitFlags(args, known []string) (map[string]string, []string, error) {
	values := map[string]string{}
	var rest []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		name, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !strings.HasPrefix(a, "-") || !slices.Contains(known, name) {
			rest = append(rest, a)
			continue
		}
		if !hasValue {
			if i+1 >= len(args) {
				return nil, nil, usageError{fmt.Sprintf("flag --%s needs a value", name)}
			}
			i++
			value = args[i]
		}
		values[name] = value
	}
	return values, rest, nil
}

// migrationsCurrent refuses to touch a database whose schema is behind the binary.
func migrationsCurrent(ctx context.Context, pools *postgres.Pools) error {
	m, err := migrate.New(pools, migrations.FS)
	if err != nil {
		return err
	}
	defer m.Close()
	behind, err := m.Behind(ctx)
	if err != nil {
		return fmt.Errorf("check migrations: %w", err)
	}
	if len(behind) > 0 {
		return errors.New("migrations are behind (" + strings.Join(behind, ", ") + "): run `nova migrate up` first")
	}
	return nil
}
