// Package config loads Nova's settings from NOVA_* environment variables,
// with command-line flags overriding them.
//
// Every setting is declared once in the settings table below: its variable,
// flag, default and documentation. The loader, `nova serve --help` and the
// README table all come from that one table.
package config

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/nova-social/nova/internal/platform/domains"
)

// Environment selects defaults suited to a developer laptop or to production.
type Environment string

const (
	Dev        Environment = "dev"
	Production Environment = "production"
)

// Config is every setting Nova reads. Zero values are never used: Load fills
// each field from its default, the environment or a flag.
type Config struct {
	Env          Environment
	DatabaseURL  string
	DomainDBURLs map[string]string // domain name -> connection string acting as that domain's role
	DBMaxConns   int32
	HTTPAddr     string
	DebugAddr    string // "" when the profiling listener is off
	PublicURL    string
	// TrustedProxies are the reverse proxies whose X-Forwarded-For names
	// the client (none: the connection's peer is the client).
	TrustedProxies []netip.Prefix
	DataDir        string
	LogLevel       slog.Level
	AutoMigrate    bool

	MaxBodyBytes    int64
	ReadTimeout     time.Duration
	WriteTimeout    time.Duration
	IdleTimeout     time.Duration
	ShutdownTimeout time.Duration
	// ShutdownDrainDelay is how long, within ShutdownTimeout, the server
	// keeps serving with /readyz failing before it closes its listener.
	ShutdownDrainDelay time.Duration

	JWTPrivateKeyFile        string
	JWTPreviousPublicKeyFile string

	RegisterPerAddrPerHour  int
	LoginPerAddrPerMinute   int
	LoginFailuresPerAccount int
	LoginFailureWindow      time.Duration
	HashConcurrency         int
	EventMaxAttempts        int
	EventWorkers            int
	EventJobRetention       time.Duration
	FeedFanoutMaxFollowers  int
	FeedMaxEntriesPerUser   int
	GraphQLComplexityLimit  int
}

// Error is a bad or missing setting. Callers exit with status 2 on it.
type Error struct {
	Var     string // the environment variable, e.g. NOVA_HTTP_ADDR; "" for the command line itself
	Flag    string // the flag that overrides it, e.g. --http-addr; "" when there is none
	Problem string
}

func (e *Error) Error() string {
	switch {
	case e.Var == "":
		return "command line: " + e.Problem
	case e.Flag == "":
		return fmt.Sprintf("configuration: %s: %s", e.Var, e.Problem)
	}
	return fmt.Sprintf("configuration: %s (flag --%s): %s", e.Var, e.Flag, e.Problem)
}

// Setting describes one configuration value.
type Setting struct {
	Env     string
	Flag    string
	Default string // as text; "" means no default
	Usage   string
	// DevDefault, when set, replaces Default when NOVA_ENV is dev.
	DevDefault string
	apply      func(c *Config, v string) error
}

func str(f func(*Config) *string) func(*Config, string) error {
	return func(c *Config, v string) error { *f(c) = v; return nil }
}

func integer(min int, f func(*Config) *int) func(*Config, string) error {
	return bounded(min, math.MaxInt, f)
}

// bounded is integer with an upper bound, for settings that fail only once
// used when too large.
func bounded(min, max int, f func(*Config) *int) func(*Config, string) error {
	return func(c *Config, v string) error {
		n, err := strconv.Atoi(v)
		switch {
		case (err != nil || n < min) && max == math.MaxInt:
			return fmt.Errorf("must be an integer ≥ %d, got %q", min, v)
		case err != nil || n < min || n > max:
			return fmt.Errorf("must be an integer from %d to %d, got %q", min, max, v)
		}
		*f(c) = n
		return nil
	}
}

// integerAtMost is integer with an upper bound, for a setting Postgres
// receives as an integer (int4) parameter: a larger value would fail every
// statement using it, not start-up.
func integerAtMost(min, max int, f func(*Config) *int) func(*Config, string) error {
	return func(c *Config, v string) error {
		if n, err := strconv.Atoi(v); err == nil && n > max {
			return fmt.Errorf("must be at most %d, got %q", max, v)
		}
		return integer(min, f)(c, v)
	}
}

func duration(f func(*Config) *time.Duration) func(*Config, string) error {
	return durationAtLeast(time.Nanosecond, f)
}

