// Command nova is the Nova social network backend: one binary that serves the
// API, runs migrations and operates the event bus.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"syscall"

	"github.com/nova-social/nova/internal/platform/config"
)

// Exit codes: 2 for bad usage or configuration, 1 for everything else.
const (
	exitFailure = 1
	exitUsage   = 2
)

// command is one subcommand. run gets the arguments after the command name.
type command struct {
	summary string
	run     func(ctx context.Context, env *environment, args []string) error
}

// environment is what a command reads from and writes to; tests substitute it.
type environment struct {
	getenv func(string) string
	// environ lists every variable (os.Environ), for the checks of names
	// that getenv cannot make; nil skips them.
	environ func() []string
	stdout  io.Writer
	stderr  io.Writer
}

var commands = map[string]command{
	"serve":   {summary: "serve the API over HTTP", run: runServe},
	"migrate": {summary: "apply, roll back or show database migrations (up|down|status)", run: runMigrate},
	"events":  {summary: "operate the event bus: dead letters, replay, stats (dlq|replay|stats)", run: runEvents},
	"version": {summary: "print the version", run: runVersion},
	"admin":   {summary: "operator tasks: grant-role, create-user", run: runAdmin},
}

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	ctx, stop := shutdownOnSignal(os.Stderr)
	code := run(ctx, os.Args[1:], &environment{getenv: os.Getenv, environ: os.Environ, stdout: os.Stdout, stderr: os.Stderr})
	stop()
	os.Exit(code)
}

// shutdownOnSignal returns a context that the first SIGINT or SIGTERM
// cancels, which starts a graceful shutdown. A second signal exits at once:
// whoever sends it (Ctrl-C again, a process manager) does not want to wait
// out NOVA_SHUTDOWN_TIMEOUT.
func shutdownOnSignal(stderr io.Writer) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(context.Background())
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		select {
		case <-sigs:
			cancel()
		case <-done:
			return
		}
		select {
		case sig := <-sigs:
			fmt.Fprintf(stderr, "nova: second signal (%s): exiting before shutdown finished\n", sig)
			os.Exit(exitFailure)
		case <-done:
		}
	}()
	return ctx, func() {
		signal.Stop(sigs)
		close(done)
		cancel()
	}
}

func run(ctx context.Context, args []string, env *environment) int {
	if len(args) == 0 {
		usage(env.stderr)
		return exitUsage
	}
	if args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(env.stdout)
		return 0
	}
	cmd, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(env.stderr, "nova: unknown command %q\n\n", args[0])
		usage(env.stderr)
		return exitUsage
	}
	var err error
	if env.environ != nil && args[0] != "version" {
		// A mistyped per-domain connection string would otherwise be
		// ignored, running that domain as the login role.
		err = config.CheckEnviron(env.environ())
	}
	if err == nil {
		err = cmd.run(ctx, env, args[1:])
	}
	var cfgErr *config.Error
	var useErr usageError
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &cfgErr), errors.As(err, &useErr):
		fmt.Fprintf(env.stderr, "nova %s: %v\n", args[0], err)
		return exitUsage
	default:
		fmt.Fprintf(env.stderr, "nova %s: %v\n", args[0], err)
		return exitFailure
	}
}

// usageError is a malformed command line.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usage(w io.Writer) {
	fmt.Fprintln(w, "Usage: nova <command> [flags]\n\nCommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-10s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w, "\nRun `nova <command> --help` for a command's flags.")
}

func runVersion(_ context.Context, env *environment, args []string) error {
	fs := flag.NewFlagSet("nova version", flag.ContinueOnError)
	// run prints the error; the flag package would print it too.
	fs.SetOutput(io.Discard)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(env.stderr, "Usage: nova version")
			return err
		}
		return usageError{err.Error()}
	}
	fmt.Fprintln(env.stdout, "nova", version)
	return nil
}
