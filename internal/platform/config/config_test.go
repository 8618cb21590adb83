package config_test

import (
	"errors"
	"flag"
	"io"
	"maps"
	"net/netip"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nova-social/nova/internal/platform/config"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestDefaultsEnvAndFlags(t *testing.T) {
	c, err := config.Load("nova", []string{"--http-addr", "127.0.0.1:9999"}, env(map[string]string{
		"NOVA_DATABASE_URL": "postgres://nova@localhost/nova",
		"NOVA_ENV":          "dev",
		"NOVA_HTTP_ADDR":    ":7000",
		"NOVA_DB_MAX_CONNS": "3",
	}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.HTTPAddr != "127.0.0.1:9999" {
		t.Errorf("flag did not override env: HTTPAddr = %q", c.HTTPAddr)
	}
	if c.DBMaxConns != 3 || c.Env != config.Dev || !c.AutoMigrate {
		t.Errorf("env or dev defaults not applied: %+v", c)
	}
	if c.PublicURL != "http://127.0.0.1:9999" {
		t.Errorf("PublicURL = %q, want derived from the listen address", c.PublicURL)
	}
	if err := c.ValidateServe(); err != nil {
		t.Errorf("dev serve needs no key file: %v", err)
	}

	prod, err := config.Load("nova", nil, env(map[string]string{"NOVA_DATABASE_URL": "postgres://x@y/z"}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if prod.Env != config.Production || prod.AutoMigrate || prod.HTTPAddr != ":8080" {
		t.Errorf("production defaults wrong: %+v", prod)
	}
	var cerr *config.Error
	if err := prod.ValidateServe(); !errors.As(err, &cerr) || cerr.Var != "NOVA_JWT_PRIVATE_KEY_FILE" {
		t.Errorf("production serve without a key: %v", err)
	}
}

func TestDebugAddrIsOffByDefaultAndLoopbackOnly(t *testing.T) {
	base := map[string]string{"NOVA_DATABASE_URL": "postgres://nova@localhost/nova"}
	c, err := config.Load("nova", nil, env(base), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.DebugAddr != "" {
		t.Errorf("DebugAddr = %q by default, want off", c.DebugAddr)
	}
	for _, addr := range []string{"127.0.0.1:6060", "127.0.0.2:0", "[::1]:6060", "localhost:6060"} {
		c, err := config.Load("nova", []string{"--debug-addr", addr}, env(base), io.Discard)
		if err != nil {
			t.Errorf("%s: %v", addr, err)
			continue
		}
		if c.DebugAddr != addr {
			t.Errorf("DebugAddr = %q, want %q", c.DebugAddr, addr)
		}
	}
}

// Usage text lists the flags' defaults; it shows on --help and on any
// mistyped flag, so it must not carry the environment's secrets.
func TestUsageShowsNoEnvironmentValues(t *testing.T) {
	base := map[string]string{"NOVA_DATABASE_URL": "postgres://nova:s3cret-pw@db.internal:5432/nova", "NOVA_HTTP_ADDR": ":9999"}
	for _, args := range [][]string{{"--help"}, {"--htp-addr", ":1"}} {
		var out strings.Builder
		if _, err := config.Load("nova", args, env(base), &out); err == nil {
			t.Fatalf("%v: no error", args)
		}
		if strings.Contains(out.String(), "s3cret") || strings.Contains(out.String(), ":9999") {
			t.Errorf("%v: usage shows environment values:\n%s", args, out.String())
		}
		if strings.Contains(out.String(), "-env dev") {
			t.Errorf("%v: a backquoted word of a usage became a value name:\n%s", args, out.String())
		}
	}
	c, err := config.Load("nova", nil, env(base), io.Discard)
	if err != nil || c.DatabaseURL != base["NOVA_DATABASE_URL"] || c.HTTPAddr != ":9999" {
		t.Fatalf("environment not applied: %+v, %v", c, err)
	}
	c, err = config.Load("nova", []string{"--http-addr", ":7777"}, env(base), io.Discard)
	if err != nil || c.HTTPAddr != ":7777" {
		t.Fatalf("flag did not override the environment: %+v, %v", c, err)
	}
}

func TestTrustedProxies(t *testing.T) {
	base := map[string]string{"NOVA_DATABASE_URL": "postgres://nova@localhost/nova"}
	c, err := config.Load("nova", nil, env(base), io.Discard)
	if err != nil || len(c.TrustedProxies) != 0 {
		t.Fatalf("default: %v, %v; want none trusted", c.TrustedProxies, err)
	}
	base["NOVA_TRUSTED_PROXIES"] = " 10.1.2.3/8, 192.0.2.10 ,fd00::/8,::ffff:198.51.100.7"
	c, err = config.Load("nova", nil, env(base), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	want := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.0.2.10/32"),
		netip.MustParsePrefix("fd00::/8"), netip.MustParsePrefix("198.51.100.7/32")}
	if !slices.Equal(c.TrustedProxies, want) {
		t.Fatalf("TrustedProxies = %v, want %v", c.TrustedProxies, want)
	}
	for _, bad := range []string{"10.0.0.0/33", "proxy.internal", "10.0.0.1:80"} {
		_, err := config.Load("nova", []string{"--trusted-proxies", bad}, env(base), io.Discard)
		var ce *config.Error
		if !errors.As(err, &ce) || ce.Var != "NOVA_TRUSTED_PROXIES" {
			t.Errorf("%q: %v, want an error naming NOVA_TRUSTED_PROXIES", bad, err)
		}
	}
}

func TestErrorsNameTheVariable(t *testing.T) {
	base := map[string]string{"NOVA_DATABASE_URL": "postgres://nova@localhost/nova"}
	cases := []struct {
		set  map[string]string
		args []string
		want string
	}{
		{map[string]string{"NOVA_DATABASE_URL": ""}, nil, "NOVA_DATABASE_URL"},
		{map[string]string{"NOVA_DATABASE_URL": "mysql://x"}, nil, "NOVA_DATABASE_URL"},
		{map[string]string{"NOVA_ENV": "staging"}, nil, "NOVA_ENV"},
		{map[string]string{"NOVA_HTTP_ADDR": "8080"}, nil, "NOVA_HTTP_ADDR"},
		{map[string]string{"NOVA_DB_MAX_CONNS": "zero"}, nil, "NOVA_DB_MAX_CONNS"},
		{map[string]string{"NOVA_DEBUG_ADDR": ":6060"}, nil, "NOVA_DEBUG_ADDR"},
		{map[string]string{"NOVA_DEBUG_ADDR": "0.0.0.0:6060"}, nil, "NOVA_DEBUG_ADDR"},
		{map[string]string{"NOVA_DEBUG_ADDR": "10.0.0.7:6060"}, nil, "NOVA_DEBUG_ADDR"},
		{map[string]string{"NOVA_DEBUG_ADDR": "example.com:6060"}, nil, "NOVA_DEBUG_ADDR"},
		{map[string]string{"NOVA_DEBUG_ADDR": "127.0.0.1"}, nil, "NOVA_DEBUG_ADDR"},
		{map[string]string{"NOVA_HTTP_READ_TIMEOUT": "-1s"}, nil, "NOVA_HTTP_READ_TIMEOUT"},
		{map[string]string{"NOVA_PUBLIC_URL": "ftp://x"}, nil, "NOVA_PUBLIC_URL"},
		{map[string]string{"NOVA_AUTO_MIGRATE": "maybe"}, nil, "NOVA_AUTO_MIGRATE"},
		{map[string]string{"NOVA_DATABASE_URL_CONTENT": "http://x"}, nil, "NOVA_DATABASE_URL_CONTENT"},
		{nil, []string{"--log-level", "loud"}, "NOVA_LOG_LEVEL"},
	}
	for _, tc := range cases {
		err := loadOver(base, tc.set, tc.args)
		var cerr *config.Error
		if !errors.As(err, &cerr) || cerr.Var != tc.want || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v %v: got %v, want an error naming %s", tc.set, tc.args, err, tc.want)
		}
	}
	if _, err := config.Load("nova", []string{"--help"}, env(base), io.Discard); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("--help: %v", err)
	}
}

var update = flag.Bool("update", false, "rewrite the README's configuration table")

// The README documents every setting: its table is generated from Settings.
func TestReadmeListsEverySetting(t *testing.T) {
	const path, begin, end = "../../../README.md", "<!-- config:begin -->\n", "<!-- config:end -->"
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	i, j := strings.Index(readme, begin), strings.Index(readme, end)
	if i < 0 || j < i {
		t.Fatalf("README.md lacks the %q … %q markers", begin, end)
	}
	want := readme[:i+len(begin)] + config.MarkdownTable() + readme[j:]
	if want == readme {
		return
	}
	if *update {
		if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Fatal("README.md's configuration table is stale: run go test ./internal/platform/config -update")
}

// A setting that would fail only later (a connection string pgx cannot
// parse, a port no listener accepts, a bound the bus's storage or River
// refuses) is refused by Load, with the exact problem and no password.
func TestOutOfRangeSettingsAreRefusedAtLoad(t *testing.T) {
	base := map[string]string{"NOVA_DATABASE_URL": "postgres://nova@localhost/nova"}
	cases := []struct {
		set  map[string]string
		args []string
		want string
	}{
		{map[string]string{"NOVA_DATABASE_URL": "postgres://nova:s3cret@localhost:99999/nova"}, nil,
			"configuration: NOVA_DATABASE_URL (flag --database-url): is not a valid connection string: invalid port"},
		{map[string]string{"NOVA_DATABASE_URL": "postgres://nova@localhost/nova?password=s3cret&sslmode=bogus"}, nil,
			"configuration: NOVA_DATABASE_URL (flag --database-url): is not a valid connection string: failed to configure TLS (sslmode is invalid)"},
		{map[string]string{"NOVA_DATABASE_URL": "postgres://nova:s3cret@localhost/nova?pool_max_conns=lots"}, nil,
			`configuration: NOVA_DATABASE_URL (flag --database-url): is not a valid connection string: cannot parse pool_max_conns (strconv.ParseInt: parsing "lots": invalid syntax)`},
		{map[string]string{"NOVA_DATABASE_URL_CONTENT": "postgres://nova_content:s3cret@localhost:70000/nova"}, nil,
			"configuration: NOVA_DATABASE_URL_CONTENT: is not a valid connection string: invalid port"},
		{map[string]string{"NOVA_HTTP_ADDR": ":99999"}, nil,
			`configuration: NOVA_HTTP_ADDR (flag --http-addr): must be host:port or :port with a port from 0 to 65535, got ":99999"`},
		{map[string]string{"NOVA_HTTP_ADDR": ":http"}, nil,
			`configuration: NOVA_HTTP_ADDR (flag --http-addr): must be host:port or :port with a port from 0 to 65535, got ":http"`},
		{nil, []string{"--debug-addr", "127.0.0.1:70000"},
			`configuration: NOVA_DEBUG_ADDR (flag --debug-addr): must be host:port with a port from 0 to 65535, got "127.0.0.1:70000"`},
		{map[string]string{"NOVA_EVENTS_MAX_ATTEMPTS": "40000"}, nil,
			`configuration: NOVA_EVENTS_MAX_ATTEMPTS (flag --events-max-attempts): must be an integer from 1 to 32766, got "40000"`},
		{map[string]string{"NOVA_EVENTS_WORKERS": "10001"}, nil,
			`configuration: NOVA_EVENTS_WORKERS (flag --events-workers): must be an integer from 1 to 10000, got "10001"`},
		{map[string]string{"NOVA_DATABASE_URL": "postgres://nova:s3%cr@localhost/nova"}, nil,
			"configuration: NOVA_DATABASE_URL (flag --database-url): is not a valid connection string: a % not followed by two hex digits (percent-encode special characters)"},
		{nil, []string{"extra"}, `command line: unexpected argument "extra"`},
		// The social domain reads 0 as unset (10,000): refused rather than
		// silently meaning something else.
		{map[string]string{"NOVA_FEED_FANOUT_MAX_FOLLOWERS": "0"}, nil,
			`configuration: NOVA_FEED_FANOUT_MAX_FOLLOWERS (flag --feed-fanout-max-followers): must be an integer ≥ 1, got "0"`},
		{map[string]string{"NOVA_PUBLIC_URL": "https://nova.example:99999"}, nil,
			`configuration: NOVA_PUBLIC_URL (flag --public-url): must have a port from 1 to 65535, got "https://nova.example:99999"`},
		{map[string]string{"NOVA_PUBLIC_URL": "http://localhost:0/"}, nil,
			`configuration: NOVA_PUBLIC_URL (flag --public-url): must have a port from 1 to 65535, got "http://localhost:0/"`},
		{nil, []string{"--data-dir="},
			`configuration: NOVA_DATA_DIR (flag --data-dir): must name a directory, got an empty value`},
		// URLs are built on the public URL by appending paths.
		{map[string]string{"NOVA_PUBLIC_URL": "https://nova.example/?tenant=1"}, nil,
			`configuration: NOVA_PUBLIC_URL (flag --public-url): must have no query or fragment, got "https://nova.example/?tenant=1"`},
		{map[string]string{"NOVA_PUBLIC_URL": "https://nova.example/#top"}, nil,
			`configuration: NOVA_PUBLIC_URL (flag --public-url): must have no query or fragment, got "https://nova.example/#top"`},
		{map[string]string{"NOVA_PUBLIC_URL": "https://admin:s3cret@nova.example"}, nil,
			`configuration: NOVA_PUBLIC_URL (flag --public-url): must have no user or password: clients would be sent them`},
		// Postgres would round it to an empty window, failing every login.
		{map[string]string{"NOVA_RATELIMIT_LOGIN_FAILURE_WINDOW": "500ns"}, nil,
			`configuration: NOVA_RATELIMIT_LOGIN_FAILURE_WINDOW (flag --ratelimit-login-failure-window): must be a duration of at least 1s, got "500ns"`},
		{map[string]string{"NOVA_HTTP_READ_TIMEOUT": "0s"}, nil,
			`configuration: NOVA_HTTP_READ_TIMEOUT (flag --http-read-timeout): must be a positive duration such as 15s or 2m, got "0s"`},
		{map[string]string{"NOVA_SHUTDOWN_DRAIN_DELAY": "-1s"}, nil,
			`configuration: NOVA_SHUTDOWN_DRAIN_DELAY (flag --shutdown-drain-delay): must be a duration such as 5s, or 0s for none, got "-1s"`},
		{map[string]string{"NOVA_SHUTDOWN_TIMEOUT": "10s"}, []string{"--shutdown-drain-delay", "1m"},
			`configuration: NOVA_SHUTDOWN_DRAIN_DELAY (flag --shutdown-drain-delay): must be shorter than NOVA_SHUTDOWN_TIMEOUT (10s), which it counts within, got 1m0s`},
	}
	for _, tc := range cases {
		err := loadOver(base, tc.set, tc.args)
		var cerr *config.Error
		if !errors.As(err, &cerr) || err.Error() != tc.want {
			t.Errorf("%v %v: got %v, want %s", tc.set, tc.args, err, tc.want)
		}
	}
	for _, ok := range []string{"https://nova.example:443", "http://localhost:8080/", "https://nova.example", "https://nova.example/social/"} {
		m := map[string]string{"NOVA_DATABASE_URL": base["NOVA_DATABASE_URL"], "NOVA_PUBLIC_URL": ok}
		if _, err := config.Load("nova", nil, env(m), io.Discard); err != nil {
			t.Errorf("%v: %v", m, err)
		}
	}
	for _, ok := range []string{"32766", "1"} {
		m := map[string]string{"NOVA_DATABASE_URL": base["NOVA_DATABASE_URL"], "NOVA_EVENTS_MAX_ATTEMPTS": ok, "NOVA_HTTP_ADDR": "127.0.0.1:0", "NOVA_EVENTS_WORKERS": "10000"}
		if _, err := config.Load("nova", nil, env(m), io.Discard); err != nil {
			t.Errorf("%v: %v", m, err)
		}
	}
}

// The drain delay lets load balancers notice /readyz failing in production;
// in dev, where none probes, shutdown starts draining at once.
func TestShutdownDrainDelayDefaults(t *testing.T) {
	base := map[string]string{"NOVA_DATABASE_URL": "postgres://nova@localhost/nova"}
	prod, err := config.Load("nova", nil, env(base), io.Discard)
	if err != nil || prod.ShutdownDrainDelay != 5*time.Second || prod.ShutdownTimeout != 20*time.Second {
		t.Fatalf("production: %+v, %v; want a 5s drain delay within a 20s timeout", prod, err)
	}
	dev, err := config.Load("nova", []string{"--env=dev"}, env(base), io.Discard)
	if err != nil || dev.ShutdownDrainDelay != 0 {
		t.Fatalf("dev: %+v, %v; want no drain delay", dev, err)
	}
	c, err := config.Load("nova", []string{"--shutdown-drain-delay", "0"}, env(base), io.Discard)
	if err != nil || c.ShutdownDrainDelay != 0 {
		t.Fatalf("0: %+v, %v; want no drain delay", c, err)
	}
}

// A mistyped flag leaves the output to the caller, which prints the error
// once; --help alone prints the usage.
func TestUnknownFlagPrintsNothing(t *testing.T) {
	base := map[string]string{"NOVA_DATABASE_URL": "postgres://nova@localhost/nova"}
	var out strings.Builder
	_, err := config.Load("nova serve", []string{"--bogus"}, env(base), &out)
	var cerr *config.Error
	if want := "command line: flag provided but not defined: -bogus (`nova serve --help` lists the flags)"; !errors.As(err, &cerr) || err.Error() != want || out.String() != "" {
		t.Fatalf("--bogus: %v, output %q; want %q and no output", err, out.String(), want)
	}
	_, err = config.Load("nova serve", []string{"--help"}, env(base), &out)
	if !errors.Is(err, flag.ErrHelp) || !strings.HasPrefix(out.String(), "Usage: nova serve [flags]\n") || !strings.Contains(out.String(), "-shutdown-drain-delay") {
		t.Fatalf("--help: %v, output %q", err, out.String())
	}
}

// loadOver loads the configuration from base's variables overridden by
// set's, and args, and returns Load's error.
func loadOver(base, set map[string]string, args []string) error {
	m := maps.Clone(base)
	maps.Copy(m, set)
	_, err := config.Load("nova", args, env(m), io.Discard)
	return err
}

// The feed settings reach Postgres as integer (int4) parameters, the feed's
// size plus one in a back-fill: a larger value, such as an operator's
// "unlimited", failed every follow and every fan-out instead of start-up.
func TestFeedSettingsFitPostgresIntegers(t *testing.T) {
	base := map[string]string{"NOVA_DATABASE_URL": "postgres://nova@localhost/nova"}
	cases := []struct {
		set  map[string]string
		want string
	}{
		{map[string]string{"NOVA_FEED_FANOUT_MAX_FOLLOWERS": "3000000000"},
			`configuration: NOVA_FEED_FANOUT_MAX_FOLLOWERS (flag --feed-fanout-max-followers): must be at most 2147483647, got "3000000000"`},
		{map[string]string{"NOVA_FEED_MAX_ENTRIES": "2147483647"},
			`configuration: NOVA_FEED_MAX_ENTRIES (flag --feed-max-entries): must be at most 2147483646, got "2147483647"`},
	}
	for _, tc := range cases {
		if err := loadOver(base, tc.set, nil); err == nil || err.Error() != tc.want {
			t.Errorf("%v: got %v, want %s", tc.set, err, tc.want)
		}
	}
	ok := maps.Clone(base)
	ok["NOVA_FEED_FANOUT_MAX_FOLLOWERS"], ok["NOVA_FEED_MAX_ENTRIES"] = "2147483647", "2147483646"
	if _, err := config.Load("nova", nil, env(ok), io.Discard); err != nil {
		t.Errorf("%v: %v", ok, err)
	}
}

// A per-domain connection string under a name that is no domain's (the
// user domain's schema, users, say) is refused: ignored, it let that domain
// log in as the login role, a member of every domain role.
func TestPerDomainURLMustNameADomain(t *testing.T) {
	const want = "configuration: NOVA_DATABASE_URL_USERS: names no domain: the variables are NOVA_DATABASE_URL_<DOMAIN> with DOMAIN one of EVENTS, IDENTITY, USER, MEDIA, CONTENT, SOCIAL, COMMUNICATION, SEARCH"
	err := config.CheckEnviron([]string{"NOVA_DATABASE_URL=postgres://nova@localhost/nova", "NOVA_DATABASE_URL_USERS=postgres://nova_user@localhost/nova"})
	var cerr *config.Error
	if !errors.As(err, &cerr) || err.Error() != want {
		t.Errorf("got %v, want %s", err, want)
	}
	if err := config.CheckEnviron([]string{"NOVA_DATABASE_URL_content=postgres://x@y/z"}); err == nil {
		t.Error("NOVA_DATABASE_URL_content (not read: the names are upper case) was accepted")
	}
	for _, ok := range [][]string{
		{"NOVA_DATABASE_URL=postgres://nova@localhost/nova", "NOVA_DATABASE_URL_USER=postgres://nova_user@localhost/nova", "NOVA_DATABASE_URL_COMMUNICATION=postgres://x@y/z"},
		{"NOVA_DATABASE_URL_USERS=", "NOVA_TEST_DATABASE_URL=postgres://x@y/z", "PATH=/bin"},
	} {
		if err := config.CheckEnviron(ok); err != nil {
			t.Errorf("%v: %v", ok, err)
		}
	}
}