// durationAtLeast parses a duration of at least min: a window that Postgres
// stores as an interval (microseconds) must not round to nothing.
func durationAtLeast(min time.Duration, f func(*Config) *time.Duration) func(*Config, string) error {
	return func(c *Config, v string) error {
		d, err := time.ParseDuration(v)
		switch {
		case (err != nil || d < min) && min == time.Nanosecond:
			return fmt.Errorf("must be a positive duration such as 15s or 2m, got %q", v)
		case err != nil || d < min:
			return fmt.Errorf("must be a duration of at least %s, got %q", min, v)
		}
		*f(c) = d
		return nil
	}
}

func boolean(f func(*Config) *bool) func(*Config, string) error {
	return func(c *Config, v string) error {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("must be true or false, got %q", v)
		}
		*f(c) = b
		return nil
	}
}

// Settings is the table of every setting, in the order the README lists them.
var Settings = []Setting{
	{Env: "NOVA_ENV", Flag: "env", Default: "production", Usage: "`dev` or `production`; dev turns on auto-migration, text logs, GraphiQL and a generated signing key",
		apply: func(c *Config, v string) error {
			switch Environment(v) {
			case Dev, Production:
				c.Env = Environment(v)
				return nil
			}
			return fmt.Errorf("must be dev or production, got %q", v)
		}},
	{Env: "NOVA_DATABASE_URL", Flag: "database-url", Usage: "Postgres connection string of the login role; each domain pool switches to its role `nova_<domain>` (required)",
		apply: func(c *Config, v string) error {
			if v == "" {
				return errors.New("is required: a connection string such as postgres://nova:nova@localhost:5432/nova")
			}
			if err := checkDBURL(v); err != nil {
				return err
			}
			c.DatabaseURL = v
			return nil
		}},
	{Env: "NOVA_DB_MAX_CONNS", Flag: "db-max-conns", Default: "6", Usage: "maximum connections of each domain's pool",
		apply: func(c *Config, v string) error {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > 1000 {
				return fmt.Errorf("must be an integer between 1 and 1000, got %q", v)
			}
			c.DBMaxConns = int32(n)
			return nil
		}},
	{Env: "NOVA_HTTP_ADDR", Flag: "http-addr", Default: ":8080", Usage: "address the HTTP server listens on",
		apply: func(c *Config, v string) error {
			if _, err := splitAddr(v); err != nil {
				return fmt.Errorf("must be host:port or :port with a port from 0 to 65535, got %q", v)
			}
			c.HTTPAddr = v
			return nil
		}},
	{Env: "NOVA_DEBUG_ADDR", Flag: "debug-addr", Usage: "loopback address of a second listener serving Go's profiles under /debug/pprof/ (off when empty)",
		apply: func(c *Config, v string) error {
			if v == "" {
				return nil
			}
			if err := checkLoopback(v); err != nil {
				return err
			}
			c.DebugAddr = v
			return nil
		}},
	{Env: "NOVA_PUBLIC_URL", Flag: "public-url", Usage: "absolute base URL clients reach Nova at, used in media URLs; browser pages of its origin may open websockets; no user, query or fragment (default http:// + the listen address)",
		apply: func(c *Config, v string) error {
			if v == "" {
				return nil // derived from HTTPAddr in finish
			}
			u, err := url.Parse(v)
			// It is sent to clients, so a password in it would be handed
			// out; it is not quoted here either.
			if err == nil && u.User != nil {
				return errors.New("must have no user or password: clients would be sent them")
			}
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				return fmt.Errorf("must be an absolute http(s) URL, got %q", v)
			}
			// URLs are built on it by appending paths: a query or fragment
			// would end up inside them.
			if strings.ContainsAny(v, "?#") {
				return fmt.Errorf("must have no query or fragment, got %q", v)
			}
			// url.Parse checks only that a port is digits; a browser refuses
			// one out of range, so every URL built on it would be unusable.
			if p := u.Port(); p != "" {
				if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
					return fmt.Errorf("must have a port from 1 to 65535, got %q", v)
				}
			}
			c.PublicURL = strings.TrimRight(v, "/")
			return nil
		}},
	{Env: "NOVA_TRUSTED_PROXIES", Flag: "trusted-proxies", Usage: "comma-separated addresses or CIDRs of the reverse proxies in front of Nova; a request from one is attributed to the nearest address in X-Forwarded-For that is not one of them (rate limits, sessions); empty: the connection's address",
		apply: func(c *Config, v string) error {
			c.TrustedProxies = nil
			for _, f := range strings.Split(v, ",") {
				if f = strings.TrimSpace(f); f == "" {
					continue
				}
				p, err := netip.ParsePrefix(f)
				if err != nil {
					a, aerr := netip.ParseAddr(f)
					if aerr != nil {
						return fmt.Errorf("must be addresses or CIDRs such as 10.0.0.0/8,fd00::/8, got %q", f)
					}
					p = netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen())
				}
				c.TrustedProxies = append(c.TrustedProxies, p.Masked())
			}
			return nil
		}},
	{Env: "NOVA_DATA_DIR", Flag: "data-dir", Default: "data", Usage: "directory for local files: media and, in dev, the generated signing key",
		apply: func(c *Config, v string) error {
			// An empty path would put the files in whatever directory nova
			// happens to start in.
			if v == "" {
				return errors.New("must name a directory, got an empty value")
			}
			c.DataDir = v
			return nil
		}},
	{Env: "NOVA_LOG_LEVEL", Flag: "log-level", Default: "info", Usage: "debug, info, warn or error",
		apply: func(c *Config, v string) error {
			if err := c.LogLevel.UnmarshalText([]byte(v)); err != nil {
				return fmt.Errorf("must be debug, info, warn or error, got %q", v)
			}
			return nil
		}},
	{Env: "NOVA_AUTO_MIGRATE", Flag: "auto-migrate", Default: "false", DevDefault: "true", Usage: "apply pending migrations when `nova serve` starts (default true in dev)", apply: boolean(func(c *Config) *bool { return &c.AutoMigrate })},
	{Env: "NOVA_HTTP_MAX_BODY_BYTES", Flag: "http-max-body-bytes", Default: "1048576", Usage: "largest request body accepted, except media uploads",
		apply: func(c *Config, v string) error {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 1024 {
				return fmt.Errorf("must be an integer ≥ 1024, got %q", v)
			}
			c.MaxBodyBytes = n
			return nil
		}},
	{Env: "NOVA_HTTP_READ_TIMEOUT", Flag: "http-read-timeout", Default: "30s", Usage: "time allowed to read a whole request", apply: duration(func(c *Config) *time.Duration { return &c.ReadTimeout })},
	{Env: "NOVA_HTTP_WRITE_TIMEOUT", Flag: "http-write-timeout", Default: "60s", Usage: "time allowed to write a response", apply: duration(func(c *Config) *time.Duration { return &c.WriteTimeout })},
	{Env: "NOVA_HTTP_IDLE_TIMEOUT", Flag: "http-idle-timeout", Default: "120s", Usage: "how long an idle keep-alive connection stays open", apply: duration(func(c *Config) *time.Duration { return &c.IdleTimeout })},
	{Env: "NOVA_SHUTDOWN_TIMEOUT", Flag: "shutdown-timeout", Default: "20s", Usage: "how long shutdown waits for in-flight requests and event handlers, from the signal, drain delay included", apply: duration(func(c *Config) *time.Duration { return &c.ShutdownTimeout })},
	// The drain delay counts within NOVA_SHUTDOWN_TIMEOUT, so that the
	// timeout stays the one bound an operator fits a process manager's kill
	// timeout to. 5s lets a load balancer probing /readyz every 2s see two
	// failures, or Kubernetes spread the endpoint removal it starts together
	// with SIGTERM, and leaves 15s of the default timeout to drain. Dev has
	// no load balancer, and Ctrl-C should stop at once.
	{Env: "NOVA_SHUTDOWN_DRAIN_DELAY", Flag: "shutdown-drain-delay", Default: "5s", DevDefault: "0s", Usage: "how long, once shutdown begins, the server keeps accepting and serving while `/readyz` answers 503, so that load balancers stop routing to it before its listener closes; counts within the shutdown timeout, and must be shorter",
		apply: func(c *Config, v string) error {
			d, err := time.ParseDuration(v)
			if err != nil || d < 0 {
				return fmt.Errorf("must be a duration such as 5s, or 0s for none, got %q", v)
			}
			c.ShutdownDrainDelay = d
			return nil
		}},
	{Env: "NOVA_JWT_PRIVATE_KEY_FILE", Flag: "jwt-private-key-file", Usage: "PEM PKCS#8 Ed25519 key signing access tokens (required in production; generated in the data dir in dev)", apply: str(func(c *Config) *string { return &c.JWTPrivateKeyFile })},
	{Env: "NOVA_JWT_PREVIOUS_PUBLIC_KEY_FILE", Flag: "jwt-previous-public-key-file", Usage: "PEM public key of the previous signing key, still accepted during rotation", apply: str(func(c *Config) *string { return &c.JWTPreviousPublicKeyFile })},
	{Env: "NOVA_RATELIMIT_REGISTER_PER_ADDR_PER_HOUR", Flag: "ratelimit-register-per-addr-per-hour", Default: "20", Usage: "registrations allowed per client address per hour", apply: integer(1, func(c *Config) *int { return &c.RegisterPerAddrPerHour })},
	{Env: "NOVA_RATELIMIT_LOGIN_PER_ADDR_PER_MINUTE", Flag: "ratelimit-login-per-addr-per-minute", Default: "60", Usage: "login attempts allowed per client address per minute", apply: integer(1, func(c *Config) *int { return &c.LoginPerAddrPerMinute })},
	{Env: "NOVA_RATELIMIT_LOGIN_FAILURES_PER_ACCOUNT", Flag: "ratelimit-login-failures-per-account", Default: "10", Usage: "failed logins allowed per account within the failure window", apply: integer(1, func(c *Config) *int { return &c.LoginFailuresPerAccount })},
	{Env: "NOVA_RATELIMIT_LOGIN_FAILURE_WINDOW", Flag: "ratelimit-login-failure-window", Default: "15m", Usage: "window over which failed logins per account are counted (at least 1s)", apply: durationAtLeast(time.Second, func(c *Config) *time.Duration { return &c.LoginFailureWindow })},
	{Env: "NOVA_PASSWORD_HASH_CONCURRENCY", Flag: "password-hash-concurrency", Default: "0", Usage: "password hashes (argon2id, 19 MiB each) computed at once; 0 means one less than the number of CPUs, at least 1", apply: integer(0, func(c *Config) *int { return &c.HashConcurrency })},
	{Env: "NOVA_EVENTS_MAX_ATTEMPTS", Flag: "events-max-attempts", Default: "8", Usage: "delivery attempts of an event to one consumer before it is dead-lettered; at most 32766", apply: bounded(1, maxEventAttempts, func(c *Config) *int { return &c.EventMaxAttempts })},
	{Env: "NOVA_EVENTS_WORKERS", Flag: "events-workers", Default: "200", Usage: "event deliveries in flight per replica; a consuming domain runs at most 2 delivery transactions at once, and a stuck one may hold only a quarter of them; at most 10000", apply: bounded(1, maxEventWorkers, func(c *Config) *int { return &c.EventWorkers })},
	{Env: "NOVA_EVENTS_JOB_RETENTION", Flag: "events-job-retention", Default: "24h", Usage: "how long completed delivery jobs are kept (the event log itself is kept)", apply: duration(func(c *Config) *time.Duration { return &c.EventJobRetention })},
	{Env: "NOVA_FEED_FANOUT_MAX_FOLLOWERS", Flag: "feed-fanout-max-followers", Default: "10000", Usage: "authors with more followers are merged into feeds at read time instead of fanned out; at least 1, at most 2147483647", apply: integerAtMost(1, math.MaxInt32, func(c *Config) *int { return &c.FeedFanoutMaxFollowers })},
	{Env: "NOVA_FEED_MAX_ENTRIES", Flag: "feed-max-entries", Default: "800", Usage: "feed entries kept per user; at most 2147483646", apply: integerAtMost(1, maxFeedEntries, func(c *Config) *int { return &c.FeedMaxEntriesPerUser })},
	{Env: "NOVA_GRAPHQL_COMPLEXITY_LIMIT", Flag: "graphql-complexity-limit", Default: "5000", Usage: "largest complexity of one GraphQL operation", apply: integer(1, func(c *Config) *int { return &c.GraphQLComplexityLimit })},
}

