package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"os/user"
	"syscall"
	"time"

	"github.com/spf13/pflag"

	"github.com/leakwatch/leakwatch/internal/actuator"
	"github.com/leakwatch/leakwatch/internal/audit"
	"github.com/leakwatch/leakwatch/internal/config"
	"github.com/leakwatch/leakwatch/internal/control"
	"github.com/leakwatch/leakwatch/internal/ha"
	"github.com/leakwatch/leakwatch/internal/ledger"
)

// operatorFlags is the flag set of an operator command that takes one
// argument, named arg in its usage.
func operatorFlags(env *Env, name, arg string) *pflag.FlagSet {
	fs := flagSet(env, name, arg)
	fs.String("config", "", "config file (default: built-in defaults)")
	fs.String("state-dir", config.DefaultStateDir(), "leakwatch's state directory")
	return fs
}

// operatorArgs parses an operator command's args and loads its config: it
// returns the one argument, or a usage error saying what to give.
func operatorArgs(fs *pflag.FlagSet, args []string, give string) (string, *config.Config, error) {
	if err := parseFlags(fs, args); err != nil {
		return "", nil, err
	}
	if fs.NArg() != 1 {
		return "", nil, &usageError{"give exactly one " + give}
	}
	cfg, err := loadConfig(fs)
	if err != nil {
		return "", nil, err
	}
	return fs.Arg(0), cfg, nil
}

func resetCmd(ctx context.Context, env *Env, args []string) error {
	bridge, cfg, err := operatorArgs(operatorFlags(env, "reset", "WEBBRIDGE"), args, "WEBBRIDGE name")
	if err != nil {
		return err
	}
	req := control.Request{Kind: control.KindReset, Bridge: bridge, User: requester(env)}
	return operate(ctx, env, cfg, req, func(act *actuator.Actuator) (control.Response, error) {
		was, err := act.ResetBreaker(bridge, time.Now())
		if err != nil {
			return control.Response{}, err
		}
		if !was {
			return control.Response{OK: true, Message: "breaker of " + bridge + " was not tripped"}, nil
		}
		return control.Response{OK: true, Message: "breaker of " + bridge + " reset: automatic action resumes"}, nil
	})
}

func restartCmd(ctx context.Context, env *Env, args []string) error {
	fs := operatorFlags(env, "restart", "WEBBRIDGE")
	force := fs.Bool("force", false, "lift the window and load guards (never the host key check, cooldown or breaker); audited as forced")
	bridge, cfg, err := operatorArgs(fs, args, "WEBBRIDGE name")
	if err != nil {
		return err
	}
	req := control.Request{Kind: control.KindRestart, Bridge: bridge, Force: *force, User: requester(env)}
	return operate(ctx, env, cfg, req, func(*actuator.Actuator) (control.Response, error) {
		return control.Response{}, errors.New("leakwatch restart needs the running leakwatch: its model holds the current stats the guards check (start `leakwatch run` and retry)")
	})
}

// askLeader hands req to the HA leader through etcd and waits for its answer.
func askLeader(ctx context.Context, env *Env, cfg *config.Config, req control.Request) (control.Response, error) {
	opts, err := ha.OptionsFrom(cfg)
	if err != nil {
		return control.Response{}, err
	}
	c, err := ha.Dial(opts)
	if err != nil {
		return control.Response{}, err
	}
	defer c.Close()
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()
	return c.Ask(ctx, req, control.AnswerTimeout(cfg.SSH), func(id string) {
		fmt.Fprintf(env.Stderr, "asking the HA leader through etcd under %s (request %s)...\n", opts.Prefix, id)
	})
}

// operate sends req to the running daemon, or, when none runs, calls alone
// with an actuator of its own over the ledger.
func operate(ctx context.Context, env *Env, cfg *config.Config, req control.Request, alone func(*actuator.Actuator) (control.Response, error)) error {
	var resp control.Response
	if cfg.HA.Enabled() {
		// An HA pair's ledger is in etcd and only its leader writes it:
		// the request goes to whichever instance leads, from any machine.
		r, err := askLeader(ctx, env, cfg, req)
		if err != nil {
			return err
		}
		return report(env, r)
	}
	lock, err := control.Acquire(cfg.StateDir)
	switch {
	case errors.Is(err, control.ErrLocked):
		resp, err = control.Ask(ctx, cfg.StateDir, req, control.AnswerTimeout(cfg.SSH), func(id string) {
			fmt.Fprintf(env.Stderr, "asking the running leakwatch (request %s)...\n", id)
		})
		if err != nil {
			return err
		}
	case err != nil:
		return err
	default:
		defer lock.Release()
		led, err := ledger.Load(cfg.StateDir)
		if err != nil {
			return err
		}
		al, err := audit.Open(cfg.Audit.File)
		if err != nil {
			return err
		}
		defer al.Close()
		act, err := actuator.New(actuator.Options{Config: cfg.PolicyConfig(), Ledger: led, Audit: al,
			Restarter: refusingRestarter{errors.New("no restart without the running leakwatch")},
			Logger:    slog.New(slog.DiscardHandler)}, time.Now())
		if err != nil {
			return err
		}
		if resp, err = alone(act); err != nil {
			return err
		}
	}
	return report(env, resp)
}

// report prints a daemon's answer; a refusal is the command's error.
func report(env *Env, resp control.Response) error {
	if resp.Output != "" {
		fmt.Fprintf(env.Stdout, "MMP output:\n%s\n", resp.Output)
	}
	if !resp.OK {
		return errors.New(resp.Message)
	}
	fmt.Fprintln(env.Stdout, resp.Message)
	return nil
}

func forgetCmd(ctx context.Context, env *Env, args []string) error {
	host, cfg, err := operatorArgs(operatorFlags(env, "forget", "HOST"), args, "HOST (a syslog hostname, matched exactly, ignoring case)")
	if err != nil {
		return err
	}
	req := control.Request{Kind: control.KindForget, Host: host, User: requester(env)}
	return operate(ctx, env, cfg, req, func(*actuator.Actuator) (control.Response, error) {
		return control.Response{}, fmt.Errorf("no leakwatch is running on state_dir %s: forget acts on the running daemon's model (a leakwatch that starts knows no host until it reports; check --state-dir)", cfg.StateDir)
	})
}

// requester names who asks, for the daemon's log and audit log: the user
// sudo ran the command for, else the account this process runs as (from
// the system, since $USER is often unset: under systemd-run, cron, a
// container), else $USER. It is what the command says; the daemon cannot
// check it.
func requester(env *Env) string {
	if s := env.Getenv("SUDO_USER"); s != "" && os.Geteuid() == 0 {
		return s + " (sudo)"
	}
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	return env.Getenv("USER")
}
