// Package cli implements leakwatch's subcommands. cmd/leakwatch only calls
// Main, so every command can be run and tested in process.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/pflag"

	"github.com/leakwatch/leakwatch/internal/config"
	"github.com/leakwatch/leakwatch/internal/service"
)

// Env is what a command may touch of the outside world.
type Env struct {
	// Stdin answers questions (check --accept-new-host-keys); nil is a
	// stdin that gives no answer.
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	// Getenv reads the environment (secrets are named by variable, never
	// stored in the config).
	Getenv func(string) string
	// Services is the system's service control manager (nil: the real
	// one, which exists on Windows only).
	Services service.System
	// Executable returns the path of this program (nil: os.Executable).
	Executable func() (string, error)
}

type command struct {
	name    string
	summary string
	run     func(ctx context.Context, env *Env, args []string) error
}

func commands() []command {
	return []command{
		{"run", "follow CMS syslog, export metrics, and (in enforce mode) restart leaking Web Bridges", runCmd},
		{"replay", "read log files (plain or .gz) and print the leak over time, with the policy's what-if", replayCmd},
		{"check", "validate a config and print the inventory it implies; --ssh also checks every MMP", checkCmd},
		{"restart", "restart one Web Bridge now, through the same guards (--force lifts window and load)", restartCmd},
		{"reset", "clear a Web Bridge's tripped breaker", resetCmd},
		{"forget", "make the running leakwatch forget a host: a discovered bridge leaves the sums (audited)", forgetCmd},
		{"demo", "run the whole loop against a simulated cluster and print the URL to open", demoCmd},
		{"service", "install, uninstall, start or stop leakwatch as a Windows service", serviceCmd},
		{"version", "print the version", versionCmd},
	}
}

// usageError is a mistake on the command line: exit status 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

// Main runs the command in args (without the program name) and returns the
// process exit status: 0, 1 for a failure, 2 for a usage mistake.
func Main(ctx context.Context, args []string, env *Env) int {
	if env.Getenv == nil {
		env.Getenv = os.Getenv
	}
	if env.Services == nil {
		env.Services = service.Native()
	}
	if env.Executable == nil {
		env.Executable = os.Executable
	}
	if len(args) == 0 {
		usage(env.Stderr)
		return 2
	}
	switch args[0] {
	case "-h", "--help", "help":
		// Asked-for help goes to stdout (so it can be paged or grepped)
		// and succeeds, as with every Prometheus tool; "help COMMAND" is
		// that command's --help.
		if args[0] == "help" && len(args) > 1 {
			return Main(ctx, []string{args[1], "--help"}, env)
		}
		usage(env.Stdout)
		return 0
	case "--version":
		if err := printVersion(env.Stdout); err != nil {
			return 1
		}
		return 0
	}
	for _, c := range commands() {
		if c.name != args[0] {
			continue
		}
		err := c.run(ctx, env, args[1:])
		switch {
		case err == nil:
			return 0
		case errors.Is(err, pflag.ErrHelp):
			return 0
		}
		fmt.Fprintf(env.Stderr, "leakwatch %s: %v\n", c.name, err)
		var ue *usageError
		if errors.As(err, &ue) {
			return 2
		}
		return 1
	}
	fmt.Fprintf(env.Stderr, "leakwatch: unknown command %q\n\n", args[0])
	usage(env.Stderr)
	return 2
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "leakwatch watches Cisco Meeting Server Web Bridge 2 for leaked sessions (CSCvt73723).")
	fmt.Fprintln(w, "\nUsage: leakwatch COMMAND [flags]\n       leakwatch --help | --version\n\nCommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nFlags:\n  -h, --help     show this help\n      --version  print the version")
	fmt.Fprintln(w, "\nRun 'leakwatch COMMAND --help' (or 'leakwatch help COMMAND') for a command's flags.")
}

// helpFlag is the value of every command's -h/--help. It is a flag of its
// own, rather than pflag's built-in handling, so that parseFlags can send
// asked-for help to stdout and mistakes to stderr.
type helpFlag struct {
	set bool
	env *Env
}

func (h *helpFlag) String() string   { return "false" }
func (h *helpFlag) Type() string     { return "bool" }
func (h *helpFlag) IsBoolFlag() bool { return true }
func (h *helpFlag) Set(v string) error {
	h.set = v == "true"
	return nil
}

// flagSet returns a command's flag set: its usage goes to stdout when
// asked for with -h/--help and to stderr after a mistake.
func flagSet(env *Env, name, args string) *pflag.FlagSet {
	fs := pflag.NewFlagSet(name, pflag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: leakwatch %s [flags] %s\n\nFlags:\n", name, args)
		fs.PrintDefaults()
	}
	fs.SortFlags = false
	f := fs.VarPF(&helpFlag{env: env}, "help", "h", "show this help")
	f.NoOptDefVal = "true"
	return fs
}

func parseFlags(fs *pflag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		return &usageError{err.Error()}
	}
	if h, ok := fs.Lookup("help").Value.(*helpFlag); ok && h.set {
		fs.SetOutput(h.env.Stdout)
		fs.Usage()
		return pflag.ErrHelp
	}
	return nil
}

// loadConfig loads the config named by --config ("" = defaults) with the
// flags the command offers.
func loadConfig(fs *pflag.FlagSet) (*config.Config, error) {
	file, _ := fs.GetString("config")
	return config.Load(file, fs)
}

func joinOr(s []string, empty string) string {
	if len(s) == 0 {
		return empty
	}
	return strings.Join(s, ", ")
}