// Upper bounds of settings that would otherwise fail only once used: a
// delivery job stores its attempts, one more than the deliveries allowed, in
// River's smallint column, so a larger value fails every publication; River
// refuses a queue of more workers when the bus starts.
const (
	maxEventAttempts = math.MaxInt16 - 1
	maxEventWorkers  = 10000
)

// maxFeedEntries is the largest feed size: a back-fill reads one entry more
// than the feed keeps, in a Postgres integer.
const maxFeedEntries = math.MaxInt32 - 1

// splitAddr splits a listen address whose port is a number a listener
// accepts, so that a typo stops start-up instead of failing at the listen,
// after migrations ran.
func splitAddr(addr string) (host string, err error) {
	host, p, err := net.SplitHostPort(addr)
	if err != nil {
		return "", err
	}
	if port, err := strconv.Atoi(p); err != nil || port < 0 || port > 65535 {
		return "", fmt.Errorf("port %q is not a number from 0 to 65535", p)
	}
	return host, nil
}

// checkLoopback accepts only a loopback host: profiles show the process's
// memory and code paths, so they are reached through the host itself (or a
// tunnel or port-forward to it), never from the network.
func checkLoopback(addr string) error {
	host, err := splitAddr(addr)
	if err != nil {
		return fmt.Errorf("must be host:port with a port from 0 to 65535, got %q", addr)
	}
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("must be a loopback address such as 127.0.0.1:6060, got %q", addr)
	}
	return nil
}

// checkDBURL parses a connection string as the pools will, so that one they
// cannot use stops start-up naming its variable. Its problem never quotes
// the string, which holds a password.
func checkDBURL(v string) error {
	if !strings.HasPrefix(v, "postgres://") && !strings.HasPrefix(v, "postgresql://") {
		return errors.New("must be a postgres:// connection string")
	}
	if _, err := url.Parse(v); err != nil {
		if errors.As(err, new(url.EscapeError)) {
			// The bad escape may be part of the password.
			return errors.New("is not a valid connection string: a % not followed by two hex digits (percent-encode special characters)")
		}
		// url.Parse's error quotes the string; its cause does not.
		return fmt.Errorf("is not a valid connection string: %w", errors.Unwrap(err))
	}
	if _, err := pgxpool.ParseConfig(v); err != nil {
		// pgx's text is "cannot parse `<string, password masked>`: <problem>";
		// only the problem is kept, masking being best effort.
		msg := err.Error()
		if i := strings.LastIndex(msg, "`: "); i >= 0 {
			return errors.New("is not a valid connection string: " + msg[i+len("`: "):])
		}
		return errors.New("is not a valid connection string")
	}
	return nil
}

// Load reads the settings from getenv, then lets the flags in args override
// them. It returns flag.ErrHelp when args ask for help (usage is written to
// out). Every other failure is an *Error.
func Load(name string, args []string, getenv func(string) string, out io.Writer) (*Config, error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	// The flag package prints a mistyped flag's error and the usage, and the
	// caller prints the error again: the usage is printed here on --help
	// alone, and errors are left to the caller.
	fs.SetOutput(io.Discard)
	raw := make(map[string]*string, len(Settings))
	env := getenv("NOVA_ENV")
	if fv := flagValue(args, "env"); fv != "" {
		env = fv
	}
	// A flag's default is the built-in one, never the environment's value:
	// usage text (on --help) lists the defaults, and NOVA_DATABASE_URL
	// holds a password. The flag package reads a backquoted word of a usage
	// as the value's name, so the Markdown quoting of the README's table is
	// dropped here.
	for _, s := range Settings {
		def := s.Default
		if env == string(Dev) && s.DevDefault != "" {
			def = s.DevDefault
		}
		raw[s.Env] = fs.String(s.Flag, def, strings.ReplaceAll(s.Usage, "`", "")+" ["+s.Env+"]")
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprintf(out, "Usage: %s [flags]\n\nEvery flag can also be set by the environment variable in brackets.\n\n", name)
			fs.SetOutput(out)
			fs.PrintDefaults()
			return nil, err
		}
		return nil, &Error{Problem: fmt.Sprintf("%v (`%s --help` lists the flags)", err, name)}
	}
	if fs.NArg() > 0 {
		return nil, &Error{Problem: fmt.Sprintf("unexpected argument %q", fs.Arg(0))}
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	c := &Config{DomainDBURLs: map[string]string{}}
	for _, s := range Settings {
		v := *raw[s.Env]
		if ev, ok := lookup(getenv, s.Env); ok && !set[s.Flag] {
			v = ev
		}
		if err := s.apply(c, v); err != nil {
			return nil, &Error{Var: s.Env, Flag: s.Flag, Problem: err.Error()}
		}
	}
	for _, d := range domains.All {
		v := "NOVA_DATABASE_URL_" + strings.ToUpper(d.Name)
		if u := getenv(v); u != "" {
			if err := checkDBURL(u); err != nil {
				return nil, &Error{Var: v, Problem: err.Error()}
			}
			c.DomainDBURLs[d.Name] = u
		}
	}
	if c.ShutdownDrainDelay >= c.ShutdownTimeout {
		return nil, &Error{Var: "NOVA_SHUTDOWN_DRAIN_DELAY", Flag: "shutdown-drain-delay",
			Problem: fmt.Sprintf("must be shorter than NOVA_SHUTDOWN_TIMEOUT (%s), which it counts within, got %s", c.ShutdownTimeout, c.ShutdownDrainDelay)}
	}
	if c.PublicURL == "" {
		host, port, _ := net.SplitHostPort(c.HTTPAddr)
		if host == "" || host == "0.0.0.0" || host == "::" {
			host = "localhost"
		}
		c.PublicURL = "http://" + net.JoinHostPort(host, port)
	}
	return c, nil
}

// CheckEnviron refuses a NOVA_DATABASE_URL_<DOMAIN> variable in environ
// (os.Environ's form) that names no domain, such as the user domain's schema
// (NOVA_DATABASE_URL_USERS): Load reads only the domains' own, so the domain
// meant would silently log in as the login role, a member of every role.
func CheckEnviron(environ []string) error {
	const prefix = "NOVA_DATABASE_URL_"
	for _, kv := range environ {
		k, v, _ := strings.Cut(kv, "=")
		name, ok := strings.CutPrefix(k, prefix)
		if !ok || v == "" {
			continue
		}
		if _, known := domains.ByName(strings.ToLower(name)); known && name == strings.ToUpper(name) {
			continue
		}
		names := make([]string, len(domains.All))
		for i, d := range domains.All {
			names[i] = strings.ToUpper(d.Name)
		}
		return &Error{Var: k, Problem: "names no domain: the variables are " + prefix + "<DOMAIN> with DOMAIN one of " + strings.Join(names, ", ")}
	}
	return nil
}

// ValidateServe checks what only `nova serve` needs: in production, a signing
// key for access tokens.
func (c *Config) ValidateServe() error {
	if c.Env == Production && c.JWTPrivateKeyFile == "" {
		return &Error{Var: "NOVA_JWT_PRIVATE_KEY_FILE", Flag: "jwt-private-key-file", Problem: "is required in production: a PEM PKCS#8 Ed25519 key as written by `openssl genpkey -algorithm ed25519`"}
	}
	return nil
}

// lookup treats an empty variable as unset, as shells and process managers
// commonly export empty values.
func lookup(getenv func(string) string, key string) (string, bool) {
	v := getenv(key)
	return v, v != ""
}

// flagValue finds --name=value or --name value in args before parsing, so that
// --env can choose the defaults of the other settings.
func flagValue(args []string, name string) string {
	for i, a := range args {
		a = strings.TrimLeft(a, "-")
		if v, ok := strings.CutPrefix(a, name+"="); ok {
			return v
		}
		if a == name && i+1 < len(args) {
			return args[i+1]
		}
	}
	return ""
}

// MarkdownTable renders the settings table for the README.
func MarkdownTable() string {
	var b strings.Builder
	b.WriteString("| variable | flag | default | meaning |\n|---|---|---|---|\n")
	for _, s := range Settings {
		def := s.Default
		if s.DevDefault != "" {
			def += " (dev: " + s.DevDefault + ")"
		}
		if def == "" {
			def = "—"
		}
		fmt.Fprintf(&b, "| `%s` | `--%s` | `%s` | %s |\n", s.Env, s.Flag, def, strings.ReplaceAll(s.Usage, "|", "\\|"))
	}
	b.WriteString("| `NOVA_DATABASE_URL_<DOMAIN>` | — | — | per-domain connection string (e.g. `NOVA_DATABASE_URL_CONTENT`) logging in directly as that domain's role, for production credentials per domain |\n")
	return b.String()
}
